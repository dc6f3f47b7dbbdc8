#include "core/js/column_views.h"

#include <charconv>
#include <cstring>

#include "core/csv/block_parser.h"
#include "core/js/js_protocol.h"
#include "core/types/column_type.h"
#include "fast_float/fast_float.h"

namespace flowengine::js {
namespace {

constexpr int64_t kMaxSafeInteger = (int64_t{1} << 53) - 1;

bool IsAscii(std::string_view text) {
  const char* p = text.data();
  size_t n = text.size();
  uint64_t bits = 0;
  for (; n >= 8; p += 8, n -= 8) {
    uint64_t word;
    std::memcpy(&word, p, 8);
    bits |= word;
  }
  for (; n > 0; ++p, --n) bits |= static_cast<unsigned char>(*p);
  return (bits & 0x8080808080808080ull) == 0;
}

// UTF-16 code units of valid UTF-8 text: one per sequence, two for 4-byte sequences.
int64_t Utf16Length(std::string_view text) {
  int64_t units = 0;
  for (unsigned char b : text) {
    if ((b & 0xC0) != 0x80) ++units;
    if (b >= 0xF0) ++units;
  }
  return units;
}

// Values were validated by the parse stage; a leading '+' is allowed there.
int64_t ParseInt(std::string_view text) {
  const char* first = text.data() + (text[0] == '+' ? 1 : 0);
  int64_t v = 0;
  std::from_chars(first, text.data() + text.size(), v);
  return v;
}

double ParseNumber(std::string_view text, ColumnType type, bool* exact) {
  if (type == ColumnType::kFloat64) {
    const char* first = text.data() + (text[0] == '+' ? 1 : 0);
    double v = 0;
    fast_float::from_chars(first, text.data() + text.size(), v);
    return v;
  }
  const int64_t v = ParseInt(text);
  if (v > kMaxSafeInteger || v < -kMaxSafeInteger) *exact = false;
  return static_cast<double>(v);
}

template <typename T>
v8::Local<v8::ArrayBuffer> Wrap(v8::Isolate* isolate, PodBuffer<T>& buffer, size_t count) {
  auto store = v8::ArrayBuffer::NewBackingStore(buffer.data(), count * sizeof(T),
                                                v8::BackingStore::EmptyDeleter, nullptr);
  return v8::ArrayBuffer::New(isolate, std::move(store));
}

v8::Local<v8::Value> View(v8::Isolate* isolate, std::initializer_list<v8::Local<v8::Value>> parts) {
  std::vector<v8::Local<v8::Value>> items(parts);
  return v8::Array::New(isolate, items.data(), items.size());
}

}  // namespace

v8::Local<v8::Value> ColumnViews::Build(v8::Isolate* isolate, const Chunk& chunk, uint32_t c) {
  if (c >= columns_.size()) return {};
  const RowBatch& in = chunk.batch;
  const size_t n = in.num_rows;
  const char* data = chunk.block.bytes.data();
  const ColumnType type = columns_[c].type;
  Scratch& col = scratch_[c];
  col.nulls.ResizeDiscard(n);
  if (type == ColumnType::kString) {
    col.text.Clear();
    col.offsets.ResizeDiscard(n + 1);
    int64_t units = 0;
    bool ascii = true;
    for (size_t r = 0; r < n; ++r) {
      const std::string_view text = FieldText(data, in.Field(r, c), dialect_, text_scratch_);
      col.offsets[r] = static_cast<int32_t>(units);
      col.nulls[r] = text.empty();
      col.text.Append(text.data(), text.size());
      if (IsAscii(text)) {
        units += static_cast<int64_t>(text.size());
      } else {
        ascii = false;
        units += Utf16Length(text);
      }
    }
    col.offsets[n] = static_cast<int32_t>(units);
    const auto* bytes = reinterpret_cast<const uint8_t*>(col.text.data());
    const int size = static_cast<int>(col.text.size());
    v8::Local<v8::String> str =
        ascii ? v8::String::NewFromOneByte(isolate, bytes, v8::NewStringType::kNormal, size)
                    .ToLocalChecked()
              : v8::String::NewFromUtf8(isolate, col.text.data(), v8::NewStringType::kNormal, size)
                    .ToLocalChecked();
    if (str->Length() == units) {
      return View(isolate, {v8::Integer::New(isolate, kViewText), str,
                            v8::Int32Array::New(Wrap(isolate, col.offsets, n + 1), 0, n + 1),
                            v8::Uint8Array::New(Wrap(isolate, col.nulls, n), 0, n)});
    }
    // Text V8 decodes to another length (not UTF-8): one string per value.
    return Values(isolate, chunk, c);
  }
  if (type == ColumnType::kBool) {
    for (size_t r = 0; r < n; ++r) {
      const std::string_view text = FieldText(data, in.Field(r, c), dialect_, text_scratch_);
      col.nulls[r] = text.empty() ? 2 : ParseBool(text).value_or(false) ? 1 : 0;
    }
    return View(isolate, {v8::Integer::New(isolate, kViewBools),
                          v8::Uint8Array::New(Wrap(isolate, col.nulls, n), 0, n)});
  }
  col.numbers.ResizeDiscard(n);
  bool exact = true;
  for (size_t r = 0; r < n; ++r) {
    const std::string_view text = FieldText(data, in.Field(r, c), dialect_, text_scratch_);
    col.nulls[r] = text.empty();
    col.numbers[r] = text.empty() ? 0.0 : ParseNumber(text, type, &exact);
  }
  if (exact) {
    return View(isolate, {v8::Integer::New(isolate, kViewNumbers),
                          v8::Float64Array::New(Wrap(isolate, col.numbers, n), 0, n),
                          v8::Uint8Array::New(Wrap(isolate, col.nulls, n), 0, n)});
  }
  return Values(isolate, chunk, c);  // an int64 beyond 2^53 becomes a BigInt
}

v8::Local<v8::Value> ColumnViews::Values(v8::Isolate* isolate, const Chunk& chunk, uint32_t c) {
  const RowBatch& in = chunk.batch;
  const size_t n = in.num_rows;
  const char* data = chunk.block.bytes.data();
  const ColumnType type = columns_[c].type;
  values_.resize(n);
  for (size_t r = 0; r < n; ++r) {
    const std::string_view text = FieldText(data, in.Field(r, c), dialect_, text_scratch_);
    if (text.empty()) {
      values_[r] = v8::Null(isolate);
    } else if (type == ColumnType::kInt64 || type == ColumnType::kInt32) {
      const int64_t v = ParseInt(text);
      values_[r] = v > kMaxSafeInteger || v < -kMaxSafeInteger
                       ? v8::BigInt::New(isolate, v).As<v8::Value>()
                       : v8::Number::New(isolate, static_cast<double>(v)).As<v8::Value>();
    } else {
      values_[r] = v8::String::NewFromUtf8(isolate, text.data(), v8::NewStringType::kNormal,
                                           static_cast<int>(text.size()))
                       .ToLocalChecked();
    }
  }
  v8::Local<v8::Array> array = v8::Array::New(isolate, values_.data(), n);
  values_.clear();
  return View(isolate, {v8::Integer::New(isolate, kViewValues), array});
}

}  // namespace flowengine::js
