// TraceRecorder: one slice per block per stage per thread, written as Chrome trace-event
// JSON (opens in Perfetto and chrome://tracing) by `flowengine run --trace FILE`.
// Record() is called by the graph's threads concurrently: each thread appends to its own
// buffer (registered once per thread under a mutex), so recording takes no lock. When no
// recorder is given the graph skips the call (one pointer test per block).
#pragma once

#include <chrono>
#include <cstdint>
#include <list>
#include <mutex>
#include <string>
#include <vector>

#include "core/metrics/metrics.h"

namespace flowengine {

class TraceRecorder {
 public:
  TraceRecorder();
  TraceRecorder(const TraceRecorder&) = delete;
  TraceRecorder& operator=(const TraceRecorder&) = delete;

  /// A slice of `stage` on this thread from `start` for `duration`, for block `seq`.
  void Record(Stage stage, std::chrono::steady_clock::time_point start,
              std::chrono::nanoseconds duration, uint64_t seq, uint64_t rows, uint64_t bytes);

  /// The trace as {"traceEvents":[...]} with thread names; call after the run.
  std::string ToJson() const;
  size_t event_count() const;

 private:
  struct Event {
    int64_t start_ns;  // since origin_
    int64_t duration_ns;
    uint64_t seq;
    uint64_t rows;
    uint64_t bytes;
    Stage stage;
  };
  struct ThreadBuffer {
    int tid;
    std::vector<Event> events;
  };
  ThreadBuffer& BufferForThisThread();

  const std::chrono::steady_clock::time_point origin_;
  const uint64_t id_;  // tells this recorder's thread buffers from an earlier one's
  mutable std::mutex mutex_;
  std::list<ThreadBuffer> buffers_;  // stable addresses
};

}  // namespace flowengine
