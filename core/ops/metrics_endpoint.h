// MetricsEndpoint: the HTTP endpoints of a running process (`flowengine run --listen
// HOST:PORT`), served by cpp-httplib on a background thread while the run lasts:
//   GET /metrics  Prometheus text format (Metrics::RenderPrometheus)
//   GET /healthz  200 "ok" while the process is alive
//   GET /readyz   200 "ready" once startup checks passed and the graph runs, else 503
// Read-only; no authentication (bind to 127.0.0.1 unless a scraper elsewhere needs it).
// The server lives in the plugin libflowengine_http.so (core/ops/http_plugin.cc), loaded
// only by StartMetricsEndpoint, so that runs without --listen do not load cpp-httplib and
// OpenSSL (3.5 ms of dynamic linking per process, measured).
#pragma once

#include <memory>
#include <string>

#include "core/metrics/metrics.h"

namespace flowengine {

class MetricsEndpoint {
 public:
  virtual ~MetricsEndpoint() = default;
  /// The bound address.
  virtual const std::string& host() const = 0;
  virtual int port() const = 0;
  /// Stops serving and joins the server thread; idempotent (the destructor calls it).
  virtual void Stop() = 0;
};

/// Binds "HOST:PORT" (":PORT" binds every interface; port 0 picks a free port) and serves
/// `metrics` until Stop(). Throws ErrorException FE-OPS-LISTEN (or FE-INTERNAL when the
/// plugin is missing).
std::unique_ptr<MetricsEndpoint> StartMetricsEndpoint(const Metrics& metrics,
                                                      const std::string& listen);

}  // namespace flowengine
