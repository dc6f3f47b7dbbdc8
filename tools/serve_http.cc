#include "tools/serve_http.h"

#include <dirent.h>
#include <simdjson.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <fstream>

#include "core/error/error.h"
#include "core/error/error_codes.h"
#include "core/log/logger.h"

namespace flowengine::serve {
namespace fs = std::filesystem;

namespace {

constexpr size_t kMaxJsonDepth = 16;
constexpr size_t kMaxOverrides = 256;

std::string ErrorBody(const ErrorInfo& e) {
  return "{\"error\":{\"code\":" + JsonQuote(e.code) + ",\"class\":" + JsonQuote(e.error_class) +
         ",\"message\":" + JsonQuote(e.message) + ",\"hint\":" + JsonQuote(e.hint) +
         ",\"file\":" + JsonQuote(e.file) + ",\"line\":" + std::to_string(e.line) +
         ",\"column\":" + std::to_string(e.column) + "}}\n";
}

HttpResponse Json(int status, std::string body) {
  HttpResponse r;
  r.status = status;
  r.content_type = "application/json";
  r.body = std::move(body);
  if (r.body.empty() || r.body.back() != '\n') r.body += '\n';
  return r;
}

// An error of flowengine serve: its code's class and hint (docs/errors.md), `message`.
HttpResponse Refuse(int status, const std::string& code, const std::string& message) {
  ErrorInfo e;
  e.code = code;
  e.message = message;
  if (const ErrorCodeInfo* info = FindErrorCode(code)) {
    e.error_class = std::string(ErrorClassName(info->error_class));
    e.hint = info->hint;
  }
  return Json(status, ErrorBody(e));
}

// Compares without stopping at the first difference (the token's bytes do not leak through
// the answer's timing).
bool SameSecret(std::string_view a, std::string_view b) {
  unsigned diff = a.size() == b.size() ? 0u : 1u;
  for (size_t i = 0; i < a.size(); ++i) {
    diff |= static_cast<unsigned>(static_cast<unsigned char>(a[i]) ^
                                  static_cast<unsigned char>(b.empty() ? 0 : b[i % b.size()]));
  }
  return diff == 0;
}

// A pipeline name: the file NAME.yaml of --pipelines DIR, nothing that could leave it.
bool ValidPipelineName(const std::string& name) {
  if (name.empty() || name.size() > 200 || name.front() == '.') return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.';
  });
}

std::string ReadProcStatus(const char* key) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(key, 0) == 0) {
      std::string v = line.substr(std::string(key).size());
      v.erase(0, v.find_first_not_of(" \t"));
      return v.substr(0, v.find_first_of(" \t"));
    }
  }
  return "0";
}

size_t OpenFileDescriptors() {
  size_t n = 0;
  if (DIR* d = opendir("/proc/self/fd")) {
    while (dirent* e = readdir(d)) {
      if (e->d_name[0] != '.') ++n;
    }
    closedir(d);
    if (n > 0) --n;  // the directory's own descriptor
  }
  return n;
}

}  // namespace

HttpResponse ServeApi::Handle(const HttpRequest& request) {
  if (!config_.token.empty()) {
    const std::string_view auth = request.Header("authorization");
    size_t auth_headers = 0;
    for (const auto& header : request.headers) auth_headers += header.first == "authorization";
    if (auth_headers > 1) {  // which one would count is anyone's guess: none does
      ++unauthorized_;
      return Refuse(400, "FE-SERVE-AUTH",
                    "The request has " + std::to_string(auth_headers) +
                        " Authorization headers; send exactly one");
    }
    // The scheme's name is case-insensitive (RFC 7235): "Bearer", "bearer", "BEARER".
    const std::string_view prefix = "bearer ";
    const auto is_prefix = [&] {
      for (size_t i = 0; i < prefix.size(); ++i) {
        if (std::tolower(static_cast<unsigned char>(auth[i])) != prefix[i]) return false;
      }
      return true;
    };
    if (auth.size() <= prefix.size() || !is_prefix() ||
        !SameSecret(auth.substr(prefix.size()), config_.token)) {
      ++unauthorized_;
      HttpResponse r = Refuse(401, "FE-SERVE-AUTH",
                              auth.empty() ? "This server needs a bearer token"
                                           : "The bearer token is not this server's");
      r.headers.emplace_back("WWW-Authenticate", "Bearer");
      return r;
    }
  }
  const std::string& m = request.method;
  const std::string& p = request.path;
  const bool get = m == "GET" || m == "HEAD";
  if (p == "/healthz" && get) return Json(200, "{\"status\":\"ok\"}");
  if (p == "/readyz" && get) {
    return scheduler_.draining() ? Json(503, "{\"status\":\"draining\"}")
                                 : Json(200, "{\"status\":\"ready\"}");
  }
  if (p == "/metrics" && get) return Metrics();
  if (p == "/pipelines" && get) return Pipelines();
  if (p == "/runs" && get) return Json(200, "{\"runs\":" + scheduler_.RunsJson() + "}");
  if (p == "/runs" && m == "POST") return SubmitRun(request);
  if (p.rfind("/runs/", 0) == 0 && (get || m == "DELETE")) {
    const std::string id = p.substr(6);
    if (m == "DELETE" && !scheduler_.Cancel(id)) {
      return Refuse(404, "FE-SERVE-NOT-FOUND", "No run '" + id + "'");
    }
    std::optional<std::string> run = scheduler_.RunJson(id);
    if (!run) return Refuse(404, "FE-SERVE-NOT-FOUND", "No run '" + id + "'");
    return Json(m == "DELETE" ? 202 : 200, *run);
  }
  const bool known = p == "/healthz" || p == "/readyz" || p == "/metrics" || p == "/pipelines" ||
                     p == "/runs" || p.rfind("/runs/", 0) == 0;
  if (known) {
    HttpResponse r = Refuse(405, "FE-SERVE-REQUEST", "Method " + m + " is not allowed on " + p);
    r.headers.emplace_back("Allow", p == "/runs"                ? "GET, HEAD, POST"
                                    : p.rfind("/runs/", 0) == 0 ? "GET, HEAD, DELETE"
                                                                : "GET, HEAD");
    return r;
  }
  ++bad_requests_;
  return Refuse(404, "FE-SERVE-NOT-FOUND",
                "No such endpoint '" + p +
                    "' (GET /pipelines, POST /runs, GET /runs, GET or DELETE /runs/ID, "
                    "/metrics, /healthz, /readyz)");
}

HttpResponse ServeApi::Pipelines() const {
  std::vector<std::string> names;
  std::error_code ec;
  for (const fs::directory_entry& e : fs::directory_iterator(config_.pipelines_dir, ec)) {
    const fs::path& f = e.path();
    if (f.extension() == ".yaml" && ValidPipelineName(f.stem().string())) {
      names.push_back(f.stem().string());
    }
  }
  std::sort(names.begin(), names.end());
  std::string out = "{\"pipelines\":[";
  for (size_t i = 0; i < names.size(); ++i) {
    const fs::path file = config_.pipelines_dir / (names[i] + ".yaml");
    out += (i ? "," : "") + std::string("{\"name\":") + JsonQuote(names[i]) +
           ",\"file\":" + JsonQuote(file.string());
    try {
      const Pipeline pipeline = Pipeline::FromFile(file.string());
      out += ",\"valid\":true,\"memory_bytes\":" + std::to_string(pipeline.memory_budget());
    } catch (const PipelineError& e) {
      std::string body = ErrorBody(e.info());  // {"error":{...}}\n
      out += ",\"valid\":false," + body.substr(1, body.size() - 3);
    }
    out += "}";
  }
  return Json(200, out + "]}");
}

std::string ServeApi::CheckOverrides(const std::vector<std::string>& overrides) const {
  for (const std::string& o : overrides) {
    const std::string key = o.substr(0, o.find('='));
    const std::string value = o.substr(o.find('=') + 1);
    const bool path_key = key.rfind("source.path", 0) == 0 || key == "sink.path" ||
                          key == "deadLetter.path" ||
                          (key.rfind("routes.", 0) == 0 && key.size() > 5 &&
                           key.compare(key.size() - 5, 5, ".path") == 0) ||
                          key.find(".javascript.file") != std::string::npos;
    if (!path_key || value.empty()) continue;
    if (value == "-") {
      return "'" + key + "' is standard " + (key == "sink.path" ? "output" : "input") +
             ", which the service does not have";
    }
    const fs::path p =
        fs::path(value).is_absolute() ? fs::path(value) : config_.data_roots.front() / value;
    const bool script = key.find(".javascript.file") != std::string::npos;
    bool ok = std::any_of(config_.data_roots.begin(), config_.data_roots.end(),
                          [&](const fs::path& root) { return PathUnder(p, root); }) ||
              (script && PathUnder(p, config_.pipelines_dir));
    if (ok && script) {
      std::error_code ec;
      ok = fs::is_regular_file(p, ec) && fs::file_size(p, ec) <= (16u << 20);
      if (!ok) return "'" + key + "' is " + p.string() + ", not a regular file of 16 MiB at most";
    }
    if (std::string why = TooLongToName(key, p); !ok && !why.empty()) return why;
    if (!ok) return "'" + key + "' is " + p.string() + ", which is outside every --data-root";
  }
  return "";
}

HttpResponse ServeApi::SubmitRun(const HttpRequest& request) {
  if (scheduler_.draining()) {
    return Refuse(503, "FE-SERVE-DRAINING", "The server is shutting down and takes no new runs");
  }
  simdjson::dom::parser parser;
  if (parser.allocate(std::max<size_t>(request.body.size(), 64), kMaxJsonDepth) !=
      simdjson::SUCCESS) {
    return Refuse(500, "FE-SERVE-REQUEST", "Out of memory for the request body");
  }
  simdjson::dom::element doc;
  if (const auto err = parser.parse(request.body).get(doc); err != simdjson::SUCCESS) {
    ++bad_requests_;
    return Refuse(400, "FE-SERVE-REQUEST",
                  std::string("The body is not valid JSON (at most ") +
                      std::to_string(kMaxJsonDepth) +
                      " levels deep): " + simdjson::error_message(err));
  }
  simdjson::dom::object body;
  if (doc.get(body) != simdjson::SUCCESS) {
    ++bad_requests_;
    return Refuse(400, "FE-SERVE-REQUEST", "The body must be a JSON object");
  }
  std::string name;
  std::vector<std::string> overrides;
  for (const auto field : body) {
    const std::string_view key = field.key;
    if (key == "pipeline") {
      std::string_view v;
      if (field.value.get(v) != simdjson::SUCCESS) {
        ++bad_requests_;
        return Refuse(400, "FE-SERVE-REQUEST", "\"pipeline\" must be a string");
      }
      name = std::string(v);
    } else if (key == "set") {
      simdjson::dom::object set;
      if (field.value.get(set) != simdjson::SUCCESS) {
        ++bad_requests_;
        return Refuse(400, "FE-SERVE-REQUEST",
                      "\"set\" must be an object of configuration keys and values");
      }
      for (const auto kv : set) {
        const std::string k(kv.key);
        std::string value;
        std::string_view s;
        int64_t i = 0;
        double d = 0;
        bool b = false;
        if (kv.value.get(s) == simdjson::SUCCESS) {
          value = std::string(s);
        } else if (kv.value.get(i) == simdjson::SUCCESS) {
          value = std::to_string(i);
        } else if (kv.value.get(d) == simdjson::SUCCESS) {
          char buf[32];
          std::snprintf(buf, sizeof(buf), "%.17g", d);
          value = buf;
        } else if (kv.value.get(b) == simdjson::SUCCESS) {
          value = b ? "true" : "false";
        } else {
          ++bad_requests_;
          return Refuse(400, "FE-SERVE-REQUEST",
                        "\"set\": the value of '" + k + "' must be a string, number or boolean");
        }
        if (k.empty() || k.find('=') != std::string::npos || overrides.size() >= kMaxOverrides) {
          ++bad_requests_;
          return Refuse(400, "FE-SERVE-REQUEST",
                        "\"set\": '" + k + "' is not a configuration key (at most " +
                            std::to_string(kMaxOverrides) + " keys)");
        }
        overrides.push_back(k + "=" + value);
      }
    } else {
      ++bad_requests_;
      return Refuse(400, "FE-SERVE-REQUEST",
                    "Unknown field '" + std::string(key) + "' (\"pipeline\" and \"set\")");
    }
  }
  if (!ValidPipelineName(name)) {
    ++bad_requests_;
    return Refuse(400, "FE-SERVE-REQUEST",
                  name.empty() ? "The body needs \"pipeline\": the name of a pipeline"
                               : "'" + name + "' is not a pipeline name (letters, digits, - _ .)");
  }
  // The files named in "set" are checked before the loader reads anything (a script file
  // is read, a pattern globbed, while loading): nothing outside the data roots is touched.
  if (const std::string why = CheckOverrides(overrides); !why.empty()) {
    ++forbidden_;
    return Refuse(403, "FE-SERVE-PATH", why);
  }
  const fs::path file = config_.pipelines_dir / (name + ".yaml");
  std::error_code ec;
  if (!fs::is_regular_file(file, ec)) {
    return Refuse(404, "FE-SERVE-NOT-FOUND",
                  "No pipeline '" + name + "' (no file " + file.string() + ")");
  }
  std::optional<Pipeline> pipeline;
  try {
    pipeline.emplace(Pipeline::FromFile(file.string(), overrides));
  } catch (const PipelineError& e) {
    ++bad_requests_;
    return Json(400, ErrorBody(e.info()));
  }
  if (const std::string why =
          CheckPipelineFiles(*pipeline, config_.data_roots, config_.pipelines_dir);
      !why.empty()) {
    ++forbidden_;
    return Refuse(403, "FE-SERVE-PATH", why);
  }
  // What a run too large for the service is told: which part is too large.
  const int64_t need = RunMemory(*pipeline, std::max(1, config_.threads));
  const int64_t heaps = need - pipeline->memory_budget();
  const auto mib = [](int64_t bytes) { return std::to_string(bytes >> 20) + " MiB"; };
  const std::string too_large =
      "The run needs " + mib(need) + " (limits.memory " + mib(pipeline->memory_budget()) +
      (heaps > 0 ? " + limits.scriptHeap of each JavaScript step on each thread " + mib(heaps)
                 : std::string()) +
      "), more than the service's --memory " + mib(config_.memory);
  RunScheduler::Refusal refusal;
  const std::string id = scheduler_.Submit(name, std::move(*pipeline), &refusal);
  switch (refusal) {
    case RunScheduler::Refusal::kNone:
      break;
    case RunScheduler::Refusal::kQueueFull: {
      HttpResponse r = Refuse(429, "FE-SERVE-QUEUE-FULL",
                              std::to_string(config_.max_runs) + " runs are running and " +
                                  std::to_string(config_.max_queue) + " are waiting");
      r.headers.emplace_back("Retry-After", "1");
      return r;
    }
    case RunScheduler::Refusal::kDraining:
      return Refuse(503, "FE-SERVE-DRAINING", "The server is shutting down");
    case RunScheduler::Refusal::kTooLarge:
      return Refuse(400, "FE-SERVE-MEMORY", too_large);
  }
  HttpResponse r = Json(202, "{\"id\":" + JsonQuote(id) +
                                 ",\"state\":\"queued\",\"url\":" + JsonQuote("/runs/" + id) + "}");
  r.headers.emplace_back("Location", "/runs/" + id);
  return r;
}

HttpResponse ServeApi::Metrics() const {
  const SchedulerCounts c = scheduler_.Counts();
  const Engine::IsolateStats iso = Engine::Isolates();
  std::string out;
  const auto metric = [&](const char* name, const char* type, const char* help,
                          const std::string& value, const std::string& labels = "") {
    out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
    out += std::string(name) + labels + " " + value + "\n";
  };
  out +=
      "# HELP flowengine_serve_runs_finished_total Runs ended, by final state.\n"
      "# TYPE flowengine_serve_runs_finished_total counter\n";
  for (const char* state : {"succeeded", "failed", "cancelled"}) {
    const auto it = c.finished.find(state);
    out += std::string("flowengine_serve_runs_finished_total{state=\"") + state + "\"} " +
           std::to_string(it == c.finished.end() ? 0 : it->second) + "\n";
  }
  metric("flowengine_serve_runs_submitted_total", "counter", "Runs accepted by POST /runs.",
         std::to_string(c.submitted));
  metric("flowengine_serve_runs_refused_queue_full_total", "counter",
         "POST /runs answered 429 (queue full).", std::to_string(c.refused_queue_full));
  metric("flowengine_serve_requests_unauthorized_total", "counter",
         "Requests without the bearer token (401).", std::to_string(unauthorized_));
  metric("flowengine_serve_requests_bad_total", "counter",
         "Requests refused as malformed or unknown (400, 404).", std::to_string(bad_requests_));
  metric("flowengine_serve_requests_forbidden_total", "counter",
         "Runs refused for a path outside the data roots (403).", std::to_string(forbidden_));
  metric("flowengine_serve_runs_running", "gauge", "Runs running now.", std::to_string(c.running));
  metric("flowengine_serve_runs_queued", "gauge", "Runs waiting in the queue.",
         std::to_string(c.queued));
  metric("flowengine_serve_rows_read_total", "counter", "Rows read by finished runs.",
         std::to_string(c.rows_read));
  metric("flowengine_serve_memory_reserved_bytes", "gauge",
         "limits.memory of the running runs, reserved from --memory.",
         std::to_string(c.memory_reserved));
  metric("flowengine_serve_memory_budget_bytes", "gauge", "--memory (0: no service budget).",
         std::to_string(config_.memory));
  metric("flowengine_serve_isolates_created_total", "counter", "V8 isolates made new.",
         std::to_string(iso.created));
  metric("flowengine_serve_isolates_reused_total", "counter",
         "V8 isolates taken warm from an earlier run.", std::to_string(iso.reused));
  metric("flowengine_serve_isolates_idle", "gauge", "Warm V8 isolates waiting for a run.",
         std::to_string(iso.idle));
  metric("process_open_fds", "gauge", "Open file descriptors.",
         std::to_string(OpenFileDescriptors()));
  metric("process_threads", "gauge", "Threads of the process.", ReadProcStatus("Threads:"));
  metric("process_resident_memory_bytes", "gauge", "Resident set size.",
         std::to_string(std::strtoll(ReadProcStatus("VmRSS:").c_str(), nullptr, 10) * 1024));
  HttpResponse r;
  r.content_type = "text/plain; version=0.0.4; charset=utf-8";
  r.body = std::move(out);
  return r;
}

}  // namespace flowengine::serve
