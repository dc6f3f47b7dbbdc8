// Format stage of the delimited sink: renders rows as delimited text, by default with
// minimal quoting (a field is quoted only when it holds the delimiter, the quote, CR or LF)
// and LF record ends; OutputStyle asks for CRLF and/or quoting every field. Stateless; safe
// on many threads.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "core/batch/row_batch.h"
#include "core/csv/dialect.h"

namespace flowengine {

/// Replaces the contents of `out` with every row of `batch` (field spans into
/// `block_data`, read in dialect `in`) in dialect `out_dialect`.
void FormatBatch(const char* block_data, const RowBatch& batch, const Dialect& in,
                 const Dialect& out_dialect, ByteBuffer& out, const OutputStyle& style = {});

/// Replaces the contents of `out` with the rows `rows[0..count)` of `batch`, whose spans
/// point into `block_data` (read in dialect `in`) or, when flagged kArena, into `arena`
/// (raw values). Used after a transform and for sink.columns; no verbatim-copy shortcut.
/// With `columns` (not empty), only those columns of each row are written, in that order.
void FormatSelectedRows(const char* block_data, const char* arena, const RowBatch& batch,
                        const uint32_t* rows, size_t count, const Dialect& in,
                        const Dialect& out_dialect, ByteBuffer& out, const OutputStyle& style = {},
                        std::span<const uint32_t> columns = {});

/// Appends one value, quoted if it needs to be (or always, with `quote_all`).
void AppendField(std::string_view value, const Dialect& dialect, std::string& out,
                 bool quote_all = false);

/// A header line ("a,b,c\n") for `names`.
std::string FormatHeader(std::span<const std::string> names, const Dialect& dialect,
                         const OutputStyle& style = {});

}  // namespace flowengine
