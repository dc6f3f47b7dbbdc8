#include "core/js/watchdog.h"

#include <pthread.h>
#include <v8.h>

#include <algorithm>

#include "core/io/stop_flag.h"

namespace flowengine {

void WatchedRun::BeginCall() {
  clockid_t clock = 0;
  const bool have_clock = ::pthread_getcpuclockid(::pthread_self(), &clock) == 0;
  std::lock_guard<std::mutex> lock(mutex_);
  ++generation_;
  running_ = true;
  timed_out_ = false;
  stopped_ = false;
  thread_clock_ = have_clock ? clock : 0;
}

WatchedRun::Ended WatchedRun::EndCall() {
  bool timed_out = false, stopped = false;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    running_ = false;
    timed_out = timed_out_;
    stopped = stopped_;
    timed_out_ = stopped_ = false;
  }
  // Any termination was requested while the call was running (under the mutex): clear it
  // here, whether or not it took effect, so that it cannot hit the next call.
  if (timed_out || stopped) {
    isolate_->CancelTerminateExecution();
    ever_terminated_.store(true);
  }
  return stopped ? Ended::kStopped : timed_out ? Ended::kTimedOut : Ended::kNormally;
}

Watchdog::Watchdog(std::chrono::milliseconds timeout, const std::atomic<bool>* stop)
    : timeout_(timeout), stop_flag_(stop), thread_([this] { Loop(); }) {}

Watchdog::~Watchdog() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

std::chrono::milliseconds Watchdog::wall_backstop() const {
  return std::max<std::chrono::milliseconds>(timeout_ * 10, std::chrono::seconds(10));
}

void Watchdog::Add(WatchedRun* run) {
  std::lock_guard<std::mutex> lock(mutex_);
  runs_.push_back(run);
}

void Watchdog::Remove(WatchedRun* run) {
  std::lock_guard<std::mutex> lock(mutex_);
  runs_.erase(std::remove(runs_.begin(), runs_.end(), run), runs_.end());
}

void Watchdog::Check(WatchedRun& run, bool stopping) {
  std::lock_guard<std::mutex> lock(run.mutex_);
  if (!run.running_ || run.timed_out_ || run.stopped_) return;
  if (stopping) {
    run.stopped_ = true;
    run.isolate_->TerminateExecution();
    return;
  }
  const auto wall = std::chrono::steady_clock::now();
  std::chrono::nanoseconds cpu{};
  timespec ts{};
  const bool have_cpu = run.thread_clock_ != 0 && ::clock_gettime(run.thread_clock_, &ts) == 0;
  if (have_cpu) cpu = std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec);
  const int32_t progress = *run.progress_;
  if (run.seen_generation_ != run.generation_ || progress != run.last_progress_) {
    run.seen_generation_ = run.generation_;
    run.last_progress_ = progress;
    run.cpu_at_change_ = cpu;
    run.wall_at_change_ = wall;
    return;
  }
  const bool cpu_exceeded = have_cpu && cpu - run.cpu_at_change_ > timeout_;
  const bool wall_exceeded = wall - run.wall_at_change_ > wall_backstop();
  if (cpu_exceeded || wall_exceeded) {
    run.timed_out_ = true;
    run.isolate_->TerminateExecution();
  }
}

void Watchdog::Loop() {
  const auto interval =
      std::clamp(timeout_ / 4, std::chrono::milliseconds(1), std::chrono::milliseconds(100));
  std::unique_lock<std::mutex> lock(mutex_);
  while (!stop_) {
    wake_.wait_for(lock, interval);
    const bool stopping = stop_flag_ != nullptr ? stop_flag_->load() : StopRequested();
    for (WatchedRun* run : runs_) Check(*run, stopping);
  }
}

}  // namespace flowengine
