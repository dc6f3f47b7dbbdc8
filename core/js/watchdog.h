// Watchdog: one thread that stops scripts that run too long. Each worker publishes a progress
// counter (rows started, written by the JS driver) while it runs a call into JavaScript.
//   - CPU time: when the counter has not moved while the worker's thread spent more than
//     limits.scriptTimeout of CPU time, the call is terminated (FE-SCRIPT-TIMEOUT). CPU, not
//     wall time: a thread waiting for a core on a loaded machine is not a slow script.
//   - Wall time, as a backstop: a call whose counter has not moved for 10 x the timeout (at
//     least 10 s) of wall time is terminated too, even if it uses no CPU (a script blocked in
//     a wait can never hang a run).
//   - A stop request (signal, limits.timeout: the run's stop flag) terminates running calls
//     within 100 ms.
// Checks every timeout/4 (at most 100 ms); a stuck call ends within 1.5 x the timeout.
//
// Calls are numbered (a generation): the watchdog terminates a call only while holding the
// run's mutex and seeing it still running, and the worker ends a call under that mutex and
// cancels a termination it finds: a termination meant for one call never reaches the next.
// Thread-safe.
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

/// What the watchdog watches for one worker. The worker calls BeginCall()/EndCall() around
/// every call into JavaScript; the other members are the watchdog's.
class WatchedRun {
 public:
  WatchedRun(v8::Isolate* isolate, volatile int32_t* progress)
      : isolate_(isolate), progress_(progress) {}

  /// Before a call, on the worker thread: starts measuring this thread's CPU time.
  void BeginCall();
  /// After a call, on the worker thread; cancels a termination aimed at it. Returns why the
  /// call was terminated, if it was.
  enum class Ended { kNormally, kTimedOut, kStopped };
  Ended EndCall();
  /// A call of this isolate was terminated (timed out or stopped) at least once: promise
  /// callbacks it queued may still be pending, so the isolate is never used for another run.
  bool ever_terminated() const { return ever_terminated_.load(); }

 private:
  friend class Watchdog;
  v8::Isolate* isolate_;
  volatile int32_t* progress_;
  std::mutex mutex_;  // guards everything below
  bool running_ = false;
  uint64_t generation_ = 0;
  clockid_t thread_clock_ = 0;
  bool timed_out_ = false;
  bool stopped_ = false;
  std::atomic<bool> ever_terminated_{false};
  // The watchdog's view of the current call.
  uint64_t seen_generation_ = 0;
  int32_t last_progress_ = -1;
  std::chrono::nanoseconds cpu_at_change_{};
  std::chrono::steady_clock::time_point wall_at_change_{};
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
  /// Wall time without progress after which a call is stopped whatever its CPU time.
  std::chrono::milliseconds wall_backstop() const;

 private:
  void Loop();
  void Check(WatchedRun& run, bool stopping);

  std::chrono::milliseconds timeout_;
  const std::atomic<bool>* stop_flag_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stop_ = false;
  std::vector<WatchedRun*> runs_;
  std::thread thread_;
};

}  // namespace flowengine
