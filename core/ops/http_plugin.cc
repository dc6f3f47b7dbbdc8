// libflowengine_http.so: the cpp-httplib server behind `--listen` (see metrics_endpoint.h).
// Engine symbols (Metrics, MakeError) resolve from the executable.
#include <httplib.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "core/error/error.h"
#include "core/ops/metrics_endpoint.h"

namespace flowengine {
namespace {

class HttplibEndpoint final : public MetricsEndpoint {
 public:
  explicit HttplibEndpoint(const Metrics& metrics) : metrics_(metrics) {
    server_.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
      res.set_content(metrics_.RenderPrometheus(), "text/plain; version=0.0.4; charset=utf-8");
    });
    server_.Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
      res.set_content("ok\n", "text/plain");
    });
    server_.Get("/readyz", [this](const httplib::Request&, httplib::Response& res) {
      const bool ready = metrics_.ready.load();
      res.status = ready ? 200 : 503;
      res.set_content(ready ? "ready\n" : "not ready\n", "text/plain");
    });
  }
  ~HttplibEndpoint() override { Stop(); }

  const std::string& host() const override { return host_; }
  int port() const override { return port_; }
  void Stop() override {
    // stop() only takes effect once the server runs: wait for the listen thread to get
    // there (or to give up) so that a very short run cannot leave it listening forever.
    while (thread_.joinable() && !server_.is_running() && !listen_returned_.load()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    server_.stop();
    if (thread_.joinable()) thread_.join();
  }

  // Binds and starts serving; "" on success, else what went wrong.
  std::string Start(const std::string& listen) {
    const size_t colon = listen.rfind(':');
    if (colon == std::string::npos) return "--listen expects HOST:PORT, got '" + listen + "'";
    host_ = listen.substr(0, colon);
    if (host_.empty()) host_ = "0.0.0.0";
    if (host_.size() > 2 && host_.front() == '[' && host_.back() == ']') {
      host_ = host_.substr(1, host_.size() - 2);
    }
    const std::string port_text = listen.substr(colon + 1);
    int port = -1;
    if (!port_text.empty() && port_text.size() <= 5 &&
        port_text.find_first_not_of("0123456789") == std::string::npos) {
      port = std::stoi(port_text);
    }
    if (port < 0 || port > 65535) {
      return "--listen expects a port from 0 to 65535, got '" + listen + "'";
    }
    if (port == 0) {
      port_ = server_.bind_to_any_port(host_);
      if (port_ <= 0) return "Cannot listen on " + host_ + " (any port)";
    } else {
      if (!server_.bind_to_port(host_, port)) {
        return "Cannot listen on " + listen + ": the address is in use or not available here";
      }
      port_ = port;
    }
    thread_ = std::thread([this] {
      server_.listen_after_bind();
      listen_returned_.store(true);
    });
    return "";
  }

 private:
  const Metrics& metrics_;
  httplib::Server server_;
  std::thread thread_;
  std::atomic<bool> listen_returned_{false};
  std::string host_;
  int port_ = 0;
};

}  // namespace
}  // namespace flowengine

extern "C" flowengine::MetricsEndpoint* flowengine_start_metrics_endpoint(
    const flowengine::Metrics* metrics, const std::string* listen, flowengine::Error* error) {
  auto endpoint = std::make_unique<flowengine::HttplibEndpoint>(*metrics);
  const std::string problem = endpoint->Start(*listen);
  if (!problem.empty()) {
    *error = flowengine::MakeError("FE-OPS-LISTEN", problem, {}, "startup");
    return nullptr;
  }
  return endpoint.release();
}
