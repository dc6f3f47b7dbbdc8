// flowengine: the command-line tool. Parses the command line, loads the pipeline and hands
// it to the engine; prints errors and the run summary on stderr. No engine logic here.
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "core/config/config_loader.h"
#include "core/config/suggest.h"
#include "core/csv/scan_kernel.h"
#include "core/engine/pipeline_inspect.h"
#include "core/engine/pipeline_runner.h"
#include "core/engine/run_summary_json.h"
#include "core/error/error.h"
#include "core/error/error_codes.h"
#include "core/io/stop_flag.h"
#include "core/io/temp_registry.h"
#include "nodes/node_factory.h"

#ifndef FLOWENGINE_VERSION
#define FLOWENGINE_VERSION "0.0.0"
#endif

namespace {

using flowengine::Error;
using flowengine::ErrorClass;

constexpr int kExitOk = 0;
constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;

volatile sig_atomic_t g_signal = 0;

void OnSignal(int sig) {
  if (g_signal != 0) {
    // Second signal: remove temp files and exit at once; targets were never touched.
    flowengine::RemoveAllTempFilesFromSignalHandler();
    _exit(128 + sig);
  }
  g_signal = sig;
  flowengine::ProcessStopFlag().store(true);
}

void InstallSignalHandlers() {
  struct sigaction sa {};
  sa.sa_handler = OnSignal;
  sa.sa_flags = SA_RESTART;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

constexpr const char* kMainHelp =
    "Usage: flowengine <command> [options]\n"
    "\n"
    "Commands:\n"
    "  run PIPELINE.yaml [--set key.path=value]...       run a pipeline\n"
    "  validate PIPELINE.yaml [--set key.path=value]...  check a pipeline without running it\n"
    "  inspect PIPELINE.yaml [--format text|dot]         show the compiled pipeline\n"
    "  explain CODE                                      describe an error code (FE-...)\n"
    "  version                                           print the version\n"
    "\n"
    "Run 'flowengine <command> --help' for details. Exit codes: 0 success, 1 run failed,\n"
    "2 invalid configuration or usage, 130/143 interrupted by SIGINT/SIGTERM.\n";

constexpr const char* kRunHelp =
    "Usage: flowengine run PIPELINE.yaml [--set key.path=value]...\n"
    "\n"
    "Runs the pipeline: reads the source, writes the sink atomically (a temp file renamed\n"
    "over the target only after a successful run). Prints a summary on stderr.\n"
    "\n"
    "Options:\n"
    "  --set key.path=value  override a scalar of the pipeline file, e.g.\n"
    "                        --set source.path=in.csv --set limits.threads=1\n"
    "                        (relative paths given here resolve against the current directory)\n"
    "  --summary FILE        also write the run summary as JSON to FILE\n"
    "  -h, --help            show this help\n";

constexpr const char* kValidateHelp =
    "Usage: flowengine validate PIPELINE.yaml [--set key.path=value]...\n"
    "\n"
    "Checks the pipeline file, the source header against the declared columns, and the sink's\n"
    "directory and output mode, without writing anything. Exit 0 when valid, 2 otherwise.\n"
    "\n"
    "Options:\n"
    "  --set key.path=value  override a scalar of the pipeline file\n"
    "  -h, --help            show this help\n";

constexpr const char* kVersionHelp = "Usage: flowengine version\n\nPrints the version.\n";

// Invalid configuration (including a script that does not compile) is 2; a failed run, 1.
int ExitCodeFor(const Error& e) {
  const bool invalid = e.error_class == ErrorClass::kConfig || e.code == "FE-SCRIPT-SYNTAX" ||
                       e.code == "FE-SCRIPT-NO-PROCESS";
  return invalid ? kExitUsage : kExitFailed;
}

void PrintError(const Error& e) { std::cerr << "flowengine: " << e.ToString() << "\n"; }

int UsageError(const std::string& message, const char* help) {
  PrintError(flowengine::MakeError("FE-USAGE", message, {}, "cli"));
  std::cerr << "\n" << help;
  return kExitUsage;
}

struct PipelineArgs {
  std::string path;
  std::vector<std::string> overrides;
  std::string summary_file;  // run --summary FILE
  std::string format;        // inspect --format text|dot
  bool help = false;
};

// Parses "PIPELINE.yaml [--set k=v]... [--help]"; returns an error message or "".
std::string ParsePipelineArgs(const std::vector<std::string>& args, PipelineArgs& out,
                              bool allow_summary = false, bool allow_format = false) {
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "-h" || a == "--help") {
      out.help = true;
    } else if (a == "--set") {
      if (i + 1 >= args.size()) return "--set needs a value: --set key.path=value";
      out.overrides.push_back(args[++i]);
    } else if (a.rfind("--set=", 0) == 0) {
      out.overrides.push_back(a.substr(6));
    } else if (a == "--format" && allow_format) {
      if (i + 1 >= args.size()) return "--format needs a value: text or dot";
      out.format = args[++i];
      if (out.format != "text" && out.format != "dot") {
        return "Unknown --format '" + out.format + "' (text or dot)";
      }
    } else if (a == "--summary" && allow_summary) {
      if (i + 1 >= args.size()) return "--summary needs a file: --summary summary.json";
      out.summary_file = args[++i];
    } else if (!a.empty() && a[0] == '-') {
      return "Unknown option '" + a + "'";
    } else if (out.path.empty()) {
      out.path = a;
    } else {
      return "Unexpected argument '" + a + "' (only one pipeline file is allowed)";
    }
  }
  if (!out.help && out.path.empty()) return "Missing the pipeline file";
  return "";
}

std::string FormatRate(double value) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.0f", value);
  return buf;
}

int Run(const std::vector<std::string>& args) {
  PipelineArgs pa;
  std::string problem = ParsePipelineArgs(args, pa, /*allow_summary=*/true);
  if (!problem.empty()) return UsageError(problem, kRunHelp);
  if (pa.help) {
    std::cout << kRunHelp;
    return kExitOk;
  }
  flowengine::PipelineSpec spec;
  try {
    spec = flowengine::LoadPipelineSpec(pa.path, pa.overrides);
  } catch (const flowengine::ErrorException& e) {
    PrintError(e.error());
    return ExitCodeFor(e.error());
  }
  InstallSignalHandlers();
  flowengine::RunOptions options;
  options.stop = &flowengine::ProcessStopFlag();
  flowengine::RunSummary s =
      flowengine::RunPipeline(spec, flowengine::DelimitedNodeFactory(), options);
  if (!pa.summary_file.empty()) {
    std::ofstream out(pa.summary_file, std::ios::binary | std::ios::trunc);
    out << flowengine::RunSummaryToJson(spec, s);
    if (!out) std::cerr << "flowengine: cannot write the summary to '" << pa.summary_file << "'\n";
  }
  // A signal after a successful commit does not undo it: report the success.
  if (s.stopped || (s.error && g_signal != 0)) {
    std::cerr << "flowengine: run '" << spec.name << "' interrupted by "
              << (g_signal == SIGTERM ? "SIGTERM" : "SIGINT") << " after " << s.rows_written
              << " rows; nothing was committed, targets are untouched\n";
    return 128 + (g_signal == 0 ? SIGINT : static_cast<int>(g_signal));
  }
  if (s.error) {
    PrintError(*s.error);
    std::cerr << "flowengine: run '" << spec.name << "' failed; nothing was committed, "
              << "the target is untouched\n";
    return ExitCodeFor(*s.error);
  }
  const double secs = s.seconds > 0 ? s.seconds : 1e-9;
  char line[512];
  std::snprintf(line, sizeof(line),
                "flowengine: run '%s' ok: %llu rows read, %llu rows written, %llu routed, "
                "%llu filtered, %llu rejected, %llu copies in %.3f s "
                "(%s rows/s, %s MB/s, %d threads; graph %.3f s, commit %.3f s; memory peak "
                "%.1f MiB of %.0f MiB, %zu blocks in flight)\n",
                spec.name.c_str(), static_cast<unsigned long long>(s.rows_read),
                static_cast<unsigned long long>(s.rows_written),
                static_cast<unsigned long long>(s.rows_routed),
                static_cast<unsigned long long>(s.rows_filtered),
                static_cast<unsigned long long>(s.rows_rejected),
                static_cast<unsigned long long>(s.row_copies), s.seconds,
                FormatRate(static_cast<double>(s.rows_read) / secs).c_str(),
                FormatRate(static_cast<double>(s.bytes_read) / secs / 1e6).c_str(), s.threads,
                s.graph_seconds, s.commit_seconds, static_cast<double>(s.memory_peak) / (1 << 20),
                static_cast<double>(s.memory_budget) / (1 << 20), s.tokens);
  std::cerr << line;
  if (s.rows_rejected > 0) {
    std::string codes;
    for (const auto& [code, count] : s.rejects_by_code) {
      codes += (codes.empty() ? "" : ", ") + code + " " + std::to_string(count);
    }
    std::cerr << "flowengine: rejected rows by code: " << codes << " (in " << spec.dead_letter.path
              << ")\n";
  }
  const flowengine::StageSeconds& b = s.busy;
  std::snprintf(line, sizeof(line),
                "flowengine: busy time per stage (summed over threads): read %.3f s, parse "
                "%.3f s, transform %.3f s, format %.3f s, write %.3f s\n",
                b.read, b.parse, b.transform, b.format, b.write);
  std::cerr << line;
  return kExitOk;
}

int Validate(const std::vector<std::string>& args) {
  PipelineArgs pa;
  std::string problem = ParsePipelineArgs(args, pa);
  if (!problem.empty()) return UsageError(problem, kValidateHelp);
  if (pa.help) {
    std::cout << kValidateHelp;
    return kExitOk;
  }
  try {
    flowengine::PipelineSpec spec = flowengine::LoadPipelineSpec(pa.path, pa.overrides);
    flowengine::ValidatePipeline(spec, flowengine::DelimitedNodeFactory());
    std::cerr << "flowengine: pipeline '" << spec.name << "' is valid\n";
    return kExitOk;
  } catch (const flowengine::ErrorException& e) {
    PrintError(e.error());
    return kExitUsage;
  }
}

constexpr const char* kInspectHelp =
    "Usage: flowengine inspect PIPELINE.yaml [--format text|dot] [--set key.path=value]...\n"
    "\n"
    "Shows the compiled pipeline: stages and their concurrency, threads, blocks in flight,\n"
    "block size, the schema in and out of each stage, sinks and routes. Reads the source's\n"
    "header and compiles the script; writes nothing. --format dot prints Graphviz DOT.\n";

int Inspect(const std::vector<std::string>& args) {
  PipelineArgs pa;
  std::string problem = ParsePipelineArgs(args, pa, /*allow_summary=*/false, /*allow_format=*/true);
  if (!problem.empty()) return UsageError(problem, kInspectHelp);
  if (pa.help) {
    std::cout << kInspectHelp;
    return kExitOk;
  }
  try {
    flowengine::PipelineSpec spec = flowengine::LoadPipelineSpec(pa.path, pa.overrides);
    std::cout << flowengine::InspectPipeline(
        spec, flowengine::DelimitedNodeFactory(),
        pa.format == "dot" ? flowengine::InspectFormat::kDot : flowengine::InspectFormat::kText);
    return kExitOk;
  } catch (const flowengine::ErrorException& e) {
    PrintError(e.error());
    return kExitUsage;
  }
}

constexpr const char* kExplainHelp =
    "Usage: flowengine explain CODE\n\nDescribes an error code (e.g. FE-INPUT-FIELD-COUNT): "
    "what it means,\nits class, whether it is retried, and how to fix it.\n";

int Explain(const std::vector<std::string>& args) {
  if (!args.empty() && (args[0] == "-h" || args[0] == "--help")) {
    std::cout << kExplainHelp;
    return kExitOk;
  }
  if (args.size() != 1) return UsageError("explain needs one error code", kExplainHelp);
  const flowengine::ErrorCodeInfo* info = flowengine::FindErrorCode(args[0]);
  if (info == nullptr) {
    std::vector<std::string_view> codes;
    for (const auto& c : flowengine::AllErrorCodes()) codes.push_back(c.code);
    const std::string near = flowengine::SuggestClosest(args[0], codes);
    return UsageError("Unknown error code '" + args[0] + "'" +
                          (near.empty() ? "" : "; did you mean " + near + "?"),
                      kExplainHelp);
  }
  std::cout << info->code << " (class " << flowengine::ErrorClassName(info->error_class)
            << (info->retryable ? ", retryable" : ", not retryable") << ")\n  " << info->summary
            << "\n  How to fix: " << info->hint << "\n";
  return kExitOk;
}

int Version(const std::vector<std::string>& args) {
  if (!args.empty() && (args[0] == "-h" || args[0] == "--help")) {
    std::cout << kVersionHelp;
    return kExitOk;
  }
  if (!args.empty()) return UsageError("Unexpected argument '" + args[0] + "'", kVersionHelp);
  std::cout << "flowengine " << FLOWENGINE_VERSION << " (scan kernel "
            << flowengine::BestKernel().name << ")\n";
  return kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) return UsageError("Missing command", kMainHelp);
  const std::string command = args[0];
  args.erase(args.begin());
  try {
    if (command == "run") return Run(args);
    if (command == "validate") return Validate(args);
    if (command == "explain") return Explain(args);
    if (command == "inspect") return Inspect(args);
    if (command == "version" || command == "--version") return Version(args);
    if (command == "-h" || command == "--help" || command == "help") {
      std::cout << kMainHelp;
      return kExitOk;
    }
  } catch (const std::exception& e) {
    std::cerr << "flowengine: internal error: " << e.what() << "\n";
    return kExitFailed;
  }
  return UsageError("Unknown command '" + command + "'", kMainHelp);
}
