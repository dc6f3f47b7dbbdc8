// MemoryBudget: the account of bytes reserved by the pipeline's block, batch and output
// buffers (PodBuffers attached to it), against the hard budget of `limits.memory`.
// Add() is lock-free and thread-safe; the peak is exact.
#pragma once

#include <atomic>
#include <cstdint>

namespace flowengine {

class MemoryBudget {
 public:
  explicit MemoryBudget(int64_t limit = 0) : limit_(limit) {}

  /// Records `delta` bytes reserved (negative: released).
  void Add(int64_t delta) noexcept {
    const int64_t now = reserved_.fetch_add(delta, std::memory_order_relaxed) + delta;
    int64_t peak = peak_.load(std::memory_order_relaxed);
    while (now > peak && !peak_.compare_exchange_weak(peak, now, std::memory_order_relaxed)) {
    }
  }
  int64_t reserved() const noexcept { return reserved_.load(std::memory_order_relaxed); }
  int64_t peak() const noexcept { return peak_.load(std::memory_order_relaxed); }
  int64_t limit() const noexcept { return limit_; }

 private:
  int64_t limit_;
  std::atomic<int64_t> reserved_{0};
  std::atomic<int64_t> peak_{0};
};

}  // namespace flowengine
