// Shared by the flowengine commands: exit codes, error output through the logger, and the
// parsing of "PIPELINE.yaml [options]" command lines.
#pragma once

#include <string>
#include <vector>

#include "core/error/error.h"
#include "flowengine/flowengine.h"

namespace flowengine::cli {

constexpr int kExitOk = 0;
constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;

/// Invalid configuration (including a script that does not compile) is 2; a failed run, 1.
int ExitCodeFor(const Error& e);
int ExitCodeFor(const ErrorInfo& e);
/// An error of the public API as the logger's Error (same code, class, place and hint).
Error ToError(const ErrorInfo& e);

/// Logs a usage error; on a text log also prints `help`. Returns kExitUsage.
int UsageError(const std::string& message, const char* help);

/// What a pipeline command's options say.
/// The most rows `run --sample` keeps (they are held in memory until the run ends).
inline constexpr long long kMaxSampleRows = 10000;

struct PipelineArgs {
  std::string path;
  std::vector<std::string> overrides;
  std::string log_level;     // --log-level debug|info|warn|error
  std::string log_format;    // --log-format text|json
  std::string format;        // inspect --format text|dot
  std::string summary_file;  // run --summary FILE
  std::string listen;        // run --listen HOST:PORT
  std::string metrics_file;  // run --metrics-file PATH
  std::string trace_file;    // run --trace FILE
  long long sample = 0;      // run --sample N (1..kMaxSampleRows)
  std::string sample_dir;    // run --sample-dir DIR
  // bench
  int runs = 9;              // --runs N
  int warmup = 1;            // --warmup N
  double budget = 10.0;      // --budget PCT: the largest robust spread of wall times
  std::string json_file;     // --json FILE
  std::string compare_file;  // --compare BASELINE.json
  double threshold = 5.0;    // --threshold PCT: the largest drop of median rows/s
  bool help = false;
};

/// Which options a command accepts besides --set, --log-level, --log-format and --help.
enum class Accept { kBasic, kInspect, kRun, kBench };

/// Parses `args`; returns an error message or "". Configures the logger from --log-level /
/// --log-format, else FLOWENGINE_LOG_LEVEL / FLOWENGINE_LOG_FORMAT, else info and (text on
/// a terminal, JSON lines otherwise).
std::string ParsePipelineArgs(const std::vector<std::string>& args, PipelineArgs& out,
                              Accept accept);

/// Configures the logger from the environment only (commands without pipeline options);
/// with `warn`, invalid values are logged (once the format is known).
void ConfigureLoggingFromEnvironment(bool warn);

}  // namespace flowengine::cli
