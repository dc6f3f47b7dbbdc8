// UTF-8 validation of blocks: simdjson's SIMD validator on the whole block (the common,
// valid case), and a scalar pass that finds every invalid sequence only when it fails.
// Pure functions; thread-safe.
#pragma once

#include <cstddef>
#include <vector>

namespace flowengine {

/// True when data[0, size) is valid UTF-8.
bool IsValidUtf8(const char* data, size_t size);

/// Offsets of the first byte of every invalid UTF-8 sequence in data[0, size), in order.
std::vector<size_t> InvalidUtf8Offsets(const char* data, size_t size);

}  // namespace flowengine
