// Schema: the resolved columns of a stage's rows (names, declared types, required flags).
// Immutable after construction; thread-safe to read.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/config/pipeline_spec.h"

namespace flowengine {

struct Schema {
  std::vector<ColumnSpec> columns;

  /// Index of the column called `name`, or -1.
  int IndexOf(std::string_view name) const {
    for (size_t i = 0; i < columns.size(); ++i) {
      if (columns[i].name == name) return static_cast<int>(i);
    }
    return -1;
  }
  uint32_t size() const { return static_cast<uint32_t>(columns.size()); }
};

}  // namespace flowengine
