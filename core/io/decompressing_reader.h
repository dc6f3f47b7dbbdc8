// DecompressingReader: reads a gzip or zstd input through a thread of its own, so that
// decompression (one core's worth of work) runs beside the reader and parse stages instead
// of inside the serial reader stage. The thread reads the compressed file, decompresses into
// buffers of ~1 MiB and hands them over through a queue of two; Read()/ReadSome() take bytes
// from them. Damaged or truncated data and read errors surface on the reading side as
// ErrorException (FE-INPUT-COMPRESSED, FE-INPUT-READ, FE-INPUT-CHANGED, ...).
// Thread safety: one thread calls Read()/ReadSome(); the destructor stops and joins the
// decompressing thread (also while it waits on a pipe). Holds ~3 MiB beside limits.memory.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>
#include <string>
#include <thread>

#include "core/io/compression.h"
#include "core/io/input_file.h"
#include "core/memory/pod_buffer.h"

namespace flowengine {

class DecompressingReader {
 public:
  /// Starts decompressing `file` (already open; `prefix` holds its first bytes, already read
  /// from it). `file` must outlive this object.
  DecompressingReader(InputFile& file, Compression kind, const char* prefix, size_t prefix_size);
  ~DecompressingReader();
  DecompressingReader(const DecompressingReader&) = delete;
  DecompressingReader& operator=(const DecompressingReader&) = delete;

  /// Up to `n` decompressed bytes (fewer only at the end); throws ErrorException.
  size_t Read(char* dst, size_t n);
  /// At least one byte unless the input has ended (then 0); throws ErrorException.
  size_t ReadSome(char* dst, size_t n);

 private:
  void Produce();
  void Push(ByteBuffer&& buffer);
  // Waits for the next buffer; false at the end.
  bool Next();

  InputFile& file_;
  Compression kind_;
  std::string prefix_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<ByteBuffer> ready_;
  bool done_ = false;
  std::exception_ptr error_;
  std::atomic<bool> cancel_{false};
  ByteBuffer current_;
  size_t current_pos_ = 0;
  std::thread thread_;
};

}  // namespace flowengine
