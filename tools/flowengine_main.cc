// flowengine: the command-line tool. Dispatches the commands; `run` is in run_command.cc.
// Diagnostics go through the logger (core/log); no engine logic here.
#include <csignal>
#include <iostream>
#include <string>
#include <vector>

#include "core/config/config_keys.h"
#include "core/config/config_loader.h"
#include "core/config/suggest.h"
#include "core/csv/scan_kernel.h"
#include "core/engine/pipeline_inspect.h"
#include "core/engine/pipeline_runner.h"
#include "core/error/error.h"
#include "core/error/error_codes.h"
#include "core/log/logger.h"
#include "nodes/node_factory.h"
#include "tools/bench_command.h"
#include "tools/cli_common.h"
#include "tools/run_command.h"
#include "tools/serve_command.h"

#ifndef FLOWENGINE_VERSION
#define FLOWENGINE_VERSION "0.0.0"
#endif

namespace {

using flowengine::cli::Accept;
using flowengine::cli::kExitFailed;
using flowengine::cli::kExitOk;
using flowengine::cli::kExitUsage;
using flowengine::cli::PipelineArgs;
using flowengine::cli::UsageError;

constexpr const char* kMainHelp =
    "Usage: flowengine <command> [options]\n"
    "\n"
    "Commands:\n"
    "  run PIPELINE.yaml [--set key.path=value]...       run a pipeline\n"
    "  validate PIPELINE.yaml [--set key.path=value]...  check a pipeline without running it\n"
    "  inspect PIPELINE.yaml [--format text|dot]         show the compiled pipeline\n"
    "  bench PIPELINE.yaml [--runs N] [--compare F]...   benchmark the pipeline (outputs in a\n"
    "                                                    scratch directory)\n"
    "  serve --pipelines DIR --data-root DIR [options]   run pipelines on request over HTTP\n"
    "  schema [--format json|markdown]                   print the configuration's JSON Schema\n"
    "  explain CODE                                      describe an error code (FE-...)\n"
    "  version                                           print the version\n"
    "\n"
    "Run 'flowengine <command> --help' for details. Exit codes: 0 success, 1 run failed,\n"
    "2 invalid configuration or usage, 130/143 interrupted by SIGINT/SIGTERM.\n";

constexpr const char* kValidateHelp =
    "Usage: flowengine validate PIPELINE.yaml [--set key.path=value]...\n"
    "\n"
    "Checks the pipeline file, the source header against the declared columns, and the sink's\n"
    "directory and output mode, without writing anything. Exit 0 when valid, 2 otherwise.\n"
    "\n"
    "Options:\n"
    "  --set key.path=value  override a scalar of the pipeline file\n"
    "  --log-level LEVEL     debug, info (default), warn or error\n"
    "  --log-format FORMAT   text (default on a terminal) or json\n"
    "  -h, --help            show this help\n";

constexpr const char* kVersionHelp = "Usage: flowengine version\n\nPrints the version.\n";

int Validate(const std::vector<std::string>& args) {
  PipelineArgs pa;
  std::string problem = ParsePipelineArgs(args, pa, Accept::kBasic);
  if (!problem.empty()) return UsageError(problem, kValidateHelp);
  if (pa.help) {
    std::cout << kValidateHelp;
    return kExitOk;
  }
  try {
    const flowengine::Pipeline pipeline = flowengine::Pipeline::FromFile(pa.path, pa.overrides);
    pipeline.Validate();
    flowengine::Log(flowengine::LogLevel::kInfo, flowengine::LogCategory::kConfig,
                    "pipeline '" + pipeline.name() + "' is valid");
    return kExitOk;
  } catch (const flowengine::PipelineError& e) {
    flowengine::LogError(flowengine::cli::ToError(e.info()));
    return kExitUsage;
  }
}

constexpr const char* kInspectHelp =
    "Usage: flowengine inspect PIPELINE.yaml [--format text|dot] [--set key.path=value]...\n"
    "\n"
    "Shows the compiled pipeline: stages and their concurrency, threads, blocks in flight,\n"
    "block size, the memory plan, the schema in and out of each stage, sinks and routes.\n"
    "Reads the source's header and compiles the script; writes nothing.\n"
    "\n"
    "Options:\n"
    "  --format FORMAT       text (default) or dot (Graphviz)\n"
    "  --set key.path=value  override a scalar of the pipeline file\n"
    "  --log-level LEVEL     debug, info (default), warn or error\n"
    "  --log-format FORMAT   text (default on a terminal) or json\n"
    "  -h, --help            show this help\n";

int Inspect(const std::vector<std::string>& args) {
  PipelineArgs pa;
  std::string problem = ParsePipelineArgs(args, pa, Accept::kInspect);
  if (!problem.empty()) return UsageError(problem, kInspectHelp);
  if (pa.help) {
    std::cout << kInspectHelp;
    return kExitOk;
  }
  try {
    const flowengine::Pipeline pipeline = flowengine::Pipeline::FromFile(pa.path, pa.overrides);
    std::cout << pipeline.Inspect(pa.format == "dot");
    return kExitOk;
  } catch (const flowengine::PipelineError& e) {
    flowengine::LogError(flowengine::cli::ToError(e.info()));
    return kExitUsage;
  }
}

constexpr const char* kSchemaHelp =
    "Usage: flowengine schema [--format json|markdown]\n"
    "\n"
    "Prints every configuration key of a pipeline file: as JSON Schema (draft 2020-12, the\n"
    "default) for editors, UIs and validators, or as the Markdown table of docs/config.md.\n";

int Schema(const std::vector<std::string>& args) {
  std::string format = "json";
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "-h" || a == "--help") {
      std::cout << kSchemaHelp;
      return kExitOk;
    }
    if (a == "--format" && i + 1 < args.size()) {
      format = args[++i];
    } else if (a.rfind("--format=", 0) == 0) {
      format = a.substr(9);
    } else {
      return UsageError("Unexpected argument '" + a + "'", kSchemaHelp);
    }
  }
  if (format == "json") {
    std::cout << flowengine::ConfigJsonSchema();
  } else if (format == "markdown") {
    std::cout << flowengine::ConfigMarkdown();
  } else {
    return UsageError("Unknown --format '" + format + "' (json or markdown)", kSchemaHelp);
  }
  return kExitOk;
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
  // A closed pipe is an error from write() (EPIPE), handled where it happens (sink.path: -,
  // HTTP clients), never a signal that kills the process mid-commit.
  signal(SIGPIPE, SIG_IGN);
  std::vector<std::string> args(argv + 1, argv + argc);
  // Silent first: commands with pipeline options configure the logger again from them and
  // report invalid values once, in the format the user asked for.
  flowengine::cli::ConfigureLoggingFromEnvironment(/*warn=*/false);
  if (args.empty()) return UsageError("Missing command", kMainHelp);
  const std::string command = args[0];
  args.erase(args.begin());
  if (command != "run" && command != "validate" && command != "inspect" && command != "bench") {
    flowengine::cli::ConfigureLoggingFromEnvironment(/*warn=*/true);
  }
  try {
    if (command == "run") return flowengine::cli::RunCommand(args);
    if (command == "validate") return Validate(args);
    if (command == "explain") return Explain(args);
    if (command == "schema") return Schema(args);
    if (command == "inspect") return Inspect(args);
    if (command == "bench") return flowengine::cli::BenchCommand(args);
    if (command == "serve") return flowengine::cli::ServeCommand(args);
    if (command == "version" || command == "--version") return Version(args);
    if (command == "-h" || command == "--help" || command == "help") {
      std::cout << kMainHelp;
      return kExitOk;
    }
  } catch (const std::exception& e) {
    flowengine::LogError(flowengine::MakeError(
        "FE-INTERNAL", std::string("Unexpected exception: ") + e.what(), {}, "cli"));
    return kExitFailed;
  }
  return UsageError("Unknown command '" + command + "'", kMainHelp);
}
