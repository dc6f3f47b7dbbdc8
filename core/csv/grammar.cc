#include "core/csv/grammar.h"

namespace flowengine {
namespace {

enum class State : uint8_t {
  kFieldStart,  // before the first byte of a field
  kUnquoted,    // inside an unquoted field (or the unquoted rest of a bad one)
  kQuoted,      // inside quotes
  kQuoteSeen,   // just after a quote that ended quoted data (closing, or half of a pair)
};

inline bool IsLineByte(char c) { return c == '\n' || c == '\r'; }

char Unescaped(char c) { return c == 'n' ? '\n' : c == 't' ? '\t' : c == 'r' ? '\r' : c; }

}  // namespace

RecordScanner::RecordScanner(const Dialect& dialect) : dialect_(dialect) {
  for (int c = 0; c < 256; ++c) {
    stop_unquoted_[c] = stop_quoted_[c] = false;
  }
  const auto mark = [](bool* table, char c) { table[static_cast<unsigned char>(c)] = true; };
  for (bool* table : {stop_unquoted_, stop_quoted_}) {
    mark(table, '\n');
    mark(table, '\r');
    if (dialect.quote != '\0') mark(table, dialect.quote);
    if (dialect.escape != '\0') mark(table, dialect.escape);
  }
  mark(stop_unquoted_, dialect.delimiter);
}

RecordScan ScanRecord(const char* data, size_t begin, size_t size, const Dialect& d, bool at_eof,
                      std::vector<std::string>* values) {
  return RecordScanner(d).Scan(data, begin, size, at_eof, values);
}

RecordScan RecordScanner::Scan(const char* data, size_t begin, size_t size, bool at_eof,
                               std::vector<std::string>* values) const {
  const Dialect& d = dialect_;
  RecordScan out;
  State state = State::kFieldStart;
  size_t quote_start = 0;
  std::string value;
  if (values != nullptr) values->clear();
  const auto problem = [&](ScanStatus status, size_t offset) {
    if (out.problem == ScanStatus::kOk) {
      out.problem = status;
      out.problem_offset = offset;
    }
  };
  const auto end_field = [&] {
    ++out.fields;
    if (values != nullptr) values->push_back(std::move(value));
    value.clear();
  };
  const auto keep = [&](const char* from, size_t n) {
    if (values != nullptr) value.append(from, n);
  };
  size_t i = begin;
  while (i < size) {
    // Runs of ordinary bytes inside a field: skipped in one go.
    if (state == State::kUnquoted || state == State::kQuoted) {
      const bool* stop = state == State::kQuoted ? stop_quoted_ : stop_unquoted_;
      const size_t run = i;
      while (i < size && !stop[static_cast<unsigned char>(data[i])]) ++i;
      keep(data + run, i - run);
      if (i >= size) break;
    }
    const char c = data[i];
    // An escape character and the byte after it are one unit, unless that byte ends a line.
    if (d.escape != '\0' && c == d.escape && state != State::kQuoteSeen) {
      if (i + 1 >= size && !at_eof) break;  // the next byte decides
      if (i + 1 < size && !IsLineByte(data[i + 1])) {
        if (state == State::kFieldStart) state = State::kUnquoted;
        if (values != nullptr) value += Unescaped(data[i + 1]);
        i += 2;
        continue;
      }
    }
    if (state == State::kQuoted) {
      if (c == d.quote) {
        state = State::kQuoteSeen;
      } else {
        if (c == '\n' || (c == '\r' && i + 1 < size && data[i + 1] != '\n')) ++out.line_breaks;
        if (c == '\r' && i + 1 >= size) {
          if (!at_eof) break;  // CR or CRLF: the next byte decides
          ++out.line_breaks;
        }
        keep(&c, 1);
      }
      ++i;
      continue;
    }
    if (IsLineByte(c)) {
      size_t after = i + 1;
      if (c == '\r') {
        if (i + 1 >= size && !at_eof) break;  // CR or CRLF: the next byte decides
        if (i + 1 < size && data[i + 1] == '\n') after = i + 2;
      }
      out.blank = i == begin;
      end_field();
      out.end = RecordEnd::kLineEnding;
      out.content_end = i;
      out.next = after;
      ++out.line_breaks;
      return out;
    }
    if (c == d.delimiter) {
      end_field();
      state = State::kFieldStart;
      ++i;
      continue;
    }
    const bool is_quote = d.quote != '\0' && c == d.quote;
    switch (state) {
      case State::kFieldStart:
        if (is_quote) {
          state = State::kQuoted;
          quote_start = i;
        } else {
          state = State::kUnquoted;
          keep(&c, 1);
        }
        break;
      case State::kQuoteSeen:
        if (is_quote && d.escape == '\0') {  // a doubled quote: one quote of data
          state = State::kQuoted;
          keep(&c, 1);
        } else {
          problem(ScanStatus::kAfterQuote, i);
          state = State::kUnquoted;
          keep(&c, 1);
        }
        break;
      case State::kUnquoted:
        if (is_quote) problem(ScanStatus::kStrayQuote, i);
        keep(&c, 1);
        break;
      case State::kQuoted:
        break;  // handled above
    }
    ++i;
  }
  if (!at_eof) {
    out.end = RecordEnd::kIncomplete;
    out.content_end = out.next = size;
    return out;
  }
  if (state == State::kQuoted) problem(ScanStatus::kUnterminatedQuote, quote_start);
  end_field();
  out.end = RecordEnd::kEndOfData;
  out.content_end = out.next = size;
  return out;
}

RecordScan ScanRecordForKernel(const char* data, size_t begin, size_t size, char delimiter,
                               char quote, char escape, bool at_eof) {
  Dialect d;
  d.delimiter = delimiter;
  d.quote = quote;
  d.escape = escape;
  return ScanRecord(data, begin, size, d, at_eof);
}

BoundaryResult CountLinesAndDelimiters(const char* data, size_t size, char delimiter,
                                       char /*quote*/, char escape) {
  BoundaryResult r;
  r.end = size;
  bool escaped = false;  // the byte follows an odd run of escape characters
  for (size_t i = 0; i < size; ++i) {
    const char c = data[i];
    if (c == '\n' || (c == '\r' && data[i + 1] != '\n')) ++r.line_count;
    if (escaped) {
      escaped = false;
      continue;
    }
    if (escape != '\0' && c == escape) {
      escaped = true;
    } else if (c == delimiter) {
      ++r.delimiter_count;
    }
  }
  return r;
}

}  // namespace flowengine
