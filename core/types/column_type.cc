#include "core/types/column_type.h"

#include <charconv>
#include <cstdint>

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

template <typename Int>
bool IsValidInt(std::string_view text) noexcept {
  const char* first = text.data();
  const char* last = first + text.size();
  if (!SkipPlus(first, last)) return false;
  Int value{};
  auto [ptr, ec] = std::from_chars(first, last, value);
  return ec == std::errc() && ptr == last;
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

}  // namespace flowengine
