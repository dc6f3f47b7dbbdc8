// MetricsEndpoint: the HTTP endpoints of a running process (`flowengine run --listen
// HOST:PORT`), served by FlowEngine's own small server (core/net/http_server.h) on a
// background thread while the run lasts:
//   GET /metrics  Prometheus text format (Metrics::RenderPrometheus)
//   GET /healthz  200 "ok" while the process is alive
//   GET /readyz   200 "ready" once startup checks passed and the graph runs, else 503
// Read-only; no authentication (bind to 127.0.0.1 unless a scraper elsewhere needs it).
// Idle or slow clients never delay the answers (one epoll thread, bounded connections).
#pragma once

#include <memory>
#include <string>

#include "core/metrics/metrics.h"
#include "core/net/http_server.h"

namespace flowengine {

class MetricsEndpoint {
 public:
  explicit MetricsEndpoint(std::unique_ptr<HttpServer> server) : server_(std::move(server)) {}
  /// The bound address.
  const std::string& host() const { return server_->host(); }
  int port() const { return server_->port(); }
  /// Stops serving and joins the server thread; idempotent (the destructor calls it).
  void Stop() { server_->Stop(); }

 private:
  std::unique_ptr<HttpServer> server_;
};

/// Binds "HOST:PORT" (":PORT" binds every interface; port 0 picks a free port) and serves
/// `metrics` (which must outlive the endpoint) until Stop(). Throws ErrorException
/// FE-OPS-LISTEN.
std::unique_ptr<MetricsEndpoint> StartMetricsEndpoint(const Metrics& metrics,
                                                      const std::string& listen);

/// The answer of the endpoints to `request` (also used by `serve` for its own /metrics).
HttpResponse MetricsEndpointResponse(const Metrics& metrics, const HttpRequest& request);

}  // namespace flowengine
