// TargetLock: one writer per target file. An flock on ".<name>.flowengine-lock" beside the
// target, holding the owner's pid; a second run writing the same target fails with
// FE-OUTPUT-LOCKED naming that pid. The kernel drops the lock when its process dies, so a
// lock file left by a killed run never blocks. Release() removes the lock file.
// Also removes temp files that killed runs left beside the target. Not thread-safe.
#pragma once

#include <string>

#include "core/io/retry.h"

namespace flowengine {

class TargetLock {
 public:
  TargetLock() = default;
  TargetLock(const TargetLock&) = delete;
  TargetLock& operator=(const TargetLock&) = delete;
  ~TargetLock() { Release(); }

  /// Takes the lock, retrying by `retry` while another process holds it. Throws
  /// ErrorException FE-OUTPUT-LOCKED (with the holder's pid) or FE-OUTPUT-OPEN.
  void Acquire(const std::string& target, const RetryPolicy& retry);
  /// Drops the lock and removes the lock file. Safe to call more than once.
  void Release() noexcept;

  /// The pid holding the lock of `target`, or 0 when it is free.
  static long Holder(const std::string& target);

 private:
  int fd_ = -1;
  std::string path_;
};

/// Removes ".<name>.flowengine-tmp.<pid>.<n>" files beside `target` whose process is gone.
/// Returns how many it removed.
int RemoveStaleTempFiles(const std::string& target);

/// The lock file path of `target`.
std::string LockPathFor(const std::string& target);

}  // namespace flowengine
