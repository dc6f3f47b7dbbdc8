// Helpers for end-to-end tests that drive the real `flowengine` binary.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <regex>
#include <string>
#include <vector>

#include "tests/test_util.h"

namespace flowengine::testing {

/// Checks the accounting of a successful run's summary on stderr:
/// rows read = written + routed + filtered + rejected.
inline void ExpectAccountingHolds(const std::string& err) {
  std::smatch m;
  static const std::regex re(
      "([0-9]+) rows read, ([0-9]+) rows written, ([0-9]+) routed, ([0-9]+) filtered, "
      "([0-9]+) rejected");
  if (!std::regex_search(err, m, re)) {
    ADD_FAILURE() << "no run summary in: " << err;
    return;
  }
  EXPECT_EQ(std::stoull(m[1]),
            std::stoull(m[2]) + std::stoull(m[3]) + std::stoull(m[4]) + std::stoull(m[5]))
      << err;
}

/// Runs build/flowengine with `args`; every successful `run` has its accounting checked.
/// Logs are text unless `env` sets FLOWENGINE_LOG_FORMAT (stderr is a pipe here, where the
/// default would be JSON lines).
inline ProcessResult Flowengine(const std::vector<std::string>& args, const std::string& cwd = "",
                                std::vector<std::string> env = {}) {
  std::vector<std::string> argv{FLOWENGINE_BIN};
  argv.insert(argv.end(), args.begin(), args.end());
  const bool format_given = std::any_of(env.begin(), env.end(), [](const std::string& e) {
    return e.rfind("FLOWENGINE_LOG_FORMAT=", 0) == 0;
  });
  if (!format_given) env.push_back("FLOWENGINE_LOG_FORMAT=text");
  ProcessResult result = RunProcess(argv, cwd, env);
  const bool help = std::find(args.begin(), args.end(), "--help") != args.end();
  if (!args.empty() && args[0] == "run" && result.exit_code == 0 && !help) {
    ExpectAccountingHolds(result.err);
  }
  return result;
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
