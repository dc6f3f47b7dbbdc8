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

/// True when every byte of data[0, size) is ASCII (eight bytes at a time).
inline bool IsAscii(const char* data, size_t size) {
  uint64_t bits = 0;
  for (; size >= 8; data += 8, size -= 8) {
    uint64_t word;
    std::memcpy(&word, data, 8);
    bits |= word;
  }
  for (; size > 0; ++data, --size) bits |= static_cast<unsigned char>(*data);
  return (bits & 0x8080808080808080ull) == 0;
}

/// Offsets of the first byte of every invalid UTF-8 sequence in data[0, size), in order.
std::vector<size_t> InvalidUtf8Offsets(const char* data, size_t size);

}  // namespace flowengine
