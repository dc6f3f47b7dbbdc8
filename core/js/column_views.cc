#include "core/js/column_views.h"

#include <algorithm>
#include <bit>
#include <cstring>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "core/csv/block_parser.h"
#include "core/csv/utf8_check.h"
#include "core/js/js_protocol.h"
#include "core/types/column_type.h"
#include "core/types/typed_value.h"

namespace flowengine::js {
namespace {

constexpr int64_t kMaxSafeInteger = (int64_t{1} << 53) - 1;

// A field's int, as the parse stage validated it (core/types/typed_value.h).
int64_t IntValue(std::string_view text) {
  int64_t v = 0;
  typed::ReadInt<int64_t>(text, &v);
  return v;
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

// Whether a field's n bytes are all ASCII, sixteen at a time (eight without SSE2). Reads
// up to 15 bytes past the field (batch texts are padded: kPaddingBytes).
bool IsAsciiField(const unsigned char* in, size_t n) {
  for (size_t i = 0; i < n; i += 16) {
#if defined(__SSE2__)
    const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(in + i));
    unsigned high = static_cast<unsigned>(_mm_movemask_epi8(bytes));
    if (n - i < 16) high &= (1u << (n - i)) - 1;
    if (high != 0) return false;
#else
    for (size_t k = i; k < std::min(n, i + 16); ++k) {
      if (in[k] >= 0x80) return false;
    }
#endif
  }
  return true;
}

constexpr size_t kNotLatin1 = ~size_t{0};

// FieldSpan's escaped and quoted flags, which a span of the view keeps.
constexpr uint32_t kKeepFlags = kSpanEscaped | (1u << 31);
static_assert(kSpanEscaped == FieldSpan::kEscaped && (1u << 31) == FieldSpan::kQuoted);

// The first byte at or after `at` and before `end` that is not ASCII, or `end`: sixty-four
// bytes at a time while they are all ASCII. Reads up to 63 bytes past `end` (batch texts
// are padded: kPaddingBytes).
uint32_t NextNonAscii(const unsigned char* text, uint32_t at, uint32_t end) {
  while (at < end) {
#if defined(__SSE2__)
    const auto* p = reinterpret_cast<const __m128i*>(text + at);
    const __m128i any = _mm_or_si128(_mm_or_si128(_mm_loadu_si128(p), _mm_loadu_si128(p + 1)),
                                     _mm_or_si128(_mm_loadu_si128(p + 2), _mm_loadu_si128(p + 3)));
    if (_mm_movemask_epi8(any) == 0) {
      at += 64;
      continue;
    }
    for (int k = 0;; ++k) {  // the sixteen holding it
      const auto high = static_cast<unsigned>(_mm_movemask_epi8(_mm_loadu_si128(p + k)));
      if (high != 0) return std::min(end, at + 16 * static_cast<uint32_t>(k) + __builtin_ctz(high));
    }
#else
    if (text[at] >= 0x80) return at;
    ++at;
#endif
  }
  return end;
}

// The batch's spans as the view's (n fields): offset and length with the escaped and
// quoted flags; FieldSpan's kArena (a folded batch) is the view's kSpanWide, so it is
// cleared. Only for texts shorter than kSpanLengthMask (no length reaches kSpanLatin1).
void CopySpans(const FieldSpan* fields, size_t n, uint32_t* spans) {
  static_assert(sizeof(FieldSpan) == 2 * sizeof(uint32_t) &&
                std::endian::native == std::endian::little);
  constexpr uint64_t kMask = 0xFFFFFFFFull | uint64_t{kSpanLengthMask | kKeepFlags} << 32;
  size_t f = 0;
#if defined(__SSE2__)
  const __m128i mask = _mm_set1_epi64x(static_cast<long long>(kMask));
  for (; f + 2 <= n; f += 2) {  // two fields at a time
    const __m128i two = _mm_loadu_si128(reinterpret_cast<const __m128i*>(fields + f));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(spans + 2 * f), _mm_and_si128(two, mask));
  }
#endif
  for (; f < n; ++f) {
    uint64_t word;
    std::memcpy(&word, fields + f, sizeof word);
    word &= kMask;
    std::memcpy(spans + 2 * f, &word, sizeof word);
  }
}

// One field's UTF-8 bytes to `out` as Latin-1, one byte per character, sixteen ASCII bytes
// at a time: returns the characters written, or kNotLatin1 (having written some) when a
// character is above U+00FF or a byte starts no valid sequence. Characters U+0080..U+00FF
// are exactly the two-byte sequences led by C2 or C3. Reads up to 15 bytes past the field
// (batch texts are padded: kPaddingBytes) and writes up to 16 bytes past its characters.
size_t FieldToLatin1(const unsigned char* in, size_t n, uint8_t* out) {
  size_t i = 0, o = 0;
  while (i < n) {
#if defined(__SSE2__)
    const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(in + i));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + o), bytes);
    const unsigned high = static_cast<unsigned>(_mm_movemask_epi8(bytes));
    const size_t ascii = std::min(high == 0 ? 16 : static_cast<size_t>(__builtin_ctz(high)), n - i);
#else
    size_t ascii = 0;
    while (ascii < 16 && i + ascii < n && in[i + ascii] < 0x80) {
      out[o + ascii] = in[i + ascii];
      ++ascii;
    }
#endif
    i += ascii;
    o += ascii;
    if (i >= n || in[i] < 0x80) continue;
    if ((in[i] != 0xC2 && in[i] != 0xC3) || i + 1 >= n || (in[i + 1] & 0xC0) != 0x80) {
      return kNotLatin1;
    }
    out[o++] = static_cast<uint8_t>(((in[i] & 0x03u) << 6) | (in[i + 1] & 0x3Fu));
    i += 2;
  }
  return o;
}

}  // namespace

void ColumnViews::PrepareBlock(const Chunk& chunk) {
  if (block_ready_) return;
  const std::string_view bytes = chunk.BatchText();
  const RowBatch& in = chunk.StepInput();
  const size_t rows = in.num_rows, cols = in.num_columns;
  spans_.ResizeDiscard(rows * cols * 2);
  row_text_.ResizeDiscard(rows + 1);
  row_narrow_.ResizeDiscard(rows + 1);
  row_wide_.ResizeDiscard(rows + 1);
  // A block without transcoded text: every row starts at 0 in both transcoded texts.
  const auto no_transcoded_text = [&] {
    std::fill(row_narrow_.data(), row_narrow_.data() + rows + 1, 0u);
    std::fill(row_wide_.data(), row_wide_.data() + rows + 1, 0u);
    block_ready_ = true;
  };
  if (rows == 0 || cols == 0) {
    row_text_[0] = 0;
    no_transcoded_text();
    return;
  }
  // Rows are in the text in order: a row's text runs from its first field to the next
  // row's first field (the last one to the end of its furthest field).
  for (size_t r = 0; r < rows; ++r) row_text_[r] = in.fields[r * cols].offset;
  uint32_t end = 0;
  for (size_t f = (rows - 1) * cols; f < rows * cols; ++f) {
    end = std::max(end, in.fields[f].offset + in.fields[f].length());
  }
  row_text_[rows] = end;
  // No field of a block shorter than kSpanLengthMask is longer than it.
  if (bytes.size() <= kSpanLengthMask && IsAscii(bytes.data(), bytes.size())) {
    // Every field in the block's own bytes: the batch's spans are the view's spans.
    CopySpans(in.fields.data(), rows * cols, spans_.data());
    no_transcoded_text();
    return;
  }
  // ASCII fields stay in the block's bytes; the others are transcoded and packed, without
  // delimiters or quotes, into the one-byte text of transcoded fields when all their
  // characters are Latin-1 (kSpanLatin1), else into the two-byte text (kSpanWide). An
  // escaped field's value comes from native.unescaped (its length is never 0).
  narrow_.ResizeDiscard(bytes.size() + 16);
  units_.ResizeDiscard(bytes.size() + 16);
  const auto* text = reinterpret_cast<const unsigned char*>(bytes.data());
  uint32_t narrow = 0, wide = 0;
  // Transcodes string field (r, c) unless it is ASCII (`maybe_ascii` false: it holds a
  // non-ASCII byte) or escaped; returns the end of its bytes.
  const auto transcode = [&](size_t r, uint32_t c, bool maybe_ascii) {
    const FieldSpan& span = in.fields[r * cols + c];
    const uint32_t n = span.length();
    const uint32_t flags = span.length_and_flags & kKeepFlags;
    uint32_t* out = spans_.data() + 2 * (r * cols + c);
    const unsigned char* src = text + span.offset;
    if (n > kSpanLengthMask) {  // (a huge block) native.unescaped reads it from the block
      out[0] = span.offset;
      out[1] = 1 | kSpanEscaped;
    } else if ((flags & kSpanEscaped) != 0 || (maybe_ascii && IsAsciiField(src, n))) {
      out[0] = span.offset;
      out[1] = n | flags;
    } else if (const size_t latin1 = FieldToLatin1(src, n, narrow_.data() + narrow);
               latin1 != kNotLatin1) {
      out[0] = narrow;
      out[1] = static_cast<uint32_t>(latin1) | flags | kSpanLatin1;
      narrow += static_cast<uint32_t>(latin1);
    } else {
      const auto length = static_cast<uint32_t>(FieldToUtf16(src, n, units_.data() + wide));
      out[0] = wide;
      out[1] = length | flags | kSpanWide;
      wide += length;
    }
    return span.offset + n;
  };
  if (bytes.size() > kSpanLengthMask) {
    // A field may be longer than a span says: every string field is looked at on its own.
    for (size_t r = 0; r < rows; ++r) {
      row_narrow_[r] = narrow;
      row_wide_[r] = wide;
      for (const uint32_t c : string_columns_) transcode(r, c, true);
    }
    row_narrow_[rows] = narrow;
    row_wide_[rows] = wide;
    block_ready_ = true;
    return;
  }
  // Every span as it is (no field is longer than kSpanLengthMask); then the block's
  // non-ASCII bytes are found in one pass and only the string fields holding one are
  // transcoded (the other fields' spans are never read: number and boolean views).
  CopySpans(in.fields.data(), rows * cols, spans_.data());
  size_t r = 0;  // the row holding the byte found
  row_narrow_[0] = 0;
  row_wide_[0] = 0;
  for (uint32_t at = NextNonAscii(text, row_text_[0], end); at < end;) {
    while (at >= row_text_[r + 1]) {
      ++r;
      row_narrow_[r] = narrow;
      row_wide_[r] = wide;
    }
    uint32_t next = at + 1;  // a byte in no string field (another column, a rejected record)
    for (const uint32_t c : string_columns_) {
      const FieldSpan& span = in.fields[r * cols + c];
      if (at >= span.offset && at - span.offset < span.length()) {
        next = transcode(r, c, false);
        break;
      }
    }
    at = NextNonAscii(text, next, end);
  }
  while (r < rows) {
    ++r;
    row_narrow_[r] = narrow;
    row_wide_[r] = wide;
  }
  block_ready_ = true;
}

v8::Local<v8::Value> ColumnViews::BlockView(v8::Isolate* isolate, const Chunk& chunk) {
  if (block_fields_.IsEmpty()) {
    PrepareBlock(chunk);
    const size_t words = spans_.size();
    auto store = v8::ArrayBuffer::NewBackingStore(spans_.data(), words * sizeof(uint32_t),
                                                  v8::BackingStore::EmptyDeleter, nullptr);
    block_fields_.Reset(
        isolate, v8::Uint32Array::New(v8::ArrayBuffer::New(isolate, std::move(store)), 0, words));
  }
  return View(isolate, {v8::Integer::New(isolate, kViewBlock), block_fields_.Get(isolate)});
}

v8::Local<v8::Value> ColumnViews::Window(v8::Isolate* isolate, const Chunk& chunk, uint32_t row) {
  const RowBatch& in = chunk.StepInput();
  if (row >= in.num_rows || in.num_columns != columns_.size()) return {};
  PrepareBlock(chunk);
  // V8 allocates strings up to 128 KiB in the young generation (kMaxRegularHeapObjectSize);
  // larger ones are large objects. A window stays under it unless one row alone is larger.
  const auto bytes = [&](size_t to) {
    return size_t{row_text_[to] - row_text_[row]} + (row_narrow_[to] - row_narrow_[row]) +
           2 * size_t{row_wide_[to] - row_wide_[row]};
  };
  size_t end = row + 1;
  while (end < in.num_rows && bytes(end + 1) <= kWindowBytes) ++end;
  const auto one_byte = [&](const void* data, uint32_t from, uint32_t to) {
    if (to == from) return v8::String::Empty(isolate);
    return v8::String::NewFromOneByte(isolate, static_cast<const uint8_t*>(data) + from,
                                      v8::NewStringType::kNormal, static_cast<int>(to - from))
        .ToLocalChecked();
  };
  // The block's bytes as one-byte text: the spans without a flag point at ASCII fields only.
  // A row larger than a window is a window of its own: its text is then only the part its
  // ASCII string fields span (a large non-ASCII field is not copied a second time).
  uint32_t from = row_text_[row], to = row_text_[end];
  if (bytes(end) > kWindowBytes) {
    from = ~uint32_t{0};
    to = 0;
    const uint32_t* spans = spans_.data() + 2 * size_t{row} * in.num_columns;
    for (const uint32_t c : string_columns_) {
      const uint32_t flags = spans[2 * c + 1];
      if ((flags & kSpanLengthMask) == 0 || (flags & (kSpanLatin1 | kSpanWide | kSpanEscaped))) {
        continue;
      }
      from = std::min(from, spans[2 * c]);
      to = std::max(to, spans[2 * c] + (flags & kSpanLengthMask));
    }
    if (from > to) from = to = row_text_[row];
  }
  v8::Local<v8::String> text = one_byte(chunk.BatchText().data(), from, to);
  v8::Local<v8::String> narrow = one_byte(narrow_.data(), row_narrow_[row], row_narrow_[end]);
  const uint32_t wide_units = row_wide_[end] - row_wide_[row];
  v8::Local<v8::String> wide =
      wide_units == 0
          ? v8::String::Empty(isolate)
          : v8::String::NewFromTwoByte(isolate, units_.data() + row_wide_[row],
                                       v8::NewStringType::kNormal, static_cast<int>(wide_units))
                .ToLocalChecked();
  // Offsets as integers (small integers for the blocks of any allowed size: maxRecordSize
  // is at most 256 MiB), so that the driver's arithmetic on them stays integer.
  const auto number = [&](uint32_t v) { return v8::Integer::NewFromUnsigned(isolate, v); };
  return View(isolate, {text, number(from), number(static_cast<uint32_t>(end)), wide,
                        number(row_wide_[row]), narrow, number(row_narrow_[row])});
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
  const RowBatch& in = chunk.StepInput();
  if (c >= columns_.size() || in.num_columns != columns_.size()) return {};
  const size_t n = in.num_rows;
  const size_t cols = in.num_columns;
  const char* data = chunk.BatchText().data();
  const ColumnType type = columns_[c].type;
  Scratch& col = scratch_[c];
  if (type == ColumnType::kString) return BlockView(isolate, chunk);
  if (!chunk.folded && in.value_stride >= n && c < in.value_slot.size() &&
      in.value_slot[c] != RowBatch::kNoValues && in.value_type[c] == static_cast<uint8_t>(type) &&
      in.inexact[in.value_slot[c]] == 0) {
    return ParsedView(isolate, in, c);
  }
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
      bool b = false;
      col.nulls[r] = text.empty() ? 2 : typed::ReadBool(text, &b) && b ? 1 : 0;
    }
    return View(isolate, {v8::Integer::New(isolate, kViewBools),
                          v8::Uint8Array::New(Wrap(isolate, col.nulls, n), 0, n)});
  }
  col.numbers.ResizeDiscard(n);
  bool exact = true;                   // no int64 beyond 2^53
  const auto fill = [&](auto parse) {  // a loop per type
    for (size_t r = 0; r < n; ++r) {
      const std::string_view text = text_of(r);
      col.nulls[r] = text.empty();
      col.numbers[r] = text.empty() ? 0.0 : parse(text);
    }
  };
  if (type == ColumnType::kFloat64) {
    fill([](std::string_view text) {
      double v = 0;
      bool exact_float = true;
      typed::ValueOf<ColumnType::kFloat64>(text, &v, &exact_float);
      return v;
    });
  } else {
    fill([&exact](std::string_view text) {
      const int64_t v = IntValue(text);
      if (v > kMaxSafeInteger || v < -kMaxSafeInteger) exact = false;
      return static_cast<double>(v);
    });
  }
  if (exact) {
    return View(isolate, {v8::Integer::New(isolate, kViewNumbers),
                          v8::Float64Array::New(Wrap(isolate, col.numbers, n), 0, n),
                          v8::Uint8Array::New(Wrap(isolate, col.nulls, n), 0, n)});
  }
  return Values(isolate, chunk, c);  // an int64 beyond 2^53 becomes a BigInt
}

v8::Local<v8::Value> ColumnViews::ParsedView(v8::Isolate* isolate, const RowBatch& in, uint32_t c) {
  const size_t n = in.num_rows;
  const size_t at = size_t{in.value_slot[c]} * in.value_stride;
  const auto wrap = [&](const auto* data, size_t bytes) {
    auto store = v8::ArrayBuffer::NewBackingStore(const_cast<void*>(static_cast<const void*>(data)),
                                                  bytes, v8::BackingStore::EmptyDeleter, nullptr);
    return v8::ArrayBuffer::New(isolate, std::move(store));
  };
  v8::Local<v8::Uint8Array> codes = v8::Uint8Array::New(wrap(in.codes.data() + at, n), 0, n);
  if (columns_[c].type == ColumnType::kBool) {
    return View(isolate, {v8::Integer::New(isolate, kViewBools), codes});
  }
  return View(
      isolate,
      {v8::Integer::New(isolate, kViewNumbers),
       v8::Float64Array::New(wrap(in.numbers.data() + at, n * sizeof(double)), 0, n), codes});
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
      const int64_t v = IntValue(text);
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
