// JavaScript values to output text, each value on its own (DESIGN.md §3): strings as they
// are, as UTF-8, a lone UTF-16 surrogate becoming U+FFFD without touching the next value;
// numbers as String(n); booleans true/false; null and undefined an empty field; a Date as ISO
// 8601 UTC (whatever TZ says); plain objects and arrays as JSON; boxed primitives unboxed;
// other objects by their toString; functions and symbols are an output type error.
// Called on the isolate's thread inside its locks and scopes; user code may run (toJSON,
// toString, getters), so callers run it under the watchdog. Stateless.
#pragma once

#include <v8.h>

#include <string>

#include "core/memory/pod_buffer.h"

namespace flowengine::js {

enum class OutputText {
  kEmpty,  ///< an empty field (null, undefined)
  kText,   ///< text appended to the arena
  kError,  ///< not writable: *problem says why (a function, a symbol, a throwing toJSON, ...)
};

/// Appends the text of `value` to `arena`. `*length` is the bytes appended (kText).
/// `ctx` is the context whose JSON is used (the driver's: untouched by the user).
OutputText AppendOutputText(v8::Isolate* isolate, v8::Local<v8::Context> ctx,
                            v8::Local<v8::Value> value, ByteBuffer& arena, uint32_t* length,
                            std::string* problem);

/// A JavaScript string as UTF-8 (lone surrogates become U+FFFD), appended to `arena`;
/// returns the bytes appended.
uint32_t AppendUtf8(v8::Isolate* isolate, v8::Local<v8::String> str, ByteBuffer& arena);

/// `value` as UTF-8 text, for messages: a string as it is, anything else by its toString
/// (which may run user code; an exception there gives ""), a lone surrogate as U+FFFD
/// (v8::String::Utf8Value would write it as an invalid three-byte sequence).
std::string ToUtf8(v8::Isolate* isolate, v8::Local<v8::Value> value);

/// ISO 8601 UTC of a time value in ms ("2024-01-02T03:04:05.678Z"; years outside 0-9999 as
/// +YYYYYY / -YYYYYY, as Date.prototype.toISOString); "" when it is not a valid time.
std::string IsoDate(double ms);

}  // namespace flowengine::js
