#include "core/ops/metrics_endpoint.h"

namespace flowengine {

HttpResponse MetricsEndpointResponse(const Metrics& metrics, const HttpRequest& request) {
  HttpResponse r;
  if (request.method != "GET" && request.method != "HEAD") {
    r.status = 405;
    r.body = "only GET and HEAD\n";
    r.headers.emplace_back("Allow", "GET, HEAD");
    return r;
  }
  if (request.path == "/metrics") {
    r.content_type = "text/plain; version=0.0.4; charset=utf-8";
    r.body = metrics.RenderPrometheus();
  } else if (request.path == "/healthz") {
    r.body = "ok\n";
  } else if (request.path == "/readyz") {
    const bool ready = metrics.ready.load();
    r.status = ready ? 200 : 503;
    r.body = ready ? "ready\n" : "not ready\n";
  } else {
    r.status = 404;
    r.body = "not found: /metrics, /healthz and /readyz are served here\n";
  }
  return r;
}

std::unique_ptr<MetricsEndpoint> StartMetricsEndpoint(const Metrics& metrics,
                                                      const std::string& listen) {
  std::string address = listen;
  // ":PORT" listens on every IPv4 address (an IPv6 address is given in brackets).
  if (address.rfind(':') == 0) address = "0.0.0.0" + address;
  return std::make_unique<MetricsEndpoint>(
      HttpServer::Start(address, [&metrics](const HttpRequest& request) {
        return MetricsEndpointResponse(metrics, request);
      }));
}

}  // namespace flowengine
