#include "core/js/column_views.h"

#include <algorithm>
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

// Values were validated by the parse stage (an optional sign, then digits, within int64).
int64_t ParseInt(std::string_view text) {
  const char* first = text.data() + (text[0] == '+' ? 1 : 0);
  const char* last = text.data() + text.size();
  if (last - first > 18) {  // may be near the int64 limits: from_chars checks them
    int64_t v = 0;
    std::from_chars(first, last, v);
    return v;
  }
  const bool negative = first < last && *first == '-';
  first += negative ? 1 : 0;
  uint64_t v = 0;  // at most 18 digits: no overflow
  for (; first < last; ++first) v = v * 10 + static_cast<uint8_t>(*first - '0');
  const auto value = static_cast<int64_t>(v);
  return negative ? -value : value;
}

// ParseBool(text).value_or(false), inline: "1" or "true" in any case.
bool BoolValue(std::string_view t) {
  if (t.size() == 1) return t[0] == '1';
  // | 0x20 lowers these four letters and maps no other byte onto them.
  return t.size() == 4 && (t[0] | 0x20) == 't' && (t[1] | 0x20) == 'r' && (t[2] | 0x20) == 'u' &&
         (t[3] | 0x20) == 'e';
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

// One field's UTF-8 bytes to UTF-16 at `out`, sixteen ASCII bytes at a time (eight without
// SSE2); returns the units written. Reads up to 15 bytes past the field (batch texts are
// padded: kPaddingBytes) and writes up to 15 units past its units (`out` has room). A byte
// that starts no valid sequence is one U+FFFD (only rejected records hold such bytes, and no
// script reads them).
size_t FieldToUtf16(const unsigned char* in, size_t n, uint16_t* out) {
  uint16_t* const start = out;
  size_t i = 0;
  while (i < n) {
#if defined(__SSE2__)
    const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(in + i));
    const __m128i zero = _mm_setzero_si128();
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out), _mm_unpacklo_epi8(bytes, zero));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + 8), _mm_unpackhi_epi8(bytes, zero));
    const unsigned high = static_cast<unsigned>(_mm_movemask_epi8(bytes));
    size_t ascii = high == 0 ? 16 : static_cast<size_t>(__builtin_ctz(high));
#else
    uint64_t word;
    std::memcpy(&word, in + i, 8);
    for (size_t k = 0; k < 8; ++k) out[k] = in[i + k];
    const uint64_t high = word & 0x8080808080808080ull;
    size_t ascii = high == 0 ? 8 : static_cast<size_t>(__builtin_ctzll(high)) / 8;
#endif
    ascii = std::min(ascii, n - i);
    out += ascii;
    i += ascii;
    if (i >= n || (in[i] & 0x80) == 0) continue;
    const unsigned char b = in[i];
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
    if (c >= 0x10000) {
      c -= 0x10000;
      *out++ = static_cast<uint16_t>(0xD800 + (c >> 10));
      *out++ = static_cast<uint16_t>(0xDC00 + (c & 0x3FF));
    } else {
      *out++ = static_cast<uint16_t>(c);
    }
    i += len;
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
    // Each field transcoded on its own, the fields packed one after the other (a row's text
    // is its fields' text, without delimiters or quotes); an escaped field's raw text is
    // kept (its value comes from native.unescaped, its length is never 0).
    const size_t fields = in.num_rows * in.num_columns;
    units_.ResizeDiscard(bytes.size() + 16);
    spans16_.ResizeDiscard(fields * 2);
    const auto* text = reinterpret_cast<const unsigned char*>(bytes.data());
    size_t at = 0;
    for (size_t f = 0; f < fields; ++f) {
      const FieldSpan& span = in.fields[f];
      const size_t n = span.length();
      size_t units;
#if defined(__SSE2__)
      // A field of at most 16 ASCII bytes (most of them): one load, one widening store.
      const __m128i head = _mm_loadu_si128(reinterpret_cast<const __m128i*>(text + span.offset));
      const unsigned high = static_cast<unsigned>(_mm_movemask_epi8(head));
      if (n <= 16 && (high & ((1u << n) - 1)) == 0) {
        const __m128i zero = _mm_setzero_si128();
        uint16_t* out = units_.data() + at;
        _mm_storeu_si128(reinterpret_cast<__m128i*>(out), _mm_unpacklo_epi8(head, zero));
        _mm_storeu_si128(reinterpret_cast<__m128i*>(out + 8), _mm_unpackhi_epi8(head, zero));
        units = n;
      } else {
        units = FieldToUtf16(text + span.offset, n, units_.data() + at);
      }
#else
      units = FieldToUtf16(text + span.offset, n, units_.data() + at);
#endif
      spans16_[2 * f] = static_cast<uint32_t>(at);
      spans16_[2 * f + 1] =
          static_cast<uint32_t>(units) | (span.length_and_flags & ~FieldSpan::kLengthMask);
      at += units;
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
  const size_t cols = in.num_columns;
  const char* data = chunk.BatchText().data();
  const ColumnType type = columns_[c].type;
  Scratch& col = scratch_[c];
  if (type == ColumnType::kString) return BlockView(isolate, chunk);
  // The field's text: the block's bytes, or unescaped into text_scratch_ (rarely).
  const auto text_of = [&](size_t r) {
    const FieldSpan& span = in.fields[r * cols + c];
    return span.escaped() ? FieldText(data, span, dialect_, text_scratch_)
                          : std::string_view(data + span.offset, span.length());
  };
  col.nulls.ResizeDiscard(n);
  if (type == ColumnType::kBool) {
    for (size_t r = 0; r < n; ++r) {
      const std::string_view text = text_of(r);
      col.nulls[r] = text.empty() ? 2 : BoolValue(text) ? 1 : 0;
    }
    return View(isolate, {v8::Integer::New(isolate, kViewBools),
                          v8::Uint8Array::New(Wrap(isolate, col.nulls, n), 0, n)});
  }
  col.numbers.ResizeDiscard(n);
  bool exact = true;
  for (size_t r = 0; r < n; ++r) {
    const std::string_view text = text_of(r);
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
