// AtomicFile: writes a target file so that readers only ever see the old file or the
// complete new one. Data goes to a temp file in the target's directory
// (".<name>.flowengine-tmp.<pid>.<n>"); Commit() fsyncs it, renames it over the target and
// fsyncs the directory; Abort() (or the destructor) removes it. One writer thread at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "core/io/retry.h"
#include "core/io/target_lock.h"

namespace flowengine {

/// Bytes available to this process on the filesystem holding `path` (its directory when
/// `path` does not exist yet); -1 when unknown.
int64_t AvailableBytes(const std::string& path);

class AtomicFile {
 public:
  /// kReplaceKeepBackup: the previous target becomes <target>.bak (atomically replaced).
  enum class Commit { kReplace, kReplaceKeepBackup, kNoReplace };

  AtomicFile() = default;
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;
  ~AtomicFile();

  /// Locks `target` against other runs, removes temp files of killed runs, and creates the
  /// temp file. With `copy_existing`, the temp starts as a copy of the current target (for
  /// append). Throws ErrorException FE-OUTPUT-LOCKED or FE-OUTPUT-OPEN.
  void Open(const std::string& target, bool copy_existing);
  /// Transient write failures are retried by `policy` (default: RetryPolicy{}).
  void SetRetryPolicy(const RetryPolicy& policy) { retry_ = policy; }
  /// Appends bytes; throws FE-OUTPUT-WRITE (disk full, I/O error).
  void Write(const char* data, size_t n);
  /// fsync + rename + directory fsync. kNoReplace fails with FE-OUTPUT-EXISTS when the target
  /// appeared meanwhile. Throws FE-OUTPUT-COMMIT / FE-OUTPUT-WRITE.
  void CommitTo(Commit mode);
  /// Removes the temp file; the target is untouched. Safe to call more than once.
  void Abort() noexcept;

  const std::string& temp_path() const { return temp_path_; }
  const std::string& target() const { return target_; }
  /// Bytes in the temp file so far.
  size_t size() const { return size_; }

 private:
  void KeepBackup();

  int fd_ = -1;
  size_t size_ = 0;
  size_t writeback_from_ = 0;
  RetryPolicy retry_;
  TargetLock lock_;  // held from Open() to Commit()/Abort()  // first byte whose writeback has not
                     // been started
  std::string target_;
  std::string temp_path_;
};

/// The whole of `text` as the new content of `path`, through an AtomicFile (for report
/// files: metrics, trace, summary, row samples). Throws ErrorException like AtomicFile.
void WriteFileAtomically(const std::string& path, const std::string& text);

}  // namespace flowengine
