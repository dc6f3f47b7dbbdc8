#include "tools/bench_command.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <sstream>
#include <string_view>

#include "core/config/config_loader.h"
#include "core/csv/scan_kernel.h"
#include "core/engine/pipeline_paths.h"
#include "core/engine/pipeline_runner.h"
#include "core/error/error.h"
#include "core/graph/cpu_count.h"
#include "core/io/atomic_file.h"
#include "core/io/file_identity.h"
#include "core/log/logger.h"
#include "core/metrics/bench_stats.h"
#include "nodes/node_factory.h"
#include "simdjson.h"
#include "tools/cli_common.h"

#ifndef FLOWENGINE_VERSION
#define FLOWENGINE_VERSION "0.0.0"
#endif

namespace flowengine::cli {
namespace {

constexpr const char* kBenchHelp =
    "Usage: flowengine bench PIPELINE.yaml [options]\n"
    "\n"
    "Benchmarks the pipeline: runs it --warmup + --runs times, each run a child\n"
    "'flowengine run' process with the sink, routes and dead letters written to a scratch\n"
    "directory (removed afterwards; the real targets are never touched). Reports the median,\n"
    "min, max, robust spread and CV of wall time, CPU time, rows/s, MB/s, peak RSS and busy\n"
    "time per row of each stage.\n"
    "\n"
    "Options:\n"
    "  --set key.path=value   override a scalar of the pipeline file\n"
    "  --runs N               measured runs (default 9)\n"
    "  --warmup N             runs before them that are not measured (default 1)\n"
    "  --budget PCT           largest robust spread of the wall times (default 10%);\n"
    "                         above it: FE-BENCH-NOISY, exit 1\n"
    "  --json FILE            write the whole result as JSON (a baseline for --compare)\n"
    "  --compare FILE         compare with a previous --json result\n"
    "  --threshold PCT        largest drop of the median rows/s against the baseline\n"
    "                         (default 5%); below it: FE-BENCH-REGRESSION, exit 1\n"
    "  --log-level LEVEL      debug, info (default), warn or error\n"
    "  --log-format FORMAT    text (default on a terminal) or json\n"
    "  -h, --help             show this help\n"
    "\n"
    "Exit codes: 0 within budget and threshold, 1 noisy, regressed or a run failed,\n"
    "2 invalid configuration or usage, 130/143 interrupted.\n";

constexpr std::array<const char*, 5> kStages = {"read", "parse", "transform", "format", "write"};
constexpr std::array<const char*, 3> kRowStages = {"parse", "transform", "write"};

volatile sig_atomic_t g_signal = 0;
volatile pid_t g_child = 0;

void OnSignal(int sig) {
  g_signal = sig;
  const pid_t child = g_child;
  if (child > 0) kill(child, sig);  // the child stops cleanly and removes its temp files
}

/// One measured run.
struct RunFigures {
  double wall = 0;  // seconds, fork to exit
  double cpu = 0;   // user + system seconds of the child
  int64_t max_rss = 0;
  int64_t rows = 0;
  int64_t bytes = 0;
  int threads = 0;
  std::map<std::string, double> busy;  // seconds per stage, summed over threads
  std::map<std::string, std::pair<int64_t, int64_t>> stage_rows;  // in, out
};

/// The scratch directory: removed when this goes out of scope.
class Scratch {
 public:
  Scratch() {
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern =
        std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/flowengine-bench-XXXXXX";
    if (mkdtemp(pattern.data()) != nullptr) path_ = pattern;
  }
  ~Scratch() {
    if (path_.empty()) return;
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

std::string Basename(const std::string& path) {
  return std::filesystem::path(path).filename().string();
}

std::string CpuModel() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) == 0) {
      const size_t colon = line.find(':');
      if (colon != std::string::npos) {
        std::string model = line.substr(colon + 1);
        model.erase(0, model.find_first_not_of(' '));
        return model;
      }
    }
  }
  return "unknown";
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string Num(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.*f", digits, v);
  return buf;
}

std::string Grouped(double v) {
  std::string digits = Num(v, 0);
  std::string out;
  const size_t start = digits[0] == '-' ? 1 : 0;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > start && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

/// Reads the child's --summary JSON into `f`; false when it is missing or malformed.
bool ReadSummary(const std::string& path, RunFigures& f) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.load(path).get(doc) != simdjson::SUCCESS) return false;
  int64_t rows = 0, bytes = 0, threads = 0;
  if (doc["rows"]["read"].get(rows) != simdjson::SUCCESS) return false;
  if (doc["bytes_read"].get(bytes) != simdjson::SUCCESS) return false;
  if (doc["threads"].get(threads) != simdjson::SUCCESS) return false;
  f.rows = rows;
  f.bytes = bytes;
  f.threads = static_cast<int>(threads);
  for (const char* stage : kStages) {
    double seconds = 0;
    if (doc["busy_seconds"][stage].get(seconds) != simdjson::SUCCESS) return false;
    f.busy[stage] = seconds;
  }
  for (const char* stage : kRowStages) {
    int64_t in = 0, out = 0;
    if (doc["stages"][stage]["rows_in"].get(in) == simdjson::SUCCESS &&
        doc["stages"][stage]["rows_out"].get(out) == simdjson::SUCCESS) {
      f.stage_rows[stage] = {in, out};
    }
  }
  return true;
}

struct ChildOutcome {
  int exit_code = 0;
  std::string log;
};

/// Runs `argv` as a child with stdin and stdout on /dev/null and stderr into `log_path`.
ChildOutcome RunChild(const std::vector<std::string>& argv, const std::string& log_path,
                      RunFigures& f) {
  std::vector<char*> cargv;
  for (const std::string& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);
  const int log_fd = open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  const int null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
  ChildOutcome outcome;
  if (log_fd < 0 || null_fd < 0) {
    if (log_fd >= 0) close(log_fd);
    if (null_fd >= 0) close(null_fd);
    outcome.exit_code = kExitFailed;
    outcome.log = "cannot open the scratch log file " + log_path;
    return outcome;
  }
  const auto start = std::chrono::steady_clock::now();
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid == 0) {
    // The run ends with the bench, even a bench killed with SIGKILL (its SIGTERM handler
    // then removes its temp files); a bench already gone before this line: end at once.
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != parent) _exit(127);
    dup2(null_fd, 0);
    dup2(null_fd, 1);
    dup2(log_fd, 2);
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    execv("/proc/self/exe", cargv.data());
    _exit(127);
  }
  close(log_fd);
  close(null_fd);
  if (pid < 0) {
    outcome.exit_code = kExitFailed;
    outcome.log = std::string("cannot start a run: ") + std::strerror(errno);
    return outcome;
  }
  g_child = pid;
  int status = 0;
  struct rusage usage {};
  while (wait4(pid, &status, 0, &usage) < 0 && errno == EINTR) {
  }
  g_child = 0;
  f.wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  f.cpu = static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
          static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
  f.max_rss = static_cast<int64_t>(usage.ru_maxrss) * 1024;
  outcome.exit_code = WIFEXITED(status)     ? WEXITSTATUS(status)
                      : WIFSIGNALED(status) ? 128 + WTERMSIG(status)
                                            : kExitFailed;
  if (outcome.exit_code != 0) outcome.log = ReadFile(log_path);
  return outcome;
}

/// The figures of all runs, by name, in a fixed order.
struct Figure {
  std::string name;  // JSON key
  std::string label;
  std::vector<double> values;
  int digits = 3;
  bool grouped = false;
  Spread spread;
};

std::vector<Figure> Figures(const std::vector<RunFigures>& runs) {
  const auto make = [](std::string name, std::string label, int digits, bool grouped = false) {
    Figure f;
    f.name = std::move(name);
    f.label = std::move(label);
    f.digits = digits;
    f.grouped = grouped;
    return f;
  };
  std::vector<Figure> out = {make("wall_seconds", "wall s", 3), make("cpu_seconds", "CPU s", 3),
                             make("rows_per_second", "rows/s", 0, true),
                             make("mb_per_second", "MB/s", 1),
                             make("peak_rss_mib", "peak RSS MiB", 1)};
  for (const char* stage : kStages) {
    out.push_back(
        make(std::string("busy_ns_per_row.") + stage, std::string("busy ns/row ") + stage, 0));
  }
  for (const RunFigures& r : runs) {
    const double rows = static_cast<double>(std::max<int64_t>(r.rows, 1));
    out[0].values.push_back(r.wall);
    out[1].values.push_back(r.cpu);
    out[2].values.push_back(static_cast<double>(r.rows) / r.wall);
    out[3].values.push_back(static_cast<double>(r.bytes) / r.wall / 1e6);
    out[4].values.push_back(static_cast<double>(r.max_rss) / (1 << 20));
    for (size_t s = 0; s < kStages.size(); ++s) {
      out[5 + s].values.push_back(r.busy.at(kStages[s]) / rows * 1e9);
    }
  }
  for (Figure& f : out) f.spread = Summarize(f.values);
  // rows/s and MB/s of the median run: rows / median wall, so that the two always agree
  // (the median of the per-run rates differs from it for an even number of runs).
  const Spread& wall = out[0].spread;
  for (size_t i : {size_t{2}, size_t{3}}) {
    const double amount = out[i].values.empty() ? 0 : out[i].values[0] * runs[0].wall;
    out[i].spread.median = wall.median > 0 ? amount / wall.median : 0;
    out[i].spread.min = wall.max > 0 ? amount / wall.max : 0;
    out[i].spread.max = wall.min > 0 ? amount / wall.min : 0;
  }
  return out;
}

struct Machine {
  std::string cpu_model;
  int cores = 0;
  std::string kernel;
  int threads = 0;
  std::string version;
};

std::string SpreadJson(const Spread& s) {
  return "{\"median\":" + Num(s.median, 6) + ",\"min\":" + Num(s.min, 6) +
         ",\"max\":" + Num(s.max, 6) + ",\"spread_percent\":" + Num(s.robust_spread_percent, 3) +
         ",\"cv_percent\":" + Num(s.cv_percent, 3) + "}";
}

std::string ResultJson(const std::string& pipeline, const std::string& file, const Machine& m,
                       const PipelineArgs& pa, const std::vector<RunFigures>& runs,
                       const std::vector<Figure>& figures, bool noisy,
                       const std::string& regression) {
  std::string out = "{\"flowengine_bench\":1";
  out += ",\"pipeline\":" + JsonQuote(pipeline);
  out += ",\"pipeline_file\":" + JsonQuote(file);
  out += ",\"version\":" + JsonQuote(m.version);
  out += ",\"machine\":{\"cpu_model\":" + JsonQuote(m.cpu_model) +
         ",\"cores\":" + std::to_string(m.cores) + ",\"kernel\":" + JsonQuote(m.kernel) +
         ",\"threads\":" + std::to_string(m.threads) + "}";
  out += ",\"mode\":\"child-process\"";
  out += ",\"runs\":" + std::to_string(pa.runs) + ",\"warmup\":" + std::to_string(pa.warmup);
  out +=
      ",\"budget_percent\":" + Num(pa.budget, 3) + ",\"threshold_percent\":" + Num(pa.threshold, 3);
  out += ",\"rows\":" + std::to_string(runs.front().rows) +
         ",\"input_bytes\":" + std::to_string(runs.front().bytes);
  out += ",\"figures\":{";
  std::string busy;
  bool first = true;
  for (const Figure& f : figures) {
    if (f.name.rfind("busy_ns_per_row.", 0) == 0) {
      busy += std::string(busy.empty() ? "" : ",") + JsonQuote(f.name.substr(16)) + ":" +
              SpreadJson(f.spread);
      continue;
    }
    out += std::string(first ? "" : ",") + JsonQuote(f.name) + ":" + SpreadJson(f.spread);
    first = false;
  }
  out += ",\"busy_ns_per_row\":{" + busy + "}}";
  out += ",\"per_run\":[";
  for (size_t i = 0; i < runs.size(); ++i) {
    const RunFigures& r = runs[i];
    out += std::string(i ? "," : "") + "{\"wall_seconds\":" + Num(r.wall, 6) +
           ",\"cpu_seconds\":" + Num(r.cpu, 6) +
           ",\"rows_per_second\":" + Num(static_cast<double>(r.rows) / r.wall, 1) +
           ",\"mb_per_second\":" + Num(static_cast<double>(r.bytes) / r.wall / 1e6, 3) +
           ",\"peak_rss_bytes\":" + std::to_string(r.max_rss) + ",\"busy_seconds\":{";
    for (size_t s = 0; s < kStages.size(); ++s) {
      out +=
          std::string(s ? "," : "") + JsonQuote(kStages[s]) + ":" + Num(r.busy.at(kStages[s]), 6);
    }
    out += "},\"stage_rows\":{";
    bool first_stage = true;
    for (const auto& [stage, io] : r.stage_rows) {
      out += std::string(first_stage ? "" : ",") + JsonQuote(stage) +
             ":{\"in\":" + std::to_string(io.first) + ",\"out\":" + std::to_string(io.second) + "}";
      first_stage = false;
    }
    out += "}}";
  }
  out += "],\"verdict\":{\"noisy\":" + std::string(noisy ? "true" : "false") +
         ",\"regression\":" + (regression.empty() ? "null" : JsonQuote(regression)) + "}}\n";
  return out;
}

/// What the baseline says, for --compare.
struct Baseline {
  double rows_per_second = 0;
  std::map<std::string, double> busy_ns;
  Machine machine;
};

std::optional<Baseline> ReadBaseline(const std::string& path, std::string* problem) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (auto error = parser.load(path).get(doc); error != simdjson::SUCCESS) {
    *problem = std::string(error == simdjson::IO_ERROR ? "cannot be read" : "is not JSON") + " (" +
               simdjson::error_message(error) + ")";
    return std::nullopt;
  }
  int64_t format = 0;
  Baseline b;
  std::string_view text;
  if (doc["flowengine_bench"].get(format) != simdjson::SUCCESS || format != 1 ||
      doc["figures"]["rows_per_second"]["median"].get(b.rows_per_second) != simdjson::SUCCESS) {
    *problem = "is not a flowengine bench result (no flowengine_bench: 1 and figures)";
    return std::nullopt;
  }
  for (const char* stage : kStages) {
    double v = 0;
    if (doc["figures"]["busy_ns_per_row"][stage]["median"].get(v) == simdjson::SUCCESS) {
      b.busy_ns[stage] = v;
    }
  }
  if (doc["version"].get(text) == simdjson::SUCCESS) b.machine.version = std::string(text);
  if (doc["machine"]["cpu_model"].get(text) == simdjson::SUCCESS) {
    b.machine.cpu_model = std::string(text);
  }
  if (doc["machine"]["kernel"].get(text) == simdjson::SUCCESS) b.machine.kernel = std::string(text);
  int64_t n = 0;
  if (doc["machine"]["cores"].get(n) == simdjson::SUCCESS) b.machine.cores = static_cast<int>(n);
  if (doc["machine"]["threads"].get(n) == simdjson::SUCCESS) {
    b.machine.threads = static_cast<int>(n);
  }
  return b;
}

void PrintTable(const std::string& pipeline, const PipelineArgs& pa, const Machine& m,
                const std::vector<Figure>& figures) {
  std::ostringstream t;
  t << "bench '" << pipeline << "': " << pa.runs << " runs after " << pa.warmup
    << " warm-up, each a child process; " << m.cpu_model << ", " << m.cores << " cores, "
    << m.kernel << " kernel, " << m.threads << " threads, flowengine " << m.version << "\n";
  char line[160];
  std::snprintf(line, sizeof(line), "  %-22s %14s %14s %14s %8s %8s\n", "figure", "median", "min",
                "max", "spread", "CV");
  t << line;
  for (const Figure& f : figures) {
    const auto show = [&](double v) { return f.grouped ? Grouped(v) : Num(v, f.digits); };
    std::snprintf(line, sizeof(line), "  %-22s %14s %14s %14s %7.1f%% %7.1f%%\n", f.label.c_str(),
                  show(f.spread.median).c_str(), show(f.spread.min).c_str(),
                  show(f.spread.max).c_str(), f.spread.robust_spread_percent, f.spread.cv_percent);
    t << line;
  }
  std::cerr << t.str() << std::flush;
}

}  // namespace

int BenchCommand(const std::vector<std::string>& args) {
  PipelineArgs pa;
  const std::string problem = ParsePipelineArgs(args, pa, Accept::kBench);
  if (!problem.empty()) return UsageError(problem, kBenchHelp);
  if (pa.help) {
    std::cout << kBenchHelp;
    return kExitOk;
  }
  PipelineSpec spec;
  try {
    spec = LoadPipelineSpec(pa.path, pa.overrides);
    if (spec.source.path == "-") {
      Location loc =
          spec.locations.count("source.path") ? spec.locations.at("source.path") : Location{};
      Error e = MakeError("FE-CONFIG-VALUE",
                          "bench reads the source once per run: standard input (source.path: "
                          "-) cannot be read again",
                          loc, "config");
      e.hint = "Give the source a file: --set source.path=sample.csv";
      throw ErrorException(std::move(e));
    }
    // The files of the bench itself: --json may be none of the pipeline's files (inputs or
    // real targets) nor the baseline it compares with.
    std::vector<PathUse> uses = PipelinePaths(spec);
    const auto option = [&](const std::string& key, const std::string& path, bool output) {
      if (path.empty()) return;
      Location where;
      where.file = key + " " + path;
      uses.push_back(PathUse{key, std::filesystem::absolute(path).string(), output, where, false});
    };
    option("--json", pa.json_file, true);
    option("--compare", pa.compare_file, false);
    CheckFileIdentity(uses);
    // Written at the end to the file it leads to now: a link planted or re-pointed during the
    // runs must not redirect it (WriteFileAtomically does not follow links).
    if (!pa.json_file.empty()) pa.json_file = ResolvePath(pa.json_file).real;
  } catch (const ErrorException& e) {
    LogError(e.error());
    return ExitCodeFor(e.error());
  }
  std::optional<Baseline> baseline;
  if (!pa.compare_file.empty()) {
    std::string why;
    baseline = ReadBaseline(pa.compare_file, &why);
    if (!baseline) {
      Location loc;
      loc.file = pa.compare_file;
      LogError(MakeError("FE-BENCH-BASELINE", "The --compare file " + why, loc, "bench"));
      return kExitUsage;
    }
  }
  Scratch scratch;
  if (scratch.path().empty()) {
    Error e = MakeError(
        "FE-OUTPUT-OPEN",
        std::string("Cannot create a scratch directory for the outputs: ") + std::strerror(errno),
        {}, "bench");
    e.hint = "Set TMPDIR to a writable directory.";
    LogError(e);
    return kExitFailed;
  }
  // Every output into the scratch directory, written as new files there.
  std::vector<std::string> overrides = pa.overrides;
  std::vector<std::string> outputs;
  const auto redirect = [&](const std::string& key, const std::string& prefix,
                            const std::string& target) {
    const std::string path = scratch.path() + "/" + prefix + Basename(target);
    overrides.push_back(key + ".path=" + path);
    overrides.push_back(key + ".outputMode=replace");
    outputs.push_back(path);
  };
  redirect("sink", "sink-", spec.sink.path);
  for (const RouteSpec& route : spec.routes) {
    redirect("routes." + route.name, "route-" + route.name + "-", route.sink.path);
  }
  if (!spec.dead_letter.path.empty()) {
    redirect("deadLetter", "dead-letters-", spec.dead_letter.path);
  }
  try {
    // The same checks as `run`, with the outputs moved: configuration errors exit 2 here,
    // before any run.
    const PipelineSpec moved = LoadPipelineSpec(pa.path, overrides);
    ValidatePipeline(moved, DelimitedNodeFactory());
  } catch (const ErrorException& e) {
    LogError(e.error());
    return ExitCodeFor(e.error());
  }

  struct sigaction sa {};
  sa.sa_handler = OnSignal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);

  const std::string summary_path = scratch.path() + "/summary.json";
  const std::string log_path = scratch.path() + "/run.log";
  std::vector<std::string> argv = {"flowengine", "run", pa.path};
  for (const std::string& o : overrides) argv.push_back("--set=" + o);
  argv.insert(argv.end(), {"--summary", summary_path, "--log-level", "error", "--log-format",
                           CurrentLogFormat() == LogFormat::kJson ? "json" : "text"});
  const bool progress = CurrentLogFormat() == LogFormat::kText && isatty(2) == 1;
  std::vector<RunFigures> runs;
  const int total = pa.warmup + pa.runs;
  for (int i = 0; i < total; ++i) {
    if (progress) {
      std::cerr << "\r\033[Kbench: run " << (i + 1) << " of " << total
                << (i < pa.warmup ? " (warm-up)" : "") << std::flush;
    }
    for (const std::string& o : outputs) unlink(o.c_str());
    unlink(summary_path.c_str());
    sync();  // the previous run's writeback must not land in this run's time
    RunFigures f;
    const ChildOutcome outcome = RunChild(argv, log_path, f);
    if (progress) std::cerr << "\r\033[K" << std::flush;
    if (g_signal != 0) {
      Log(LogLevel::kError, LogCategory::kEngine,
          "bench interrupted by a signal; the scratch directory is removed");
      return 128 + g_signal;
    }
    if (outcome.exit_code != 0) {
      std::cerr << outcome.log;
      Log(LogLevel::kError, LogCategory::kEngine,
          "bench: run " + std::to_string(i + 1) + " of the pipeline failed (exit " +
              std::to_string(outcome.exit_code) + "); its log is above",
          {LogField::Num("exit_code", outcome.exit_code)});
      return outcome.exit_code;
    }
    if (!ReadSummary(summary_path, f)) {
      LogError(MakeError("FE-INTERNAL", "bench: a run left no readable summary", {}, "bench"));
      return kExitFailed;
    }
    if (i >= pa.warmup) runs.push_back(std::move(f));
  }

  Machine machine{CpuModel(), AvailableCpus(), std::string(BestKernel().name), runs.front().threads,
                  FLOWENGINE_VERSION};
  const std::vector<Figure> figures = Figures(runs);
  const Spread& wall = figures[0].spread;
  const bool noisy = wall.robust_spread_percent > pa.budget;
  std::string regression;
  std::optional<Error> regression_error;
  if (baseline) {
    std::vector<std::string> differences;
    const Machine& b = baseline->machine;
    if (b.cpu_model != machine.cpu_model) differences.push_back("CPU '" + b.cpu_model + "'");
    if (b.cores != machine.cores) differences.push_back(std::to_string(b.cores) + " cores");
    if (b.kernel != machine.kernel) differences.push_back(b.kernel + " kernel");
    if (b.threads != machine.threads) differences.push_back(std::to_string(b.threads) + " threads");
    if (b.version != machine.version) differences.push_back("flowengine " + b.version);
    if (!differences.empty()) {
      std::string list;
      for (const std::string& d : differences) list += (list.empty() ? "" : ", ") + d;
      Log(LogLevel::kWarn, LogCategory::kEngine,
          "the baseline " + pa.compare_file + " was measured elsewhere (" + list +
              "): the comparison below is between machines or versions, not only your change");
    }
    const double now = figures[2].spread.median;
    const double change = (now / baseline->rows_per_second - 1) * 100;
    if (now < baseline->rows_per_second * (1 - pa.threshold / 100)) {
      // The stage whose busy time per row grew most.
      std::string worst;
      double worst_growth = 0, worst_then = 0, worst_now = 0;
      for (size_t s = 0; s < kStages.size(); ++s) {
        const auto it = baseline->busy_ns.find(kStages[s]);
        if (it == baseline->busy_ns.end()) continue;
        const double then = it->second, current = figures[5 + s].spread.median;
        if (worst.empty() || current - then > worst_growth) {
          worst = kStages[s];
          worst_growth = current - then;
          worst_then = then;
          worst_now = current;
        }
      }
      regression = "median rows/s " + Grouped(now) + " is " + Num(-change, 1) +
                   "% below the baseline's " + Grouped(baseline->rows_per_second) + " (threshold " +
                   Num(pa.threshold, 1) + "%)";
      if (!worst.empty()) {
        regression += "; the stage whose busy time per row grew most: " + worst + " (" +
                      Num(worst_then, 0) + " -> " + Num(worst_now, 0) + " ns/row)";
      }
      Location loc;
      loc.file = pa.compare_file;
      regression_error = MakeError("FE-BENCH-REGRESSION", regression, loc, "bench");
    } else {
      Log(LogLevel::kInfo, LogCategory::kEngine,
          "compared with " + pa.compare_file + ": median rows/s " + Grouped(now) + " against " +
              Grouped(baseline->rows_per_second) + " (" + (change >= 0 ? "+" : "") +
              Num(change, 1) + "%, threshold " + Num(pa.threshold, 1) + "%)",
          {LogField::Real("change_percent", change, 2)});
    }
  }

  if (CurrentLogFormat() == LogFormat::kText) PrintTable(spec.name, pa, machine, figures);
  std::vector<LogField> fields = {
      LogField::Num("runs", pa.runs),
      LogField::Num("rows", runs.front().rows),
      LogField::Real("median_wall_seconds", wall.median, 6),
      LogField::Real("wall_spread_percent", wall.robust_spread_percent, 2),
      LogField::Real("median_rows_per_second", figures[2].spread.median, 0),
      LogField::Real("median_mb_per_second", figures[3].spread.median, 2),
      LogField::Real("median_peak_rss_mib", figures[4].spread.median, 1)};
  Log(LogLevel::kInfo, LogCategory::kEngine,
      "bench '" + spec.name + "': median " + Grouped(figures[2].spread.median) + " rows/s, " +
          Num(figures[3].spread.median, 1) + " MB/s, wall " + Num(wall.median, 3) + " s (spread " +
          Num(wall.robust_spread_percent, 1) + "%, budget " + Num(pa.budget, 1) + "%)",
      fields);
  if (!pa.json_file.empty()) {
    const std::string json =
        ResultJson(spec.name, spec.config_path, machine, pa, runs, figures, noisy, regression);
    try {
      WriteFileAtomically(pa.json_file, json);
    } catch (const ErrorException& e) {
      LogError(e.error());
      return kExitFailed;
    }
  }
  int code = kExitOk;
  if (noisy) {
    LogError(MakeError("FE-BENCH-NOISY",
                       "The wall times of the " + std::to_string(pa.runs) + " runs spread " +
                           Num(wall.robust_spread_percent, 1) + "% (robust spread), above the " +
                           Num(pa.budget, 1) +
                           "% budget: these figures cannot tell a change "
                           "from noise",
                       {}, "bench"));
    code = kExitFailed;
  }
  if (regression_error) {
    LogError(*regression_error);
    code = kExitFailed;
  }
  return code;
}

}  // namespace flowengine::cli
