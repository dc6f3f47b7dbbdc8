#include "core/js/watchdog.h"

#include <v8.h>

#include <algorithm>

#include "core/io/stop_flag.h"

namespace flowengine {

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

void Watchdog::Add(WatchedRun* run) {
  std::lock_guard<std::mutex> lock(mutex_);
  runs_.push_back(run);
}

void Watchdog::Remove(WatchedRun* run) {
  std::lock_guard<std::mutex> lock(mutex_);
  runs_.erase(std::remove(runs_.begin(), runs_.end(), run), runs_.end());
}

void Watchdog::Loop() {
  const auto interval =
      std::clamp(timeout_ / 4, std::chrono::milliseconds(1), std::chrono::milliseconds(100));
  std::unique_lock<std::mutex> lock(mutex_);
  while (!stop_) {
    wake_.wait_for(lock, interval);
    for (WatchedRun* run : runs_) {
      if (!run->running.load()) {
        run->last_progress = -1;
        continue;
      }
      if (stop_flag_ != nullptr ? stop_flag_->load() : StopRequested()) {
        if (!run->stopped.exchange(true)) run->isolate->TerminateExecution();
        continue;
      }
      timespec cpu{};
      if (::clock_gettime(run->thread_clock.load(), &cpu) != 0) continue;
      const auto now = std::chrono::seconds(cpu.tv_sec) + std::chrono::nanoseconds(cpu.tv_nsec);
      const int32_t progress = *run->progress;
      if (progress != run->last_progress) {
        run->last_progress = progress;
        run->last_change = now;
      } else if (now - run->last_change > timeout_ && !run->timed_out.load()) {
        run->timed_out.store(true);
        run->isolate->TerminateExecution();
      }
    }
  }
}

}  // namespace flowengine
