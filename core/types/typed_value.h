// The reading of one typed field's text, inline, one function per type, for loops that go
// over a column (the parse stage's validation): the type is chosen once per column instead
// of once per field. IsValidValue / ParseTypedValue (core/types/column_type.h) are these
// behind a switch. Pure functions, no allocation, thread-safe.
#pragma once

#include <charconv>
#include <cstdint>
#include <limits>
#include <string_view>
#include <system_error>

#include "core/types/column_type.h"
#include "fast_float/fast_float.h"

namespace flowengine::typed {

/// Skips one leading '+' (from_chars rejects it); false when what follows cannot start a
/// number.
inline bool SkipPlus(const char*& first, const char* last) noexcept {
  if (first != last && *first == '+') {
    ++first;
    return first != last && *first != '-' && *first != '+';
  }
  return first != last;
}

/// An int of type Int (an optional sign, then digits) and its value: up to 18 digits (no
/// overflow in 64 bits) by a plain loop, longer ones by from_chars, which checks the limits.
template <typename Int>
inline bool ReadInt(std::string_view text, int64_t* out) noexcept {
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

/// A bool: "1", "0", or true/false in any case. `| 0x20` lowers these letters and maps no
/// other byte onto them.
inline bool ReadBool(std::string_view t, bool* out) noexcept {
  const auto lower = [&t](size_t i) { return static_cast<char>(t[i] | 0x20); };
  if (t.size() == 1 && (t[0] == '1' || t[0] == '0')) {
    *out = t[0] == '1';
    return true;
  }
  if (t.size() == 4 && lower(0) == 't' && lower(1) == 'r' && lower(2) == 'u' && lower(3) == 'e') {
    *out = true;
    return true;
  }
  if (t.size() == 5 && lower(0) == 'f' && lower(1) == 'a' && lower(2) == 'l' && lower(3) == 's' &&
      lower(4) == 'e') {
    *out = false;
    return true;
  }
  return false;
}

/// The common float: an optional '-', digits, optionally '.' and digits, no exponent, at
/// most 15 digits in all (at least one). Its value is the integer of its digits divided by
/// a power of ten, both exact doubles, so the one division rounds correctly (Clinger's fast
/// path, as fast_float takes it). False, with nothing set, for any other text (the caller
/// then asks fast_float).
inline bool ReadShortDecimal(const char* first, const char* last, double* value) noexcept {
  static constexpr double kPow10[] = {1e0, 1e1, 1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                      1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15};
  const bool negative = first < last && *first == '-';
  const char* p = first + (negative ? 1 : 0);
  uint64_t digits = 0;
  int count = 0, decimals = 0;
  bool dot = false;
  for (; p < last; ++p) {
    const auto d = static_cast<unsigned>(static_cast<unsigned char>(*p) - '0');
    if (d <= 9) {
      digits = digits * 10 + d;
      ++count;
      decimals += dot ? 1 : 0;
    } else if (*p == '.' && !dot) {
      dot = true;
    } else {
      return false;
    }
  }
  if (count == 0 || count > 15) return false;
  const double v = static_cast<double>(digits) / kPow10[decimals];
  *value = negative ? -v : v;
  return true;
}

/// ParseTypedValue for type T (not kString): valid, and the value as a double (`exact`
/// false for an int beyond +-(2^53 - 1)); a bool as 1 or 0.
template <ColumnType T>
inline bool ValueOf(std::string_view text, double* value, bool* exact) noexcept {
  if constexpr (T == ColumnType::kInt32 || T == ColumnType::kInt64) {
    int64_t v = 0;
    if (!ReadInt<std::conditional_t<T == ColumnType::kInt32, int32_t, int64_t>>(text, &v)) {
      return false;
    }
    constexpr int64_t kMaxSafeInteger = (int64_t{1} << 53) - 1;
    *exact = v <= kMaxSafeInteger && v >= -kMaxSafeInteger;
    *value = static_cast<double>(v);
    return true;
  } else if constexpr (T == ColumnType::kFloat64) {
    const char* first = text.data();
    const char* last = first + text.size();
    if (!SkipPlus(first, last)) return false;
    if (ReadShortDecimal(first, last, value)) return true;
    auto result = fast_float::from_chars(first, last, *value);
    return result.ec == std::errc() && result.ptr == last;
  } else {
    static_assert(T == ColumnType::kBool);
    bool b = false;
    if (!ReadBool(text, &b)) return false;
    *value = b ? 1.0 : 0.0;
    return true;
  }
}

}  // namespace flowengine::typed
