#include "core/io/target_lock.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "core/error/error.h"
#include "core/io/temp_registry.h"
#include "core/log/logger.h"

namespace flowengine {
namespace {

namespace fs = std::filesystem;

long ReadPid(int fd) {
  char buf[32] = {};
  const ssize_t n = ::pread(fd, buf, sizeof(buf) - 1, 0);
  return n > 0 ? std::strtol(buf, nullptr, 10) : 0;
}

bool ProcessAlive(long pid) {
  return pid > 0 && (::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM);
}

}  // namespace

std::string LockNameFor(const std::string& name) { return "." + name + ".flowengine-lock"; }

bool IsWorkingFileName(const std::string& name) {
  const auto ends_with = [&](std::string_view suffix) {
    return name.size() >= suffix.size() &&
           name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  return name.size() > 1 && name[0] == '.' &&
         (ends_with(".flowengine-lock") || ends_with(".flowengine-journal") ||
          name.find(".flowengine-tmp.") != std::string::npos);
}

int TargetLock::Attempt(int dir_fd, const std::string& name, const std::string& target,
                        long* holder) {
  const std::string lock_name = LockNameFor(name);
  Location loc;
  loc.file = target;
  // Never through a link: a symbolic or hard link planted at the lock's name would have this
  // run truncate and write the file it leads to (outside a service's data roots, say).
  const int fd = ::openat(dir_fd, lock_name.c_str(),
                          O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0644);
  if (fd < 0) {
    const int err = errno;
    if (err == ELOOP) {
      Error e = MakeError("FE-OUTPUT-OPEN",
                          "The lock file beside the target, " + lock_name +
                              ", is a symbolic link; flowengine makes that file itself",
                          loc, "startup");
      e.hint = "Remove the link " + lock_name + " from the target's directory.";
      throw ErrorException(std::move(e));
    }
    ThrowError("FE-OUTPUT-OPEN",
               std::string("Cannot create the lock file beside the target: ") + std::strerror(err),
               loc, "startup");
  }
  struct stat opened {};
  const bool regular = ::fstat(fd, &opened) == 0 && S_ISREG(opened.st_mode);
  if (regular && opened.st_nlink == 0) {
    ::close(fd);
    return -1;  // removed by its previous holder since: try again at once
  }
  if (!regular || opened.st_nlink != 1) {
    ::close(fd);
    Error e = MakeError("FE-OUTPUT-OPEN",
                        "The lock file beside the target, " + lock_name +
                            ", is not a file of its own (a hard link, a directory or a special "
                            "file); flowengine makes that file itself",
                        loc, "startup");
    e.hint = "Remove " + lock_name + " from the target's directory.";
    throw ErrorException(std::move(e));
  }
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    *holder = ReadPid(fd);
    ::close(fd);
    return 0;
  }
  // The file may have been removed by its previous holder meanwhile: lock the name's file.
  struct stat locked {
  }, now{};
  if (::fstat(fd, &locked) != 0 ||
      ::fstatat(dir_fd, lock_name.c_str(), &now, AT_SYMLINK_NOFOLLOW) != 0 ||
      locked.st_ino != now.st_ino || locked.st_dev != now.st_dev) {
    ::close(fd);
    return -1;  // try again at once
  }
  const std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, pid.data(), pid.size(), 0) < 0) {
    // The pid is informational; the flock is what counts.
  }
  fd_ = fd;
  dir_fd_ = dir_fd;
  lock_name_ = lock_name;
  RegisterTempFile(dir_fd_, lock_name_);
  return 1;
}

void TargetLock::Acquire(int dir_fd, const std::string& name, const std::string& target,
                         const RetryPolicy& retry, const std::atomic<bool>* stop) {
  for (int attempt = 1;;) {
    long holder = 0;
    const int got = Attempt(dir_fd, name, target, &holder);
    if (got == 1) return;
    if (got < 0) continue;
    const std::string what =
        "Another flowengine run (pid " + std::to_string(holder) + ") is writing this target";
    if (attempt < retry.attempts) {
      BackoffBeforeRetry(retry, attempt, what + " (" + target + ")", stop);
      ++attempt;
      continue;
    }
    Location loc;
    loc.file = target;
    ThrowError("FE-OUTPUT-LOCKED", what, loc, "startup");
  }
}

bool TargetLock::TryAcquire(int dir_fd, const std::string& name) {
  for (;;) {
    long holder = 0;
    const int got = Attempt(dir_fd, name, name, &holder);
    if (got >= 0) return got == 1;
  }
}

void TargetLock::Release() noexcept {
  if (fd_ < 0) return;
  // Unlink before unlocking: a waiting run then sees a new inode and tries again.
  ::unlinkat(dir_fd_, lock_name_.c_str(), 0);
  UnregisterTempFile(dir_fd_, lock_name_);
  ::close(fd_);
  fd_ = -1;
  dir_fd_ = -1;
}

long TargetLock::Holder(const std::string& target) {
  const fs::path t(target);
  const std::string path = (t.parent_path() / LockNameFor(t.filename().string())).string();
  const int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return 0;
  long holder = 0;
  if (::flock(fd, LOCK_SH | LOCK_NB) != 0) {
    holder = ReadPid(fd);
    if (holder == 0) holder = -1;  // locked, pid not written yet
  } else {
    ::flock(fd, LOCK_UN);
  }
  ::close(fd);
  return holder;
}

int RemoveStaleTempFiles(const std::string& target) {
  const fs::path t(target);
  // The target's temp files, and the temp file of a commit journal that was never renamed
  // into place (a kill -9 while it was written: the commit had not begun, so it means
  // nothing; core/io/commit_set.cc, WriteJournal).
  const std::string prefixes[] = {
      "." + t.filename().string() + ".flowengine-tmp.",
      "." + t.filename().string() + ".flowengine-journal.flowengine-tmp."};
  std::error_code ec;
  int removed = 0;
  const fs::path dir = t.parent_path().empty() ? fs::path(".") : t.parent_path();
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    const std::string* prefix = nullptr;
    for (const std::string& p : prefixes) {
      if (name.rfind(p, 0) == 0) prefix = &p;
    }
    if (prefix == nullptr) continue;
    const long pid = std::strtol(name.c_str() + prefix->size(), nullptr, 10);
    if (ProcessAlive(pid)) continue;
    if (fs::remove(entry.path(), ec)) {
      ++removed;
      Log(LogLevel::kInfo, LogCategory::kSink,
          "removed " + entry.path().string() + ", a temp file left by an interrupted run (pid " +
              std::to_string(pid) + ")");
    }
  }
  return removed;
}

}  // namespace flowengine
