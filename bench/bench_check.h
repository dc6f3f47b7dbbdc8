// Result checks for benchmarks: a benchmark verifies its output before timing and calls
// FailCheck on a mismatch, which skips it and makes the benchmark binary exit non-zero.
#pragma once

#include <benchmark/benchmark.h>

#include <atomic>

namespace flowengine::bench {

inline std::atomic<bool>& CheckFailedFlag() {
  static std::atomic<bool> failed{false};
  return failed;
}
inline bool CheckFailed() { return CheckFailedFlag().load(); }

/// Marks the benchmark as failed with `why`.
inline void FailCheck(benchmark::State& state, const char* why) {
  CheckFailedFlag().store(true);
  state.SkipWithError(why);
}

}  // namespace flowengine::bench
