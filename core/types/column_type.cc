#include "core/types/column_type.h"

#include <charconv>
#include <cstdint>
#include <limits>

#include "fast_float/fast_float.h"

namespace flowengine {

std::string_view ColumnTypeName(ColumnType t) {
  switch (t) {
    case ColumnType::kString:
      return "string";
    case ColumnType::kInt32:
      return "int32";
    case ColumnType::kInt64:
      return "int64";
    case ColumnType::kFloat64:
      return "float64";
    case ColumnType::kBool:
      return "bool";
  }
  return "string";
}

std::optional<ColumnType> ParseColumnTypeName(std::string_view name) {
  for (ColumnType t : {ColumnType::kString, ColumnType::kInt32, ColumnType::kInt64,
                       ColumnType::kFloat64, ColumnType::kBool}) {
    if (ColumnTypeName(t) == name) return t;
  }
  return std::nullopt;
}

std::string_view AllColumnTypeNames() { return "string, int32, int64, float64, bool"; }

namespace {

// Skips one leading '+' (from_chars rejects it); false when what follows cannot start a number.
bool SkipPlus(const char*& first, const char* last) noexcept {
  if (first != last && *first == '+') {
    ++first;
    return first != last && *first != '-' && *first != '+';
  }
  return first != last;
}

// An int of type Int (an optional sign, then digits) and its value: up to 18 digits (no
// overflow in 64 bits) by a plain loop, longer ones by from_chars, which checks the limits.
template <typename Int>
[[gnu::always_inline]] inline bool ReadInt(std::string_view text, int64_t* out) noexcept {
  const char* first = text.data();
  const char* last = first + text.size();
  if (!SkipPlus(first, last)) return false;
  const bool negative = *first == '-';
  const char* digits = first + (negative ? 1 : 0);
  if (digits < last && last - digits <= 18) {
    uint64_t u = 0;
    for (const char* p = digits; p < last; ++p) {
      const auto d = static_cast<unsigned>(static_cast<unsigned char>(*p) - '0');
      if (d > 9) return false;
      u = u * 10 + d;
    }
    const int64_t v = negative ? -static_cast<int64_t>(u) : static_cast<int64_t>(u);
    if (v < std::numeric_limits<Int>::min() || v > std::numeric_limits<Int>::max()) return false;
    *out = v;
    return true;
  }
  Int parsed{};
  auto [ptr, ec] = std::from_chars(first, last, parsed);
  if (ec != std::errc() || ptr != last) return false;
  *out = parsed;
  return true;
}

template <typename Int>
bool IsValidInt(std::string_view text) noexcept {
  int64_t v = 0;
  return ReadInt<Int>(text, &v);
}

template <typename Int>
bool ParseInt(std::string_view text, double* value, bool* exact) noexcept {
  int64_t v = 0;
  if (!ReadInt<Int>(text, &v)) return false;
  constexpr int64_t kMaxSafeInteger = (int64_t{1} << 53) - 1;
  *exact = v <= kMaxSafeInteger && v >= -kMaxSafeInteger;
  *value = static_cast<double>(v);
  return true;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view lower) noexcept {
  if (a.size() != lower.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char c = a[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != lower[i]) return false;
  }
  return true;
}

}  // namespace

std::optional<bool> ParseBool(std::string_view text) noexcept {
  if (text == "1" || EqualsIgnoreCase(text, "true")) return true;
  if (text == "0" || EqualsIgnoreCase(text, "false")) return false;
  return std::nullopt;
}

bool IsValidValue(ColumnType t, std::string_view text) noexcept {
  switch (t) {
    case ColumnType::kString:
      return true;
    case ColumnType::kInt32:
      return IsValidInt<int32_t>(text);
    case ColumnType::kInt64:
      return IsValidInt<int64_t>(text);
    case ColumnType::kFloat64: {
      double value = 0;
      const char* first = text.data();
      const char* last = first + text.size();
      if (!SkipPlus(first, last)) return false;
      auto result = fast_float::from_chars(first, last, value);
      return result.ec == std::errc() && result.ptr == last;
    }
    case ColumnType::kBool:
      return ParseBool(text).has_value();
  }
  return false;
}

bool ParseTypedValue(ColumnType t, std::string_view text, double* value, bool* exact) noexcept {
  *exact = true;
  switch (t) {
    case ColumnType::kString:
      return false;
    case ColumnType::kInt32:
      return ParseInt<int32_t>(text, value, exact);
    case ColumnType::kInt64:
      return ParseInt<int64_t>(text, value, exact);
    case ColumnType::kFloat64: {
      const char* first = text.data();
      const char* last = first + text.size();
      if (!SkipPlus(first, last)) return false;
      auto result = fast_float::from_chars(first, last, *value);
      return result.ec == std::errc() && result.ptr == last;
    }
    case ColumnType::kBool: {
      const std::optional<bool> b = ParseBool(text);
      *value = b.value_or(false) ? 1.0 : 0.0;
      return b.has_value();
    }
  }
  return false;
}

}  // namespace flowengine
