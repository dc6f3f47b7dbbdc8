#include "core/ops/metrics_endpoint.h"

#include "core/error/error.h"
#include "core/ops/plugin_loader.h"

namespace flowengine {

using StartEndpoint = MetricsEndpoint* (*)(const Metrics*, const std::string*, Error*);

std::unique_ptr<MetricsEndpoint> StartMetricsEndpoint(const Metrics& metrics,
                                                      const std::string& listen) {
  std::string problem;
  auto start = reinterpret_cast<StartEndpoint>(
      LoadPluginSymbol("libflowengine_http.so", "flowengine_start_metrics_endpoint", &problem));
  if (start == nullptr) {
    Error e = MakeError("FE-INTERNAL", "The HTTP endpoint is missing: " + problem, {}, "startup");
    e.hint = "Keep libflowengine_http.so (built with flowengine) beside the flowengine binary.";
    throw ErrorException(std::move(e));
  }
  Error error;
  MetricsEndpoint* endpoint = start(&metrics, &listen, &error);
  if (endpoint == nullptr) throw ErrorException(std::move(error));
  return std::unique_ptr<MetricsEndpoint>(endpoint);
}

}  // namespace flowengine
