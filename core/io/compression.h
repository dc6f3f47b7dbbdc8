// gzip (zlib) and zstd (libzstd) for inputs and outputs:
//   - DetectCompression: what the first bytes of an input say (magic bytes, never the name);
//   - CompressionForPath: the default of sink.compression (from the target's name);
//   - CompressMember: one complete gzip member or zstd frame; concatenated members are one
//     valid file for every gzip and zstd reader, so a sink compresses each block on its own,
//     in the parallel format stage;
//   - Decompressor: a streaming decoder of a whole input, any number of members or frames,
//     that reports damaged and truncated data instead of taking it as the end.
// Functions are pure and thread-safe; a Decompressor is used by one thread at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "core/memory/pod_buffer.h"

namespace flowengine {

enum class Compression { kNone, kGzip, kZstd };

std::string_view CompressionName(Compression c);  ///< "none", "gzip", "zstd"

/// kGzip or kZstd when `head` (at least 4 bytes of an input) starts with that magic.
Compression DetectCompression(const char* head, size_t size);

/// kGzip for a name ending in .gz, kZstd for .zst or .zstd, else kNone.
Compression CompressionForPath(std::string_view path);

/// Appends `data` as one complete gzip member (zlib level 6) or zstd frame (level 3) to
/// `out`. Throws std::runtime_error only if the library fails (out of memory).
void CompressMember(Compression c, const char* data, size_t size, ByteBuffer& out);

/// Streaming decompression of one input. Feed() the compressed bytes in order, then
/// Finish() at their end; the decompressed bytes are appended to the buffer passed.
class Decompressor {
 public:
  explicit Decompressor(Compression c);
  ~Decompressor();
  Decompressor(const Decompressor&) = delete;
  Decompressor& operator=(const Decompressor&) = delete;

  /// Decompresses from `data[0, size)` until the input is used up or `out` holds `max_out`
  /// bytes or more (so that a small input expanding a thousandfold never needs more than
  /// that), appending the output to `out`. Returns the input bytes consumed; sets `*problem`
  /// to what is wrong with the data ("invalid gzip data: ...", "data after the end of the
  /// last gzip member", ...) and stops there.
  size_t Feed(const char* data, size_t size, ByteBuffer& out, size_t max_out, std::string* problem);
  /// True when the decoder may hold output it has not given yet: call Feed() again (with
  /// the rest of the input, or none).
  bool HasPending() const { return pending_; }
  /// At the end of the compressed input (nothing pending): "" when the last member or frame
  /// ended there, else what is wrong ("the compressed input ends inside a gzip member
  /// (truncated?)").
  std::string Finish() const;
  /// Compressed bytes consumed so far (for messages).
  int64_t consumed() const { return consumed_; }

 private:
  struct State;
  Compression kind_;
  std::unique_ptr<State> state_;
  int64_t consumed_ = 0;
  bool pending_ = false;
};

}  // namespace flowengine
