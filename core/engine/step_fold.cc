#include "core/engine/step_fold.h"

#include <string>
#include <utility>

#include "core/csv/block_parser.h"
#include "core/error/error.h"

namespace flowengine {

void FoldForNextStep(Chunk& chunk, const Dialect& source) {
  TransformOutput& t = chunk.transform;
  if (!t.active) return;
  const RowBatch& out = t.batch;
  const uint32_t cols = out.num_columns;
  const size_t n = t.main_rows.size();
  // Step k's input (fold_batch after an earlier fold) is no longer needed: it is rewritten.
  RowBatch& next = chunk.fold_batch;
  ByteBuffer& packed = chunk.fold_values;
  next.num_columns = cols;
  next.num_rows = n;
  next.fields.ResizeDiscard(n * cols);
  next.rows.ResizeDiscard(n);
  packed.Clear();
  thread_local std::string scratch;
  for (size_t i = 0; i < n; ++i) {
    const uint32_t r = t.main_rows[i];
    next.rows[i] = out.rows[r];
    for (uint32_t c = 0; c < cols; ++c) {
      const FieldSpan& span = out.Field(r, c);
      const std::string_view text =
          span.in_arena() ? std::string_view(t.values.data() + span.offset, span.length())
                          : FieldText(chunk.block.bytes.data(), span, source, scratch);
      if (packed.size() + text.size() > FieldSpan::kLengthMask) {
        Location loc;
        if (chunk.block.file != nullptr) loc.file = *chunk.block.file;
        loc.line = chunk.block.first_line + out.rows[r].line_delta;
        loc.byte_offset = chunk.block.byte_offset + out.rows[r].begin;
        ThrowError("FE-RESOURCE-MEMORY",
                   "The values one block hands from one transform step to the next pass 512 MiB",
                   loc, "transform");
      }
      next.fields[i * cols + c] = FieldSpan{static_cast<uint32_t>(packed.size()),
                                            static_cast<uint32_t>(text.size()) | FieldSpan::kArena};
      packed.Append(text.data(), text.size());
    }
  }
  std::swap(t.values, packed);
  chunk.folded = true;
  chunk.folded_bytes = t.values.size();
  t.ClearRows();
}

}  // namespace flowengine
