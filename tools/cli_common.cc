#include "tools/cli_common.h"

#include <unistd.h>

#include <cstdlib>
#include <iostream>

#include "core/api/api_errors.h"
#include "core/log/logger.h"

namespace flowengine::cli {
namespace {

std::string EnvOr(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::string(v) : fallback;
}

// Applies the level and format names, or the defaults for those that are empty or invalid.
// With `warn`, an invalid value from the environment is logged, naming the variable (invalid
// option values are usage errors, reported by the caller).
void Configure(const std::string& level_name, bool level_from_env, const std::string& format_name,
               bool format_from_env, bool warn) {
  const LogLevel level = ParseLogLevel(level_name).value_or(LogLevel::kInfo);
  const LogFormat format =
      ParseLogFormat(format_name)
          .value_or(isatty(STDERR_FILENO) ? LogFormat::kText : LogFormat::kJson);
  ConfigureLogger(level, format);
  if (!warn) return;
  if (level_from_env && !level_name.empty() && !ParseLogLevel(level_name)) {
    Log(LogLevel::kWarn, LogCategory::kConfig,
        "Ignoring FLOWENGINE_LOG_LEVEL='" + level_name + "' (debug, info, warn or error)");
  }
  if (format_from_env && !format_name.empty() && !ParseLogFormat(format_name)) {
    Log(LogLevel::kWarn, LogCategory::kConfig,
        "Ignoring FLOWENGINE_LOG_FORMAT='" + format_name + "' (text or json)");
  }
}

}  // namespace

int ExitCodeFor(const Error& e) {
  const bool invalid = e.error_class == ErrorClass::kConfig || e.code == "FE-SCRIPT-SYNTAX" ||
                       e.code == "FE-SCRIPT-NO-PROCESS";
  return invalid ? kExitUsage : kExitFailed;
}

int ExitCodeFor(const ErrorInfo& e) { return ExitCodeFor(ToError(e)); }

Error ToError(const ErrorInfo& info) { return FromErrorInfo(info); }

int UsageError(const std::string& message, const char* help) {
  LogError(MakeError("FE-USAGE", message, {}, "cli"));
  if (CurrentLogFormat() == LogFormat::kText) std::cerr << "\n" << help;
  return kExitUsage;
}

void ConfigureLoggingFromEnvironment(bool warn) {
  Configure(EnvOr("FLOWENGINE_LOG_LEVEL", ""), true, EnvOr("FLOWENGINE_LOG_FORMAT", ""), true,
            warn);
}

std::string ParsePipelineArgs(const std::vector<std::string>& args, PipelineArgs& out,
                              Accept accept) {
  std::string problem;
  const bool run = accept == Accept::kRun;
  // Every argument is looked at, even after a problem, so that --log-format and --log-level
  // shape how that problem is reported; the first problem is the one returned.
  std::string first_problem;
  for (size_t i = 0; i < args.size(); ++i) {
    if (first_problem.empty()) first_problem = problem;
    problem.clear();
    const std::string& a = args[i];
    // Options that take a value, as "--name value" or "--name=value".
    std::string name = a;
    std::string value;
    bool has_value = false;
    if (a.rfind("--", 0) == 0 && a.find('=') != std::string::npos) {
      name = a.substr(0, a.find('='));
      value = a.substr(a.find('=') + 1);
      has_value = true;
    }
    const auto take = [&](std::string& dst, const char* example) {
      if (!has_value) {
        if (i + 1 >= args.size()) {
          problem = name + " needs a value: " + example;
          return;
        }
        value = args[++i];
      }
      // An empty value (`--summary "$UNSET"`) would silently turn the option off.
      if (value.empty()) {
        problem = name + " needs a value, got an empty one: " + example;
        return;
      }
      dst = value;
    };
    if (a == "-h" || a == "--help") {
      out.help = true;
    } else if (name == "--set") {
      std::string v;
      take(v, "--set key.path=value");
      out.overrides.push_back(v);
    } else if (name == "--log-level") {
      take(out.log_level, "--log-level debug|info|warn|error");
      if (problem.empty() && !ParseLogLevel(out.log_level)) {
        problem = "Unknown --log-level '" + out.log_level + "' (debug, info, warn or error)";
      }
    } else if (name == "--log-format") {
      take(out.log_format, "--log-format text|json");
      if (problem.empty() && !ParseLogFormat(out.log_format)) {
        problem = "Unknown --log-format '" + out.log_format + "' (text or json)";
      }
    } else if (name == "--format" && accept == Accept::kInspect) {
      take(out.format, "--format text|dot");
      if (problem.empty() && out.format != "text" && out.format != "dot") {
        problem = "Unknown --format '" + out.format + "' (text or dot)";
      }
    } else if (name == "--summary" && run) {
      take(out.summary_file, "--summary summary.json");
    } else if (name == "--listen" && run) {
      take(out.listen, "--listen 127.0.0.1:9464");
    } else if (name == "--metrics-file" && run) {
      take(out.metrics_file, "--metrics-file /var/lib/node_exporter/flowengine.prom");
    } else if (name == "--trace" && run) {
      take(out.trace_file, "--trace trace.json");
    } else if (name == "--sample-dir" && run) {
      take(out.sample_dir, "--sample-dir samples/");
    } else if (name == "--sample" && run) {
      std::string n;
      take(n, "--sample 10");
      if (problem.empty()) {
        char* end = nullptr;
        out.sample = std::strtoll(n.c_str(), &end, 10);
        // The samples are kept in memory until the run ends: a debugging aid, bounded.
        if (n.empty() || *end != '\0' || out.sample < 1 || out.sample > kMaxSampleRows) {
          problem = "--sample needs a number of rows from 1 to " + std::to_string(kMaxSampleRows) +
                    ", got '" + n + "'";
        }
      }
    } else if ((name == "--runs" || name == "--warmup") && accept == Accept::kBench) {
      std::string n;
      take(n, name == "--runs" ? "--runs 9" : "--warmup 1");
      if (problem.empty()) {
        char* end = nullptr;
        const long long v = std::strtoll(n.c_str(), &end, 10);
        const long long least = name == "--runs" ? 1 : 0;
        if (n.empty() || *end != '\0' || v < least || v > 1000) {
          problem = name + " needs a whole number from " + std::to_string(least) +
                    " to 1000, got '" + n + "'";
        } else {
          (name == "--runs" ? out.runs : out.warmup) = static_cast<int>(v);
        }
      }
    } else if ((name == "--budget" || name == "--threshold") && accept == Accept::kBench) {
      std::string n;
      take(n, name == "--budget" ? "--budget 10%" : "--threshold 5%");
      if (problem.empty()) {
        std::string digits = n;
        if (!digits.empty() && digits.back() == '%') digits.pop_back();
        char* end = nullptr;
        const double v = std::strtod(digits.c_str(), &end);
        if (digits.empty() || *end != '\0' || !(v > 0) || v > 10000) {
          problem = name + " needs a percentage above 0 such as 10% (or 10), got '" + n + "'";
        } else {
          (name == "--budget" ? out.budget : out.threshold) = v;
        }
      }
    } else if (name == "--json" && accept == Accept::kBench) {
      take(out.json_file, "--json bench.json");
    } else if (name == "--compare" && accept == Accept::kBench) {
      take(out.compare_file, "--compare baseline.json");
    } else if (!a.empty() && a[0] == '-') {
      problem = "Unknown option '" + a + "'";
    } else if (out.path.empty()) {
      out.path = a;
    } else {
      problem = "Unexpected argument '" + a + "' (only one pipeline file is allowed)";
    }
  }
  if (first_problem.empty()) first_problem = problem;
  problem = first_problem;
  const bool level_from_env = out.log_level.empty() || !ParseLogLevel(out.log_level);
  const bool format_from_env = out.log_format.empty() || !ParseLogFormat(out.log_format);
  Configure(level_from_env ? EnvOr("FLOWENGINE_LOG_LEVEL", "") : out.log_level, level_from_env,
            format_from_env ? EnvOr("FLOWENGINE_LOG_FORMAT", "") : out.log_format, format_from_env,
            /*warn=*/true);
  if (!problem.empty()) return problem;
  if (!out.sample_dir.empty() && out.sample == 0) return "--sample-dir needs --sample N";
  if (!out.help && out.path.empty()) return "Missing the pipeline file";
  return "";
}

}  // namespace flowengine::cli
