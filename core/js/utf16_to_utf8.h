// UTF-16 text (the values a script set, as V8 hands them over) to UTF-8 output bytes, with
// no V8 types so that unit tests cover it without an isolate (tests/core/js/). A lone
// surrogate becomes U+FFFD; a pair becomes one four-byte sequence. Pure function over
// caller-owned buffers; thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/memory/pod_buffer.h"

namespace flowengine::js {

/// UTF-16 text as UTF-8, appended to `arena`; a lone surrogate becomes U+FFFD. Returns the
/// bytes appended.
uint32_t AppendUtf16AsUtf8(const uint16_t* text, size_t n, ByteBuffer& arena);

}  // namespace flowengine::js
