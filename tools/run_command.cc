#include "tools/run_command.h"

#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>

#include "core/io/stop_flag.h"
#include "core/io/temp_registry.h"
#include "core/log/logger.h"
#include "flowengine/flowengine.h"
#include "tools/cli_common.h"
#include "tools/progress_line.h"

namespace flowengine::cli {
namespace {

volatile sig_atomic_t g_signal = 0;
CancellationToken* g_token = nullptr;  // the run's; never destroyed (a late signal finds it)

void OnSignal(int sig) {
  if (g_signal != 0) {
    // Second signal: remove temp files and exit at once; targets were never touched.
    RemoveAllTempFilesFromSignalHandler();
    _exit(128 + sig);
  }
  g_signal = sig;
  ProcessStopFlag().store(true);
  if (g_token != nullptr) g_token->CancelForSignal(sig);  // atomic stores: safe in a handler
}

void InstallSignalHandlers() {
  struct sigaction sa {};
  sa.sa_handler = OnSignal;
  sa.sa_flags = SA_RESTART;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

constexpr const char* kRunHelp =
    "Usage: flowengine run PIPELINE.yaml [options]\n"
    "\n"
    "Runs the pipeline: reads the source, writes the sink atomically (a temp file renamed\n"
    "over the target only after a successful run). Logs a summary on stderr.\n"
    "\n"
    "Options:\n"
    "  --set key.path=value      override a scalar of the pipeline file, e.g.\n"
    "                            --set source.path=in.csv --set limits.threads=1\n"
    "                            (relative paths given here resolve against the current "
    "directory)\n"
    "  --log-level LEVEL         debug, info (default), warn or error\n"
    "  --log-format FORMAT       text (default on a terminal) or json (JSON lines, default "
    "otherwise)\n"
    "  --summary FILE            write the run summary as JSON to FILE\n"
    "  --listen HOST:PORT        serve /metrics (Prometheus), /healthz and /readyz while the\n"
    "                            run lasts (port 0: any free port, logged)\n"
    "  --metrics-file PATH       write the final metrics to PATH (Prometheus textfile format)\n"
    "  --trace FILE              write a Chrome trace (one slice per block per stage; opens\n"
    "                            in Perfetto)\n"
    "  --sample N                log the first N rows (N <= 10000) leaving the source and\n"
    "                            the transform\n"
    "  --sample-dir DIR          with --sample: write them to DIR/source.csv and\n"
    "                            DIR/transform.csv instead\n"
    "  -h, --help                show this help\n"
    "\n"
    "Environment: FLOWENGINE_LOG_LEVEL, FLOWENGINE_LOG_FORMAT (the options win).\n";

}  // namespace

int RunCommand(const std::vector<std::string>& args) {
  PipelineArgs pa;
  const std::string problem = ParsePipelineArgs(args, pa, Accept::kRun);
  if (!problem.empty()) return UsageError(problem, kRunHelp);
  if (pa.help) {
    std::cout << kRunHelp;
    return kExitOk;
  }
  if (!pa.sample_dir.empty() && !std::filesystem::is_directory(pa.sample_dir)) {
    return UsageError("--sample-dir '" + pa.sample_dir + "' is not a directory", kRunHelp);
  }
  // Everything below goes through the public API (include/flowengine/flowengine.h), as an
  // embedding application would: the CLI adds the arguments, signals and exit codes.
  EngineOptions eo;
  eo.log_level = std::string(LogLevelName(CurrentLogLevel()));
  eo.log_format = CurrentLogFormat() == LogFormat::kText ? "text" : "json";
  eo.trusted_scripts = true;  // the pipeline's author runs their own scripts, with their rights
  Engine engine(eo);
  std::optional<Pipeline> pipeline;
  try {
    pipeline = Pipeline::FromFile(pa.path, pa.overrides);
  } catch (const PipelineError& e) {
    LogError(ToError(e.info()));
    return ExitCodeFor(e.info());
  }
  g_token = new CancellationToken();  // leaked on purpose: signal handlers may outlive the run
  InstallSignalHandlers();
  RunReports reports;
  reports.summary_file = pa.summary_file;
  reports.metrics_file = pa.metrics_file;
  reports.trace_file = pa.trace_file;
  reports.sample_rows = pa.sample > 0 ? static_cast<size_t>(pa.sample) : 0;
  reports.sample_dir = pa.sample_dir;
  reports.metrics_listen = pa.listen;
  ProgressLine progress;
  const RunResult r = engine.Run(*pipeline, g_token, &progress, reports);

  // A signal after a successful commit does not undo it: report the success. (The run's log
  // has named the signal.)
  if (!r.ok && g_signal != 0) return 128 + static_cast<int>(g_signal);
  if (r.ok) return kExitOk;
  // `flowengine run p.yaml | head`: the reader has what it wanted; the exit status says the
  // run did not finish, as for any writer to a closed pipe.
  if (r.error->code == "FE-OUTPUT-CLOSED") return 128 + SIGPIPE;
  return ExitCodeFor(*r.error);
}

}  // namespace flowengine::cli
