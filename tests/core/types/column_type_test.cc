#include "core/types/column_type.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace flowengine
