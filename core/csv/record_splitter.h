// A simple byte-at-a-time splitter (RFC 4180, or the dialect's quote/escape options) for single
// records, used off the hot path: the header record, and re-reading a bad record to describe it in
// an error. Thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/csv/dialect.h"

namespace flowengine {

struct SplitRecord {
  std::vector<std::string> fields;  ///< unescaped values
  size_t end = 0;                   ///< offset one past the record and its line ending
  int64_t line_breaks = 0;          ///< line breaks consumed, quoted ones and the record's own
  bool complete = false;            ///< false when the data ended inside quotes
};

/// Splits the record starting at data[begin]; stops at the record's line ending or `size`.
SplitRecord SplitOneRecord(const char* data, size_t begin, size_t size, const Dialect& dialect);

/// Skips whole records from data[0] on, as SplitOneRecord splits them, without copying their
/// fields: each record decrements `*left` (a blank line only when `count_blank`) until it
/// reaches 0 or the data ends. Returns the offset after the last record skipped. For
/// source.maxRows.
size_t SkipRecords(const char* data, size_t size, const Dialect& dialect, bool count_blank,
                   int64_t* left);

/// Line breaks (LF, CRLF, lone CR) in data[0, offset), and the offset where the last of
/// those lines starts (for 1-based columns: offset - line_start + 1).
struct LinePosition {
  int64_t line_breaks = 0;
  size_t line_start = 0;
};
LinePosition CountLineBreaks(const char* data, size_t offset);

}  // namespace flowengine
