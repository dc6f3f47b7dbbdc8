#include "tools/serve_command.h"

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include "core/config/config_loader.h"
#include "core/error/error.h"
#include "core/log/logger.h"
#include "core/net/http_server.h"
#include "flowengine/flowengine.h"
#include "tools/cli_common.h"
#include "tools/serve_http.h"
#include "tools/serve_paths.h"
#include "tools/serve_runs.h"

namespace flowengine::cli {
namespace {
namespace fs = std::filesystem;

constexpr const char* kServeHelp =
    "Usage: flowengine serve --pipelines DIR --data-root DIR [options]\n"
    "\n"
    "Runs the pipelines of DIR (NAME.yaml) on request over HTTP, every run with the\n"
    "guarantees of `flowengine run` (docs/operations.md):\n"
    "  GET /pipelines, POST /runs {\"pipeline\": NAME, \"set\": {KEY: VALUE}}, GET /runs,\n"
    "  GET /runs/ID, DELETE /runs/ID (cancel), /metrics, /healthz, /readyz.\n"
    "Every file a run reads or writes must lie under a --data-root (after resolving links);\n"
    "relative paths in \"set\" resolve against the first one. SIGTERM or SIGINT drains: no\n"
    "new runs, queued runs cancelled, running runs given --drain-timeout, then cancelled;\n"
    "exit 0. A second signal cancels the running runs at once.\n"
    "\n"
    "Options:\n"
    "  --listen HOST:PORT     address to listen on (default 127.0.0.1:8080; port 0: any)\n"
    "  --pipelines DIR        the pipeline files (required)\n"
    "  --data-root DIR        a directory runs may read and write under (required; repeatable)\n"
    "  --max-runs N           runs at once (default 2); the others wait in the queue\n"
    "  --max-queue N          runs waiting at most (default 64); beyond that POST is 429\n"
    "  --memory SIZE          one budget for every run: a run reserves its limits.memory,\n"
    "                         plus limits.scriptHeap per thread with a JavaScript step, and\n"
    "                         starts when that fits (default 2GiB; 0: no service budget)\n"
    "  --threads N            threads shared by every run (default: all cores)\n"
    "  --warm-isolates N      idle V8 isolates kept for the next runs (default: 2 x threads)\n"
    "  --token-file FILE      require 'Authorization: Bearer TOKEN' (FILE holds TOKEN)\n"
    "  --drain-timeout SECS   how long running runs may finish on SIGTERM (default 30)\n"
    "  --log-level LEVEL      debug, info (default), warn or error\n"
    "  --log-format FORMAT    text (default on a terminal) or json\n"
    "  -h, --help             show this help\n";

struct ServeArgs {
  std::string listen = "127.0.0.1:8080";
  std::string pipelines;
  std::vector<std::string> data_roots;
  long long max_runs = 2;
  long long max_queue = 64;
  int64_t memory = 2ll << 30;
  long long threads = 0;
  long long warm_isolates = -1;
  std::string token_file;
  double drain_timeout = 30;
  std::string log_level = "info";
  std::string log_format;
  bool help = false;
};

bool ParseCount(const std::string& text, long long min, long long max, long long* out) {
  char* end = nullptr;
  errno = 0;
  const long long v = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || errno != 0 || v < min || v > max) return false;
  *out = v;
  return true;
}

std::string ParseServeArgs(const std::vector<std::string>& args, ServeArgs& out) {
  for (size_t i = 0; i < args.size(); ++i) {
    std::string name = args[i];
    std::string value;
    bool has_value = false;
    if (name.rfind("--", 0) == 0 && name.find('=') != std::string::npos) {
      value = name.substr(name.find('=') + 1);
      name = name.substr(0, name.find('='));
      has_value = true;
    }
    if (name == "-h" || name == "--help") {
      out.help = true;
      continue;
    }
    if (!has_value) {
      if (i + 1 >= args.size()) return "Option '" + name + "' needs a value (see --help)";
      value = args[++i];
    }
    long long n = 0;
    if (name == "--listen") {
      out.listen = value;
    } else if (name == "--pipelines") {
      out.pipelines = value;
    } else if (name == "--data-root") {
      out.data_roots.push_back(value);
    } else if (name == "--max-runs") {
      if (!ParseCount(value, 1, 1024, &out.max_runs)) return "--max-runs takes 1 to 1024";
    } else if (name == "--max-queue") {
      if (!ParseCount(value, 0, 1000000, &out.max_queue)) return "--max-queue takes 0 to 1000000";
    } else if (name == "--memory") {
      out.memory = value == "0" ? 0 : ParseByteSize(value);
      if (out.memory < 0) return "--memory takes a size such as 4GiB or 512MiB, or 0";
    } else if (name == "--threads") {
      if (!ParseCount(value, 0, 1024, &out.threads)) return "--threads takes 0 to 1024";
    } else if (name == "--warm-isolates") {
      if (!ParseCount(value, 0, 1024, &out.warm_isolates)) {
        return "--warm-isolates takes 0 to 1024";
      }
    } else if (name == "--token-file") {
      out.token_file = value;
    } else if (name == "--drain-timeout") {
      if (!ParseCount(value, 0, 86400, &n)) return "--drain-timeout takes 0 to 86400 seconds";
      out.drain_timeout = static_cast<double>(n);
    } else if (name == "--log-level") {
      if (!ParseLogLevel(value)) return "--log-level takes debug, info, warn or error";
      out.log_level = value;
    } else if (name == "--log-format") {
      if (!ParseLogFormat(value)) return "--log-format takes text or json";
      out.log_format = value;
    } else {
      return "Unknown option '" + args[i] + "' (see --help)";
    }
  }
  if (out.help) return "";
  if (out.pipelines.empty()) return "--pipelines DIR is required: the pipeline files to serve";
  if (out.data_roots.empty()) {
    return "--data-root DIR is required: the directory runs may read and write under";
  }
  return "";
}

// A directory made canonical, or a usage problem.
std::string CanonicalDir(const std::string& dir, const char* option, fs::path* out) {
  std::error_code ec;
  fs::path p = fs::canonical(dir, ec);
  if (ec || !fs::is_directory(p, ec)) {
    return std::string(option) + " " + dir + " is not a directory" +
           (ec ? " (" + ec.message() + ")" : "");
  }
  *out = p;
  return "";
}

std::string ReadToken(const std::string& file, std::string* token) {
  std::ifstream in(file);
  if (!in) return "--token-file " + file + " cannot be read: " + std::strerror(errno);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string t = ss.str();
  while (!t.empty() && (t.back() == '\n' || t.back() == '\r' || t.back() == ' ')) t.pop_back();
  if (t.empty() || t.find_first_of(" \t\r\n") != std::string::npos) {
    return "--token-file " + file + " must hold one token (no spaces), and not be empty";
  }
  struct stat st {};
  if (stat(file.c_str(), &st) == 0 && (st.st_mode & 0077) != 0) {
    Log(LogLevel::kWarn, LogCategory::kConfig,
        "--token-file " + file + " can be read by other users; chmod 600 it");
  }
  *token = t;
  return "";
}

}  // namespace

int ServeCommand(const std::vector<std::string>& args) {
  ConfigureLoggingFromEnvironment(false);
  ServeArgs sa;
  if (const std::string problem = ParseServeArgs(args, sa); !problem.empty()) {
    return UsageError(problem, kServeHelp);
  }
  if (sa.help) {
    std::cout << kServeHelp;
    return kExitOk;
  }
  const std::string format = !sa.log_format.empty()
                                 ? sa.log_format
                                 : (CurrentLogFormat() == LogFormat::kText ? "text" : "json");
  ConfigureLogger(*ParseLogLevel(sa.log_level), *ParseLogFormat(format));

  serve::ServeConfig config;
  if (std::string p = CanonicalDir(sa.pipelines, "--pipelines", &config.pipelines_dir);
      !p.empty()) {
    return UsageError(p, kServeHelp);
  }
  for (const std::string& d : sa.data_roots) {
    fs::path root;
    if (std::string p = CanonicalDir(d, "--data-root", &root); !p.empty()) {
      return UsageError(p, kServeHelp);
    }
    config.data_roots.push_back(root);
  }
  if (!sa.token_file.empty()) {
    if (std::string p = ReadToken(sa.token_file, &config.token); !p.empty()) {
      return UsageError(p, kServeHelp);
    }
  }
  const int threads = sa.threads > 0 ? static_cast<int>(sa.threads)
                                     : static_cast<int>(std::thread::hardware_concurrency());
  config.threads = threads;
  config.memory = sa.memory;
  config.max_runs = static_cast<int>(sa.max_runs);
  config.max_queue = static_cast<size_t>(sa.max_queue);
  // Relative paths of a request's "set" resolve against the first data root.
  std::error_code ec;
  fs::current_path(config.data_roots.front(), ec);
  if (ec) {
    return UsageError(
        "Cannot enter --data-root " + config.data_roots.front().string() + ": " + ec.message(),
        kServeHelp);
  }

  // SIGTERM and SIGINT are taken by sigwait below: blocked here, before any thread starts,
  // so that every thread inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  EngineOptions eo;
  eo.log_level = sa.log_level;
  eo.log_format = format;
  eo.threads = threads;
  eo.warm_isolates =
      sa.warm_isolates >= 0 ? static_cast<int>(sa.warm_isolates) : 2 * std::max(1, threads);
  Engine engine(eo);
  serve::SchedulerOptions so;
  so.max_runs = config.max_runs;
  so.max_queue = config.max_queue;
  so.memory = config.memory;
  so.threads = threads;
  so.check_before_start = [&config](const Pipeline& pipeline) {
    return serve::CheckPipelineFiles(pipeline, config.data_roots, config.pipelines_dir);
  };
  serve::RunScheduler scheduler(engine, so);
  serve::ServeApi api(config, scheduler);

  std::unique_ptr<HttpServer> server;
  try {
    HttpServerOptions ho;
    ho.limits.max_body_bytes = 64 << 10;
    std::string address = sa.listen;
    // ":PORT" listens on every IPv4 address (an IPv6 address is given in brackets).
    if (address.rfind(':') == 0) address = "0.0.0.0" + address;
    server = HttpServer::Start(
        address, [&api](const HttpRequest& request) { return api.Handle(request); }, ho);
  } catch (const ErrorException& e) {
    LogError(e.error());
    scheduler.Drain(std::chrono::steady_clock::now());
    return kExitFailed;
  }
  const std::string url =
      "http://" +
      (server->host().find(':') != std::string::npos ? "[" + server->host() + "]"
                                                     : server->host()) +
      ":" + std::to_string(server->port());
  Log(LogLevel::kInfo, LogCategory::kEngine,
      "serving " + config.pipelines_dir.string() + " on " + url + " (" +
          std::to_string(config.max_runs) + " runs at once, " + std::to_string(threads) +
          " threads" + (config.token.empty() ? "" : ", bearer token required") + ")",
      {LogField::Str("url", url)});

  int sig = 0;
  sigwait(&signals, &sig);
  Log(LogLevel::kInfo, LogCategory::kEngine,
      std::string("received ") + (sig == SIGTERM ? "SIGTERM" : "SIGINT") +
          ": draining (no new runs; running runs have " +
          std::to_string(static_cast<long long>(sa.drain_timeout)) + " s)");
  // A second signal cancels the running runs at once.
  std::atomic<bool> drained{false};
  std::thread second([&] {
    const timespec tick{0, 100 * 1000 * 1000};
    while (!drained.load()) {
      if (sigtimedwait(&signals, nullptr, &tick) > 0) {
        Log(LogLevel::kWarn, LogCategory::kEngine, "second signal: cancelling the running runs");
        scheduler.CancelRunning();
      }
    }
  });
  scheduler.Drain(std::chrono::steady_clock::now() +
                  std::chrono::milliseconds(static_cast<int64_t>(sa.drain_timeout * 1000)));
  drained.store(true);
  second.join();
  server->Stop();
  const serve::SchedulerCounts c = scheduler.Counts();
  const auto count = [&](const char* s) {
    const auto it = c.finished.find(s);
    return it == c.finished.end() ? uint64_t{0} : it->second;
  };
  Log(LogLevel::kInfo, LogCategory::kEngine,
      "stopped: " + std::to_string(count("succeeded")) + " runs succeeded, " +
          std::to_string(count("failed")) + " failed, " + std::to_string(count("cancelled")) +
          " cancelled");
  return kExitOk;
}

}  // namespace flowengine::cli
