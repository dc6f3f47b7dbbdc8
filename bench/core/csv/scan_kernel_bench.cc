// Scan kernels and the parse stage on the generated customers file, per instruction set.
// Each benchmark checks its result (record count, rows) before timing.
#include <benchmark/benchmark.h>

#include <cstring>
#include <stdexcept>
#include <string>

#include "bench/bench_check.h"
#include "bench/data/customers.h"
#include "core/csv/block_parser.h"
#include "core/csv/scan_kernel.h"

namespace flowengine {
namespace {

constexpr uint64_t kRows = 7000;  // ~1 MiB: one default block

// The records of a generated file (header removed) as a padded block.
const Block& CustomersBlock(char delimiter) {
  static Block blocks[2];
  Block& b = blocks[delimiter == ',' ? 0 : 1];
  if (b.bytes.empty()) {
    std::string text = bench::GenerateCustomers(kRows, delimiter, 42);
    text.erase(0, text.find('\n') + 1);
    b.bytes.Append(text.data(), text.size());
    b.bytes.ZeroTail();
  }
  return b;
}

Schema CustomersSchema() {
  Schema s;
  for (const char* name : {"id", "first_name", "last_name", "email", "city", "age", "amount",
                           "created_at", "active", "notes"}) {
    s.columns.push_back(ColumnSpec{name, ColumnType::kString, false});
  }
  s.columns[0].type = ColumnType::kInt64;
  s.columns[5].type = ColumnType::kInt32;
  s.columns[6].type = ColumnType::kFloat64;
  s.columns[8].type = ColumnType::kBool;
  return s;
}

void BM_FindBoundary(benchmark::State& state, const ScanKernel* kernel) {
  const Block& b = CustomersBlock(',');
  BoundaryResult check =
      kernel->find_boundary(b.bytes.data(), b.bytes.size(), ',', '"', '\0', true);
  BoundaryResult ref =
      ScalarKernel().find_boundary(b.bytes.data(), b.bytes.size(), ',', '"', '\0', true);
  if (check.line_count != ref.line_count || check.line_count < static_cast<int64_t>(kRows)) {
    bench::FailCheck(state, "find_boundary counts differ from the scalar kernel");
    return;
  }
  for (auto _ : state) {
    BoundaryResult r =
        kernel->find_boundary(b.bytes.data(), b.bytes.size() - 1, ',', '"', '\0', false);
    benchmark::DoNotOptimize(r);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * b.bytes.size()));
}

void BM_Parse(benchmark::State& state, const ScanKernel* kernel) {
  const Block& b = CustomersBlock(',');
  const Schema schema = CustomersSchema();
  BlockParserOptions options;
  options.dialect = Dialect::Csv();
  options.schema = &schema;
  options.kernel = kernel;
  RowBatch batch;
  auto error = ParseBlock(b, options, batch);
  if (error || batch.num_rows != kRows) {
    bench::FailCheck(state, "parse did not produce every row");
    return;
  }
  for (auto _ : state) {
    error = ParseBlock(b, options, batch);
    benchmark::DoNotOptimize(batch.num_rows);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * b.bytes.size()));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kRows));
}

void RegisterKernelBenchmarks() {
  for (const ScanKernel* k : AvailableKernels()) {
    benchmark::RegisterBenchmark((std::string("BM_FindBoundary/") + k->name).c_str(),
                                 BM_FindBoundary, k);
    benchmark::RegisterBenchmark((std::string("BM_Parse/") + k->name).c_str(), BM_Parse, k);
  }
}

const int kRegistered = (RegisterKernelBenchmarks(), 0);

}  // namespace
}  // namespace flowengine
