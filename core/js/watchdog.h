// Watchdog: one thread that stops scripts running longer than limits.scriptTimeout in one
// process() call. Each worker publishes a progress counter (rows started, written by the JS
// driver) while it runs a batch; when the counter has not moved while the worker's thread
// spent more than the timeout of CPU time, the watchdog calls TerminateExecution on the
// worker's isolate. CPU time, not wall time: a thread waiting for a core on a loaded machine
// is not a slow script. Checks every timeout/4; the
// first check may see a call up to one interval late and the stop comes at the first check
// past the timeout, so a stuck call ends within 1.5 x the timeout. It also ends running
// scripts within 100 ms of a stop request (a signal or limits.timeout: StopRequested()), so
// that a stopping run does not wait for a long batch. Thread-safe.
#pragma once

#include <time.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

namespace v8 {
class Isolate;
}

namespace flowengine {

/// What the watchdog watches for one worker.
struct WatchedRun {
  v8::Isolate* isolate = nullptr;
  volatile int32_t* progress = nullptr;  ///< rows started in the current batch
  std::atomic<bool> running{false};
  std::atomic<bool> timed_out{false};
  std::atomic<bool> stopped{false};        ///< terminated because the run is stopping
  std::atomic<clockid_t> thread_clock{0};  ///< CPU clock of the thread running the batch
  int32_t last_progress = -1;              // watchdog thread only
  std::chrono::nanoseconds last_change{};  // watchdog thread only: CPU time at last progress
};

class Watchdog {
 public:
  /// `stop`: the run's stop flag (null: the process's, StopRequested()).
  explicit Watchdog(std::chrono::milliseconds timeout, const std::atomic<bool>* stop = nullptr);
  ~Watchdog();
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;

  void Add(WatchedRun* run);
  void Remove(WatchedRun* run);
  std::chrono::milliseconds timeout() const { return timeout_; }

 private:
  void Loop();

  std::chrono::milliseconds timeout_;
  const std::atomic<bool>* stop_flag_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stop_ = false;
  std::vector<WatchedRun*> runs_;
  std::thread thread_;
};

}  // namespace flowengine
