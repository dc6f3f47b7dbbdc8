// InputFile: a read-only file descriptor with full reads that retry EINTR; regular files,
// pipes and FIFOs. A regular file must not change while it is read: a file that shrinks,
// grows past its size at open, is rewritten or is replaced at its path fails the run
// (FE-INPUT-CHANGED) instead of being taken as complete. Not copyable; one reader at a time.
#pragma once

#include <sys/types.h>
#include <time.h>

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

  /// Opens `path` ("-": standard input, then named "<stdin>" in messages); throws
  /// ErrorException FE-INPUT-OPEN.
  void Open(const std::string& path);
  /// Reads up to `n` bytes (fewer only at end of file); throws FE-INPUT-READ. On a pipe it
  /// waits in slices of 100 ms and throws FE-RESOURCE-INTERRUPTED once a stop is requested.
  /// At the end of a regular file it checks that the file did not change while it was read
  /// (size at open, modification time, same file at the path): FE-INPUT-CHANGED otherwise.
  size_t Read(char* dst, size_t n);
  /// As Read, but returns as soon as some bytes are there (a pipe's first chunk); 0 only at
  /// the end of the input.
  size_t ReadSome(char* dst, size_t n);
  /// Transient read failures are retried by `policy` (default: RetryPolicy{}).
  void SetRetryPolicy(const RetryPolicy& policy) { retry_ = policy; }
  /// The flag that ends a wait on a pipe (default: the process's, StopRequested()).
  void SetStopFlag(const std::atomic<bool>* stop) { stop_ = stop; }
  /// A second flag that ends such a wait (a reading thread being shut down); may be null.
  void SetCancelFlag(const std::atomic<bool>* cancel) { cancel_ = cancel; }
  /// File size at open time (0 for pipes).
  int64_t size() const { return size_; }
  /// The path, or "<stdin>" for standard input.
  const std::string& path() const { return path_; }

 private:
  void WaitReadable();
  // One read(2) with retries of transient errors; 0 at the end.
  size_t ReadOnce(char* dst, size_t n, int* failures);
  // At the end of a regular file: FE-INPUT-CHANGED when it changed while it was read.
  void CheckUnchanged() const;

  int fd_ = -1;
  int64_t size_ = 0;
  int64_t consumed_ = 0;  // bytes read so far
  bool regular_ = false;
  bool stdin_file_ = false;   // standard input redirected from a regular file
  int64_t start_ = 0;         // ... and its offset when opened
  struct timespec mtime_ {};  // modification time at open (regular files)
  dev_t dev_ = 0;
  ino_t ino_ = 0;
  RetryPolicy retry_;
  const std::atomic<bool>* stop_ = nullptr;
  const std::atomic<bool>* cancel_ = nullptr;
  std::string path_;
};

}  // namespace flowengine
