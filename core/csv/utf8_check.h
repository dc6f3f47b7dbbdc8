// UTF-8 validation of blocks: simdjson's SIMD validator on the whole block (the common,
// valid case), and a scalar pass that finds every invalid sequence only when it fails.
// Pure functions; thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

namespace flowengine {

/// True when data[0, size) is valid UTF-8.
bool IsValidUtf8(const char* data, size_t size);

/// True when every byte of data[0, size) is ASCII (eight bytes at a time, in chunks of 256
/// so that non-ASCII text is rejected early).
inline bool IsAscii(const char* data, size_t size) {
  constexpr uint64_t kHigh = 0x8080808080808080ull;
  uint64_t bits = 0;
  while (size > 0) {
    const size_t chunk = size < 256 ? size : 256;
    size_t i = 0;
    for (; i + 8 <= chunk; i += 8) {
      uint64_t word;
      std::memcpy(&word, data + i, 8);
      bits |= word;
    }
    for (; i < chunk; ++i) bits |= static_cast<unsigned char>(data[i]);
    if ((bits & kHigh) != 0) return false;
    data += chunk;
    size -= chunk;
  }
  return true;
}

/// Offsets of the first byte of every invalid UTF-8 sequence in data[0, size), in order.
std::vector<size_t> InvalidUtf8Offsets(const char* data, size_t size);

}  // namespace flowengine
