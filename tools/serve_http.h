// ServeApi: the HTTP API of `flowengine serve` (DESIGN.md §8, docs/operations.md): routes a
// request to the run scheduler, checks the bearer token, parses JSON bodies (simdjson, depth
// and size bounded), loads the named pipeline with the request's overrides, and refuses any
// run whose files are not under a --data-root after resolving links.
//
// Handle() runs on the HTTP server's thread and returns quickly: it reads YAML files and
// resolves paths (no run work, no waiting). Thread safety: Handle() may be called from one
// thread at a time (the server's); the scheduler it talks to is thread-safe. The ServeApi
// borrows the scheduler, which must outlive it.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "core/net/http_server.h"
#include "tools/serve_paths.h"
#include "tools/serve_runs.h"

namespace flowengine::serve {

struct ServeConfig {
  std::filesystem::path pipelines_dir;            ///< canonical
  std::vector<std::filesystem::path> data_roots;  ///< canonical; relative paths: the first
  std::string token;                              ///< "" without --token-file
  int64_t memory = 0;                             ///< --memory
  int threads = 0;
  int max_runs = 0;
  size_t max_queue = 0;
};

class ServeApi {
 public:
  ServeApi(const ServeConfig& config, RunScheduler& scheduler)
      : config_(config), scheduler_(scheduler) {}
  HttpResponse Handle(const HttpRequest& request);

 private:
  HttpResponse Pipelines() const;
  HttpResponse SubmitRun(const HttpRequest& request);
  HttpResponse Metrics() const;
  /// "" when every path given in "set" lies under a data root (before loading), else the
  /// refusal (403).
  std::string CheckOverrides(const std::vector<std::string>& overrides) const;

  const ServeConfig& config_;
  // Counted on the HTTP thread only.
  RunScheduler& scheduler_;
  uint64_t unauthorized_ = 0;
  uint64_t bad_requests_ = 0;
  uint64_t forbidden_ = 0;
};

}  // namespace flowengine::serve
