// MetricsEndpoint: the HTTP endpoints of a running process (`flowengine run --listen
// HOST:PORT`), served by cpp-httplib on a background thread while the run lasts:
//   GET /metrics  Prometheus text format (Metrics::RenderPrometheus)
//   GET /healthz  200 "ok" while the process is alive
//   GET /readyz   200 "ready" once startup checks passed and the graph runs, else 503
// Read-only; no authentication (bind to 127.0.0.1 unless a scraper elsewhere needs it).
#pragma once

#include <memory>
#include <string>
#include <thread>

#include "core/metrics/metrics.h"

namespace httplib {
class Server;
}

namespace flowengine {

class MetricsEndpoint {
 public:
  explicit MetricsEndpoint(const Metrics& metrics);
  ~MetricsEndpoint();
  MetricsEndpoint(const MetricsEndpoint&) = delete;
  MetricsEndpoint& operator=(const MetricsEndpoint&) = delete;

  /// Binds "HOST:PORT" (":PORT" binds every interface; port 0 picks a free port) and starts
  /// serving. Throws ErrorException FE-OPS-LISTEN.
  void Start(const std::string& listen);
  /// The bound port (after Start).
  int port() const { return port_; }
  const std::string& host() const { return host_; }
  /// Stops serving and joins the thread; idempotent.
  void Stop();

 private:
  const Metrics& metrics_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  std::string host_;
  int port_ = 0;
};

}  // namespace flowengine
