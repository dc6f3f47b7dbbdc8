// ColumnViews: the C++ side of native.column(c) — the values of one input column for a whole
// batch as one JavaScript value, so that per-value work happens in JIT code instead of one
// V8 API call per field:
//   string columns  one string of every value, plus UTF-16 offsets (Int32Array) and nulls;
//   numbers         a Float64Array plus nulls; an int64 beyond 2^53 makes the column a plain
//                   array (that value a BigInt);
//   booleans        a Uint8Array (0 false, 1 true, 2 null).
// Typed arrays point into this object's buffers: they are valid until the next batch (the
// driver drops them at the end of each batch). Used on the isolate's thread only.
#pragma once

#include <v8.h>

#include <string>
#include <vector>

#include "core/batch/row_batch.h"
#include "core/config/pipeline_spec.h"
#include "core/csv/dialect.h"
#include "core/memory/pod_buffer.h"

namespace flowengine::js {

class ColumnViews {
 public:
  ColumnViews(std::vector<ColumnSpec> columns, Dialect dialect)
      : columns_(std::move(columns)), dialect_(dialect), scratch_(columns_.size()) {}

  /// The view of column `c` of `chunk`'s rows, in the current context.
  v8::Local<v8::Value> Build(v8::Isolate* isolate, const Chunk& chunk, uint32_t c);

 private:
  struct Scratch {
    ByteBuffer text;             // UTF-8 of every value, concatenated
    PodBuffer<int32_t> offsets;  // start of each value in UTF-16 units, plus the end
    PodBuffer<uint8_t> nulls;    // 1 where the field is empty (booleans: 0, 1, 2)
    PodBuffer<double> numbers;   // numeric columns
  };
  v8::Local<v8::Value> Values(v8::Isolate* isolate, const Chunk& chunk, uint32_t c);

  std::vector<ColumnSpec> columns_;
  Dialect dialect_;
  std::vector<Scratch> scratch_;
  std::string text_scratch_;
  std::vector<v8::Local<v8::Value>> values_;
};

}  // namespace flowengine::js
