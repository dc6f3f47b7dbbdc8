#include "core/csv/formatter.h"

#include <cstring>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "core/csv/block_parser.h"
#include "core/csv/scan_kernel.h"
#include "core/memory/memory_plan.h"

namespace flowengine {
namespace {

// Whether a value holds the delimiter, the quote or a line break, sixteen bytes at a time
// (with SSE2; the last partial sixteen copied into a padded buffer, as values may end at
// the end of their arena); one at a time without SSE2.
bool NeedsQuotes(const char* p, size_t n, const Dialect& d) {
  const char delimiter = d.delimiter, quote = d.quote;
#if defined(__SSE2__)
  const __m128i delimiters = _mm_set1_epi8(delimiter), quotes = _mm_set1_epi8(quote);
  const __m128i lf = _mm_set1_epi8('\n'), cr = _mm_set1_epi8('\r');
  const auto any = [&](const char* at) {
    const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(at));
    const __m128i hits =
        _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(b, delimiters), _mm_cmpeq_epi8(b, quotes)),
                     _mm_or_si128(_mm_cmpeq_epi8(b, lf), _mm_cmpeq_epi8(b, cr)));
    return _mm_movemask_epi8(hits) != 0;
  };
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    if (any(p + i)) return true;
  }
  if (i == n) return false;
  // Padded with a byte that is none of the four ('a', 'b' or 'c').
  const char pad = delimiter != 'a' && quote != 'a'   ? 'a'
                   : delimiter != 'b' && quote != 'b' ? 'b'
                                                      : 'c';
  char tail[16];
  std::memset(tail, pad, sizeof(tail));
  std::memcpy(tail, p + i, n - i);
  return any(tail);
#else
  for (size_t i = 0; i < n; ++i) {
    const char c = p[i];
    if (c == delimiter || c == quote || c == '\n' || c == '\r') return true;
  }
  return false;
#endif
}

// Copies n bytes, 16 at a time: may read and write up to 15 bytes past the end. Sources are
// blocks (kPaddingBytes of padding); the output reserves kCopySlack bytes of slack.
constexpr size_t kCopySlack = 16;
inline char* CopyBytes(char* dst, const char* src, size_t n) {
  if (n > 64) {
    std::memcpy(dst, src, n);
    return dst + n;
  }
  for (size_t i = 0; i < n; i += 16) std::memcpy(dst + i, src + i, 16);
  return dst + n;
}

// True when any bit in [begin, end) of `bits` is set.
inline bool AnyBit(const uint64_t* bits, size_t begin, size_t end) {
  if (begin >= end) return false;
  size_t w = begin / 64;
  const size_t last = (end - 1) / 64;
  uint64_t word = bits[w] & (~uint64_t{0} << (begin % 64));
  while (w < last) {
    if (word != 0) return true;
    word = bits[++w];
  }
  const size_t tail = end % 64;
  if (tail != 0) word &= (uint64_t{1} << tail) - 1;
  return word != 0;
}

char* QuoteEscaping(char* dst, const char* src, size_t n, char in_quote, bool escaped,
                    const Dialect& out) {
  *dst++ = out.quote;
  for (size_t i = 0; i < n; ++i) {
    if (escaped && src[i] == in_quote) ++i;  // collapse the input's doubled quote
    if (src[i] == out.quote) *dst++ = out.quote;
    *dst++ = src[i];
  }
  *dst++ = out.quote;
  return dst;
}

// A field of a backslash-escaped source that holds escapes: unescaped, then written like a
// value (quoted when it needs to be). Never longer than the raw field.
char* WriteUnescaped(char* dst, const char* data, const FieldSpan& f, const Dialect& in,
                     const Dialect& out, bool quote_all) {
  thread_local std::string scratch;
  const std::string_view v = FieldText(data, f, in, scratch);
  if (quote_all || NeedsQuotes(v.data(), v.size(), out)) {
    return QuoteEscaping(dst, v.data(), v.size(), out.quote, false, out);
  }
  std::memcpy(dst, v.data(), v.size());
  return dst + v.size();
}

// Quoted in the output: the escaped form (doubled quotes) is final when both dialects use
// the same quote character.
inline char* Quoted(char* dst, const char* src, size_t n, char quote) {
  *dst++ = quote;
  dst = CopyBytes(dst, src, n);
  *dst++ = quote;
  return dst;
}

// Same dialect: an unquoted field is final as it is; a quoted one keeps its quotes only if
// it needs them (minimal quoting).
inline char* WriteSameDialect(char* dst, const char* data, const FieldSpan& span,
                              const Dialect& d) {
  const char* src = data + span.offset;
  const size_t n = span.length();
  if (!span.quoted()) return CopyBytes(dst, src, n);
  if (span.escaped() || NeedsQuotes(src, n, d)) return Quoted(dst, src, n, d.quote);
  return CopyBytes(dst, src, n);
}

// A row of one empty field is written as "", not as a blank line (which reads back as no
// row at all).
inline char* EmptyRow(char* dst, const char* row_start, uint32_t ncols) {
  if (ncols == 1 && dst == row_start) {
    *dst++ = '"';
    *dst++ = '"';
  }
  return dst;
}

// True when the row's bytes are already its output: LF-terminated and no needless quotes.
inline bool RowIsFinal(const char* data, const RowInfo& row, const FieldSpan* fields,
                       uint32_t ncols, const Dialect& d) {
  if (data[row.end] != '\n') return false;
  if (ncols == 1 && fields[0].length() == 0) return false;  // written as "" (see EmptyRow)
  for (uint32_t c = 0; c < ncols; ++c) {
    const FieldSpan& f = fields[c];
    if (f.quoted() && !f.escaped() && !NeedsQuotes(data + f.offset, f.length(), d)) return false;
  }
  return true;
}

char* FormatSameDialect(char* dst, const char* data, const RowBatch& batch, const Dialect& d) {
  const uint32_t ncols = batch.num_columns;
  size_t r = 0;
  while (r < batch.num_rows) {
    // Runs of adjacent final rows are copied with one memcpy.
    const size_t run = r;
    while (r < batch.num_rows &&
           RowIsFinal(data, batch.rows[r], &batch.fields[r * ncols], ncols, d) &&
           (r == run || batch.rows[r].begin == batch.rows[r - 1].end + 1)) {
      ++r;
    }
    if (r > run) {
      const size_t begin = batch.rows[run].begin;
      const size_t end = batch.rows[r - 1].end + 1;  // with its LF
      std::memcpy(dst, data + begin, end - begin);
      dst += end - begin;
      continue;
    }
    const FieldSpan* fields = &batch.fields[r * ncols];
    char* const row_start = dst;
    for (uint32_t c = 0; c < ncols; ++c) {
      if (c > 0) *dst++ = d.delimiter;
      dst = WriteSameDialect(dst, data, fields[c], d);
    }
    dst = EmptyRow(dst, row_start, ncols);
    *dst++ = '\n';
    ++r;
  }
  return dst;
}

inline char* EndRecord(char* dst, bool crlf) {
  if (crlf) *dst++ = '\r';
  *dst++ = '\n';
  return dst;
}

// Field by field: another dialect, or another output style.
char* FormatFieldByField(char* dst, const char* data, const RowBatch& batch, const Dialect& in,
                         const Dialect& out, const OutputStyle& style) {
  const uint32_t ncols = batch.num_columns;
  const size_t marked = batch.rows[batch.num_rows - 1].end;
  thread_local PodBuffer<uint64_t> bits;
  bits.ResizeDiscard(marked / 64 + 1);
  BestKernel().mark_special(data, marked, out.delimiter, out.quote, bits.data());
  const bool same_quote = in.quote == out.quote;
  for (size_t r = 0; r < batch.num_rows; ++r) {
    const FieldSpan* fields = &batch.fields[r * ncols];
    char* const row_start = dst;
    for (uint32_t c = 0; c < ncols; ++c) {
      if (c > 0) *dst++ = out.delimiter;
      const FieldSpan& f = fields[c];
      const char* src = data + f.offset;
      const size_t n = f.length();
      if (in.escape != '\0' && f.escaped()) {
        dst = WriteUnescaped(dst, data, f, in, out, style.quote_all);
      } else if (!same_quote) {
        dst = (style.quote_all || f.escaped() || NeedsQuotes(src, n, out))
                  ? QuoteEscaping(dst, src, n, in.quote, f.escaped(), out)
                  : CopyBytes(dst, src, n);
      } else if (style.quote_all || f.escaped() || AnyBit(bits.data(), f.offset, f.offset + n)) {
        dst = Quoted(dst, src, n, out.quote);
      } else {
        dst = CopyBytes(dst, src, n);
      }
    }
    dst = EmptyRow(dst, row_start, ncols);
    dst = EndRecord(dst, style.crlf);
  }
  return dst;
}

}  // namespace

void FormatSelectedRows(const char* block_data, const char* arena, const RowBatch& batch,
                        const uint32_t* rows, size_t count, const Dialect& in,
                        const Dialect& out_dialect, ByteBuffer& out, const OutputStyle& style,
                        std::span<const uint32_t> columns) {
  const uint32_t ncols = batch.num_columns;
  const bool select = !columns.empty();
  const auto nout = select ? static_cast<uint32_t>(columns.size()) : ncols;
  out.Clear();
  if (count == 0 || ncols == 0) return;
  // Worst case per field: every byte doubled plus quotes and a separator.
  size_t bound = 16;
  for (size_t i = 0; i < count; ++i) {
    const FieldSpan* fields = &batch.fields[rows[i] * ncols];
    for (uint32_t c = 0; c < nout; ++c) bound += 2 * fields[select ? columns[c] : c].length() + 3;
    bound += 2;
  }
  out.ResizeDiscard(bound);
  char* dst = out.data();
  const bool same = in == out_dialect;
  // Unquoted input fields without escapes are final in the same dialect: a run of them that
  // lies in the input row one delimiter apart (columns passed through in their order) is
  // copied with its delimiters at once.
  const bool runs = same && !style.quote_all;
  constexpr uint32_t kNotPlain = FieldSpan::kQuoted | FieldSpan::kEscaped | FieldSpan::kArena;
  for (size_t i = 0; i < count; ++i) {
    const FieldSpan* fields = &batch.fields[rows[i] * ncols];
    char* const row_start = dst;
    for (uint32_t c = 0; c < nout; ++c) {
      if (c > 0) *dst++ = out_dialect.delimiter;
      const FieldSpan& f = fields[select ? columns[c] : c];
      const size_t n = f.length();
      if (runs && (f.length_and_flags & kNotPlain) == 0) {
        uint32_t end = f.offset + f.length();
        while (c + 1 < nout) {
          const FieldSpan& g = fields[select ? columns[c + 1] : c + 1];
          if ((g.length_and_flags & kNotPlain) != 0 || g.offset != end + 1) break;
          end = g.offset + g.length();
          ++c;
        }
        dst = CopyBytes(dst, block_data + f.offset, end - f.offset);
        continue;
      }
      if (f.in_arena()) {
        const char* src = arena + f.offset;
        dst = (style.quote_all || NeedsQuotes(src, n, out_dialect))
                  ? QuoteEscaping(dst, src, n, out_dialect.quote, false, out_dialect)
                  : static_cast<char*>(std::memcpy(dst, src, n)) + n;
      } else if (in.escape != '\0' && f.escaped()) {
        dst = WriteUnescaped(dst, block_data, f, in, out_dialect, style.quote_all);
      } else if (same && !style.quote_all) {
        dst = WriteSameDialect(dst, block_data, f, in);
      } else {
        const char* src = block_data + f.offset;
        dst = (style.quote_all || f.escaped() || NeedsQuotes(src, n, out_dialect))
                  ? QuoteEscaping(dst, src, n, in.quote, f.escaped(), out_dialect)
                  : CopyBytes(dst, src, n);
      }
    }
    dst = EmptyRow(dst, row_start, nout);
    dst = EndRecord(dst, style.crlf);
  }
  out.Resize(static_cast<size_t>(dst - out.data()));
}

void FormatBatch(const char* block_data, const RowBatch& batch, const Dialect& in,
                 const Dialect& out_dialect, ByteBuffer& out, const OutputStyle& style) {
  const uint32_t ncols = batch.num_columns;
  out.Clear();
  if (batch.num_rows == 0 || ncols == 0) return;
  // Worst case: every byte doubled, plus two quotes and a separator per field. Reserved once
  // per batch so the row loop has no capacity checks.
  const size_t span_bytes = batch.rows[batch.num_rows - 1].end - batch.rows[0].begin;
  static_assert(kCopySlack <= 16, "OutputCapacity reserves 16 bytes of slack");
  out.ResizeDiscard(OutputCapacity(span_bytes, batch.num_rows, ncols));
  char* dst = out.data();
  const bool plain = !style.crlf && !style.quote_all;
  dst = in == out_dialect && plain
            ? FormatSameDialect(dst, block_data, batch, in)
            : FormatFieldByField(dst, block_data, batch, in, out_dialect, style);
  out.Resize(static_cast<size_t>(dst - out.data()));
}

void AppendField(std::string_view value, const Dialect& dialect, std::string& out, bool quote_all) {
  if (!quote_all && !NeedsQuotes(value.data(), value.size(), dialect)) {
    out += value;
    return;
  }
  out += dialect.quote;
  for (char c : value) {
    if (c == dialect.quote) out += dialect.quote;
    out += c;
  }
  out += dialect.quote;
}

std::string FormatHeader(std::span<const std::string> names, const Dialect& dialect,
                         const OutputStyle& style) {
  std::string out;
  for (size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out += dialect.delimiter;
    AppendField(names[i], dialect, out, style.quote_all);
  }
  out += style.crlf ? "\r\n" : "\n";
  return out;
}

}  // namespace flowengine
