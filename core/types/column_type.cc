#include "core/types/column_type.h"

#include <cstdint>

#include "core/types/typed_value.h"

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

std::optional<bool> ParseBool(std::string_view text) noexcept {
  bool b = false;
  if (!typed::ReadBool(text, &b)) return std::nullopt;
  return b;
}

bool IsValidValue(ColumnType t, std::string_view text) noexcept {
  double value = 0;
  bool exact = true;
  return t == ColumnType::kString || ParseTypedValue(t, text, &value, &exact);
}

bool ParseTypedValue(ColumnType t, std::string_view text, double* value, bool* exact) noexcept {
  *exact = true;
  switch (t) {
    case ColumnType::kString:
      return false;
    case ColumnType::kInt32:
      return typed::ValueOf<ColumnType::kInt32>(text, value, exact);
    case ColumnType::kInt64:
      return typed::ValueOf<ColumnType::kInt64>(text, value, exact);
    case ColumnType::kFloat64:
      return typed::ValueOf<ColumnType::kFloat64>(text, value, exact);
    case ColumnType::kBool:
      return typed::ValueOf<ColumnType::kBool>(text, value, exact);
  }
  return false;
}

}  // namespace flowengine
