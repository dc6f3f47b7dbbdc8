#include "core/io/background_sync.h"

#include <unistd.h>

#include <cerrno>
#include <system_error>

#include "core/io/retry.h"

namespace flowengine {

void BackgroundSync::Request(int fd) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopping_) return;
    fd_ = fd;
    requested_ = true;
  }
  if (!thread_.joinable()) {
    try {
      thread_ = std::thread([this] { Run(); });
    } catch (const std::system_error&) {
      std::lock_guard<std::mutex> lock(mutex_);
      requested_ = false;  // no thread: the fsync at commit does the work
      return;
    }
  }
  wake_.notify_one();
}

int BackgroundSync::Stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
  std::lock_guard<std::mutex> lock(mutex_);
  return error_;
}

void BackgroundSync::Run() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (true) {
    wake_.wait(lock, [this] { return requested_ || stopping_; });
    if (!requested_) return;  // stopping, with nothing left to sync
    requested_ = false;
    const int fd = fd_;
    lock.unlock();
    int err = TakeInjectedFault(IoOp::kSync);
    if (err == 0 && ::fdatasync(fd) != 0) err = errno;
    lock.lock();
    if (err != 0 && err != EINTR && error_ == 0) error_ = err;
  }
}

}  // namespace flowengine
