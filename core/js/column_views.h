// ColumnViews: the C++ side of native.column(c) — the values of one input column for a whole
// batch as one JavaScript value, so that per-value work happens in JIT code instead of one
// V8 API call per field:
//   string columns  the batch's field spans, shared by every string column, in characters of
//                   one of three texts: the block's own bytes for the ASCII fields (every
//                   field of an ASCII block: no copy); a one-byte text of the other fields
//                   whose characters are all Latin-1, transcoded and packed (kSpanLatin1);
//                   a two-byte text of the rest (kSpanWide); so that the strings a script
//                   gets are one-byte wherever they can be. The texts reach JavaScript in
//                   windows of consecutive rows (native.window(row)) small enough to be
//                   ordinary young-generation strings: a whole-block string would be a large
//                   object, mapped and faulted in afresh by V8 for every batch and kept until
//                   a full GC (docs/benchmarks.md, "JavaScript");
//   numbers         a Float64Array plus nulls; an int64 beyond 2^53 makes the column a plain
//                   array (that value a BigInt);
//   booleans        a Uint8Array (0 false, 1 true, 2 null).
// Numbers and booleans come from the values the parse stage kept in the batch while it
// validated them (RowBatch::numbers) when it did (a first step), else from the text.
// A batch is always as wide as the schema (the parse stage and the step fold make it so);
// one that is not gets no views (empty results: the driver then fails the row as an internal
// error) rather than views laid out for another width. Typed arrays point into this
// object's buffers or the chunk's: they are valid until the next batch (the driver drops
// them at the end of each batch). Used on the isolate's thread only.
#pragma once

#include <v8.h>

#include <string>
#include <utility>
#include <vector>

#include "core/batch/row_batch.h"
#include "core/config/pipeline_spec.h"
#include "core/csv/dialect.h"
#include "core/memory/pod_buffer.h"

namespace flowengine::js {

class ColumnViews {
 public:
  /// Largest text of a window in bytes (a row larger than this is a window of its own).
  static constexpr size_t kWindowBytes = 120 * 1024;

  ColumnViews(std::vector<ColumnSpec> columns, Dialect dialect)
      : columns_(std::move(columns)), dialect_(dialect), scratch_(columns_.size()) {
    for (uint32_t c = 0; c < columns_.size(); ++c) {
      if (columns_[c].type == ColumnType::kString) string_columns_.push_back(c);
    }
  }

  /// The view of column `c` of `chunk`'s rows, in the current context.
  v8::Local<v8::Value> Build(v8::Isolate* isolate, const Chunk& chunk, uint32_t c);
  /// native.window(row): [text, base, end, wide, wideBase, narrow, narrowBase] — for rows
  /// [row, end) of the block view, the block's bytes from byte `base`, their two-byte text
  /// from unit `wideBase` and their transcoded one-byte text from `narrowBase` (a span
  /// minus the base of its text indexes into it). At least one row; more while the texts
  /// stay under a young-generation object's size.
  v8::Local<v8::Value> Window(v8::Isolate* isolate, const Chunk& chunk, uint32_t row);
  /// native.unescaped(i): the value of field i (row-major) of a block view, unescaped.
  v8::Local<v8::Value> Unescaped(v8::Isolate* isolate, const Chunk& chunk, uint32_t field);
  /// Forgets the block view of the last batch (call between batches).
  void EndBatch() {
    block_ready_ = false;
    block_fields_.Reset();
  }

 private:
  // The view of every string column: the field spans (made once per batch).
  v8::Local<v8::Value> BlockView(v8::Isolate* isolate, const Chunk& chunk);
  // Transcodes the block when needed and sets spans_ (once per batch).
  void PrepareBlock(const Chunk& chunk);

  struct Scratch {
    PodBuffer<uint8_t> nulls;   // 1 where the field is empty (booleans: 0, 1, 2)
    PodBuffer<double> numbers;  // numeric columns
  };
  v8::Local<v8::Value> Values(v8::Isolate* isolate, const Chunk& chunk, uint32_t c);
  // The view of typed column c over the values the parse stage kept in the batch
  // (RowBatch::numbers): nothing parsed or copied again.
  v8::Local<v8::Value> ParsedView(v8::Isolate* isolate, const RowBatch& in, uint32_t c);

  std::vector<ColumnSpec> columns_;
  Dialect dialect_;
  std::vector<Scratch> scratch_;
  std::string text_scratch_;
  std::vector<v8::Local<v8::Value>> values_;
  bool block_ready_ = false;
  PodBuffer<uint32_t> spans_;  // (start, length | flags) per field, in characters
  v8::Global<v8::Uint32Array> block_fields_;
  PodBuffer<uint8_t> narrow_;             // a non-ASCII block's non-ASCII Latin-1 fields, packed
  PodBuffer<uint16_t> units_;             // and its other non-ASCII fields, in UTF-16, packed
  PodBuffer<uint32_t> row_text_;          // where each row starts in the block's bytes (n + 1)
  PodBuffer<uint32_t> row_narrow_;        // in the transcoded one-byte text
  PodBuffer<uint32_t> row_wide_;          // and in the two-byte text
  std::vector<uint32_t> string_columns_;  // the fields PrepareBlock reads
};

}  // namespace flowengine::js
