// InputFile: a read-only file descriptor with full reads that retry EINTR; regular files,
// pipes and FIFOs. Not copyable; one reader at a time.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/io/retry.h"

namespace flowengine {

class InputFile {
 public:
  InputFile() = default;
  InputFile(const InputFile&) = delete;
  InputFile& operator=(const InputFile&) = delete;
  ~InputFile();

  /// Opens `path`; throws ErrorException FE-INPUT-OPEN.
  void Open(const std::string& path);
  /// Reads up to `n` bytes (fewer only at end of file); throws FE-INPUT-READ. On a pipe it
  /// waits in slices of 100 ms and throws FE-RESOURCE-INTERRUPTED once a stop is requested.
  size_t Read(char* dst, size_t n);
  /// Transient read failures are retried by `policy` (default: RetryPolicy{}).
  void SetRetryPolicy(const RetryPolicy& policy) { retry_ = policy; }
  /// The flag that ends a wait on a pipe (default: the process's, StopRequested()).
  void SetStopFlag(const std::atomic<bool>* stop) { stop_ = stop; }
  /// File size at open time (0 for pipes).
  int64_t size() const { return size_; }
  const std::string& path() const { return path_; }

 private:
  void WaitReadable();

  int fd_ = -1;
  int64_t size_ = 0;
  bool regular_ = false;
  RetryPolicy retry_;
  const std::atomic<bool>* stop_ = nullptr;
  std::string path_;
};

}  // namespace flowengine
