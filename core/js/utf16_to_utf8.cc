#include "core/js/utf16_to_utf8.h"

#include <cstring>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace flowengine::js {

uint32_t AppendUtf16AsUtf8(const uint16_t* text, size_t n, ByteBuffer& arena) {
  const size_t at = arena.size();
  // At most three bytes a unit (a pair: four bytes for two), plus up to 8 bytes written past
  // the end by the eight-unit stores (cut off by the final Resize).
  arena.Resize(at + 3 * n + 8);
  char* out = arena.data() + at;
  size_t i = 0;
  while (i < n) {
#if defined(__SSE2__)
    // Eight ASCII units at a time: all below 0x80, narrowed to bytes.
    const __m128i high_bits = _mm_set1_epi16(static_cast<short>(0xFF80));
    while (i + 8 <= n) {
      const __m128i units = _mm_loadu_si128(reinterpret_cast<const __m128i*>(text + i));
      const __m128i high = _mm_and_si128(units, high_bits);
      if (_mm_movemask_epi8(_mm_cmpeq_epi16(high, _mm_setzero_si128())) != 0xFFFF) break;
      _mm_storel_epi64(reinterpret_cast<__m128i*>(out), _mm_packus_epi16(units, units));
      out += 8;
      i += 8;
    }
#endif
    // Four ASCII units at a time (the rest of a short value).
    while (i + 4 <= n) {
      uint64_t word;
      std::memcpy(&word, text + i, 8);
      if ((word & 0xFF80FF80FF80FF80ull) != 0) break;
      for (size_t k = 0; k < 4; ++k) out[k] = static_cast<char>(text[i + k]);
      out += 4;
      i += 4;
    }
    if (i >= n) break;
    uint32_t c = text[i++];
    if (c < 0x80) {
      *out++ = static_cast<char>(c);
      continue;
    }
    if (c < 0x800) {
      *out++ = static_cast<char>(0xC0 | (c >> 6));
      *out++ = static_cast<char>(0x80 | (c & 0x3F));
      continue;
    }
    if (c >= 0xD800 && c <= 0xDFFF) {
      if (c <= 0xDBFF && i < n && text[i] >= 0xDC00 && text[i] <= 0xDFFF) {
        c = 0x10000 + ((c - 0xD800) << 10) + (text[i] - 0xDC00u);
        ++i;
        *out++ = static_cast<char>(0xF0 | (c >> 18));
        *out++ = static_cast<char>(0x80 | ((c >> 12) & 0x3F));
        *out++ = static_cast<char>(0x80 | ((c >> 6) & 0x3F));
        *out++ = static_cast<char>(0x80 | (c & 0x3F));
        continue;
      }
      c = 0xFFFD;  // a lone surrogate
    }
    *out++ = static_cast<char>(0xE0 | (c >> 12));
    *out++ = static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    *out++ = static_cast<char>(0x80 | (c & 0x3F));
  }
  const auto written = static_cast<size_t>(out - (arena.data() + at));
  arena.Resize(at + written);
  return static_cast<uint32_t>(written);
}

}  // namespace flowengine::js
