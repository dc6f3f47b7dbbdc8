#include "core/js/batch_outcome.h"

#include <algorithm>
#include <cstring>

#include "core/csv/block_parser.h"
#include "core/js/js_protocol.h"
#include "core/types/column_type.h"

namespace flowengine::js {

void BuildOutputSpans(const RowBatch& in, const std::vector<int>& out_from_in,
                      std::span<const SetValue> set, TransformOutput& out) {
  const size_t n = in.num_rows;
  const auto n_out = static_cast<uint32_t>(out_from_in.size());
  RowBatch& ob = out.batch;
  ob.num_columns = n_out;
  ob.num_rows = n;
  ob.fields.ResizeDiscard(n * n_out);
  ob.rows.ResizeDiscard(n);
  if (n > 0) std::memcpy(ob.rows.data(), in.rows.data(), n * sizeof(RowInfo));
  // The output columns as runs: input columns that follow one another (copied at once per
  // row; e.g. every input column, then the new ones), or columns with no input (empty).
  struct Run {
    uint32_t at;    // first output column
    int from;       // its input column, or -1
    uint32_t size;  // columns
  };
  std::vector<Run> runs;
  for (uint32_t c = 0; c < n_out; ++c) {
    const int from = out_from_in[c];
    if (!runs.empty()) {
      Run& last = runs.back();
      const bool follows =
          last.from < 0 ? from < 0 : from == last.from + static_cast<int>(last.size);
      if (follows) {
        ++last.size;
        continue;
      }
    }
    runs.push_back(Run{c, from, 1});
  }
  const size_t n_in = in.num_columns;
  for (size_t r = 0; r < n; ++r) {
    FieldSpan* row = ob.fields.data() + r * n_out;
    const FieldSpan* input = in.fields.data() + r * n_in;
    for (const Run& run : runs) {
      if (run.from >= 0) {
        std::memcpy(row + run.at, input + run.from, run.size * sizeof(FieldSpan));
      } else {
        std::fill(row + run.at, row + run.at + run.size, FieldSpan{0, FieldSpan::kArena});
      }
    }
  }
  for (const SetValue& v : set) ob.fields[v.index] = v.span;
}

std::optional<std::string> CheckOutputRow(const TransformOutput& out, size_t r,
                                          const std::vector<ColumnSpec>& columns, const char* block,
                                          const Dialect& dialect, const uint8_t* check) {
  std::string scratch;
  const RowBatch& ob = out.batch;
  for (uint32_t c = 0; c < ob.num_columns && c < columns.size(); ++c) {
    const ColumnSpec& col = columns[c];
    if (col.type == ColumnType::kString && !col.required) continue;
    if (check != nullptr && check[c] == 0) continue;
    const FieldSpan& span = ob.Field(r, c);
    const std::string_view text =
        span.in_arena() ? std::string_view(out.values.data() + span.offset, span.length())
                        : FieldText(block, span, dialect, scratch);
    if (text.empty()) {
      if (col.required) return "Required output column '" + col.name + "' is empty";
      continue;
    }
    if (!IsValidValue(col.type, text)) {
      size_t cut = std::min<size_t>(60, text.size());  // never half a character
      while (cut > 0 && cut < text.size() &&
             (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) {
        --cut;
      }
      const std::string shown(text.substr(0, cut));
      return "Value of output column '" + col.name + "' is not a valid " +
             std::string(ColumnTypeName(col.type)) + ": '" + shown + "'";
    }
  }
  return std::nullopt;
}

void RouteRows(const int32_t* moves, size_t n,
               std::span<const std::pair<uint32_t, uint32_t>> copies, TransformOutput& out) {
  for (size_t r = 0; r < n; ++r) {
    const int32_t m = moves[r];
    const auto row32 = static_cast<uint32_t>(r);
    if (m == kToMain) {
      out.main_rows.Append(&row32, 1);
    } else if (m == kFiltered) {
      ++out.filtered;
    } else if (m >= 0 && static_cast<size_t>(m) < out.route_rows.size()) {
      out.route_rows[static_cast<size_t>(m)].Append(&row32, 1);
      ++out.routed;
    }
  }
  bool copied = false;
  for (const auto& [r, route] : copies) {
    if (r >= n || route >= out.route_rows.size() || moves[r] == kRejected) continue;
    out.route_rows[route].Append(&r, 1);
    ++out.copies;
    copied = true;
  }
  if (copied) {
    for (auto& rows : out.route_rows) std::stable_sort(rows.data(), rows.data() + rows.size());
  }
}

}  // namespace flowengine::js
