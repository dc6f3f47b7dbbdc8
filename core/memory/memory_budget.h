// MemoryBudget: the account of bytes reserved by the pipeline's block, batch, transform and
// output buffers (PodBuffers attached to it), against the hard budget of `limits.memory`.
// Growth is charged before the memory is taken, and a charge that would pass the limit
// throws MemoryBudgetExceeded (the run fails with FE-RESOURCE-MEMORY instead of growing).
// Add() and Charge() are lock-free and thread-safe; the peak is exact.
#pragma once

#include <atomic>
#include <cstdint>
#include <exception>

namespace flowengine {

/// Thrown by MemoryBudget::Charge: the buffers of the run would pass limits.memory.
class MemoryBudgetExceeded : public std::exception {
 public:
  MemoryBudgetExceeded(int64_t requested, int64_t reserved, int64_t limit)
      : requested_(requested), reserved_(reserved), limit_(limit) {}
  const char* what() const noexcept override { return "limits.memory is spent"; }
  int64_t requested() const { return requested_; }  ///< bytes the buffer wanted to add
  int64_t reserved() const { return reserved_; }    ///< bytes in use before that
  int64_t limit() const { return limit_; }

 private:
  int64_t requested_, reserved_, limit_;
};

class MemoryBudget {
 public:
  /// `limit` 0: accounting only, no limit.
  explicit MemoryBudget(int64_t limit = 0) : limit_(limit) {}

  /// Records `delta` bytes reserved (negative: released), without a limit check (moves of
  /// reservations between buffers, releases).
  void Add(int64_t delta) noexcept {
    const int64_t now = reserved_.fetch_add(delta, std::memory_order_relaxed) + delta;
    int64_t peak = peak_.load(std::memory_order_relaxed);
    while (now > peak && !peak_.compare_exchange_weak(peak, now, std::memory_order_relaxed)) {
    }
  }
  /// Reserves `delta` more bytes; throws MemoryBudgetExceeded (and reserves nothing) when
  /// that would pass the limit.
  void Charge(int64_t delta) {
    // Compare-and-swap, so that a refused charge never shows, even for an instant.
    int64_t before = reserved_.load(std::memory_order_relaxed);
    do {
      if (limit_ > 0 && delta > 0 && before + delta > limit_) {
        throw MemoryBudgetExceeded(delta, before, limit_);
      }
    } while (!reserved_.compare_exchange_weak(before, before + delta, std::memory_order_relaxed));
    int64_t peak = peak_.load(std::memory_order_relaxed);
    const int64_t now = before + delta;
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
