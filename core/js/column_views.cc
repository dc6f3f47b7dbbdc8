#include "core/js/column_views.h"

#include <charconv>
#include <cstring>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "core/csv/block_parser.h"
#include "core/csv/utf8_check.h"
#include "core/js/js_protocol.h"
#include "core/types/column_type.h"
#include "fast_float/fast_float.h"

namespace flowengine::js {
namespace {

constexpr int64_t kMaxSafeInteger = (int64_t{1} << 53) - 1;

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

// UTF-8 to UTF-16, sixteen ASCII bytes at a time (eight without SSE2); a byte that starts no valid
// sequence is one U+FFFD (only rejected records hold such bytes, and no script reads them). Every
// sequence of more than one byte is noted in `marks` as (the byte after it, bytes - units so far),
// so that byte offsets can be turned into unit offsets afterwards. Returns the units written.
size_t Utf8ToUtf16(const unsigned char* in, size_t n, uint16_t* out,
                   std::vector<std::pair<size_t, size_t>>* marks) {
  uint16_t* const start = out;
  size_t i = 0;
  size_t delta = 0;
  while (i < n) {
#if defined(__SSE2__)
    // Sixteen bytes at a time: all of them widened and stored (the output has room: it is
    // never ahead of the input), the ASCII ones before the first other byte kept.
    if (i + 16 <= n) {
      const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(in + i));
      const __m128i zero = _mm_setzero_si128();
      _mm_storeu_si128(reinterpret_cast<__m128i*>(out), _mm_unpacklo_epi8(bytes, zero));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(out + 8), _mm_unpackhi_epi8(bytes, zero));
      const unsigned high = static_cast<unsigned>(_mm_movemask_epi8(bytes));
      const size_t ascii = high == 0 ? 16 : static_cast<size_t>(__builtin_ctz(high));
      out += ascii;
      i += ascii;
      if (ascii == 16) continue;
    }
#else
    if (i + 8 <= n) {
      uint64_t word;
      std::memcpy(&word, in + i, 8);
      if ((word & 0x8080808080808080ull) == 0) {
        for (int k = 0; k < 8; ++k) out[k] = in[i + static_cast<size_t>(k)];
        out += 8;
        i += 8;
        continue;
      }
    }
#endif
    if (i >= n) break;
    const unsigned char b = in[i];
    if (b < 0x80) {
      *out++ = b;
      ++i;
      continue;
    }
    const size_t len = b >= 0xF0 && b <= 0xF4 ? 4 : b >= 0xE0 ? 3 : b >= 0xC2 && b <= 0xDF ? 2 : 0;
    bool ok = len > 0 && i + len <= n;
    for (size_t k = 1; ok && k < len; ++k) ok = (in[i + k] & 0xC0) == 0x80;
    if (!ok) {
      *out++ = 0xFFFD;
      ++i;
      continue;
    }
    uint32_t c = len == 2 ? (b & 0x1Fu) : len == 3 ? (b & 0x0Fu) : (b & 0x07u);
    for (size_t k = 1; k < len; ++k) c = (c << 6) | (in[i + k] & 0x3Fu);
    size_t units = 1;
    if (c >= 0x10000) {
      c -= 0x10000;
      *out++ = static_cast<uint16_t>(0xD800 + (c >> 10));
      *out++ = static_cast<uint16_t>(0xDC00 + (c & 0x3FF));
      units = 2;
    } else {
      *out++ = static_cast<uint16_t>(c);
    }
    i += len;
    delta += len - units;
    marks->emplace_back(i, delta);
  }
  return static_cast<size_t>(out - start);
}

}  // namespace

void ColumnViews::PrepareBlock(const Chunk& chunk) {
  if (block_ready_) return;
  const std::string_view bytes = chunk.BatchText();
  const RowBatch& in = chunk.StepInput();
  block_ascii_ = IsAscii(bytes.data(), bytes.size());
  if (block_ascii_) {
    // The batch's spans are already in characters.
    spans_ = reinterpret_cast<const uint32_t*>(in.fields.data());
  } else {
    // Transcoded in one pass; the spans are then moved left by the bytes that multi-byte
    // sequences before them took beyond their units (fields are in increasing order).
    units_.ResizeDiscard(bytes.size() + 1);
    marks_.clear();
    Utf8ToUtf16(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), units_.data(),
                &marks_);
    const size_t fields = in.num_rows * in.num_columns;
    spans16_.ResizeDiscard(fields * 2);
    size_t mark = 0, delta = 0;
    const auto delta_at = [&](size_t byte) {
      while (mark < marks_.size() && marks_[mark].first <= byte) delta = marks_[mark++].second;
      return delta;
    };
    for (size_t f = 0; f < fields; ++f) {
      const FieldSpan& span = in.fields[f];
      const size_t start = span.offset - delta_at(span.offset);
      const size_t end = span.offset + span.length() - delta_at(span.offset + span.length());
      spans16_[2 * f] = static_cast<uint32_t>(start);
      spans16_[2 * f + 1] =
          static_cast<uint32_t>(end - start) | (span.length_and_flags & ~FieldSpan::kLengthMask);
    }
    spans_ = spans16_.data();
  }
  block_ready_ = true;
}

v8::Local<v8::Value> ColumnViews::BlockView(v8::Isolate* isolate, const Chunk& chunk) {
  if (block_fields_.IsEmpty()) {
    PrepareBlock(chunk);
    const RowBatch& in = chunk.StepInput();
    const size_t words = in.num_rows * in.num_columns * 2;
    auto store =
        v8::ArrayBuffer::NewBackingStore(const_cast<uint32_t*>(spans_), words * sizeof(uint32_t),
                                         v8::BackingStore::EmptyDeleter, nullptr);
    block_fields_.Reset(
        isolate, v8::Uint32Array::New(v8::ArrayBuffer::New(isolate, std::move(store)), 0, words));
  }
  return View(isolate, {v8::Integer::New(isolate, kViewBlock), block_fields_.Get(isolate)});
}

v8::Local<v8::Value> ColumnViews::Window(v8::Isolate* isolate, const Chunk& chunk, uint32_t row) {
  const RowBatch& in = chunk.StepInput();
  if (row >= in.num_rows || in.num_columns == 0) return {};
  PrepareBlock(chunk);
  // V8 allocates strings up to 128 KiB in the young generation (kMaxRegularHeapObjectSize);
  // larger ones are large objects. A window stays under it unless one row alone is larger.
  const size_t limit = block_ascii_ ? kWindowBytes : kWindowBytes / 2;
  const size_t cols = in.num_columns;
  const auto row_start = [&](size_t r) { return spans_[2 * r * cols]; };
  const auto row_end = [&](size_t r) {
    const size_t last = (r * cols + cols - 1) * 2;
    return spans_[last] + (spans_[last + 1] & kSpanLengthMask);
  };
  const size_t base = row_start(row);
  size_t end = row + 1;
  while (end < in.num_rows && row_end(end) - base <= limit) ++end;
  const size_t length = row_end(end - 1) - base;
  v8::Local<v8::String> text;
  if (block_ascii_) {
    text = v8::String::NewFromOneByte(
               isolate, reinterpret_cast<const uint8_t*>(chunk.BatchText().data() + base),
               v8::NewStringType::kNormal, static_cast<int>(length))
               .ToLocalChecked();
  } else {
    text = v8::String::NewFromTwoByte(isolate, units_.data() + base, v8::NewStringType::kNormal,
                                      static_cast<int>(length))
               .ToLocalChecked();
  }
  return View(isolate, {text, v8::Number::New(isolate, static_cast<double>(base)),
                        v8::Integer::NewFromUnsigned(isolate, static_cast<uint32_t>(end))});
}

v8::Local<v8::Value> ColumnViews::Unescaped(v8::Isolate* isolate, const Chunk& chunk,
                                            uint32_t field) {
  const RowBatch& in = chunk.StepInput();
  if (field >= in.num_rows * in.num_columns) return {};
  const std::string_view text =
      FieldText(chunk.BatchText().data(), in.fields[field], dialect_, text_scratch_);
  return v8::String::NewFromUtf8(isolate, text.data(), v8::NewStringType::kNormal,
                                 static_cast<int>(text.size()))
      .ToLocalChecked();
}

v8::Local<v8::Value> ColumnViews::Build(v8::Isolate* isolate, const Chunk& chunk, uint32_t c) {
  if (c >= columns_.size()) return {};
  const RowBatch& in = chunk.StepInput();
  const size_t n = in.num_rows;
  const char* data = chunk.BatchText().data();
  const ColumnType type = columns_[c].type;
  Scratch& col = scratch_[c];
  if (type == ColumnType::kString) return BlockView(isolate, chunk);
  col.nulls.ResizeDiscard(n);
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
  const RowBatch& in = chunk.StepInput();
  const size_t n = in.num_rows;
  const char* data = chunk.BatchText().data();
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
