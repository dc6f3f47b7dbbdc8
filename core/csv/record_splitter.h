// Single records split by the grammar (grammar.h), off the hot path: the header record,
// re-reading a bad record to describe it in an error, and counting records for maxRows.
// Thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/csv/dialect.h"
#include "core/csv/scan_kernel.h"

namespace flowengine {

struct SplitRecord {
  std::vector<std::string> fields;  ///< unescaped values
  size_t end = 0;                   ///< offset one past the record and its line ending
  int64_t line_breaks = 0;          ///< line breaks consumed, quoted ones and the record's own
  bool complete = false;            ///< ended at a line ending (false: at the end of the data)
  /// The first grammar problem (stray or misplaced quote, unterminated quotes), or kOk.
  ScanStatus problem = ScanStatus::kOk;
  size_t problem_offset = 0;  ///< where that problem is
};

/// Splits the record starting at data[begin]; stops at the record's line ending or `size`
/// (the end of the input).
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
