// The SIMD scanning kernels: find record boundaries (reader) and split a block into field
// spans (parse stage). One implementation of the loop (parse_loop_impl.h) is compiled per
// instruction set (scalar, SSE4.2, AVX2) and picked at run time. Kernels are pure
// functions over caller-owned memory; thread-safe.
//
// Invariants callers provide: `data` is readable for kPaddingBytes past `size`, and the
// padding (data[size] ...) is zero; a parse starts at a record boundary (outside quotes).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "core/batch/row_batch.h"

namespace flowengine {

/// What a kernel found wrong; the caller turns it into an Error off the hot path.
enum class ScanStatus : uint8_t {
  kOk,
  kFieldCount,         ///< a record has too many or too few fields
  kStrayQuote,         ///< quote inside an unquoted field (error_offset: the quote)
  kAfterQuote,         ///< closing quote followed by text (error_offset: that text)
  kUnterminatedQuote,  ///< end of data inside quotes (error_offset: the opening quote)
  kBadEscape,          ///< backslash escapes: an unknown or unfinished escape (error_offset)
};

struct ParseArgs {
  const char* data;
  size_t size;
  char delimiter;
  char quote;             ///< 0: no quoting
  char escape;            ///< 0: doubled quotes; otherwise the escape character (backslash)
  bool keep_blank_lines;  ///< a blank line is a record of one empty field, not skipped
  uint32_t num_columns;
  FieldSpan* fields;  ///< capacity FieldCapacity(counts of the data, num_columns)
  RowInfo* rows;      ///< capacity RowCapacity(counts of the data)
};

struct ParseResult {
  size_t num_rows = 0;  ///< complete, valid rows written before any error
  ScanStatus status = ScanStatus::kOk;
  size_t error_offset = 0;         ///< offending byte (see ScanStatus)
  size_t error_record_begin = 0;   ///< first byte of the record with the error
  uint32_t error_record_line = 0;  ///< its line, relative to the data's first line
};

struct BoundaryResult {
  size_t end = 0;               ///< bytes [0, end) are whole records; 0 when none ends in range
  int64_t line_count = 0;       ///< line breaks (LF, CRLF, lone CR, quoted or not) in [0, end)
  int64_t delimiter_count = 0;  ///< delimiter bytes (quoted or not) in [0, end)
};

/// One instruction-set implementation.
struct ScanKernel {
  const char* name;  ///< "scalar", "sse42", "avx2"
  /// Last record end (LF, CRLF, lone CR outside quotes) in [0, size). data[size] must be the
  /// real next byte or zero padding (it decides whether a CR at size-1 starts a CRLF).
  /// With `at_eof` the end of the data counts as a record end: end = size. `quote` 0: no
  /// quoting; `escape` non-zero: the byte after an escape is never structural.
  BoundaryResult (*find_boundary)(const char* data, size_t size, char delimiter, char quote,
                                  char escape, bool at_eof);
  /// Splits records into field spans; blank lines are skipped unless keep_blank_lines. A
  /// field holding backslash escapes is flagged kEscaped. Stops at the first error.
  ParseResult (*parse)(const ParseArgs& args);
  /// Sets bit i of out[i / 64] when data[i] is `delimiter`, `quote`, CR or LF, for i < size.
  /// `out` holds (size + 63) / 64 words.
  void (*mark_special)(const char* data, size_t size, char delimiter, char quote, uint64_t* out);
};

/// Field spans the parse may write for data with these counts: each field but the last of
/// the data ends at a delimiter or line break; a bad row stops before exceeding its width.
inline size_t FieldCapacity(const BoundaryResult& counts, uint32_t num_columns) {
  return static_cast<size_t>(counts.delimiter_count + counts.line_count) + 1 + num_columns;
}
/// Rows the parse may write for data with these counts.
inline size_t RowCapacity(const BoundaryResult& counts) {
  return static_cast<size_t>(counts.line_count) + 2;
}

/// The fastest kernel this CPU supports.
const ScanKernel& BestKernel();
/// Every kernel this CPU can run, scalar first.
std::span<const ScanKernel* const> AvailableKernels();

// Per-ISA entry points (defined in kernel_*.cc; only call those the CPU supports).
const ScanKernel& ScalarKernel();
const ScanKernel& Sse42Kernel();
const ScanKernel& Avx2Kernel();

}  // namespace flowengine
