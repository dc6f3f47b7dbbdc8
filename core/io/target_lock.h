// TargetLock: one writer per target file. An flock on ".<name>.flowengine-lock" beside the
// target, holding the owner's pid; a second run writing the same target fails with
// FE-OUTPUT-LOCKED naming that pid. The kernel drops the lock when its process dies, so a
// lock file left by a killed run never blocks. The lock file is created and removed through
// the handle of the target's directory (so a directory renamed during the run still loses
// its lock file), and is registered for removal by a second SIGINT/SIGTERM. Not thread-safe.
#pragma once

#include <atomic>
#include <string>

#include "core/io/retry.h"

namespace flowengine {

class TargetLock {
 public:
  TargetLock() = default;
  TargetLock(const TargetLock&) = delete;
  TargetLock& operator=(const TargetLock&) = delete;
  ~TargetLock() { Release(); }

  /// Takes the lock of `name` in the directory open as `dir_fd` (kept open by the caller
  /// until Release), retrying by `retry` while another process holds it; a retry wait ends
  /// at a stop request on `stop`. `target` names the file in messages. Throws ErrorException
  /// FE-OUTPUT-LOCKED (with the holder's pid), FE-OUTPUT-OPEN or FE-RESOURCE-INTERRUPTED.
  void Acquire(int dir_fd, const std::string& name, const std::string& target,
               const RetryPolicy& retry, const std::atomic<bool>* stop);
  /// Takes the lock only when it is free at once; false when another process holds it.
  bool TryAcquire(int dir_fd, const std::string& name);
  /// Drops the lock and removes the lock file. Safe to call more than once.
  void Release() noexcept;
  bool held() const { return fd_ >= 0; }

  /// The pid holding the lock of `target`, or 0 when it is free.
  static long Holder(const std::string& target);

 private:
  // One attempt: 1 locked, 0 held by another process (its pid in *holder), throws on errors.
  int Attempt(int dir_fd, const std::string& name, const std::string& target, long* holder);

  int fd_ = -1;
  int dir_fd_ = -1;
  std::string lock_name_;
};

/// Removes ".<name>.flowengine-tmp.<pid>.<n>" files beside `target` whose process is gone, and
/// ".<name>.flowengine-journal.flowengine-tmp.<pid>.journal" (a commit journal never renamed
/// into place). Returns how many it removed.
int RemoveStaleTempFiles(const std::string& target);

/// The lock file name of the target file called `name`.
std::string LockNameFor(const std::string& name);

/// Whether a file called `name` is named like one of the files runs make and remove beside
/// their targets (lock files, temp files, commit journals): no target may be called so.
bool IsWorkingFileName(const std::string& name);

}  // namespace flowengine
