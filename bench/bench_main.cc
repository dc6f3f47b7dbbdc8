// main() for the micro-benchmarks: like benchmark_main, but exits non-zero when any
// benchmark's own output check failed (so the smoke test in CI catches a wrong result).
#include <benchmark/benchmark.h>

#include "bench/bench_check.h"

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 2;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return flowengine::bench::CheckFailed() ? 1 : 0;
}
