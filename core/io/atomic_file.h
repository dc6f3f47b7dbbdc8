// AtomicFile: writes a target file so that readers only ever see the old file or the
// complete new one, and so that a failed or killed run leaves nothing behind.
//
//   Open()     resolves the target (a symlink is followed: the file it points to is replaced
//              and the link stays), opens the target's directory, takes the target's lock
//              and creates an unnamed temp file in that directory (O_TMPFILE; a named
//              ".<name>.flowengine-tmp.<pid>.<n>" where the filesystem has no O_TMPFILE).
//              An existing target's mode, owner and group are copied to the temp; a new
//              file gets 0666 & ~umask.
//   Write()    appends bytes; every 8 MiB, their data is synced to disk in the background
//              (core/io/background_sync.h).
//   Prepare()  commit step 1: fsync, then a name beside the target for the temp, the
//              directory fsynced; create mode re-checks that the target does not exist.
//              Nothing is visible yet.
//   Publish()  commit step 2: keeps the previous target as .bak (backup mode), renames the
//              temp over the target (create mode: without replacing); Finish() fsyncs the
//              directory and unlocks. core/io/commit_set.h publishes the files
//              of one run as a set, with a journal that a crash cannot leave half done.
//   Abort()    (or the destructor) removes the temp; the target is untouched.
// Directory operations go through the directory handle opened by Open(), so a directory
// renamed during the run is detected at Prepare() and still cleaned up. One thread at a time.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/io/background_sync.h"
#include "core/io/retry.h"
#include "core/io/target_lock.h"

namespace flowengine {

/// Bytes available to this process on the filesystem holding `path` (its directory when
/// `path` does not exist yet); -1 when unknown.
int64_t AvailableBytes(const std::string& path);

class AtomicFile {
 public:
  /// kReplaceKeepBackup: the previous target becomes <target>.bak (atomically replaced).
  /// kNoReplace: the target must not exist (sink.outputMode: create).
  enum class Mode { kReplace, kReplaceKeepBackup, kNoReplace };

  AtomicFile() = default;
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;
  ~AtomicFile();

  /// Transient write failures are retried by `policy` (default: RetryPolicy{}).
  void SetRetryPolicy(const RetryPolicy& policy) { retry_ = policy; }
  /// The flag that ends retry and lock waits (default: the process's stop flag).
  void SetStopFlag(const std::atomic<bool>* stop) { stop_ = stop; }

  /// Open() takes `target` as named: a symlink at its last component is not followed but
  /// replaced by the new file (for a path resolved earlier, which a link planted since must
  /// not redirect). Default: followed.
  void SetFollowLinks(bool follow) { follow_links_ = follow; }

  /// Opens the temp file for `target` (see above), committed later with `mode`. With
  /// `copy_existing`, the temp starts as a copy of the current target (for append). Throws
  /// ErrorException FE-OUTPUT-LOCKED, FE-OUTPUT-OPEN or FE-OUTPUT-WRITE.
  void Open(const std::string& target, Mode mode, bool copy_existing);
  /// Appends bytes; throws FE-OUTPUT-WRITE (disk full, I/O error).
  void Write(const char* data, size_t n);
  /// Commit step 1 (see above). Throws FE-OUTPUT-WRITE, FE-OUTPUT-COMMIT or (create mode)
  /// FE-OUTPUT-EXISTS; the target is untouched either way.
  void Prepare();
  /// Commit step 2: the rename. Throws FE-OUTPUT-COMMIT (or FE-OUTPUT-EXISTS in create mode
  /// when the target appeared after Prepare); the target is untouched when it throws.
  void Publish();
  /// Prepare(), Publish() and Finish(), for a file committed on its own.
  void Commit() {
    Prepare();
    Publish();
    Finish();
  }
  /// Removes the temp file and the lock; the target is untouched. Safe to call more than
  /// once; a no-op after Publish().
  void Abort() noexcept;

  /// The file that is replaced: the target with symlinks resolved.
  const std::string& target() const { return target_; }
  /// The temp file's path once it has a name ("" while it is unnamed).
  std::string temp_path() const;
  /// Bytes in the temp file so far.
  size_t size() const { return size_; }
  /// Commit mode given to Open().
  Mode mode() const { return mode_; }
  /// True between Prepare() and Publish().
  bool prepared() const { return prepared_; }
  /// True once Publish() renamed the temp over the target.
  bool published() const { return published_; }
  /// Stops the second-signal handler from deleting the named temp: from now on only a
  /// completed commit or Abort() removes it (the commit journal names it).
  void KeepTempOnSignal() noexcept;
  /// After Publish(): fsyncs the target's directory again and lets go of the directory and
  /// the lock. Throws FE-OUTPUT-COMMIT when the fsync fails (the file is replaced, but its
  /// new name may not survive a power loss).
  void Finish();

 private:
  [[noreturn]] void Fail(const std::string& code, const std::string& what, int err) const;
  void CopyExisting();
  void KeepBackup();
  void SyncDirectory();
  void CheckDirectoryStillThere() const;

  int dir_fd_ = -1;
  int fd_ = -1;
  bool unnamed_ = false;  // O_TMPFILE: no name until Prepare()
  bool follow_links_ = true;
  bool prepared_ = false;
  bool published_ = false;
  bool registered_ = false;  // the named temp is in the temp registry
  Mode mode_ = Mode::kReplace;
  size_t size_ = 0;
  size_t synced_to_ = 0;            // bytes asked to be synced in the background
  BackgroundSync background_sync_;  // Abort() and Prepare() stop it before fd_ is closed
  RetryPolicy retry_;
  const std::atomic<bool>* stop_ = nullptr;
  TargetLock lock_;        // held from Open() to Publish()/Abort()
  std::string dir_;        // the target's directory (real path)
  std::string name_;       // the target's file name
  std::string target_;     // dir_/name_
  std::string temp_name_;  // the temp's name in dir_ ("" while unnamed)
};

/// The whole of `text` as the new content of `path`, through an AtomicFile (for report
/// files: metrics, trace, summary, row samples). `path` is taken as named (SetFollowLinks
/// false): callers pass the path they resolved and checked at startup (ResolvePath), so a
/// link planted at it during the run is replaced, not written through. Throws
/// ErrorException like AtomicFile.
void WriteFileAtomically(const std::string& path, const std::string& text);

}  // namespace flowengine
