#include "core/csv/record_splitter.h"

#include "core/csv/grammar.h"

namespace flowengine {

SplitRecord SplitOneRecord(const char* data, size_t begin, size_t size, const Dialect& dialect) {
  SplitRecord out;
  const RecordScan scan = ScanRecord(data, begin, size, dialect, /*at_eof=*/true, &out.fields);
  out.end = scan.next;
  out.line_breaks = scan.line_breaks;
  out.complete = scan.end == RecordEnd::kLineEnding;
  out.problem = scan.problem;
  out.problem_offset = scan.problem_offset;
  return out;
}

size_t SkipRecords(const char* data, size_t size, const Dialect& d, bool count_blank,
                   int64_t* left) {
  size_t i = 0;
  while (i<size&& * left> 0) {
    const RecordScan scan = ScanRecord(data, i, size, d, /*at_eof=*/true);
    i = scan.next;
    if (!scan.blank || count_blank) --*left;
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
