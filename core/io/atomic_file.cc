#include "core/io/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "core/error/error.h"
#include "core/io/temp_registry.h"

namespace flowengine {
namespace {

namespace fs = std::filesystem;

[[noreturn]] void Fail(const std::string& code, const std::string& what, const std::string& file,
                       int err) {
  Location loc;
  loc.file = file;
  ThrowError(code, what + ": " + std::strerror(err), loc, "write");
}

std::string TempPathFor(const std::string& target) {
  static std::atomic<unsigned> counter{0};
  fs::path t(target);
  std::string name = "." + t.filename().string() + ".flowengine-tmp." + std::to_string(::getpid()) +
                     "." + std::to_string(counter++);
  return (t.parent_path() / name).string();
}

void FsyncDirectory(const std::string& target) {
  std::string dir = fs::path(target).parent_path().string();
  if (dir.empty()) dir = ".";
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

}  // namespace

int64_t AvailableBytes(const std::string& path) {
  std::string dir = fs::path(path).parent_path().string();
  if (dir.empty()) dir = ".";
  struct statvfs st {};
  if (::statvfs(dir.c_str(), &st) != 0) return -1;
  return static_cast<int64_t>(st.f_bavail) * static_cast<int64_t>(st.f_frsize);
}

AtomicFile::~AtomicFile() { Abort(); }

void AtomicFile::Open(const std::string& target, bool copy_existing) {
  target_ = target;
  lock_.Acquire(target, retry_);
  RemoveStaleTempFiles(target);
  temp_path_ = TempPathFor(target);
  mode_t mode = 0644;
  struct stat st {};
  const bool exists = ::stat(target.c_str(), &st) == 0;
  if (exists) mode = st.st_mode & 07777;
  fd_ = ::open(temp_path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd_ < 0) {
    const int err = errno;
    temp_path_.clear();
    Fail("FE-OUTPUT-OPEN", "Cannot create a temporary file beside the target", target, err);
  }
  RegisterTempFile(temp_path_);
  ::fchmod(fd_, mode);
  if (copy_existing && exists) {
    int in = ::open(target.c_str(), O_RDONLY | O_CLOEXEC);
    if (in < 0) Fail("FE-OUTPUT-OPEN", "Cannot read the target to append to it", target, errno);
    while (true) {
      ssize_t n = ::copy_file_range(in, nullptr, fd_, nullptr, 1 << 30, 0);
      if (n == 0) break;
      if (n < 0) {
        if (errno == EINTR) continue;
        const int err = errno;
        ::close(in);
        Fail("FE-OUTPUT-WRITE", "Copying the target for append failed", temp_path_, err);
      }
      size_ += static_cast<size_t>(n);
    }
    ::close(in);
  }
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
        BackoffBeforeRetry(
            retry_, failures,
            std::string("Writing the output failed: ") + std::strerror(err) + " (" + target_ + ")");
        continue;
      }
      Fail("FE-OUTPUT-WRITE",
           failures > 1
               ? "Writing the output failed after " + std::to_string(failures) + " attempts"
               : std::string("Writing the output failed"),
           target_, err);
    }
    failures = 0;
    data += wrote;
    n -= static_cast<size_t>(wrote);
    size_ += static_cast<size_t>(wrote);
  }
  // Start writeback of what is written so far, so that the fsync at commit has little left
  // to do and the disk works while the pipeline does (errors surface at that fsync).
  constexpr size_t kWritebackBytes = 16u << 20;
  if (size_ - writeback_from_ >= kWritebackBytes) {
    ::sync_file_range(fd_, static_cast<off_t>(writeback_from_),
                      static_cast<off_t>(size_ - writeback_from_), SYNC_FILE_RANGE_WRITE);
    writeback_from_ = size_;
  }
}

void AtomicFile::CommitTo(Commit mode) {
  if (::fsync(fd_) != 0)
    Fail("FE-OUTPUT-WRITE", "Flushing the output to disk failed", target_, errno);
  if (::close(fd_) != 0) {
    fd_ = -1;
    Fail("FE-OUTPUT-WRITE", "Closing the output failed", target_, errno);
  }
  fd_ = -1;
  if (mode == Commit::kNoReplace) {
    // link() fails with EEXIST instead of replacing: create mode stays race-free.
    if (::link(temp_path_.c_str(), target_.c_str()) != 0) {
      const int err = errno;
      if (err == EEXIST) {
        Location loc;
        loc.file = target_;
        ThrowError("FE-OUTPUT-EXISTS", "Target file appeared while the run was writing it", loc,
                   "commit");
      }
      Fail("FE-OUTPUT-COMMIT", "Cannot move the output into place", target_, err);
    }
    ::unlink(temp_path_.c_str());
  } else {
    if (mode == Commit::kReplaceKeepBackup) KeepBackup();
    if (::rename(temp_path_.c_str(), target_.c_str()) != 0) {
      Fail("FE-OUTPUT-COMMIT", "Cannot move the output into place", target_, errno);
    }
  }
  UnregisterTempFile(temp_path_);
  temp_path_.clear();
  FsyncDirectory(target_);
  lock_.Release();
}

void AtomicFile::KeepBackup() {
  // A second name for the current target, renamed over <target>.bak: readers of .bak see the
  // old backup or the new one; the target itself is replaced right after.
  if (::access(target_.c_str(), F_OK) != 0) return;  // nothing to back up yet
  const std::string backup = target_ + ".bak";
  const std::string staging = temp_path_ + ".bak";
  ::unlink(staging.c_str());
  if (::link(target_.c_str(), staging.c_str()) != 0 ||
      ::rename(staging.c_str(), backup.c_str()) != 0) {
    const int err = errno;
    ::unlink(staging.c_str());
    Fail("FE-OUTPUT-COMMIT", "Cannot keep the previous target as " + backup, target_, err);
  }
}

void AtomicFile::Abort() noexcept {
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
  if (!temp_path_.empty()) {
    ::unlink(temp_path_.c_str());
    UnregisterTempFile(temp_path_);
    temp_path_.clear();
  }
  lock_.Release();
}

void WriteFileAtomically(const std::string& path, const std::string& text) {
  AtomicFile file;  // its destructor removes the temp file if anything below throws
  file.Open(path, /*copy_existing=*/false);
  file.Write(text.data(), text.size());
  file.CommitTo(AtomicFile::Commit::kReplace);
}

}  // namespace flowengine
