#include "core/types/column_type.h"

#include <gtest/gtest.h>

#include <charconv>
#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "fast_float/fast_float.h"

namespace flowengine {
namespace {

TEST(ColumnTypeTest, NamesRoundTrip) {
  for (auto t : {ColumnType::kString, ColumnType::kInt32, ColumnType::kInt64, ColumnType::kFloat64,
                 ColumnType::kBool}) {
    EXPECT_EQ(ParseColumnTypeName(ColumnTypeName(t)), t);
  }
  EXPECT_FALSE(ParseColumnTypeName("integer"));
}

TEST(ColumnTypeTest, Int32) {
  EXPECT_TRUE(IsValidValue(ColumnType::kInt32, "0"));
  EXPECT_TRUE(IsValidValue(ColumnType::kInt32, "-2147483648"));
  EXPECT_TRUE(IsValidValue(ColumnType::kInt32, "+2147483647"));
  EXPECT_FALSE(IsValidValue(ColumnType::kInt32, "2147483648"));
  EXPECT_FALSE(IsValidValue(ColumnType::kInt32, "1.0"));
  EXPECT_FALSE(IsValidValue(ColumnType::kInt32, " 1"));
  EXPECT_FALSE(IsValidValue(ColumnType::kInt32, "1 "));
  EXPECT_FALSE(IsValidValue(ColumnType::kInt32, "+"));
  EXPECT_FALSE(IsValidValue(ColumnType::kInt32, "-"));
  EXPECT_FALSE(IsValidValue(ColumnType::kInt32, "+-1"));
  EXPECT_FALSE(IsValidValue(ColumnType::kInt32, "0x10"));
}

TEST(ColumnTypeTest, Int64) {
  EXPECT_TRUE(IsValidValue(ColumnType::kInt64, "9223372036854775807"));
  EXPECT_FALSE(IsValidValue(ColumnType::kInt64, "9223372036854775808"));
  EXPECT_FALSE(IsValidValue(ColumnType::kInt64, "12abc"));
}

TEST(ColumnTypeTest, Float64) {
  EXPECT_TRUE(IsValidValue(ColumnType::kFloat64, "1.5"));
  EXPECT_TRUE(IsValidValue(ColumnType::kFloat64, "-1e-300"));
  EXPECT_TRUE(IsValidValue(ColumnType::kFloat64, "+.5"));
  EXPECT_TRUE(IsValidValue(ColumnType::kFloat64, "42"));
  EXPECT_FALSE(IsValidValue(ColumnType::kFloat64, "1,5"));
  EXPECT_FALSE(IsValidValue(ColumnType::kFloat64, "1.5.2"));
  EXPECT_FALSE(IsValidValue(ColumnType::kFloat64, "abc"));
  EXPECT_FALSE(IsValidValue(ColumnType::kFloat64, "+-1"));
}

TEST(ColumnTypeTest, Bool) {
  for (const char* yes : {"true", "TRUE", "True", "1"}) EXPECT_EQ(ParseBool(yes), true) << yes;
  for (const char* no : {"false", "FALSE", "0"}) EXPECT_EQ(ParseBool(no), false) << no;
  for (const char* bad : {"yes", "t", "2", "truee"}) EXPECT_FALSE(ParseBool(bad)) << bad;
}

// ParseTypedValue and IsValidValue against an independent verdict and reading of the value
// (from_chars / fast_float / ParseBool), on edge cases and 200,000 random strings of digits,
// signs, dots, exponents and letters.
double Reference(ColumnType t, const std::string& text, bool* exact) {
  const char* first = text.data() + (text[0] == '+' ? 1 : 0);
  const char* last = text.data() + text.size();
  *exact = true;
  if (t == ColumnType::kFloat64) {
    double v = 0;
    fast_float::from_chars(first, last, v);
    return v;
  }
  if (t == ColumnType::kBool) return *ParseBool(text) ? 1.0 : 0.0;
  int64_t v = 0;
  std::from_chars(first, last, v);
  *exact = v <= (int64_t{1} << 53) - 1 && v >= -((int64_t{1} << 53) - 1);
  return static_cast<double>(v);
}

// Valid as the config docs say, read by the standard parsers: one leading '+' allowed
// (not before a sign), then all of the text an int of the type or a float.
bool ReferenceValid(ColumnType t, const std::string& text) {
  const char* first = text.data();
  const char* last = first + text.size();
  if (t == ColumnType::kBool) return ParseBool(text).has_value();
  if (first != last && *first == '+') {
    ++first;
    if (first == last || *first == '+' || *first == '-') return false;
  }
  if (first == last) return false;
  if (t == ColumnType::kFloat64) {
    double v = 0;
    const auto r = fast_float::from_chars(first, last, v);
    return r.ec == std::errc() && r.ptr == last;
  }
  if (t == ColumnType::kInt32) {
    int32_t v = 0;
    const auto r = std::from_chars(first, last, v);
    return r.ec == std::errc() && r.ptr == last;
  }
  int64_t v = 0;
  const auto r = std::from_chars(first, last, v);
  return r.ec == std::errc() && r.ptr == last;
}

void CheckTypedValue(ColumnType t, const std::string& text) {
  double value = -1;
  bool exact = false;
  const bool ok = ParseTypedValue(t, text, &value, &exact);
  ASSERT_EQ(ok, ReferenceValid(t, text)) << ColumnTypeName(t) << " '" << text << "'";
  ASSERT_EQ(IsValidValue(t, text), ok) << ColumnTypeName(t) << " '" << text << "'";
  if (!ok) return;
  bool want_exact = true;
  const double want = Reference(t, text, &want_exact);
  EXPECT_EQ(exact, want_exact) << ColumnTypeName(t) << " '" << text << "'";
  if (std::isnan(want)) {
    EXPECT_TRUE(std::isnan(value)) << text;
  } else {
    EXPECT_EQ(std::memcmp(&value, &want, sizeof value), 0)  // bit for bit (-0.0 too)
        << ColumnTypeName(t) << " '" << text << "': " << value << " vs " << want;
  }
}

TEST(ColumnTypeTest, ParseTypedValueAgreesWithIsValidValueAndTheReference) {
  const std::vector<std::string> edges = {"0",
                                          "-0",
                                          "+0",
                                          "00",
                                          "-",
                                          "+",
                                          "+-1",
                                          "-+1",
                                          "--1",
                                          "1-",
                                          "007",
                                          "-007",
                                          "2147483647",
                                          "2147483648",
                                          "-2147483648",
                                          "-2147483649",
                                          "+2147483647",
                                          "9007199254740991",
                                          "9007199254740992",
                                          "-9007199254740991",
                                          "-9007199254740992",
                                          "999999999999999999",
                                          "1000000000000000000",
                                          "-999999999999999999",
                                          "9223372036854775807",
                                          "9223372036854775808",
                                          "-9223372036854775808",
                                          "-9223372036854775809",
                                          "00000000000000000000001",
                                          "-00000000000000000000001",
                                          "1.5",
                                          "-1e-300",
                                          "+.5",
                                          "1e309",
                                          "-0.0",
                                          "inf",
                                          "-inf",
                                          "nan",
                                          "infinity",
                                          "1,5",
                                          "1.5.2",
                                          ".",
                                          "e5",
                                          "1e",
                                          "0x10",
                                          " 1",
                                          "1 ",
                                          "true",
                                          "TRUE",
                                          "True",
                                          "false",
                                          "FaLsE",
                                          "1",
                                          "0",
                                          "2",
                                          "t",
                                          "yes",
                                          "truee",
                                          "\x001"};
  const ColumnType types[] = {ColumnType::kInt32, ColumnType::kInt64, ColumnType::kFloat64,
                              ColumnType::kBool};
  for (ColumnType t : types) {
    for (const std::string& e : edges) CheckTypedValue(t, e);
  }
  std::mt19937 rng(7);
  const std::string alphabet = "0123456789000999-+.eEaxtrufls ";
  for (int i = 0; i < 200000; ++i) {
    std::string text;
    const size_t n = 1 + rng() % 24;
    for (size_t k = 0; k < n; ++k) {
      text += (rng() % 4 != 0) ? static_cast<char>('0' + rng() % 10)
                               : alphabet[rng() % alphabet.size()];
    }
    for (ColumnType t : types) CheckTypedValue(t, text);
    if (HasFailure()) return;
  }
  // Decimals of every shape the short-decimal path takes or leaves to fast_float: signs,
  // 0-12 integer and 0-12 fraction digits, a lone dot, leading zeros, 15 and 16 digits.
  for (int i = 0; i < 300000; ++i) {
    std::string text = rng() % 4 == 0 ? "-" : rng() % 8 == 0 ? "+" : "";
    const size_t whole = rng() % 13, fraction = rng() % 13;
    for (size_t k = 0; k < whole; ++k) text += static_cast<char>('0' + rng() % 10);
    if (rng() % 3 != 0) text += '.';
    for (size_t k = 0; k < fraction; ++k) text += static_cast<char>('0' + rng() % 10);
    CheckTypedValue(ColumnType::kFloat64, text);
    if (HasFailure()) return;
  }
}

}  // namespace
}  // namespace flowengine
