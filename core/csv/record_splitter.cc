#include "core/csv/record_splitter.h"

namespace flowengine {

SplitRecord SplitOneRecord(const char* data, size_t begin, size_t size, const Dialect& dialect) {
  SplitRecord out;
  std::string field;
  bool in_quotes = false;
  size_t i = begin;
  const bool quoting = dialect.quote != '\0';
  while (i < size) {
    const char c = data[i];
    if (dialect.escape != '\0' && c == dialect.escape && i + 1 < size && data[i + 1] != '\n' &&
        data[i + 1] != '\r') {
      const char e = data[i + 1];
      field += e == 'n' ? '\n' : e == 't' ? '\t' : e == 'r' ? '\r' : e;
      i += 2;
      continue;
    }
    if (in_quotes) {
      if (c == dialect.quote && dialect.escape == '\0') {
        if (i + 1 < size && data[i + 1] == dialect.quote) {
          field += c;
          i += 2;
          continue;
        }
        in_quotes = false;
      } else if (c == dialect.quote) {
        in_quotes = false;
      } else {
        if (c == '\n' || (c == '\r' && !(i + 1 < size && data[i + 1] == '\n'))) ++out.line_breaks;
        field += c;
      }
      ++i;
      continue;
    }
    if (quoting && c == dialect.quote) {
      in_quotes = true;
    } else if (c == dialect.delimiter) {
      out.fields.push_back(std::move(field));
      field.clear();
    } else if (c == '\n' || c == '\r') {
      i += (c == '\r' && i + 1 < size && data[i + 1] == '\n') ? 2 : 1;
      ++out.line_breaks;
      out.fields.push_back(std::move(field));
      out.end = i;
      out.complete = true;
      return out;
    } else {
      field += c;
    }
    ++i;
  }
  out.fields.push_back(std::move(field));
  out.end = size;
  out.complete = !in_quotes;
  return out;
}

size_t SkipRecords(const char* data, size_t size, const Dialect& d, bool count_blank,
                   int64_t* left) {
  size_t i = 0;
  while (i<size&& * left> 0) {
    const bool blank = data[i] == '\n' || data[i] == '\r';
    bool in_quotes = false;
    while (i < size) {
      const char c = data[i];
      if (d.escape != '\0' && c == d.escape && i + 1 < size && data[i + 1] != '\n' &&
          data[i + 1] != '\r') {
        i += 2;
        continue;
      }
      if (in_quotes) {
        if (c == d.quote && d.escape == '\0' && i + 1 < size && data[i + 1] == d.quote) {
          i += 2;
          continue;
        }
        if (c == d.quote) in_quotes = false;
        ++i;
        continue;
      }
      if (d.quote != '\0' && c == d.quote) {
        in_quotes = true;
      } else if (c == '\n' || c == '\r') {
        i += (c == '\r' && i + 1 < size && data[i + 1] == '\n') ? 2 : 1;
        break;
      }
      ++i;
    }
    if (!blank || count_blank) --*left;
  }
  return i;
}

LinePosition CountLineBreaks(const char* data, size_t offset) {
  LinePosition pos;
  for (size_t i = 0; i < offset; ++i) {
    const char c = data[i];
    if (c == '\n' || (c == '\r' && !(i + 1 < offset && data[i + 1] == '\n'))) {
      ++pos.line_breaks;
      pos.line_start = i + 1;
    }
  }
  return pos;
}

}  // namespace flowengine
