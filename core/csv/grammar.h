// The record grammar of FlowEngine's delimited input, as one scalar state machine. It is
// the definition every other reader of records agrees with: the SIMD kernels (which run a
// quote-parity scan and fall back to this machine where parity and grammar could differ),
// the header, source.maxRows, the extent of a bad record under skip-row, and the reference
// model of the tests (tests/adversarial/csv_model.py). Pure functions; thread-safe.
//
// Grammar (RFC 4180 plus the dialect's options; CR, LF and CRLF end records everywhere):
//   - A quote opens a quoted field only as the field's first byte. Inside, a doubled quote
//     is a quote (with backslash escapes instead: \" is), and line endings are data.
//   - A quote anywhere else in an unquoted field is a stray quote: the record is bad
//     (FE-INPUT-STRAY-QUOTE), the quote is an ordinary byte, and the record still ends at
//     the next line ending. A closing quote followed by anything but a delimiter or a line
//     ending is FE-INPUT-AFTER-QUOTE; the rest of that field is read as unquoted.
//   - With an escape character, it and the byte after it are one unit (unless that byte is
//     CR or LF: an escaped line ending still ends the record, and the parse reports it).
//   - Quoted data that reaches the end of the input is FE-INPUT-UNTERMINATED-QUOTE.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/csv/dialect.h"
#include "core/csv/scan_kernel.h"

namespace flowengine {

/// How a scanned record ends.
enum class RecordEnd : uint8_t {
  kLineEnding,  ///< at CR, LF or CRLF
  kEndOfData,   ///< at the end of the input (at_eof), without a line ending
  kIncomplete,  ///< the data ends first and more may follow (not at_eof)
};

struct RecordScan {
  RecordEnd end = RecordEnd::kIncomplete;
  size_t content_end = 0;   ///< one past the record's last byte, line ending excluded
  size_t next = 0;          ///< where the next record starts
  int64_t line_breaks = 0;  ///< line breaks in [begin, next), quoted ones included
  uint32_t fields = 0;      ///< fields in the record (a blank line has one, empty)
  bool blank = false;       ///< nothing before the line ending
  /// The first grammar problem: kStrayQuote (offset: the quote), kAfterQuote (offset: the
  /// byte after the closing quote), kUnterminatedQuote (offset: the opening quote), or kOk.
  ScanStatus problem = ScanStatus::kOk;
  size_t problem_offset = 0;
};

/// ScanRecord with the dialect's byte classes prepared once, for scanning many records (the
/// skip loops jump over runs of ordinary bytes). Immutable after construction; thread-safe.
class RecordScanner {
 public:
  explicit RecordScanner(const Dialect& dialect);
  /// As ScanRecord below.
  RecordScan Scan(const char* data, size_t begin, size_t size, bool at_eof,
                  std::vector<std::string>* values = nullptr) const;

 private:
  Dialect dialect_;
  bool stop_unquoted_[256];  // bytes that end a run outside quotes
  bool stop_quoted_[256];    // bytes that end a run inside quotes
};

/// Scans the record starting at data[begin] (a record boundary). With `at_eof`, the data
/// ends the input: a record may end there, and a CR as the last byte is a line ending;
/// otherwise a record that reaches `size` (or ends in a CR at size - 1) is kIncomplete.
/// With `values`, the record's unescaped field values are stored there.
RecordScan ScanRecord(const char* data, size_t begin, size_t size, const Dialect& dialect,
                      bool at_eof, std::vector<std::string>* values = nullptr);

/// ScanRecord for the SIMD kernels, which must not call inline code shared with other
/// translation units (see parse_loop_impl.h): the dialect as plain characters, no values.
RecordScan ScanRecordForKernel(const char* data, size_t begin, size_t size, char delimiter,
                               char quote, char escape, bool at_eof);

/// Line breaks and delimiter bytes (quoted or not, as the kernels count them) in
/// data[0, size). data[size] must be readable (padding): it decides a CR at size - 1.
BoundaryResult CountLinesAndDelimiters(const char* data, size_t size, char delimiter, char quote,
                                       char escape);

}  // namespace flowengine
