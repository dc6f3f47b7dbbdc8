#include "core/io/input_file.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/error/error.h"
#include "core/io/stop_flag.h"

namespace flowengine {

InputFile::~InputFile() {
  if (fd_ >= 0) ::close(fd_);
}

void InputFile::Open(const std::string& path) {
  if (path == "-") {
    // Standard input, under a descriptor of its own (closed with this object, fd 0 stays).
    path_ = "<stdin>";
    fd_ = ::fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 0);
    if (fd_ < 0) {
      Location loc;
      loc.file = path_;
      ThrowError("FE-INPUT-OPEN",
                 std::string("Cannot read standard input: ") + std::strerror(errno), loc, "read");
    }
    struct stat st {};
    if (::fstat(fd_, &st) == 0 && S_ISREG(st.st_mode)) {
      // `< file`: read as a file, from where the descriptor is; no check at a path.
      regular_ = true;
      stdin_file_ = true;
      const off_t at = ::lseek(fd_, 0, SEEK_CUR);
      start_ = at > 0 ? at : 0;
      size_ = st.st_size - start_;
      mtime_ = st.st_mtim;
      dev_ = st.st_dev;
      ino_ = st.st_ino;
    }
    return;
  }
  path_ = path;
  // A FIFO is opened without blocking (a blocking open waits for a writer, and neither a
  // signal nor limits.timeout could end that wait); reads then wait in WaitReadable(), which
  // sees a stop request. Linux reports no hang-up on a FIFO that never had a writer, so the
  // wait lasts until one connects, as a blocking open would.
  struct stat before {};
  const bool fifo = ::stat(path.c_str(), &before) == 0 && S_ISFIFO(before.st_mode);
  fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | (fifo ? O_NONBLOCK : 0));
  if (fd_ >= 0 && fifo) ::fcntl(fd_, F_SETFL, ::fcntl(fd_, F_GETFL) & ~O_NONBLOCK);
  Location loc;
  loc.file = path;
  if (fd_ < 0) {
    ThrowError("FE-INPUT-OPEN", std::string("Cannot open the input file: ") + std::strerror(errno),
               loc, "read");
  }
  struct stat st {};
  if (::fstat(fd_, &st) == 0) {
    if (S_ISDIR(st.st_mode)) {
      ThrowError("FE-INPUT-OPEN", "Cannot open the input file: it is a directory", loc, "read");
    }
    regular_ = S_ISREG(st.st_mode);
    if (regular_) {
      size_ = st.st_size;
      mtime_ = st.st_mtim;
      dev_ = st.st_dev;
      ino_ = st.st_ino;
    }
  }
  ::posix_fadvise(fd_, 0, 0, POSIX_FADV_SEQUENTIAL);
}

void InputFile::WaitReadable() {
  pollfd p{fd_, POLLIN, 0};
  while (::poll(&p, 1, 100) <= 0) {
    if ((stop_ != nullptr ? stop_->load(std::memory_order_relaxed) : StopRequested()) ||
        (cancel_ != nullptr && cancel_->load(std::memory_order_relaxed))) {
      Location loc;
      loc.file = path_;
      ThrowError("FE-RESOURCE-INTERRUPTED", "Stopped while waiting for input", loc, "read");
    }
  }
}

size_t InputFile::ReadOnce(char* dst, size_t n, int* failures) {
  while (true) {
    if (!regular_) WaitReadable();
    ssize_t got = -1;
    if (const int injected = TakeInjectedFault(IoOp::kRead)) {
      errno = injected;
    } else {
      got = ::read(fd_, dst, n);
    }
    if (got >= 0) {
      *failures = 0;
      consumed_ += got;
      if (regular_ && (got == 0 || consumed_ > size_)) CheckUnchanged();
      return static_cast<size_t>(got);
    }
    const int err = errno;
    if (err == EINTR) continue;
    const std::string what = std::string("Reading the input failed: ") + std::strerror(err);
    if (IsTransientErrno(err) && ++*failures < retry_.attempts) {
      BackoffBeforeRetry(retry_, *failures, what + " (" + path_ + ")", stop_);
      continue;
    }
    Location loc;
    loc.file = path_;
    ThrowError("FE-INPUT-READ",
               *failures > 1 ? what + " (after " + std::to_string(*failures) + " attempts)" : what,
               loc, "read");
  }
}

size_t InputFile::Read(char* dst, size_t n) {
  size_t total = 0;
  int failures = 0;
  while (total < n) {
    const size_t got = ReadOnce(dst + total, n - total, &failures);
    if (got == 0) break;
    total += got;
  }
  return total;
}

size_t InputFile::ReadSome(char* dst, size_t n) {
  int failures = 0;
  return n == 0 ? 0 : ReadOnce(dst, n, &failures);
}

void InputFile::CheckUnchanged() const {
  struct stat now {
  }, at_path{};
  std::string what;
  if (::fstat(fd_, &now) != 0) return;
  now.st_size -= start_;  // standard input redirected from a file: from where it was at
  if (consumed_ > size_ || now.st_size > size_) {
    what = "it grew while it was read (" + std::to_string(size_) + " bytes when opened, " +
           std::to_string(now.st_size) + " now)";
  } else if (consumed_ < size_ || now.st_size < size_) {
    what = "it was truncated while it was read (" + std::to_string(size_) + " bytes when opened, " +
           std::to_string(now.st_size) + " now, " + std::to_string(consumed_) + " read)";
  } else if (now.st_mtim.tv_sec != mtime_.tv_sec || now.st_mtim.tv_nsec != mtime_.tv_nsec) {
    what = "it was modified while it was read (its modification time changed)";
  } else if (!stdin_file_ && ::stat(path_.c_str(), &at_path) == 0 &&
             (at_path.st_dev != dev_ || at_path.st_ino != ino_)) {
    what = "another file was moved to its path while it was read";
  } else {
    return;
  }
  Location loc;
  loc.file = path_;
  loc.byte_offset = consumed_;
  ThrowError("FE-INPUT-CHANGED", "The input file changed under the reader: " + what, loc, "read");
}

}  // namespace flowengine
