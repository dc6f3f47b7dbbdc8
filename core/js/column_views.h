// ColumnViews: the C++ side of native.column(c) — the values of one input column for a whole
// batch as one JavaScript value, so that per-value work happens in JIT code instead of one
// V8 API call per field:
//   string columns  the batch's field spans, shared by every string column, in characters of
//                   the block's text: an ASCII block's text is its bytes; in any other
//                   block each string field is transcoded on its own and packed, without
//                   delimiters, into a one-byte text when its characters are all Latin-1
//                   (most fields) and into a two-byte text otherwise (kSpanWide), so that
//                   the strings a script gets are one-byte wherever they can be. The text reaches
//                   JavaScript in windows of consecutive rows (native.window(row)) small enough to
//                   be ordinary young-generation strings: a whole-block string would be a large
//                   object, mapped and faulted in afresh by V8 for every batch and kept until
//                   a full GC (docs/benchmarks.md, "JavaScript");
//   numbers         a Float64Array plus nulls; an int64 beyond 2^53 makes the column a plain
//                   array (that value a BigInt);
//   booleans        a Uint8Array (0 false, 1 true, 2 null).
// Numbers and booleans come from the values the parse stage kept in the batch while it
// validated them (RowBatch::numbers) when it did (a first step), else from the text.
// Typed arrays point into this object's buffers or the chunk's: they are valid until the
// next batch (the driver drops them at the end of each batch). Used on the isolate's thread
// only.
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
    for (const ColumnSpec& c : columns_) text_columns_.push_back(c.type == ColumnType::kString);
  }

  /// The view of column `c` of `chunk`'s rows, in the current context.
  v8::Local<v8::Value> Build(v8::Isolate* isolate, const Chunk& chunk, uint32_t c);
  /// native.window(row): [text, base, end, wide, wideBase] — the one-byte text of rows
  /// [row, end) of the block view, starting at character `base` of the block's one-byte text,
  /// and their two-byte text from `wideBase` (a span minus the base of its text indexes
  /// into it). At least one row; more while the texts stay under a young-generation
  /// object's size.
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
  bool block_ascii_ = false;   // the one-byte text is the block's bytes; else narrow_
  PodBuffer<uint32_t> spans_;  // (start, length | flags) per field, in characters
  v8::Global<v8::Uint32Array> block_fields_;
  PodBuffer<uint8_t> narrow_;          // a non-ASCII block's Latin-1 fields, packed
  PodBuffer<uint16_t> units_;          // and its other fields, in UTF-16, packed
  PodBuffer<uint32_t> row_narrow_;     // where each row starts in the one-byte text (n + 1)
  PodBuffer<uint32_t> row_wide_;       // and in the two-byte text
  std::vector<uint8_t> text_columns_;  // 1 for the string columns (PrepareBlock copies their text)
};

}  // namespace flowengine::js
