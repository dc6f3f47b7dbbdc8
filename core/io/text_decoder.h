// TextDecoder: transcodes a source's bytes to UTF-8 as they are read (source.encoding, or
// a UTF-16 byte order mark). Streaming: a code unit or surrogate pair split across two
// reads is completed by the next. Not synchronised; one per source.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/memory/pod_buffer.h"

namespace flowengine {

/// How a source file's text is encoded. kUtf8 is read as is (and validated by the parse).
enum class Encoding : uint8_t { kUtf8, kLatin1, kWindows1252, kUtf16Le, kUtf16Be };

/// "utf-8", "latin-1", "windows-1252", "utf-16le", "utf-16be".
std::string_view EncodingName(Encoding e);

/// A byte order mark at the start of a file.
enum class ByteOrderMark : uint8_t { kNone, kUtf8, kUtf16Le, kUtf16Be, kUtf32Le, kUtf32Be };

/// The mark `data` (the file's first `n` bytes, n >= 4 unless the file is shorter) starts
/// with, and its length in `*length`.
ByteOrderMark DetectByteOrderMark(const char* data, size_t n, size_t* length);

class TextDecoder {
 public:
  /// `file`: for messages. `first_offset`: input offset of the first byte decoded (after
  /// the byte order mark).
  TextDecoder(Encoding encoding, std::string file, int64_t first_offset);

  /// Appends the UTF-8 text of `in[0, n)` to `out`; a trailing partial character waits for
  /// the next call. Throws ErrorException FE-ENCODING-UTF16 on an unpaired surrogate.
  void Decode(const char* in, size_t n, ByteBuffer& out);
  /// At the end of the input: throws FE-ENCODING-UTF16 when a partial character is left.
  void Finish() const;

 private:
  [[noreturn]] void Fail(const std::string& message, int64_t offset) const;
  void DecodeUtf16(const char* in, size_t n, ByteBuffer& out);

  Encoding encoding_;
  std::string file_;
  int64_t offset_;      // input offset of the next byte
  int64_t lines_ = 0;   // line feeds written so far, for messages
  uint8_t partial_[4];  // bytes of an incomplete UTF-16 unit or pair
  size_t partial_size_ = 0;
};

}  // namespace flowengine
