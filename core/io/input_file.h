// InputFile: a read-only file descriptor with full reads that retry EINTR. Move-only; one
// reader at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace flowengine {

class InputFile {
 public:
  InputFile() = default;
  InputFile(const InputFile&) = delete;
  InputFile& operator=(const InputFile&) = delete;
  ~InputFile();

  /// Opens `path`; throws ErrorException FE-INPUT-OPEN.
  void Open(const std::string& path);
  /// Reads up to `n` bytes (fewer only at end of file); throws FE-INPUT-READ.
  size_t Read(char* dst, size_t n);
  /// File size at open time (0 for pipes).
  int64_t size() const { return size_; }
  const std::string& path() const { return path_; }

 private:
  int fd_ = -1;
  int64_t size_ = 0;
  std::string path_;
};

}  // namespace flowengine
