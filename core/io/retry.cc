#include "core/io/retry.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <mutex>
#include <random>
#include <sstream>
#include <thread>

#include "core/error/error.h"
#include "core/io/stop_flag.h"
#include "core/log/logger.h"

namespace flowengine {

bool IsTransientErrno(int err) {
  return err == EIO || err == EAGAIN || err == EWOULDBLOCK || err == EBUSY || err == ENOLCK ||
         err == ETIMEDOUT;
}

std::atomic<uint64_t>& RetryCount() noexcept {
  static std::atomic<uint64_t> count{0};
  return count;
}

bool SleepUnlessStopped(int64_t ms, const std::atomic<bool>* stop) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
  const std::atomic<bool>& flag = stop != nullptr ? *stop : ProcessStopFlag();
  while (!flag.load(std::memory_order_relaxed)) {
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) return true;
    std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(
        deadline - now, std::chrono::milliseconds(20)));
  }
  return false;
}

void BackoffBeforeRetry(const RetryPolicy& policy, int retry, const std::string& what,
                        const std::atomic<bool>* stop) {
  int64_t bound = policy.initial_delay_ms;
  for (int i = 1; i < retry && bound < policy.max_delay_ms; ++i) bound *= 2;
  if (bound > policy.max_delay_ms) bound = policy.max_delay_ms;
  thread_local std::mt19937_64 rng(std::random_device{}());
  const int64_t delay = bound > 0 ? std::uniform_int_distribution<int64_t>(0, bound)(rng) : 0;
  Log(LogLevel::kWarn, LogCategory::kEngine,
      "retry " + std::to_string(retry) + "/" + std::to_string(policy.attempts - 1) + " in " +
          std::to_string(delay) + " ms: " + what,
      {LogField::Num("retry", retry), LogField::Num("delay_ms", delay)});
  RetryCount().fetch_add(1, std::memory_order_relaxed);
  if (!SleepUnlessStopped(delay, stop)) {
    ThrowError("FE-RESOURCE-INTERRUPTED", "Stopped while waiting to retry: " + what, {}, "run");
  }
}

namespace {

struct Faults {
  bool enabled = false;  // FLOWENGINE_TEST_FAULTS is set: the only time the mutex is used
  std::mutex mutex;
  int counts[3] = {0, 0, 0};
  int errnos[3] = {0, 0, 0};
};

int ErrnoByName(const std::string& name) {
  if (name == "EIO") return EIO;
  if (name == "EAGAIN") return EAGAIN;
  if (name == "EINTR") return EINTR;
  if (name == "ENOSPC") return ENOSPC;
  if (name == "EBUSY") return EBUSY;
  if (name == "EACCES") return EACCES;
  return 0;
}

Faults& InjectedFaults() {
  static Faults* faults = [] {
    auto* f = new Faults;
    const char* spec = std::getenv("FLOWENGINE_TEST_FAULTS");
    if (spec == nullptr) return f;
    f->enabled = true;
    std::stringstream items(spec);
    for (std::string item; std::getline(items, item, ',');) {
      std::stringstream parts(item);
      std::string op, name, count;
      std::getline(parts, op, ':');
      std::getline(parts, name, ':');
      std::getline(parts, count, ':');
      const int index = op == "read" ? 0 : op == "write" ? 1 : op == "sync" ? 2 : -1;
      if (index < 0 || ErrnoByName(name) == 0) continue;
      f->errnos[index] = ErrnoByName(name);
      f->counts[index] = std::atoi(count.c_str());
    }
    return f;
  }();
  return *faults;
}

}  // namespace

int TakeInjectedFault(IoOp op) {
  Faults& f = InjectedFaults();
  if (!f.enabled) return 0;
  const int index = static_cast<int>(op);
  std::lock_guard<std::mutex> lock(f.mutex);
  if (f.counts[index] <= 0) return 0;
  --f.counts[index];
  return f.errnos[index];
}

}  // namespace flowengine
