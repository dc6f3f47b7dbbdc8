#include "core/io/text_decoder.h"

#include <cstring>

#include "core/error/error.h"

namespace flowengine {
namespace {

// Windows-1252 bytes 0x80-0x9F; the five bytes it leaves undefined map to the C1 control
// of the same value, as the WHATWG Encoding Standard does (so no byte is ever lost).
constexpr uint16_t kWindows1252High[32] = {
    0x20AC, 0x0081, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
    0x2039, 0x0152, 0x008D, 0x017D, 0x008F, 0x0090, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
    0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x009D, 0x017E, 0x0178};

inline char* PutUtf8(char* dst, uint32_t cp) {
  if (cp < 0x80) {
    *dst++ = static_cast<char>(cp);
  } else if (cp < 0x800) {
    *dst++ = static_cast<char>(0xC0 | (cp >> 6));
    *dst++ = static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    *dst++ = static_cast<char>(0xE0 | (cp >> 12));
    *dst++ = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    *dst++ = static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    *dst++ = static_cast<char>(0xF0 | (cp >> 18));
    *dst++ = static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    *dst++ = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    *dst++ = static_cast<char>(0x80 | (cp & 0x3F));
  }
  return dst;
}

}  // namespace

std::string_view EncodingName(Encoding e) {
  switch (e) {
    case Encoding::kUtf8:
      return "utf-8";
    case Encoding::kLatin1:
      return "latin-1";
    case Encoding::kWindows1252:
      return "windows-1252";
    case Encoding::kUtf16Le:
      return "utf-16le";
    case Encoding::kUtf16Be:
      return "utf-16be";
  }
  return "?";
}

ByteOrderMark DetectByteOrderMark(const char* data, size_t n, size_t* length) {
  const auto starts = [&](const char* mark, size_t len) {
    return n >= len && std::memcmp(data, mark, len) == 0;
  };
  *length = 0;
  if (starts("\xFF\xFE\0\0", 4)) return *length = 4, ByteOrderMark::kUtf32Le;
  if (starts("\0\0\xFE\xFF", 4)) return *length = 4, ByteOrderMark::kUtf32Be;
  if (starts("\xEF\xBB\xBF", 3)) return *length = 3, ByteOrderMark::kUtf8;
  if (starts("\xFF\xFE", 2)) return *length = 2, ByteOrderMark::kUtf16Le;
  if (starts("\xFE\xFF", 2)) return *length = 2, ByteOrderMark::kUtf16Be;
  return ByteOrderMark::kNone;
}

TextDecoder::TextDecoder(Encoding encoding, std::string file, int64_t first_offset)
    : encoding_(encoding), file_(std::move(file)), offset_(first_offset) {}

void TextDecoder::Fail(const std::string& message, int64_t offset) const {
  Location loc;
  loc.file = file_;
  loc.line = lines_ + 1;
  loc.byte_offset = offset;
  ThrowError("FE-ENCODING-UTF16", message, loc, "read");
}

void TextDecoder::Decode(const char* in, size_t n, ByteBuffer& out) {
  if (encoding_ == Encoding::kUtf16Le || encoding_ == Encoding::kUtf16Be) {
    DecodeUtf16(in, n, out);
    return;
  }
  const size_t old = out.size();
  out.Resize(old + 3 * n);  // a Windows-1252 byte becomes at most 3 UTF-8 bytes
  char* dst = out.data() + old;
  const bool cp1252 = encoding_ == Encoding::kWindows1252;
  for (size_t i = 0; i < n; ++i) {
    const auto b = static_cast<uint8_t>(in[i]);
    if (b < 0x80) {
      *dst++ = static_cast<char>(b);
    } else if (cp1252 && b < 0xA0) {
      dst = PutUtf8(dst, kWindows1252High[b - 0x80]);
    } else {
      dst = PutUtf8(dst, b);
    }
  }
  out.Resize(static_cast<size_t>(dst - out.data()));
  offset_ += static_cast<int64_t>(n);
}

void TextDecoder::DecodeUtf16(const char* in, size_t n, ByteBuffer& out) {
  const size_t old = out.size();
  out.Resize(old + 2 * (n + partial_size_) + 4);  // 2 bytes become at most 3, 4 become 4
  char* dst = out.data() + old;
  const bool le = encoding_ == Encoding::kUtf16Le;
  // The partial unit or pair from the last call, completed from `in`.
  uint8_t buf[4];
  size_t i = 0;
  const auto byte_at = [&](size_t k) -> uint8_t {  // k counts from the partial bytes
    return k < partial_size_ ? partial_[k] : static_cast<uint8_t>(in[k - partial_size_]);
  };
  const size_t total = partial_size_ + n;
  const auto unit_at = [&](size_t k) -> uint32_t {
    const uint8_t a = byte_at(k);
    const uint8_t b = byte_at(k + 1);
    return le ? static_cast<uint32_t>(a | (b << 8)) : static_cast<uint32_t>((a << 8) | b);
  };
  const int64_t base = offset_ - static_cast<int64_t>(partial_size_);
  while (i + 2 <= total) {
    const uint32_t u = unit_at(i);
    if (u >= 0xD800 && u <= 0xDBFF) {
      if (i + 4 > total) break;  // the low surrogate is in the next read
      const uint32_t low = unit_at(i + 2);
      if (low < 0xDC00 || low > 0xDFFF) {
        Fail("High surrogate not followed by a low surrogate", base + static_cast<int64_t>(i));
      }
      dst = PutUtf8(dst, 0x10000 + ((u - 0xD800) << 10) + (low - 0xDC00));
      i += 4;
      continue;
    }
    if (u >= 0xDC00 && u <= 0xDFFF) {
      Fail("Low surrogate without a high surrogate", base + static_cast<int64_t>(i));
    }
    if (u == '\n') ++lines_;
    dst = PutUtf8(dst, u);
    i += 2;
  }
  size_t left = 0;
  for (; i < total; ++i) buf[left++] = byte_at(i);
  std::memcpy(partial_, buf, left);
  partial_size_ = left;
  offset_ += static_cast<int64_t>(n);
  out.Resize(static_cast<size_t>(dst - out.data()));
}

void TextDecoder::Finish() const {
  if (partial_size_ == 0) return;
  Fail(partial_size_ % 2 == 1 ? "The input ends with half a UTF-16 code unit"
                              : "The input ends with an unpaired high surrogate",
       offset_ - static_cast<int64_t>(partial_size_));
}

}  // namespace flowengine
