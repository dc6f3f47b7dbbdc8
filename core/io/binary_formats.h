// Recognises inputs that are not delimited text — compressed files and common binary
// formats — by their magic bytes, so that a `.csv.gz` or a spreadsheet handed to the source
// is a clear error instead of garbage rows. Pure function; thread-safe.
#pragma once

#include <cstddef>

namespace flowengine {

/// "a gzip file (compressed)", "an Excel workbook (.xlsx, zip)", ... when the first `size`
/// bytes of an input (16 are enough) start like such a file; nullptr otherwise.
const char* BinaryFormatName(const char* head, size_t size);

}  // namespace flowengine
