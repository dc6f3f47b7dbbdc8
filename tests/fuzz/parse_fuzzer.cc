// libFuzzer target for the delimited parser: the scan kernels, the block parser in both
// error modes, and the formatter. Byte 0 of the input picks the column count, the delimiter,
// the quoting (RFC 4180, backslash escapes, no quotes, or no quotes with backslash escapes)
// and whether column 0 is typed; the rest is one block. Any disagreement between kernels,
// any rejected row that is not a whole record, or any formatted output that does not parse
// back to the same values aborts (a crash for the fuzzer).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "core/csv/block_parser.h"
#include "core/csv/formatter.h"
#include "core/csv/scan_kernel.h"

namespace {

using flowengine::Block;
using flowengine::BlockParserOptions;
using flowengine::ByteBuffer;
using flowengine::Dialect;
using flowengine::RowBatch;

// Aborts (a crash for the fuzzer) naming the failed condition.
#define CHECK(condition)                                                                         \
  do {                                                                                           \
    if (!(condition)) {                                                                          \
      std::fprintf(stderr, "parse_fuzzer: check failed at line %d: %s\n", __LINE__, #condition); \
      std::abort();                                                                              \
    }                                                                                            \
  } while (0)

std::vector<std::vector<std::string>> Values(const Block& block, const RowBatch& batch,
                                             const Dialect& dialect) {
  std::vector<std::vector<std::string>> rows;
  std::string scratch;
  for (size_t r = 0; r < batch.num_rows; ++r) {
    std::vector<std::string> row;
    for (uint32_t c = 0; c < batch.num_columns; ++c) {
      row.emplace_back(
          flowengine::FieldText(block.bytes.data(), batch.Field(r, c), dialect, scratch));
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const uint32_t ncols = 1 + (data[0] & 7);
  Dialect dialect = (data[0] >> 3) % 4 == 1   ? Dialect::Tsv()
                    : (data[0] >> 3) % 4 == 2 ? Dialect::Psv()
                                              : Dialect::Csv();
  const int quoting = (data[0] >> 5) & 3;
  if (quoting & 1) dialect.escape = '\\';
  if (quoting & 2) dialect.quote = '\0';
  const Dialect written = dialect.Rfc4180();
  flowengine::Schema schema;
  for (uint32_t c = 0; c < ncols; ++c) {
    schema.columns.push_back({"c" + std::to_string(c), flowengine::ColumnType::kString, false});
  }
  if (data[0] & 0x80) schema.columns[0].type = flowengine::ColumnType::kInt64;
  Block block;
  block.bytes.Append(reinterpret_cast<const char*>(data + 1), size - 1);
  block.bytes.ZeroTail();

  BlockParserOptions options;
  options.file = "fuzz.csv";
  options.dialect = dialect;
  options.schema = &schema;

  // Every kernel finds the same boundary and parses to the same rows and error.
  const auto kernels = flowengine::AvailableKernels();
  const flowengine::BoundaryResult reference =
      kernels[0]->find_boundary(block.bytes.data(), block.bytes.size(), dialect.delimiter,
                                dialect.quote, dialect.escape, false);
  std::vector<std::vector<std::string>> first_rows;
  std::string first_error;
  for (size_t k = 0; k < kernels.size(); ++k) {
    const flowengine::BoundaryResult b =
        kernels[k]->find_boundary(block.bytes.data(), block.bytes.size(), dialect.delimiter,
                                  dialect.quote, dialect.escape, false);
    CHECK(b.end == reference.end && b.line_count == reference.line_count &&
          b.delimiter_count == reference.delimiter_count);
    options.kernel = kernels[k];
    RowBatch batch;
    auto error = flowengine::ParseBlock(block, options, batch);
    auto rows = Values(block, batch, dialect);
    const std::string code = error ? error->code + ":" + std::to_string(error->location.line) : "";
    if (k == 0) {
      first_rows = rows;
      first_error = code;
    } else {
      CHECK(rows == first_rows && code == first_error);
    }
  }

  // Skip-row: rejects are whole records in input order, and good rows are the fail-fast rows
  // before the first error.
  // The typed values kept (keep_values) are those of the good rows' fields.
  options.kernel = nullptr;
  options.keep_values = true;
  RowBatch batch;
  std::vector<flowengine::Reject> rejects;
  CHECK(!flowengine::ParseBlock(block, options, batch, &rejects));
  options.keep_values = false;
  if (schema.columns[0].type == flowengine::ColumnType::kInt64 && batch.num_rows > 0) {
    CHECK(batch.value_stride >= batch.num_rows && batch.value_slot[0] == 0);
    std::string scratch;
    for (size_t r = 0; r < batch.num_rows; ++r) {
      const std::string_view text =
          flowengine::FieldText(block.bytes.data(), batch.Field(r, 0), dialect, scratch);
      double want = 0;
      bool exact = true;
      if (text.empty()) {
        CHECK(batch.codes[r] == 1);
      } else {
        CHECK(flowengine::ParseTypedValue(flowengine::ColumnType::kInt64, text, &want, &exact));
        CHECK(batch.codes[r] == 0 && batch.numbers[r] == want);
        if (!exact) CHECK(batch.inexact[0] == 1);
      }
    }
  }
  for (size_t i = 0; i < rejects.size(); ++i) {
    CHECK(rejects[i].raw_begin <= rejects[i].raw_end && rejects[i].raw_end <= block.bytes.size());
    if (i > 0) CHECK(rejects[i - 1].raw_end <= rejects[i].raw_begin);
  }
  auto good = Values(block, batch, dialect);
  CHECK(good.size() >= first_rows.size());
  for (size_t r = 0; r < first_rows.size(); ++r) CHECK(good[r] == first_rows[r]);

  // Formatting the good rows and parsing them again gives the same values.
  ByteBuffer out;
  flowengine::FormatBatch(block.bytes.data(), batch, dialect, written, out);
  Block again;
  again.bytes.Append(out.data(), out.size());
  again.bytes.ZeroTail();
  RowBatch reparsed;
  schema.columns[0].type = flowengine::ColumnType::kString;
  options.dialect = written;
  CHECK(!flowengine::ParseBlock(again, options, reparsed));
  auto values = Values(again, reparsed, written);
  CHECK(values == good);
  return 0;
}
