// Helpers for end-to-end tests that drive the real `flowengine` binary.
#pragma once

#include <string>
#include <vector>

#include "tests/test_util.h"

namespace flowengine::testing {

/// Runs build/flowengine with `args`.
inline ProcessResult Flowengine(const std::vector<std::string>& args, const std::string& cwd = "") {
  std::vector<std::string> argv{FLOWENGINE_BIN};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunProcess(argv, cwd);
}

/// Generates a customers file with build/flowengine-gen.
inline void Generate(const std::string& path, int rows, const std::string& format = "csv",
                     int seed = 42) {
  ProcessResult r = RunProcess({FLOWENGINE_GEN_BIN, "--rows", std::to_string(rows), "--format",
                                format, "--seed", std::to_string(seed), "--out", path});
  if (r.exit_code != 0) throw std::runtime_error("flowengine-gen failed: " + r.err);
}

/// Writes a minimal pipeline file.
inline std::string WritePipeline(const TempDir& dir, const std::string& name,
                                 const std::string& yaml) {
  const std::string path = dir.File(name);
  WriteFile(path, yaml);
  return path;
}

}  // namespace flowengine::testing
