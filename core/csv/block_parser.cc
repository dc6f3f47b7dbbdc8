#include "core/csv/block_parser.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <iterator>
#include <type_traits>

#include "core/csv/grammar.h"
#include "core/csv/record_splitter.h"
#include "core/csv/utf8_check.h"
#include "core/types/typed_value.h"

namespace flowengine {
namespace {

// Location of byte `offset` of the block, counting line breaks from `from`, the start of a
// line whose line number relative to the block is `from_line`.
Location LocateInBlock(const Block& block, const BlockParserOptions& options, size_t offset,
                       size_t from = 0, int64_t from_line = 0) {
  LinePosition pos = CountLineBreaks(block.bytes.data() + from, offset - from);
  Location loc;
  loc.file = options.file;
  loc.line = block.first_line + from_line + pos.line_breaks;
  loc.column = static_cast<int64_t>(offset - from - pos.line_start) + 1;
  loc.byte_offset = block.byte_offset + static_cast<int64_t>(offset);
  return loc;
}

// The character at data[offset] for a message: a whole UTF-8 sequence (never half of one,
// which would make the message and the dead-letter file invalid UTF-8), or the byte as
// \xNN when it starts no valid sequence. Sets *length to the bytes it covers.
std::string CharacterAt(const char* data, size_t offset, size_t size, size_t* length = nullptr) {
  const auto byte = static_cast<unsigned char>(data[offset]);
  const size_t n = byte < 0x80 ? 1 : byte >= 0xF0 ? 4 : byte >= 0xE0 ? 3 : byte >= 0xC0 ? 2 : 0;
  if (length != nullptr) *length = n > 0 && offset + n <= size ? n : 1;
  if (n > 0 && offset + n <= size && IsValidUtf8(data + offset, n)) {
    return std::string(data + offset, n);
  }
  if (length != nullptr) *length = 1;
  char hex[8];
  std::snprintf(hex, sizeof(hex), "\\x%02X", byte);
  return hex;
}

// A value quoted for a message: at most 60 bytes, cut at a character boundary, with bytes
// that are not valid UTF-8 shown as \xNN (messages are always valid UTF-8).
std::string Quoted(std::string_view text) {
  constexpr size_t kMax = 60;
  std::string out = "'";
  size_t i = 0;
  while (i < text.size()) {
    size_t n = 1;
    std::string c = CharacterAt(text.data(), i, text.size(), &n);
    if (out.size() - 1 + c.size() > kMax) {
      out += "...";
      break;
    }
    out += c;
    i += n;
  }
  out += "'";
  return out;
}

// The error of a bad record; `r` holds block offsets, `record_line` the record's line
// relative to the block.
Error ScanError(const Block& block, const BlockParserOptions& options, const ParseResult& r,
                int64_t record_line) {
  const char* data = block.bytes.data();
  const Schema& schema = *options.schema;
  const size_t from = r.error_record_begin;
  switch (r.status) {
    case ScanStatus::kFieldCount: {
      SplitRecord rec =
          SplitOneRecord(data, r.error_record_begin, block.bytes.size(), options.dialect);
      Location loc = LocateInBlock(block, options, r.error_record_begin, from, record_line);
      return MakeError("FE-INPUT-FIELD-COUNT",
                       "Record has the wrong number of fields: expected " +
                           std::to_string(schema.size()) + ", got " +
                           std::to_string(rec.fields.size()),
                       loc, "parse");
    }
    case ScanStatus::kStrayQuote:
      return MakeError("FE-INPUT-STRAY-QUOTE", "Quote character inside an unquoted field",
                       LocateInBlock(block, options, r.error_offset, from, record_line), "parse");
    case ScanStatus::kAfterQuote:
      return MakeError("FE-INPUT-AFTER-QUOTE",
                       "Unexpected character after a closing quote: " +
                           Quoted(CharacterAt(data, r.error_offset, block.bytes.size())),
                       LocateInBlock(block, options, r.error_offset, from, record_line), "parse");
    case ScanStatus::kUnterminatedQuote: {
      Location loc = LocateInBlock(block, options, r.error_offset, from, record_line);
      return MakeError("FE-INPUT-UNTERMINATED-QUOTE",
                       "Quoted field starting at line " + std::to_string(loc.line) +
                           " is not closed before the end of the input; it swallows the rest "
                           "of the file",
                       loc, "parse");
    }
    case ScanStatus::kBadEscape:
      return MakeError(
          "FE-INPUT-BAD-ESCAPE",
          "Unknown escape sequence " +
              Quoted(r.error_offset + 1 < block.bytes.size()
                         ? std::string(1, data[r.error_offset]) +
                               CharacterAt(data, r.error_offset + 1, block.bytes.size())
                         : std::string(1, data[r.error_offset])) +
              " (source.escape is a backslash)",
          LocateInBlock(block, options, r.error_offset, from, record_line), "parse");
    case ScanStatus::kOk:
      break;
  }
  return MakeError("FE-INTERNAL", "Unexpected scan status", {}, "parse");
}

struct ValueProblem {
  size_t row;
  uint32_t column;
  bool missing;  // required value empty (else: type mismatch)
};

// Sets up batch's typed values (RowBatch::numbers) for its rows: a slot per typed column.
void PrepareValues(RowBatch& batch, const Schema& schema) {
  const uint32_t ncols = batch.num_columns;
  batch.value_slot.ResizeDiscard(ncols);
  batch.value_type.ResizeDiscard(ncols);
  uint32_t slots = 0;
  for (uint32_t c = 0; c < ncols; ++c) {
    const ColumnType type = c < schema.size() ? schema.columns[c].type : ColumnType::kString;
    batch.value_type[c] = static_cast<uint8_t>(type);
    batch.value_slot[c] = type == ColumnType::kString ? RowBatch::kNoValues : slots++;
  }
  batch.value_stride = batch.num_rows;
  batch.inexact.ResizeDiscard(slots);
  std::fill(batch.inexact.data(), batch.inexact.data() + slots, uint8_t{0});
  batch.numbers.ResizeDiscard(slots * batch.num_rows);
  batch.codes.ResizeDiscard(slots * batch.num_rows);
}

// Rows whose value in a typed or required column is missing or does not parse, each with its
// first bad column, in row order; with `first_only`, just the earliest one. With `keep`,
// the typed values read are kept in the batch (PrepareValues first).
std::vector<ValueProblem> FindValueProblems(const char* data, RowBatch& batch, const Schema& schema,
                                            const Dialect& dialect, bool first_only, bool keep) {
  std::vector<ValueProblem> found;
  std::vector<int32_t> column_of(first_only ? 0 : batch.num_rows, -1);
  std::optional<ValueProblem> first;
  std::string scratch;
  const auto text_of = [&](const FieldSpan& span) {  // most fields need no unescaping
    return span.escaped() ? FieldText(data, span, dialect, scratch)
                          : std::string_view(data + span.offset, span.length());
  };
  for (uint32_t c = 0; c < schema.size(); ++c) {
    const ColumnSpec& col = schema.columns[c];
    if (col.type == ColumnType::kString && !col.required) continue;
    const size_t limit = first ? first->row + 1 : batch.num_rows;
    const bool keep_column = keep && col.type != ColumnType::kString;
    double* numbers = nullptr;
    uint8_t* codes = nullptr;
    bool exact_column = true;
    if (keep_column) {
      const size_t at = size_t{batch.value_slot[c]} * batch.value_stride;
      numbers = batch.numbers.data() + at;
      codes = batch.codes.data() + at;
    }
    const uint8_t empty_code = col.type == ColumnType::kBool ? 2 : 1;
    // The rows of column c, read as `type` (an integral_constant) (one loop per type; a required
    // string column only needs a value).
    const auto scan = [&](auto type) {
      constexpr ColumnType kType = decltype(type)::value;
      const auto value_of = [](std::string_view text, double* value, bool* exact) {
        if constexpr (kType == ColumnType::kString) {
          return true;
        } else {
          return typed::ValueOf<kType>(text, value, exact);
        }
      };
      for (size_t r = 0; r < limit; ++r) {
        const FieldSpan& span = batch.Field(r, c);
        bool missing = false;
        if (span.length() == 0) {
          if (keep_column) {
            numbers[r] = 0;
            codes[r] = empty_code;
          }
          if (!col.required) continue;
          missing = true;
        } else {
          double value = 0;
          bool exact = true;
          if (value_of(text_of(span), &value, &exact)) {
            if (keep_column) {
              numbers[r] = value;
              codes[r] = col.type == ColumnType::kBool ? static_cast<uint8_t>(value != 0) : 0;
              exact_column = exact_column && exact;
            }
            continue;
          }
        }
        if (first_only) {
          if (!first || r < first->row) first = ValueProblem{r, c, missing};
          break;
        }
        if (column_of[r] < 0) {
          column_of[r] = static_cast<int32_t>(c);
          found.push_back(ValueProblem{r, c, missing});
        }
      }
    };
    switch (col.type) {
      case ColumnType::kString:
        scan(std::integral_constant<ColumnType, ColumnType::kString>{});
        break;
      case ColumnType::kInt32:
        scan(std::integral_constant<ColumnType, ColumnType::kInt32>{});
        break;
      case ColumnType::kInt64:
        scan(std::integral_constant<ColumnType, ColumnType::kInt64>{});
        break;
      case ColumnType::kFloat64:
        scan(std::integral_constant<ColumnType, ColumnType::kFloat64>{});
        break;
      case ColumnType::kBool:
        scan(std::integral_constant<ColumnType, ColumnType::kBool>{});
        break;
    }
    if (keep_column && !exact_column) batch.inexact[batch.value_slot[c]] = 1;
  }
  if (first_only) {
    if (first) found.push_back(*first);
    return found;
  }
  std::sort(found.begin(), found.end(),
            [](const ValueProblem& x, const ValueProblem& y) { return x.row < y.row; });
  return found;
}

Error ValueError(const Block& block, const BlockParserOptions& options, const RowBatch& batch,
                 const ValueProblem& problem) {
  const FieldSpan& span = batch.Field(problem.row, problem.column);
  const ColumnSpec& col = options.schema->columns[problem.column];
  const size_t offset = span.offset - (span.quoted() ? 1 : 0);
  const RowInfo& row = batch.rows[problem.row];
  Location loc = LocateInBlock(block, options, offset, row.begin, row.line_delta);
  loc.field = col.name;
  if (problem.missing) {
    return MakeError("FE-SCHEMA-REQUIRED", "Required value is empty in column '" + col.name + "'",
                     loc, "parse");
  }
  std::string scratch;
  return MakeError(
      "FE-SCHEMA-TYPE",
      "Value is not a valid " + std::string(ColumnTypeName(col.type)) + " in column '" + col.name +
          "': " + Quoted(FieldText(block.bytes.data(), span, options.dialect, scratch)),
      loc, "parse");
}

// Rows (in order, each once) holding invalid UTF-8, with the error for the first bad byte;
// rows >= `limit` are not looked at.
std::vector<std::pair<size_t, Error>> FindEncodingProblems(const Block& block,
                                                           const BlockParserOptions& options,
                                                           const RowBatch& batch, size_t limit) {
  std::vector<std::pair<size_t, Error>> found;
  const char* data = block.bytes.data();
  if (IsValidUtf8(data, block.bytes.size())) return found;
  size_t r = 0;
  for (size_t offset : InvalidUtf8Offsets(data, block.bytes.size())) {
    while (r < limit && batch.rows[r].end <= offset) ++r;
    if (r >= limit) break;
    const RowInfo& row = batch.rows[r];
    if (offset < row.begin || (!found.empty() && found.back().first == r)) continue;
    Location loc = LocateInBlock(block, options, offset, row.begin, row.line_delta);
    for (uint32_t c = 0; c < batch.num_columns; ++c) {
      const FieldSpan& f = batch.Field(r, c);
      if (offset >= f.offset && offset < f.offset + f.length()) {
        loc.field = options.schema->columns[c].name;
      }
    }
    char byte[8];
    std::snprintf(byte, sizeof(byte), "0x%02X", static_cast<unsigned char>(data[offset]));
    found.emplace_back(
        r, MakeError("FE-ENCODING-UTF8",
                     "Invalid UTF-8" +
                         (loc.field.empty() ? std::string() : " in column '" + loc.field + "'") +
                         ": byte " + byte,
                     loc, "parse"));
  }
  return found;
}

// Where a bad record starting at `begin` ends, as the grammar says (a stray quote does not
// swallow the records after it).
struct RecordExtent {
  size_t content_end;   // one past the record's last byte, line ending excluded
  size_t next;          // where the next record starts
  int64_t line_breaks;  // line breaks from `begin` to `next`
};
RecordExtent FindRecordExtent(const char* data, size_t begin, size_t size, const Dialect& d) {
  const RecordScan scan = ScanRecord(data, begin, size, d, /*at_eof=*/true);
  return RecordExtent{scan.content_end, scan.next, scan.line_breaks};
}

// Skip-row: parses records after bad ones too; bad records and rows with bad values become
// rejects, and the batch keeps the good rows only.
void ParseSkippingBadRows(const Block& block, const BlockParserOptions& options,
                          const ScanKernel& kernel, RowBatch& batch, std::vector<Reject>& rejects) {
  const char* data = block.bytes.data();
  const size_t size = block.bytes.size();
  const uint32_t ncols = batch.num_columns;
  std::vector<Reject> scan_rejects;
  size_t offset = 0;
  uint32_t line_base = 0;
  size_t rows = 0;
  while (offset < size) {
    ParseArgs args{data + offset,
                   size - offset,
                   options.dialect.delimiter,
                   options.dialect.quote,
                   options.dialect.escape,
                   options.keep_blank_lines,
                   ncols,
                   &batch.fields[rows * ncols],
                   &batch.rows[rows]};
    ParseResult r = kernel.parse(args);
    if (offset > 0) {  // the kernel counted from `offset`: make the new rows block-relative
      for (size_t i = rows; i < rows + r.num_rows; ++i) {
        batch.rows[i].begin += static_cast<uint32_t>(offset);
        batch.rows[i].end += static_cast<uint32_t>(offset);
        batch.rows[i].line_delta += line_base;
        for (uint32_t c = 0; c < ncols; ++c) {
          batch.fields[i * ncols + c].offset += static_cast<uint32_t>(offset);
        }
      }
    }
    rows += r.num_rows;
    if (r.status == ScanStatus::kOk) break;
    r.error_offset += offset;
    r.error_record_begin += offset;
    const uint32_t record_line = line_base + r.error_record_line;
    const RecordExtent extent = FindRecordExtent(data, r.error_record_begin, size, options.dialect);
    scan_rejects.push_back(Reject{
        ScanError(block, options, r, record_line), static_cast<uint32_t>(r.error_record_begin),
        static_cast<uint32_t>(extent.content_end), block.first_line + record_line,
        block.byte_offset + static_cast<int64_t>(r.error_record_begin)});
    line_base = record_line + static_cast<uint32_t>(extent.line_breaks);
    offset = extent.next;
  }
  batch.num_rows = rows;

  // Rows with bad values or invalid UTF-8 leave the batch; rejects merge in input order.
  std::vector<std::pair<size_t, Error>> bad_rows;
  if (options.keep_values) PrepareValues(batch, *options.schema);
  for (const ValueProblem& p : FindValueProblems(data, batch, *options.schema, options.dialect,
                                                 false, options.keep_values)) {
    bad_rows.emplace_back(p.row, ValueError(block, options, batch, p));
  }
  for (auto& problem : FindEncodingProblems(block, options, batch, batch.num_rows)) {
    bad_rows.push_back(std::move(problem));
  }
  // One reject per row: the encoding problem of a row goes after its value problem.
  std::stable_sort(bad_rows.begin(), bad_rows.end(),
                   [](const auto& x, const auto& y) { return x.first < y.first; });
  std::vector<Reject> value_rejects;
  for (auto& [r, error] : bad_rows) {
    if (!value_rejects.empty() && value_rejects.back().raw_begin == batch.rows[r].begin) continue;
    const RowInfo& row = batch.rows[r];
    value_rejects.push_back(Reject{std::move(error), row.begin, row.end,
                                   block.first_line + row.line_delta,
                                   block.byte_offset + static_cast<int64_t>(row.begin)});
  }
  if (!bad_rows.empty()) {
    size_t kept = 0;
    size_t next_bad = 0;
    for (size_t r = 0; r < batch.num_rows; ++r) {
      bool bad = false;
      while (next_bad < bad_rows.size() && bad_rows[next_bad].first == r) {
        bad = true;
        ++next_bad;
      }
      if (bad) continue;
      if (kept != r) {
        batch.rows[kept] = batch.rows[r];
        std::memmove(&batch.fields[kept * ncols], &batch.fields[r * ncols],
                     ncols * sizeof(FieldSpan));
        for (size_t slot = 0; slot < batch.inexact.size() && batch.value_stride != 0; ++slot) {
          const size_t column = slot * batch.value_stride;
          batch.numbers[column + kept] = batch.numbers[column + r];
          batch.codes[column + kept] = batch.codes[column + r];
        }
      }
      ++kept;
    }
    batch.num_rows = kept;
  }
  rejects.clear();
  std::merge(scan_rejects.begin(), scan_rejects.end(), value_rejects.begin(), value_rejects.end(),
             std::back_inserter(rejects),
             [](const Reject& x, const Reject& y) { return x.raw_begin < y.raw_begin; });
}

}  // namespace

std::string_view FieldText(const char* block_data, const FieldSpan& span, const Dialect& dialect,
                           std::string& scratch) {
  std::string_view raw(block_data + span.offset, span.length());
  if (!span.escaped()) return raw;
  scratch.clear();
  if (dialect.escape != 0) {
    for (size_t i = 0; i < raw.size(); ++i) {
      char c = raw[i];
      if (c == dialect.escape && i + 1 < raw.size()) {
        c = raw[++i];
        c = c == 'n' ? '\n' : c == 't' ? '\t' : c == 'r' ? '\r' : c;
      }
      scratch += c;
    }
    return scratch;
  }
  for (size_t i = 0; i < raw.size(); ++i) {
    scratch += raw[i];
    if (raw[i] == dialect.quote) ++i;  // skip the second quote of a pair
  }
  return scratch;
}

std::optional<Error> ParseBlock(const Block& block, const BlockParserOptions& options,
                                RowBatch& batch, std::vector<Reject>* rejects) {
  const Schema& schema = *options.schema;
  const ScanKernel& kernel = options.kernel ? *options.kernel : BestKernel();
  const size_t size = block.bytes.size();
  const uint32_t ncols = schema.size();
  batch.num_columns = ncols;
  batch.value_stride = 0;  // values kept (options.keep_values) are set after the scan
  BoundaryResult counts;
  counts.line_count = block.line_count;
  counts.delimiter_count = block.delimiter_count;
  if (counts.line_count < 0 || counts.delimiter_count < 0) {
    counts = kernel.find_boundary(block.bytes.data(), size, options.dialect.delimiter,
                                  options.dialect.quote, options.dialect.escape, /*at_eof=*/true);
  }
  batch.fields.ResizeDiscard(FieldCapacity(counts, ncols));
  batch.rows.ResizeDiscard(RowCapacity(counts));
  if (rejects != nullptr) {
    ParseSkippingBadRows(block, options, kernel, batch, *rejects);
    return std::nullopt;
  }
  ParseArgs args{block.bytes.data(),
                 size,
                 options.dialect.delimiter,
                 options.dialect.quote,
                 options.dialect.escape,
                 options.keep_blank_lines,
                 ncols,
                 batch.fields.data(),
                 batch.rows.data()};
  ParseResult result = kernel.parse(args);
  batch.num_rows = result.num_rows;
  if (options.keep_values) PrepareValues(batch, schema);
  // Rows before a scan error are complete; a bad value in one of them comes first.
  std::vector<ValueProblem> problems = FindValueProblems(
      block.bytes.data(), batch, schema, options.dialect, true, options.keep_values);
  const size_t limit = problems.empty() ? batch.num_rows : problems[0].row + 1;
  std::vector<std::pair<size_t, Error>> encoding =
      FindEncodingProblems(block, options, batch, limit);
  if (!encoding.empty() && (problems.empty() || encoding[0].first < problems[0].row)) {
    batch.num_rows = encoding[0].first;
    return std::move(encoding[0].second);
  }
  if (!problems.empty()) {
    Error e = ValueError(block, options, batch, problems[0]);
    batch.num_rows = problems[0].row;
    return e;
  }
  // Invalid UTF-8 in the bad record itself is reported as the record's own error below.
  if (result.status != ScanStatus::kOk) {
    return ScanError(block, options, result, result.error_record_line);
  }
  return std::nullopt;
}

}  // namespace flowengine
