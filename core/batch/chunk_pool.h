// ChunkPool: recycles Chunks (and so their block, span, transform and output buffers) between
// the writer, which releases them, and the reader, which acquires them. The limiter bounds
// how many exist, so after warm-up nothing is allocated per block. Every buffer of a chunk
// is attached to the run's MemoryBudget. Thread-safe.
#pragma once

#include <memory>
#include <mutex>
#include <vector>

#include "core/batch/row_batch.h"

namespace flowengine {

class ChunkPool {
 public:
  /// Buffers of new chunks report their reservations to `budget` (may be nullptr).
  explicit ChunkPool(MemoryBudget* budget = nullptr) : budget_(budget) {}

  /// A chunk with empty batch and output and no error; block bytes keep their capacity.
  Chunk* Acquire() {
    std::lock_guard<std::mutex> lock(mutex_);
    if (free_.empty()) {
      all_.push_back(std::make_unique<Chunk>());
      Chunk* c = all_.back().get();
      c->budget = budget_;
      c->block.bytes.AttachBudget(budget_);
      c->batch.fields.AttachBudget(budget_);
      c->batch.rows.AttachBudget(budget_);
      c->batch.numbers.AttachBudget(budget_);
      c->batch.codes.AttachBudget(budget_);
      c->transform.batch.fields.AttachBudget(budget_);
      c->transform.batch.rows.AttachBudget(budget_);
      c->transform.values.AttachBudget(budget_);
      c->transform.main_rows.AttachBudget(budget_);
      c->fold_batch.fields.AttachBudget(budget_);
      c->fold_batch.rows.AttachBudget(budget_);
      c->fold_values.AttachBudget(budget_);
      c->output.AttachBudget(budget_);
      c->dead_output.AttachBudget(budget_);
      return c;
    }
    Chunk* c = free_.back();
    free_.pop_back();
    return c;
  }
  void Release(Chunk* c) {
    c->ResetForReuse();
    std::lock_guard<std::mutex> lock(mutex_);
    free_.push_back(c);
  }

 private:
  MemoryBudget* budget_;
  std::mutex mutex_;
  std::vector<std::unique_ptr<Chunk>> all_;
  std::vector<Chunk*> free_;
};

}  // namespace flowengine
