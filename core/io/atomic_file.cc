#include "core/io/atomic_file.h"

#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "core/error/error.h"
#include "core/io/file_identity.h"
#include "core/io/temp_registry.h"
#include "core/log/logger.h"

namespace flowengine {
namespace {

namespace fs = std::filesystem;

std::string TempNameFor(const std::string& name) {
  static std::atomic<unsigned> counter{0};
  return "." + name + ".flowengine-tmp." + std::to_string(::getpid()) + "." +
         std::to_string(counter++);
}

std::string Errno(int err) { return std::strerror(err); }

}  // namespace

int64_t AvailableBytes(const std::string& path) {
  std::string dir = fs::path(ResolvePath(path).real).parent_path().string();
  if (dir.empty()) dir = ".";
  struct statvfs st {};
  if (::statvfs(dir.c_str(), &st) != 0) return -1;
  return static_cast<int64_t>(st.f_bavail) * static_cast<int64_t>(st.f_frsize);
}

AtomicFile::~AtomicFile() { Abort(); }

void AtomicFile::Fail(const std::string& code, const std::string& what, int err) const {
  Location loc;
  loc.file = target_;
  ThrowError(code, what + ": " + Errno(err), loc, "write");
}

std::string AtomicFile::temp_path() const {
  return temp_name_.empty() ? std::string() : dir_ + "/" + temp_name_;
}

void AtomicFile::Open(const std::string& target, Mode mode, bool copy_existing) {
  mode_ = mode;
  const fs::path real(follow_links_ ? fs::path(ResolvePath(target).real)
                                    : fs::absolute(fs::path(target)).lexically_normal());
  dir_ = real.parent_path().string();
  name_ = real.filename().string();
  target_ = real.string();
  dir_fd_ = ::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd_ < 0) Fail("FE-OUTPUT-OPEN", "Cannot open the output directory '" + dir_ + "'", errno);
  lock_.Acquire(dir_fd_, name_, target_, retry_, stop_);
  RemoveStaleTempFiles(target_);
  struct stat st {};
  const bool exists =
      ::fstatat(dir_fd_, name_.c_str(), &st, follow_links_ ? 0 : AT_SYMLINK_NOFOLLOW) == 0;
  const bool replaced_link = exists && !follow_links_ && S_ISLNK(st.st_mode);
  if (exists && !S_ISREG(st.st_mode) && !replaced_link) {
    Location loc;
    loc.file = target_;
    ThrowError("FE-OUTPUT-OPEN", "The target exists and is not a regular file", loc, "startup");
  }
  // An unnamed temp file: nothing to clean up whatever happens to the process. The mode
  // 0666 is reduced by the umask, as for any new file.
  fd_ = ::openat(dir_fd_, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0666);
  unnamed_ = fd_ >= 0;
  if (fd_ < 0) {
    temp_name_ = TempNameFor(name_);
    fd_ = ::openat(dir_fd_, temp_name_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd_ < 0) {
      const int err = errno;
      temp_name_.clear();
      Fail("FE-OUTPUT-OPEN", "Cannot create a temporary file beside the target", err);
    }
    registered_ = RegisterTempFile(dir_fd_, temp_name_);
  }
  if (exists && !replaced_link) {
    // Replacing a file keeps its owner, group and mode (owner first: chown clears set-id
    // bits). Only root may give a file away; anyone else gets a warning.
    if ((st.st_uid != ::geteuid() || st.st_gid != ::getegid()) &&
        ::fchown(fd_, st.st_uid, st.st_gid) != 0) {
      Log(LogLevel::kWarn, LogCategory::kSink,
          "cannot keep the owner and group of " + target_ + " (uid " + std::to_string(st.st_uid) +
              ", gid " + std::to_string(st.st_gid) + "): " + Errno(errno) +
              "; the new file belongs to this process's user");
    }
    if (::fchmod(fd_, st.st_mode & 07777) != 0) {
      Fail("FE-OUTPUT-OPEN", "Cannot give the new file the target's mode", errno);
    }
  }
  if (copy_existing && exists) CopyExisting();
}

void AtomicFile::CopyExisting() {
  const int in = ::openat(dir_fd_, name_.c_str(), O_RDONLY | O_CLOEXEC);
  if (in < 0) Fail("FE-OUTPUT-OPEN", "Cannot read the target to append to it", errno);
  while (true) {
    const ssize_t n = ::copy_file_range(in, nullptr, fd_, nullptr, 1 << 30, 0);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      ::close(in);
      Fail("FE-OUTPUT-WRITE", "Copying the target for append failed", err);
    }
    size_ += static_cast<size_t>(n);
  }
  ::close(in);
  synced_to_ = size_;
}

void AtomicFile::Write(const char* data, size_t n) {
  int failures = 0;
  while (n > 0) {
    ssize_t wrote = -1;
    if (const int injected = TakeInjectedFault(IoOp::kWrite)) {
      errno = injected;
    } else {
      wrote = ::write(fd_, data, n);
    }
    if (wrote < 0) {
      const int err = errno;
      if (err == EINTR) continue;
      if (IsTransientErrno(err) && ++failures < retry_.attempts) {
        BackoffBeforeRetry(retry_, failures,
                           "Writing the output failed: " + Errno(err) + " (" + target_ + ")",
                           stop_);
        continue;
      }
      Fail("FE-OUTPUT-WRITE",
           failures > 1
               ? "Writing the output failed after " + std::to_string(failures) + " attempts"
               : std::string("Writing the output failed"),
           err);
    }
    failures = 0;
    data += wrote;
    n -= static_cast<size_t>(wrote);
    size_ += static_cast<size_t>(wrote);
  }
  // Flush what is written so far in the background (core/io/background_sync.h), so that the
  // fsync at commit has little left to do and the disk works while the pipeline does.
  constexpr size_t kSyncBytes = 8u << 20;
  if (size_ - synced_to_ >= kSyncBytes) {
    background_sync_.Request(fd_);
    synced_to_ = size_;
  }
}

void AtomicFile::CheckDirectoryStillThere() const {
  struct stat now {
  }, opened{};
  if (::stat(dir_.c_str(), &now) != 0 || ::fstat(dir_fd_, &opened) != 0 ||
      now.st_dev != opened.st_dev || now.st_ino != opened.st_ino) {
    Location loc;
    loc.file = target_;
    ThrowError("FE-OUTPUT-COMMIT",
               "The output directory '" + dir_ +
                   "' was moved, removed or replaced during the run; the output is not "
                   "written anywhere",
               loc, "commit");
  }
}

void AtomicFile::SyncDirectory() {
  if (::fsync(dir_fd_) != 0) {
    Fail("FE-OUTPUT-COMMIT", "Flushing the output directory '" + dir_ + "' to disk failed", errno);
  }
}

void AtomicFile::Prepare() {
  CheckDirectoryStillThere();
  // A failed background sync may not be reported again by this fsync (the kernel reports a
  // writeback error once per open file).
  int sync_error = background_sync_.Stop();
  if (sync_error == 0) sync_error = TakeInjectedFault(IoOp::kSync);
  if (sync_error == 0 && ::fsync(fd_) != 0) sync_error = errno;
  if (sync_error != 0) Fail("FE-OUTPUT-WRITE", "Flushing the output to disk failed", sync_error);
  if (unnamed_) {
    temp_name_ = TempNameFor(name_);
    const std::string self = "/proc/self/fd/" + std::to_string(fd_);
    if (::linkat(AT_FDCWD, self.c_str(), dir_fd_, temp_name_.c_str(), AT_SYMLINK_FOLLOW) != 0) {
      const int err = errno;
      temp_name_.clear();
      Fail("FE-OUTPUT-COMMIT", "Cannot give the finished output a name beside the target", err);
    }
    unnamed_ = false;
    registered_ = RegisterTempFile(dir_fd_, temp_name_);
  }
  const int closed = ::close(fd_);
  fd_ = -1;
  if (closed != 0) Fail("FE-OUTPUT-WRITE", "Closing the output failed", errno);
  if (mode_ == Mode::kNoReplace) {
    struct stat st {};
    if (::fstatat(dir_fd_, name_.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
      Location loc;
      loc.file = target_;
      ThrowError("FE-OUTPUT-EXISTS", "Target file appeared while the run was writing it", loc,
                 "commit");
    }
  }
  SyncDirectory();
  prepared_ = true;
}

void AtomicFile::KeepBackup() {
  // A second name for the current target, renamed over <target>.bak: readers of .bak see the
  // old backup or the new one; the target itself is replaced right after.
  struct stat st {};
  if (::fstatat(dir_fd_, name_.c_str(), &st, 0) != 0) return;  // nothing to back up yet
  const std::string staging = temp_name_ + ".bak";
  const std::string backup = name_ + ".bak";
  ::unlinkat(dir_fd_, staging.c_str(), 0);
  if (::linkat(dir_fd_, name_.c_str(), dir_fd_, staging.c_str(), 0) != 0 ||
      ::renameat(dir_fd_, staging.c_str(), dir_fd_, backup.c_str()) != 0) {
    const int err = errno;
    ::unlinkat(dir_fd_, staging.c_str(), 0);
    Fail("FE-OUTPUT-COMMIT", "Cannot keep the previous target as " + dir_ + "/" + backup, err);
  }
}

void AtomicFile::KeepTempOnSignal() noexcept {
  if (registered_) UnregisterTempFile(dir_fd_, temp_name_);
  registered_ = false;
}

void AtomicFile::Publish() {
  if (mode_ == Mode::kReplaceKeepBackup) KeepBackup();
  if (mode_ == Mode::kNoReplace) {
    // Never replaces: a target created since Prepare() makes this fail, not vanish.
    if (::renameat2(dir_fd_, temp_name_.c_str(), dir_fd_, name_.c_str(), RENAME_NOREPLACE) != 0) {
      const int err = errno;
      if (err == EEXIST) {
        Location loc;
        loc.file = target_;
        ThrowError("FE-OUTPUT-EXISTS", "Target file appeared while the run was writing it", loc,
                   "commit");
      }
      if (err != EINVAL && err != ENOSYS)
        Fail("FE-OUTPUT-COMMIT", "Cannot move the output into place", err);
      // No RENAME_NOREPLACE on this filesystem: link() refuses an existing name too.
      if (::linkat(dir_fd_, temp_name_.c_str(), dir_fd_, name_.c_str(), 0) != 0) {
        const int link_err = errno;
        if (link_err == EEXIST) {
          Location loc;
          loc.file = target_;
          ThrowError("FE-OUTPUT-EXISTS", "Target file appeared while the run was writing it", loc,
                     "commit");
        }
        Fail("FE-OUTPUT-COMMIT", "Cannot move the output into place", link_err);
      }
      ::unlinkat(dir_fd_, temp_name_.c_str(), 0);
    }
  } else if (::renameat(dir_fd_, temp_name_.c_str(), dir_fd_, name_.c_str()) != 0) {
    Fail("FE-OUTPUT-COMMIT", "Cannot move the output into place", errno);
  }
  if (registered_) UnregisterTempFile(dir_fd_, temp_name_);
  registered_ = false;
  temp_name_.clear();
  prepared_ = false;
  published_ = true;
}

void AtomicFile::Finish() {
  if (dir_fd_ < 0) return;
  const int synced = ::fsync(dir_fd_);
  const int err = errno;
  lock_.Release();
  ::close(dir_fd_);
  dir_fd_ = -1;
  if (synced != 0) {
    Fail("FE-OUTPUT-COMMIT",
         "The output is in place, but flushing its directory '" + dir_ +
             "' to disk failed (the new name may not survive a power loss)",
         err);
  }
}

void AtomicFile::Abort() noexcept {
  background_sync_.Stop();  // before the descriptor it syncs is closed
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
  if (!temp_name_.empty() && dir_fd_ >= 0) {
    ::unlinkat(dir_fd_, temp_name_.c_str(), 0);
    if (registered_) UnregisterTempFile(dir_fd_, temp_name_);
    registered_ = false;
    temp_name_.clear();
  }
  prepared_ = false;
  lock_.Release();
  if (dir_fd_ >= 0) {
    ::close(dir_fd_);
    dir_fd_ = -1;
  }
}

void WriteFileAtomically(const std::string& path, const std::string& text) {
  AtomicFile file;  // its destructor removes the temp file if anything below throws
  file.SetFollowLinks(false);
  file.Open(path, AtomicFile::Mode::kReplace, /*copy_existing=*/false);
  file.Write(text.data(), text.size());
  file.Commit();
}

}  // namespace flowengine
