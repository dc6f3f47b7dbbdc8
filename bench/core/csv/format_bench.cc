// The format stage: passthrough (same dialect) and CSV -> TSV. Checks the output first.
#include <benchmark/benchmark.h>

#include <string>

#include "bench/bench_check.h"
#include "bench/data/customers.h"
#include "core/csv/block_parser.h"
#include "core/csv/formatter.h"

namespace flowengine {
namespace {

struct Parsed {
  Block block;
  RowBatch batch;
  Schema schema;
  std::string text;
};

Parsed& Customers() {
  static Parsed p = [] {
    Parsed out;
    out.text = bench::GenerateCustomers(7000, ',', 42);
    out.text.erase(0, out.text.find('\n') + 1);
    out.block.bytes.Append(out.text.data(), out.text.size());
    out.block.bytes.ZeroTail();
    for (int i = 0; i < 10; ++i) {
      out.schema.columns.push_back(ColumnSpec{"c" + std::to_string(i), ColumnType::kString, false});
    }
    BlockParserOptions options;
    options.dialect = Dialect::Csv();
    options.schema = &out.schema;
    if (ParseBlock(out.block, options, out.batch)) throw std::runtime_error("parse failed");
    return out;
  }();
  return p;
}

void BM_FormatPassthrough(benchmark::State& state) {
  Parsed& p = Customers();
  ByteBuffer out;
  FormatBatch(p.block.bytes.data(), p.batch, Dialect::Csv(), Dialect::Csv(), out);
  if (std::string(out.data(), out.size()) != p.text) {
    bench::FailCheck(state, "passthrough output differs from the input");
    return;
  }
  for (auto _ : state) {
    FormatBatch(p.block.bytes.data(), p.batch, Dialect::Csv(), Dialect::Csv(), out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * p.text.size()));
}
BENCHMARK(BM_FormatPassthrough);

void BM_FormatCsvToTsv(benchmark::State& state) {
  Parsed& p = Customers();
  ByteBuffer out;
  FormatBatch(p.block.bytes.data(), p.batch, Dialect::Csv(), Dialect::Tsv(), out);
  // Check: the TSV parsed back and written as CSV is the original.
  Block tsv;
  tsv.bytes.Append(out.data(), out.size());
  tsv.bytes.ZeroTail();
  BlockParserOptions options;
  options.dialect = Dialect::Tsv();
  options.schema = &p.schema;
  RowBatch back;
  ByteBuffer csv;
  if (ParseBlock(tsv, options, back)) {
    bench::FailCheck(state, "CSV -> TSV output does not parse as TSV");
    return;
  }
  FormatBatch(tsv.bytes.data(), back, Dialect::Tsv(), Dialect::Csv(), csv);
  if (std::string(csv.data(), csv.size()) != p.text) {
    bench::FailCheck(state, "CSV -> TSV -> CSV differs from the input");
    return;
  }
  for (auto _ : state) {
    FormatBatch(p.block.bytes.data(), p.batch, Dialect::Csv(), Dialect::Tsv(), out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * p.text.size()));
}
BENCHMARK(BM_FormatCsvToTsv);

}  // namespace
}  // namespace flowengine
