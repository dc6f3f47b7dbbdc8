// RunScheduler: the runs of `flowengine serve` (DESIGN.md §8). Runs wait in a bounded FIFO
// queue and start, oldest first, on one of --max-runs runner threads once their
// limits.memory fits in what the service's --memory has left (one budget for all runs); they
// run through the public API (flowengine::Engine, whose thread pool all runs share), and
// their state, progress, summary and error are kept for GET /runs (the last --max-history
// finished runs).
//
// Cancel: a queued run ends at once; a running one through its CancellationToken (its targets
// stay untouched, as in the CLI). Drain: no new runs, the queued ones cancelled, the running
// ones given until a deadline and then cancelled.
//
// Thread safety: every public method is thread-safe (one mutex); Submit and the getters are
// quick (no I/O), so the HTTP thread may call them. The scheduler owns its runner threads and
// joins them in Drain() or the destructor.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "flowengine/flowengine.h"

namespace flowengine::serve {

enum class RunState { kQueued, kRunning, kSucceeded, kFailed, kCancelled };
const char* RunStateName(RunState state);

struct SchedulerOptions {
  int max_runs = 2;           ///< runs at once
  size_t max_queue = 64;      ///< runs waiting; beyond that Submit refuses (429)
  int64_t memory = 0;         ///< the service's budget (sum of running runs' limits.memory)
  size_t max_history = 1000;  ///< finished runs remembered
  int threads = 1;            ///< the engine's thread cap (for a run's script heaps)
  /// Called on the runner thread just before a run starts: "" to go on, else why the run
  /// must not start (it fails with FE-SERVE-PATH).
  std::function<std::string(const Pipeline&)> check_before_start;
};

/// What a run reserves of --memory: its limits.memory, plus limits.scriptHeap for each of
/// its threads when it has a JavaScript step.
int64_t RunMemory(const Pipeline& pipeline, int threads_cap);

/// Counts for /metrics.
struct SchedulerCounts {
  uint64_t queued = 0;
  uint64_t running = 0;
  int64_t memory_reserved = 0;
  std::map<std::string, uint64_t> finished;  ///< by final state, since start
  uint64_t submitted = 0;
  uint64_t refused_queue_full = 0;
  uint64_t rows_read = 0;  ///< by finished runs
};

class RunScheduler {
 public:
  RunScheduler(Engine& engine, SchedulerOptions options);
  ~RunScheduler();
  RunScheduler(const RunScheduler&) = delete;
  RunScheduler& operator=(const RunScheduler&) = delete;

  enum class Refusal { kNone, kQueueFull, kDraining, kTooLarge };
  /// Queues `pipeline` (named `name`); returns the run's id, or "" with `*why` set.
  std::string Submit(const std::string& name, Pipeline pipeline, Refusal* why);
  /// False when no run has that id. A finished run stays as it was.
  bool Cancel(const std::string& id);
  /// The run as JSON (docs/operations.md), or nullopt.
  std::optional<std::string> RunJson(const std::string& id) const;
  /// Every run remembered, newest first, as a JSON array.
  std::string RunsJson() const;
  SchedulerCounts Counts() const;
  bool draining() const;
  /// Cancels every running run (a second SIGTERM during a drain).
  void CancelRunning();
  /// Stops taking runs, cancels the queued ones, waits for the running ones until
  /// `deadline`, then cancels them and waits for them to end; joins the runner threads.
  void Drain(std::chrono::steady_clock::time_point deadline);

 private:
  struct Run;
  class Observer;
  void RunnerLoop();
  std::string JsonLocked(const Run& run) const;
  void CancelQueuedLocked(Run& run);
  void ForgetOldLocked();

  Engine& engine_;
  SchedulerOptions options_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;      ///< runners: a run queued, memory freed, or draining
  std::condition_variable finished_;  ///< Drain: a run ended
  std::map<std::string, std::shared_ptr<Run>> runs_;
  std::deque<std::shared_ptr<Run>> queue_;
  std::deque<std::string> done_order_;  ///< finished ids, oldest first
  uint64_t next_id_ = 1;
  int running_ = 0;
  int64_t reserved_ = 0;
  bool draining_ = false;
  SchedulerCounts counts_;
  std::vector<std::thread> runners_;
};

}  // namespace flowengine::serve
