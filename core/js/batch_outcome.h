// What a JavaScript batch decided, turned into the transform's output — in plain C++, with
// no V8 types, so that unit tests cover it without an isolate (tests/core/js/):
//   - the output rows' field spans: the input value of the same name unless the script set
//     the column (the last setField of a row and column wins), values set living in the
//     chunk's value arena;
//   - the declared output types and required columns, checked per row;
//   - where each row goes (main sink, a route, filtered, rejected) and the sendCopy copies.
// Pure functions over caller-owned buffers; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "core/batch/row_batch.h"
#include "core/config/pipeline_spec.h"
#include "core/csv/dialect.h"

namespace flowengine::js {

/// One setField call: output field `index` (row * output columns + column) gets `span`, a
/// FieldSpan with kArena set (length 0: an empty field).
struct SetValue {
  uint32_t index;
  FieldSpan span;
};

/// Fills out.batch (n rows of out_from_in.size() columns) from the input rows and the values
/// set. `out_from_in[c]` is the input column of output column c's name, or -1.
void BuildOutputSpans(const RowBatch& in, const std::vector<int>& out_from_in,
                      std::span<const SetValue> set, TransformOutput& out);

/// The first problem of row `r`'s output values with the declared output columns (a required
/// column empty, a value that is not of the declared type), as a message; nullopt when fine.
/// `block` and `dialect` are those of the spans that still point into the input. With
/// `check` (one flag per column), only the flagged columns are checked.
std::optional<std::string> CheckOutputRow(const TransformOutput& out, size_t r,
                                          const std::vector<ColumnSpec>& columns, const char* block,
                                          const Dialect& dialect, const uint8_t* check = nullptr);

/// Appends every row to its destination by moves[r] (kToMain, a route index; kFiltered and
/// kRejected rows go nowhere), counts them, then adds the copies (row, route) of rows that
/// were not rejected, keeping each route's rows in input order.
void RouteRows(const int32_t* moves, size_t n,
               std::span<const std::pair<uint32_t, uint32_t>> copies, TransformOutput& out);

}  // namespace flowengine::js
