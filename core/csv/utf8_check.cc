#include "core/csv/utf8_check.h"

#include <simdjson.h>

namespace flowengine {

bool IsValidUtf8(const char* data, size_t size) { return simdjson::validate_utf8(data, size); }

std::vector<size_t> InvalidUtf8Offsets(const char* data, size_t size) {
  std::vector<size_t> bad;
  const auto* p = reinterpret_cast<const unsigned char*>(data);
  size_t i = 0;
  while (i < size) {
    const unsigned char b = p[i];
    if (b < 0x80) {
      ++i;
      continue;
    }
    size_t n = 0;
    unsigned char lo = 0x80, hi = 0xBF;  // range of the second byte
    if (b >= 0xC2 && b <= 0xDF) {
      n = 2;
    } else if (b >= 0xE0 && b <= 0xEF) {
      n = 3;
      if (b == 0xE0) lo = 0xA0;  // no overlong forms
      if (b == 0xED) hi = 0x9F;  // no surrogates
    } else if (b >= 0xF0 && b <= 0xF4) {
      n = 4;
      if (b == 0xF0) lo = 0x90;
      if (b == 0xF4) hi = 0x8F;  // nothing above U+10FFFF
    }
    bool ok = n > 0 && i + n <= size && p[i + 1] >= lo && p[i + 1] <= hi;
    for (size_t k = 2; ok && k < n; ++k) ok = p[i + k] >= 0x80 && p[i + k] <= 0xBF;
    if (ok) {
      i += n;
    } else {
      bad.push_back(i);
      ++i;
    }
  }
  return bad;
}

}  // namespace flowengine
