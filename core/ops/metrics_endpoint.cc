#include "core/ops/metrics_endpoint.h"

#include <httplib.h>

#include "core/error/error.h"

namespace flowengine {

MetricsEndpoint::MetricsEndpoint(const Metrics& metrics)
    : metrics_(metrics), server_(std::make_unique<httplib::Server>()) {
  server_->Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    res.set_content(metrics_.RenderPrometheus(), "text/plain; version=0.0.4; charset=utf-8");
  });
  server_->Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("ok\n", "text/plain");
  });
  server_->Get("/readyz", [this](const httplib::Request&, httplib::Response& res) {
    const bool ready = metrics_.ready.load();
    res.status = ready ? 200 : 503;
    res.set_content(ready ? "ready\n" : "not ready\n", "text/plain");
  });
}

MetricsEndpoint::~MetricsEndpoint() { Stop(); }

void MetricsEndpoint::Start(const std::string& listen) {
  const size_t colon = listen.rfind(':');
  const auto fail = [&](const std::string& message) {
    Error e = MakeError("FE-OPS-LISTEN", message, {}, "startup");
    throw ErrorException(std::move(e));
  };
  if (colon == std::string::npos) fail("--listen expects HOST:PORT, got '" + listen + "'");
  host_ = listen.substr(0, colon);
  if (host_.empty()) host_ = "0.0.0.0";
  if (host_.size() > 2 && host_.front() == '[' && host_.back() == ']') {
    host_ = host_.substr(1, host_.size() - 2);
  }
  int port = -1;
  try {
    size_t used = 0;
    port = std::stoi(listen.substr(colon + 1), &used);
    if (used != listen.size() - colon - 1) port = -1;
  } catch (...) {
    port = -1;
  }
  if (port < 0 || port > 65535) fail("--listen expects a port from 0 to 65535, got '" + listen + "'");
  if (port == 0) {
    port_ = server_->bind_to_any_port(host_);
    if (port_ <= 0) fail("Cannot listen on " + host_ + " (any port)");
  } else {
    if (!server_->bind_to_port(host_, port)) {
      fail("Cannot listen on " + listen + ": the address is in use or not available here");
    }
    port_ = port;
  }
  thread_ = std::thread([this] { server_->listen_after_bind(); });
}

void MetricsEndpoint::Stop() {
  if (server_ != nullptr) server_->stop();
  if (thread_.joinable()) thread_.join();
}

}  // namespace flowengine
