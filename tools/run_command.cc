#include "tools/run_command.h"

#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>

#include "core/config/config_loader.h"
#include "core/engine/pipeline_runner.h"
#include "core/engine/row_sampler.h"
#include "core/engine/run_summary_json.h"
#include "core/graph/cpu_count.h"
#include "core/io/atomic_file.h"
#include "core/io/stop_flag.h"
#include "core/io/temp_registry.h"
#include "core/log/logger.h"
#include "core/metrics/metrics.h"
#include "core/metrics/trace.h"
#include "core/ops/metrics_endpoint.h"
#include "nodes/node_factory.h"
#include "tools/cli_common.h"
#include "tools/progress_line.h"

namespace flowengine::cli {
namespace {

volatile sig_atomic_t g_signal = 0;

void OnSignal(int sig) {
  if (g_signal != 0) {
    // Second signal: remove temp files and exit at once; targets were never touched.
    RemoveAllTempFilesFromSignalHandler();
    _exit(128 + sig);
  }
  g_signal = sig;
  ProcessStopFlag().store(true);
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
    "  --sample N                log the first N rows leaving the source and the transform\n"
    "  --sample-dir DIR          with --sample: write them to DIR/source.csv and\n"
    "                            DIR/transform.csv instead\n"
    "  -h, --help                show this help\n"
    "\n"
    "Environment: FLOWENGINE_LOG_LEVEL, FLOWENGINE_LOG_FORMAT (the options win).\n";

// Writes a report file (trace, metrics, summary) atomically like every sink; a failure is
// logged, not fatal: the run's outcome is already decided.
void WriteOrLog(const std::string& what, const std::string& path, const std::string& text) {
  if (path.empty()) return;
  try {
    WriteFileAtomically(path, text);
    Log(LogLevel::kDebug, LogCategory::kEngine, what + " written to " + path);
  } catch (const ErrorException& e) {
    LogError(e.error());
  }
}

std::string Fixed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.*f", decimals, v);
  return buf;
}

// The end-of-run lines: the outcome with the accounting, rejects by code, the reader's
// waits for memory, and the busy time of each stage.
void LogSummary(const PipelineSpec& spec, const RunSummary& s, const Metrics& m) {
  const double secs = s.seconds > 0 ? s.seconds : 1e-9;
  const auto u = [](uint64_t v) { return std::to_string(v); };
  Log(LogLevel::kInfo, LogCategory::kEngine,
      "run '" + spec.name + "' ok: " + u(s.rows_read) + " rows read, " + u(s.rows_written) +
          " rows written, " + u(s.rows_routed) + " routed, " + u(s.rows_filtered) + " filtered, " +
          u(s.rows_rejected) + " rejected, " + u(s.row_copies) + " copies in " +
          Fixed(s.seconds, 3) + " s (" + Fixed(static_cast<double>(s.rows_read) / secs, 0) +
          " rows/s, " + Fixed(static_cast<double>(s.bytes_read) / secs / 1e6, 0) + " MB/s, " +
          std::to_string(s.threads) + " threads; graph " + Fixed(s.graph_seconds, 3) +
          " s, commit " + Fixed(s.commit_seconds, 3) + " s; memory peak " +
          Fixed(static_cast<double>(s.memory_peak) / (1 << 20), 1) + " MiB of " +
          Fixed(static_cast<double>(s.memory_budget) / (1 << 20), 0) + " MiB, " +
          std::to_string(s.tokens) + " blocks in flight)",
      {LogField::Num("rows_read", static_cast<int64_t>(s.rows_read)),
       LogField::Num("rows_written", static_cast<int64_t>(s.rows_written)),
       LogField::Num("rows_routed", static_cast<int64_t>(s.rows_routed)),
       LogField::Num("rows_filtered", static_cast<int64_t>(s.rows_filtered)),
       LogField::Num("rows_rejected", static_cast<int64_t>(s.rows_rejected)),
       LogField::Num("bytes_read", static_cast<int64_t>(s.bytes_read)),
       LogField{"seconds", Fixed(s.seconds, 3), true}});
  if (s.rows_rejected > 0) {
    std::string codes;
    for (const auto& [code, count] : s.rejects_by_code) {
      codes += (codes.empty() ? "" : ", ") + code + " " + std::to_string(count);
    }
    Log(LogLevel::kInfo, LogCategory::kEngine,
        "rejected rows by code: " + codes + " (in " + spec.dead_letter.path + ")",
        {LogField::Str("dead_letter", spec.dead_letter.path)});
  }
  if (!spec.transforms.empty()) {
    Log(LogLevel::kInfo, LogCategory::kTransform,
        "script memory peak " + Fixed(static_cast<double>(s.script_memory_peak) / (1 << 20), 1) +
            " MiB in one isolate (V8 heap + ArrayBuffers) of limits.scriptHeap " +
            Fixed(static_cast<double>(spec.limits.script_heap) / (1 << 20), 0) + " MiB",
        {LogField::Num("script_memory_peak_bytes", s.script_memory_peak)});
  }
  if (s.reader_waits > 0) {
    Log(LogLevel::kInfo, LogCategory::kSource,
        "the reader waited for memory " + std::to_string(s.reader_waits) + " times (" +
            Fixed(s.reader_wait_seconds, 3) + " s in total): limits.memory allows " +
            std::to_string(s.tokens) + " blocks in flight",
        {LogField::Num("reader_waits", static_cast<int64_t>(s.reader_waits)),
         LogField{"reader_wait_seconds", Fixed(s.reader_wait_seconds, 3), true}});
  }
  const StageSeconds& b = s.busy;
  const auto blocks_of = [&](Stage st) {
    return std::to_string(m.blocks[static_cast<size_t>(st)].Value()) + " blocks";
  };
  Log(LogLevel::kInfo, LogCategory::kEngine,
      "busy time per stage (summed over threads): read " + Fixed(b.read, 3) + " s, parse " +
          Fixed(b.parse, 3) + " s, transform " + Fixed(b.transform, 3) + " s, format " +
          Fixed(b.format, 3) + " s, write " + Fixed(b.write, 3) + " s",
      {LogField{"read_seconds", Fixed(b.read, 3), true},
       LogField{"parse_seconds", Fixed(b.parse, 3), true},
       LogField{"transform_seconds", Fixed(b.transform, 3), true},
       LogField{"format_seconds", Fixed(b.format, 3), true},
       LogField{"write_seconds", Fixed(b.write, 3), true}});
  // Rows in and out of each stage, and its rate per busy second (one thread's worth).
  const auto stage = [&](const char* name, const RunSummary::StageRows& rows, double busy) {
    return std::string(name) + " " + std::to_string(rows.in) + " in, " + std::to_string(rows.out) +
           " out" +
           (busy > 0 ? " (" + Fixed(static_cast<double>(rows.in) / busy, 0) + " rows/s busy)"
                     : std::string());
  };
  Log(LogLevel::kInfo, LogCategory::kEngine,
      "rows per stage: " + stage("parse", s.parse_rows, b.parse) +
          (spec.transforms.empty() ? std::string()
                                   : "; " + stage("transform", s.transform_rows, b.transform)) +
          "; " + stage("write", s.write_rows, b.write),
      {LogField::Num("parse_rows_in", static_cast<int64_t>(s.parse_rows.in)),
       LogField::Num("parse_rows_out", static_cast<int64_t>(s.parse_rows.out)),
       LogField::Num("transform_rows_in", static_cast<int64_t>(s.transform_rows.in)),
       LogField::Num("transform_rows_out", static_cast<int64_t>(s.transform_rows.out)),
       LogField::Num("write_rows_in", static_cast<int64_t>(s.write_rows.in)),
       LogField::Num("write_rows_out", static_cast<int64_t>(s.write_rows.out))});
  Log(LogLevel::kDebug, LogCategory::kEngine,
      "blocks per stage: read " + blocks_of(Stage::kRead) + ", parse " + blocks_of(Stage::kParse) +
          ", transform " + blocks_of(Stage::kTransform) + ", format " + blocks_of(Stage::kFormat) +
          ", write " + blocks_of(Stage::kWrite));
}

}  // namespace

int RunCommand(const std::vector<std::string>& args) {
  PipelineArgs pa;
  const std::string problem = ParsePipelineArgs(args, pa, Accept::kRun);
  if (!problem.empty()) return UsageError(problem, kRunHelp);
  if (pa.help) {
    std::cout << kRunHelp;
    return kExitOk;
  }
  PipelineSpec spec;
  try {
    spec = LoadPipelineSpec(pa.path, pa.overrides);
  } catch (const ErrorException& e) {
    LogError(e.error());
    return ExitCodeFor(e.error());
  }
  if (!pa.sample_dir.empty() && !std::filesystem::is_directory(pa.sample_dir)) {
    return UsageError("--sample-dir '" + pa.sample_dir + "' is not a directory", kRunHelp);
  }
  const int cpus = AvailableCpus();
  if (spec.limits.threads > cpus) {
    Log(LogLevel::kWarn, LogCategory::kConfig,
        "limits.threads is " + std::to_string(spec.limits.threads) + " but this process may use " +
            std::to_string(cpus) + " CPUs (affinity / cgroup quota); threads will share them");
  }
  InstallSignalHandlers();

  Metrics metrics;
  std::unique_ptr<MetricsEndpoint> endpoint;
  if (!pa.listen.empty()) {
    try {
      endpoint = StartMetricsEndpoint(metrics, pa.listen);
    } catch (const ErrorException& e) {
      LogError(e.error());
      return ExitCodeFor(e.error());
    }
    const std::string address = endpoint->host() + ":" + std::to_string(endpoint->port());
    Log(LogLevel::kInfo, LogCategory::kEngine,
        "serving /metrics, /healthz and /readyz on http://" + address,
        {LogField::Str("listen", address), LogField::Num("port", endpoint->port())});
  }
  std::unique_ptr<TraceRecorder> trace;
  if (!pa.trace_file.empty()) trace = std::make_unique<TraceRecorder>();
  std::unique_ptr<RowSampler> sampler;
  if (pa.sample > 0) {
    sampler = std::make_unique<RowSampler>(static_cast<size_t>(pa.sample), pa.sample_dir);
  }

  RunOptions options;
  // The report files are outputs too: none of them may be an input or another output.
  const auto report = [&](const std::string& key, const std::string& path) {
    if (path.empty()) return;
    Location where;
    where.file = key + " " + path;
    options.report_files.push_back(PathUse{key, path, true, where, false});
  };
  report("--summary", pa.summary_file);
  report("--trace", pa.trace_file);
  report("--metrics-file", pa.metrics_file);
  if (!pa.sample_dir.empty()) {
    report("--sample-dir", pa.sample_dir + "/source.csv");
    if (!spec.transforms.empty()) report("--sample-dir", pa.sample_dir + "/transform.csv");
  }
  options.stop = &ProcessStopFlag();
  options.metrics = &metrics;
  options.trace = trace.get();
  options.sampler = sampler.get();
  RunSummary s;
  {
    ProgressLine progress(metrics);
    s = RunPipeline(spec, DelimitedNodeFactory(), options);
  }

  // Report files are written only once they are known not to alias an input or output.
  if (!s.paths_checked) {
    if (!s.error) return kExitFailed;
    LogError(*s.error);
    return ExitCodeFor(*s.error);
  }
  if (sampler != nullptr) {
    try {
      sampler->Finish();
    } catch (const ErrorException& e) {
      LogError(e.error());
    }
  }
  if (trace != nullptr) {
    WriteOrLog("trace", pa.trace_file, trace->ToJson());
    Log(LogLevel::kInfo, LogCategory::kEngine,
        "trace: " + std::to_string(trace->event_count()) + " slices in " + pa.trace_file);
  }
  WriteOrLog("metrics", pa.metrics_file, metrics.RenderPrometheus());
  WriteOrLog("summary", pa.summary_file, RunSummaryToJson(spec, s));
  if (endpoint != nullptr) endpoint->Stop();

  // A signal after a successful commit does not undo it: report the success.
  if (s.stopped || (s.error && g_signal != 0)) {
    Log(LogLevel::kError, LogCategory::kEngine,
        "run '" + spec.name + "' interrupted by " +
            std::string(g_signal == SIGTERM ? "SIGTERM" : "SIGINT") + " after " +
            std::to_string(s.rows_written) + " rows; nothing was committed, targets are untouched");
    return 128 + (g_signal == 0 ? SIGINT : static_cast<int>(g_signal));
  }
  if (s.error && s.error->code == "FE-OUTPUT-CLOSED") {
    // `flowengine run p.yaml | head`: the reader has what it wanted. Not an error to shout
    // about, but not a success either: the exit status says so, as for any writer to a pipe.
    Log(LogLevel::kInfo, LogCategory::kEngine,
        "run '" + spec.name +
            "' stopped: standard output was closed by its reader (exit 141, as for SIGPIPE); " +
            "routes and dead letters were not committed");
    return 128 + SIGPIPE;
  }
  if (s.error) {
    LogError(*s.error);
    if (spec.sink.path == "-") {
      Log(LogLevel::kError, LogCategory::kEngine,
          "run '" + spec.name +
              "' failed; what was already streamed to standard output is incomplete; no file "
              "was committed");
      return ExitCodeFor(*s.error);
    }
    Log(LogLevel::kError, LogCategory::kEngine,
        "run '" + spec.name + "' failed; " +
            (s.targets_replaced == 0
                 ? std::string("nothing was committed, the targets are untouched")
                 : std::to_string(s.targets_replaced) +
                       (s.targets_replaced == 1 ? " target was" : " targets were") +
                       " replaced before the failure (named above)"));
    return ExitCodeFor(*s.error);
  }
  LogSummary(spec, s, metrics);
  return kExitOk;
}

}  // namespace flowengine::cli
