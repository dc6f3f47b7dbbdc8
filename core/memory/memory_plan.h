// MemoryPlan: turns `limits.memory`, `limits.blockSize` and the thread count into the
// numbers the engine runs with — how many blocks may be in flight (the limiter's tokens),
// how large a block is, and how many bytes one chunk's buffers may reserve — so that all
// chunk buffers together stay within the budget whatever the input. Pure functions.
//
// Budget = reader buffer (one block) + (tokens + 1) chunks (the limiter's tokens plus the
// one the input node holds while the limiter is closed), each within `chunk_bytes`. A chunk
// holds its block, field spans, row info, formatted outputs and, with a transform, the
// transform's spans, values and row lists: the reader sizes blocks so that the part it can
// foresee (`input_chunk_bytes`) leaves the rest of `chunk_bytes` to the transform's output.
// Every one of those buffers is charged to the run's MemoryBudget, which refuses growth past
// limits.memory (FE-RESOURCE-MEMORY). Outside the budget: V8 heaps (limits.scriptHeap per
// thread), per-thread scratch (formatter marks, blockSize/8; script column views, about
// 2 x blockSize per transform thread) and the trace recorder.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/config/pipeline_spec.h"

namespace flowengine {

struct MemoryPlan {
  int threads = 1;
  size_t tokens = 2;       ///< blocks admitted by the limiter
  size_t block_size = 0;   ///< bytes read per block
  size_t chunk_bytes = 0;  ///< bytes one chunk's buffers may reserve
  /// The share of chunk_bytes for what the reader can foresee (block, spans, rows, the
  /// formatted output of the input): all of it without a transform, 5/9 with one step,
  /// 5/13 with more (a folded batch and its packed values, reused by every step).
  size_t input_chunk_bytes = 0;
  size_t max_record = 0;  ///< largest record that fits (min of limit and budget)
  int64_t budget = 0;     ///< limits.memory
};

/// Threads the graph uses for `requested` (0: the cores available to the process).
int EffectiveThreads(int requested);

/// The plan for these limits and the pipeline's number of transform steps.
MemoryPlan PlanMemory(const LimitsSpec& limits, size_t transform_steps = 0);

/// Bytes a chunk reserves for a block of `bytes` bytes (in a buffer of `block_capacity`)
/// holding `delimiters` delimiter bytes and `lines` line breaks, parsed into `num_columns`
/// columns (`typed_values` of them with their values kept: RowBatch::numbers). Mirrors the
/// allocations of the parse and format stages.
size_t ChunkBytes(size_t block_capacity, size_t bytes, int64_t delimiters, int64_t lines,
                  uint32_t num_columns, uint32_t typed_values = 0);

/// Capacity the format stage reserves for `span_bytes` of records in `rows` rows.
inline size_t OutputCapacity(size_t span_bytes, size_t rows, uint32_t num_columns) {
  return 2 * span_bytes + 3 * rows * num_columns + 2 * rows + 16;  // CRLF: 2 bytes a row
}

}  // namespace flowengine
