#include "core/js/output_values.h"

#include <cmath>
#include <cstdio>
#include <cstring>

#include "core/csv/utf8_check.h"

namespace flowengine::js {
namespace {

// Days from 1970-01-01 to the civil date (Howard Hinnant's algorithm), inverted.
void CivilFromDays(int64_t z, int64_t* y, unsigned* m, unsigned* d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = static_cast<int64_t>(yoe) + era * 400 + (*m <= 2 ? 1 : 0);
}

bool IsPlainObject(v8::Local<v8::Context> ctx, v8::Local<v8::Object> object) {
  v8::Local<v8::Value> proto = object->GetPrototype();
  if (proto->IsNull()) return true;
  if (!proto->IsObject()) return false;
  // Object.prototype of any realm: its own prototype is null and it has no [[Class]]-like
  // brand; checked as "the prototype's prototype is null and it is not a function".
  v8::Local<v8::Object> p = proto.As<v8::Object>();
  (void)ctx;
  return p->GetPrototype()->IsNull() && !p->IsFunction();
}

}  // namespace

uint32_t AppendUtf8(v8::Isolate* isolate, v8::Local<v8::String> str, ByteBuffer& arena) {
  const size_t at = arena.size();
  if (str->IsOneByte()) {
    // One-byte strings are Latin-1: when all of it is ASCII the bytes are the UTF-8.
    const int length = str->Length();
    arena.Resize(at + static_cast<size_t>(length));
    str->WriteOneByte(isolate, reinterpret_cast<uint8_t*>(arena.data() + at), 0, length,
                      v8::String::NO_NULL_TERMINATION);
    if (IsAscii(arena.data() + at, static_cast<size_t>(length))) {
      return static_cast<uint32_t>(length);
    }
    arena.Resize(at);
  }
  const int length = str->Utf8Length(isolate);
  arena.Resize(at + static_cast<size_t>(length));
  const int written =
      str->WriteUtf8(isolate, arena.data() + at, length, nullptr,
                     v8::String::NO_NULL_TERMINATION | v8::String::REPLACE_INVALID_UTF8);
  arena.Resize(at + static_cast<size_t>(written));
  return static_cast<uint32_t>(written);
}

std::string ToUtf8(v8::Isolate* isolate, v8::Local<v8::Value> value) {
  if (value.IsEmpty()) return "";
  v8::Local<v8::String> str;
  if (value->IsString()) {
    str = value.As<v8::String>();
  } else {
    v8::TryCatch tc(isolate);
    if (!value->ToString(isolate->GetCurrentContext()).ToLocal(&str)) return "";
  }
  ByteBuffer text;
  const uint32_t n = AppendUtf8(isolate, str, text);
  return std::string(text.data(), n);
}

std::string IsoDate(double ms) {
  if (!std::isfinite(ms) || std::fabs(ms) > 8.64e15) return "";
  const auto t = static_cast<int64_t>(ms);
  int64_t days = t / 86400000;
  int64_t rest = t % 86400000;
  if (rest < 0) {
    rest += 86400000;
    --days;
  }
  int64_t year = 0;
  unsigned month = 0, day = 0;
  CivilFromDays(days, &year, &month, &day);
  const auto h = static_cast<int>(rest / 3600000);
  const auto mi = static_cast<int>(rest / 60000 % 60);
  const auto s = static_cast<int>(rest / 1000 % 60);
  const auto milli = static_cast<int>(rest % 1000);
  char buf[48];
  if (year >= 0 && year <= 9999) {
    std::snprintf(buf, sizeof(buf), "%04lld-%02u-%02uT%02d:%02d:%02d.%03dZ",
                  static_cast<long long>(year), month, day, h, mi, s, milli);
  } else {
    std::snprintf(buf, sizeof(buf), "%c%06lld-%02u-%02uT%02d:%02d:%02d.%03dZ", year < 0 ? '-' : '+',
                  static_cast<long long>(year < 0 ? -year : year), month, day, h, mi, s, milli);
  }
  return buf;
}

OutputText AppendOutputText(v8::Isolate* isolate, v8::Local<v8::Context> ctx,
                            v8::Local<v8::Value> value, ByteBuffer& arena, uint32_t* length,
                            std::string* problem) {
  *length = 0;
  if (value->IsString()) {
    *length = AppendUtf8(isolate, value.As<v8::String>(), arena);
    return OutputText::kText;
  }
  if (value->IsNullOrUndefined()) return OutputText::kEmpty;
  if (value->IsBoolean()) {
    const char* text = value->IsTrue() ? "true" : "false";
    *length = static_cast<uint32_t>(std::strlen(text));
    arena.Append(text, *length);
    return OutputText::kText;
  }
  if (value->IsNumber() || value->IsBigInt()) {
    v8::Local<v8::String> text;
    if (!value->ToString(ctx).ToLocal(&text)) {
      *problem = "a number could not be converted";
      return OutputText::kError;
    }
    *length = AppendUtf8(isolate, text, arena);
    return OutputText::kText;
  }
  if (value->IsFunction()) {
    *problem = "a function cannot be written to an output column";
    return OutputText::kError;
  }
  if (value->IsSymbol()) {
    *problem = "a symbol cannot be written to an output column";
    return OutputText::kError;
  }
  if (value->IsDate()) {
    const std::string iso = IsoDate(value.As<v8::Date>()->ValueOf());
    if (iso.empty()) {
      *problem = "an invalid Date cannot be written to an output column";
      return OutputText::kError;
    }
    arena.Append(iso.data(), iso.size());
    *length = static_cast<uint32_t>(iso.size());
    return OutputText::kText;
  }
  if (value->IsStringObject()) {
    return AppendOutputText(isolate, ctx, value.As<v8::StringObject>()->ValueOf(), arena, length,
                            problem);
  }
  if (value->IsNumberObject()) {
    return AppendOutputText(isolate, ctx,
                            v8::Number::New(isolate, value.As<v8::NumberObject>()->ValueOf()),
                            arena, length, problem);
  }
  if (value->IsBooleanObject()) {
    return AppendOutputText(isolate, ctx,
                            v8::Boolean::New(isolate, value.As<v8::BooleanObject>()->ValueOf()),
                            arena, length, problem);
  }
  if (value->IsBigIntObject()) {
    return AppendOutputText(isolate, ctx, value.As<v8::BigIntObject>()->ValueOf(), arena, length,
                            problem);
  }
  v8::TryCatch tc(isolate);
  v8::Local<v8::String> text;
  bool ok = false;
  if (value->IsArray() || IsPlainObject(ctx, value.As<v8::Object>())) {
    v8::Local<v8::String> json;
    ok = v8::JSON::Stringify(ctx, value).ToLocal(&json);
    if (ok) text = json;
  } else {
    ok = value->ToString(ctx).ToLocal(&text);
  }
  if (!ok) {
    if (tc.HasTerminated()) {
      tc.ReThrow();
      *problem = "stopped";
      return OutputText::kError;
    }
    *problem =
        "the value cannot be written: " +
        (tc.HasCaught() ? ToUtf8(isolate, tc.Exception()) : std::string("conversion failed"));
    return OutputText::kError;
  }
  // JSON.stringify of an object whose toJSON returns undefined is undefined: an empty field.
  if (text.IsEmpty() ||
      (value->IsObject() && text->Length() == 9 && ToUtf8(isolate, text) == "undefined" &&
       (value->IsArray() || IsPlainObject(ctx, value.As<v8::Object>())))) {
    return OutputText::kEmpty;
  }
  *length = AppendUtf8(isolate, text, arena);
  return OutputText::kText;
}

}  // namespace flowengine::js
