#include "core/csv/block_parser.h"

#include "core/csv/record_splitter.h"

namespace flowengine {
namespace {

// Location of byte `offset` of the block.
Location LocateInBlock(const Block& block, const BlockParserOptions& options, size_t offset) {
  LinePosition pos = CountLineBreaks(block.bytes.data(), offset);
  Location loc;
  loc.file = options.file;
  loc.line = block.first_line + pos.line_breaks;
  loc.column = static_cast<int64_t>(offset - pos.line_start) + 1;
  loc.byte_offset = block.byte_offset + static_cast<int64_t>(offset);
  return loc;
}

std::string Quoted(std::string_view text) {
  constexpr size_t kMax = 60;
  std::string out = "'";
  out += text.size() > kMax ? std::string(text.substr(0, kMax)) + "..." : std::string(text);
  out += "'";
  return out;
}

Error ScanError(const Block& block, const BlockParserOptions& options, const ParseResult& r) {
  const char* data = block.bytes.data();
  const Schema& schema = *options.schema;
  switch (r.status) {
    case ScanStatus::kFieldCount: {
      SplitRecord rec =
          SplitOneRecord(data, r.error_record_begin, block.bytes.size(), options.dialect);
      Location loc = LocateInBlock(block, options, r.error_record_begin);
      return MakeError("FE-INPUT-FIELD-COUNT",
                       "Record has the wrong number of fields: expected " +
                           std::to_string(schema.size()) + ", got " +
                           std::to_string(rec.fields.size()),
                       loc, "parse");
    }
    case ScanStatus::kStrayQuote:
      return MakeError("FE-INPUT-STRAY-QUOTE", "Quote character inside an unquoted field",
                       LocateInBlock(block, options, r.error_offset), "parse");
    case ScanStatus::kAfterQuote:
      return MakeError("FE-INPUT-AFTER-QUOTE",
                       "Unexpected character after a closing quote: " +
                           Quoted(std::string_view(data + r.error_offset, 1)),
                       LocateInBlock(block, options, r.error_offset), "parse");
    case ScanStatus::kUnterminatedQuote: {
      Location loc = LocateInBlock(block, options, r.error_offset);
      return MakeError("FE-INPUT-UNTERMINATED-QUOTE",
                       "Quoted field starting at line " + std::to_string(loc.line) +
                           " is not closed before the end of the input; it swallows the rest "
                           "of the file",
                       loc, "parse");
    }
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

// Earliest (row, column) whose value is missing or does not parse; rows < limit only.
std::optional<ValueProblem> FindValueProblem(const char* data, const RowBatch& batch,
                                             const Schema& schema, char quote) {
  std::optional<ValueProblem> first;
  std::string scratch;
  for (uint32_t c = 0; c < schema.size(); ++c) {
    const ColumnSpec& col = schema.columns[c];
    if (col.type == ColumnType::kString && !col.required) continue;
    const size_t limit = first ? first->row + 1 : batch.num_rows;
    for (size_t r = 0; r < limit; ++r) {
      const FieldSpan& span = batch.Field(r, c);
      if (span.length() == 0) {
        if (!col.required) continue;
        if (!first || r < first->row || (r == first->row && c < first->column)) {
          first = ValueProblem{r, c, true};
        }
        break;
      }
      if (col.type == ColumnType::kString) continue;
      if (IsValidValue(col.type, FieldText(data, span, quote, scratch))) continue;
      if (!first || r < first->row || (r == first->row && c < first->column)) {
        first = ValueProblem{r, c, false};
      }
      break;
    }
  }
  return first;
}

}  // namespace

std::string_view FieldText(const char* block_data, const FieldSpan& span, char quote,
                           std::string& scratch) {
  std::string_view raw(block_data + span.offset, span.length());
  if (!span.escaped()) return raw;
  scratch.clear();
  for (size_t i = 0; i < raw.size(); ++i) {
    scratch += raw[i];
    if (raw[i] == quote) ++i;  // skip the second quote of a pair
  }
  return scratch;
}

std::optional<Error> ParseBlock(const Block& block, const BlockParserOptions& options,
                                RowBatch& batch) {
  const Schema& schema = *options.schema;
  const ScanKernel& kernel = options.kernel ? *options.kernel : BestKernel();
  const size_t size = block.bytes.size();
  const uint32_t ncols = schema.size();
  batch.num_columns = ncols;
  BoundaryResult counts;
  counts.line_count = block.line_count;
  counts.delimiter_count = block.delimiter_count;
  if (counts.line_count < 0 || counts.delimiter_count < 0) {
    counts = kernel.find_boundary(block.bytes.data(), size, options.dialect.delimiter,
                                  options.dialect.quote, /*at_eof=*/true);
  }
  batch.fields.ResizeDiscard(FieldCapacity(counts, ncols));
  batch.rows.ResizeDiscard(RowCapacity(counts));
  ParseArgs args{block.bytes.data(),    size,  options.dialect.delimiter,
                 options.dialect.quote, ncols, batch.fields.data(),
                 batch.rows.data()};
  ParseResult result = kernel.parse(args);
  batch.num_rows = result.num_rows;

  std::optional<Error> error;
  if (auto problem = FindValueProblem(block.bytes.data(), batch, schema, options.dialect.quote)) {
    const FieldSpan& span = batch.Field(problem->row, problem->column);
    const ColumnSpec& col = schema.columns[problem->column];
    const size_t offset = span.offset - (span.quoted() ? 1 : 0);
    Location loc = LocateInBlock(block, options, offset);
    loc.field = col.name;
    std::string scratch;
    if (problem->missing) {
      error = MakeError("FE-SCHEMA-REQUIRED",
                        "Required value is empty in column '" + col.name + "'", loc, "parse");
    } else {
      error = MakeError(
          "FE-SCHEMA-TYPE",
          "Value is not a valid " + std::string(ColumnTypeName(col.type)) + " in column '" +
              col.name +
              "': " + Quoted(FieldText(block.bytes.data(), span, options.dialect.quote, scratch)),
          loc, "parse");
    }
    batch.num_rows = problem->row;
  } else if (result.status != ScanStatus::kOk) {
    error = ScanError(block, options, result);
  }
  return error;
}

}  // namespace flowengine
