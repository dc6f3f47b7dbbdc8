#include "core/io/input_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/error/error.h"

namespace flowengine {

InputFile::~InputFile() {
  if (fd_ >= 0) ::close(fd_);
}

void InputFile::Open(const std::string& path) {
  path_ = path;
  fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
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
    if (S_ISREG(st.st_mode)) size_ = st.st_size;
  }
  ::posix_fadvise(fd_, 0, 0, POSIX_FADV_SEQUENTIAL);
}

size_t InputFile::Read(char* dst, size_t n) {
  size_t total = 0;
  while (total < n) {
    ssize_t got = ::read(fd_, dst + total, n - total);
    if (got == 0) break;
    if (got < 0) {
      if (errno == EINTR) continue;
      Location loc;
      loc.file = path_;
      ThrowError("FE-INPUT-READ", std::string("Reading the input failed: ") + std::strerror(errno),
                 loc, "read");
    }
    total += static_cast<size_t>(got);
  }
  return total;
}

}  // namespace flowengine
