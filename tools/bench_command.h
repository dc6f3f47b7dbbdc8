// `flowengine bench PIPELINE.yaml`: benchmarks the user's own pipeline. Every run is a child
// `flowengine run` process with every output (sink, routes, dead letters) redirected into a
// scratch directory that is removed afterwards, so the real targets are never touched; the
// figures (wall, CPU, rows/s, MB/s, peak RSS, busy time and rows per stage) are summarized
// with their median and spread, checked against a variance budget and optionally compared
// with a baseline (docs/operations.md, "flowengine bench"). Runs on the calling thread.
#pragma once

#include <string>
#include <vector>

namespace flowengine::cli {

/// Runs the command; returns the process exit code.
int BenchCommand(const std::vector<std::string>& args);

}  // namespace flowengine::cli
