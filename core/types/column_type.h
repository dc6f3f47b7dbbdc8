// Column types and the checks that validate a field's text against its declared type.
// Pure functions, no allocation, thread-safe. No type inference anywhere: columns are
// strings unless declared otherwise.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace flowengine {

/// Declared type of a column.
enum class ColumnType : uint8_t { kString, kInt32, kInt64, kFloat64, kBool };

/// The YAML spelling: string, int32, int64, float64, bool.
std::string_view ColumnTypeName(ColumnType t);

/// Parses a YAML spelling; nullopt when unknown.
std::optional<ColumnType> ParseColumnTypeName(std::string_view name);

/// Every allowed spelling, for error messages: "string, int32, int64, float64, bool".
std::string_view AllColumnTypeNames();

/// True when `text` (already unescaped, non-empty) is a valid value of type `t`.
/// int32/int64: optional sign then decimal digits, in range. float64: decimal or scientific
/// notation as accepted by fast_float (also inf, nan). bool: true/false (any case) or 1/0.
bool IsValidValue(ColumnType t, std::string_view text) noexcept;

/// IsValidValue, also giving the value when valid: an int or a float as a double (`exact`
/// false for an int beyond +-(2^53 - 1)), a bool as 1 or 0. Not for strings.
bool ParseTypedValue(ColumnType t, std::string_view text, double* value, bool* exact) noexcept;

/// Parses a bool as IsValidValue accepts it.
std::optional<bool> ParseBool(std::string_view text) noexcept;

}  // namespace flowengine
