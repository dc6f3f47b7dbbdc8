#include "core/memory/memory_plan.h"

#include <algorithm>

#include "core/batch/row_batch.h"
#include "core/csv/scan_kernel.h"
#include "core/graph/cpu_count.h"

namespace flowengine {
namespace {

// A typical block reserves about 4x its size (block, spans, rows, output); plan for 5x, and
// for 9x with a transform (its spans, values and the larger output of its rows), plus 4x with
// more than one step (the folded batch and its packed values). Those buffers are reused from
// one step to the next, so the share does not grow with the number of steps.
constexpr size_t kNominalChunkFactor = 5;
constexpr size_t kTransformChunkFactor = 9;
constexpr size_t kFoldChunkFactor = 4;

size_t ChunkFactor(size_t steps) {
  return steps == 0   ? kNominalChunkFactor
         : steps == 1 ? kTransformChunkFactor
                      : kTransformChunkFactor + kFoldChunkFactor;
}
constexpr size_t kMinBlock = 64 << 10;

}  // namespace

int EffectiveThreads(int requested) {
  if (requested > 0) return requested;
  return AvailableCpus();
}

MemoryPlan PlanMemory(const LimitsSpec& limits, size_t transform_steps) {
  MemoryPlan plan;
  const size_t factor = ChunkFactor(transform_steps);
  plan.threads = EffectiveThreads(limits.threads);
  plan.budget = limits.memory;
  const size_t budget = static_cast<size_t>(limits.memory);
  size_t block = static_cast<size_t>(limits.block_size);
  // Enough tokens to keep every thread busy with one block while the next is read.
  const size_t wanted_tokens = static_cast<size_t>(2 * plan.threads + 2);
  size_t tokens = 2;
  if (budget < (factor * 3 + 1) * block) {
    // Too small for two tokens of this block size: shrink blocks instead of tokens.
    block = std::max(kMinBlock, budget / (factor * 3 + 1));
  } else {
    tokens = budget / (factor * block) - 1;
  }
  plan.tokens = std::clamp<size_t>(tokens, 2, wanted_tokens);
  plan.block_size = block;
  plan.chunk_bytes = (budget - block) / (plan.tokens + 1);
  plan.input_chunk_bytes = plan.chunk_bytes / factor * kNominalChunkFactor;
  // A record must fit a chunk: its block, spans and output are about 3x its size.
  plan.max_record =
      std::min(static_cast<size_t>(limits.max_record_size), plan.input_chunk_bytes / 4);
  return plan;
}

size_t ChunkBytes(size_t block_capacity, size_t bytes, int64_t delimiters, int64_t lines,
                  uint32_t num_columns, uint32_t typed_values) {
  BoundaryResult counts;
  counts.end = bytes;
  counts.delimiter_count = delimiters;
  counts.line_count = lines;
  const size_t fields = FieldCapacity(counts, num_columns);
  const size_t rows = RowCapacity(counts);
  return PodBuffer<char>::Bytes(block_capacity) +
         PodBuffer<FieldSpan>::Bytes(PodBuffer<FieldSpan>::DiscardCapacity(fields)) +
         PodBuffer<RowInfo>::Bytes(PodBuffer<RowInfo>::DiscardCapacity(rows)) +
         PodBuffer<char>::Bytes(
             PodBuffer<char>::DiscardCapacity(OutputCapacity(bytes, rows, num_columns))) +
         (typed_values == 0
              ? 0
              : PodBuffer<double>::Bytes(PodBuffer<double>::DiscardCapacity(typed_values * rows)) +
                    PodBuffer<uint8_t>::Bytes(
                        PodBuffer<uint8_t>::DiscardCapacity(typed_values * rows)));
}

}  // namespace flowengine
