#include "core/csv/formatter.h"

#include <cstring>

namespace flowengine {
namespace {

bool NeedsQuotes(const char* p, size_t n, const Dialect& d) {
  for (size_t i = 0; i < n; ++i) {
    const char c = p[i];
    if (c == d.delimiter || c == d.quote || c == '\n' || c == '\r') return true;
  }
  return false;
}

// Writes the value of `span` at `dst`; returns the new end. The caller reserved enough.
char* WriteField(char* dst, const char* data, const FieldSpan& span, const Dialect& in,
                 const Dialect& out, bool same_dialect) {
  const char* src = data + span.offset;
  const size_t n = span.length();
  if (!span.quoted()) {
    // An unquoted field holds no quote, CR or LF, nor the input delimiter.
    if (same_dialect || std::memchr(src, out.delimiter, n) == nullptr) {
      std::memcpy(dst, src, n);
      return dst + n;
    }
    *dst++ = out.quote;
    for (size_t i = 0; i < n; ++i) {
      if (src[i] == out.quote) *dst++ = out.quote;
      *dst++ = src[i];
    }
    *dst++ = out.quote;
    return dst;
  }
  if (span.escaped()) {
    // Holds doubled input quotes; with the same quote character the escaped form is final.
    *dst++ = out.quote;
    if (in.quote == out.quote) {
      std::memcpy(dst, src, n);
      dst += n;
    } else {
      for (size_t i = 0; i < n; ++i) {
        if (src[i] == in.quote) ++i;
        if (src[i] == out.quote) *dst++ = out.quote;
        *dst++ = src[i];
      }
    }
    *dst++ = out.quote;
    return dst;
  }
  if (!NeedsQuotes(src, n, out)) {
    std::memcpy(dst, src, n);
    return dst + n;
  }
  *dst++ = out.quote;
  for (size_t i = 0; i < n; ++i) {
    if (src[i] == out.quote) *dst++ = out.quote;
    *dst++ = src[i];
  }
  *dst++ = out.quote;
  return dst;
}

}  // namespace

void FormatBatch(const char* block_data, const RowBatch& batch, const Dialect& in,
                 const Dialect& out_dialect, ByteBuffer& out) {
  const uint32_t ncols = batch.num_columns;
  if (batch.num_rows == 0 || ncols == 0) return;
  const bool same = in == out_dialect;
  // Worst case: every byte doubled, plus two quotes and a separator per field. Reserved once
  // per batch so the row loop has no capacity checks.
  const size_t span_bytes = batch.rows[batch.num_rows - 1].end - batch.rows[0].begin;
  const size_t old = out.size();
  out.Resize(old + 2 * span_bytes + 3 * batch.num_rows * ncols);
  char* dst = out.data() + old;
  for (size_t r = 0; r < batch.num_rows; ++r) {
    const FieldSpan* fields = &batch.fields[r * ncols];
    for (uint32_t c = 0; c < ncols; ++c) {
      if (c > 0) *dst++ = out_dialect.delimiter;
      dst = WriteField(dst, block_data, fields[c], in, out_dialect, same);
    }
    *dst++ = '\n';
  }
  out.Resize(static_cast<size_t>(dst - out.data()));
}

void AppendField(std::string_view value, const Dialect& dialect, std::string& out) {
  if (!NeedsQuotes(value.data(), value.size(), dialect)) {
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

std::string FormatHeader(std::span<const std::string> names, const Dialect& dialect) {
  std::string out;
  for (size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out += dialect.delimiter;
    AppendField(names[i], dialect, out);
  }
  out += '\n';
  return out;
}

}  // namespace flowengine
