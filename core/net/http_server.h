// HttpServer: the small HTTP/1.1 server behind `run --listen` (and `serve`). One thread runs
// an epoll loop over non-blocking sockets, so an idle, slow or malicious client costs a file
// descriptor and a few bytes, never a thread: /healthz answers within milliseconds however
// many such clients are connected. Bounded everywhere: connections (the least recently
// active is closed to make room), header and body sizes (core/net/http_request.h), the time a
// request may take to arrive and a response to be read, and keep-alive idle time.
//
// Handlers run on the server thread, one at a time, and must return quickly (no I/O, no
// waiting): they read state that other threads publish through atomics or locks.
// Start() and Stop() are called from one owning thread; the destructor stops.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "core/net/http_request.h"

namespace flowengine {

struct HttpResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  ///< extra headers
};

struct HttpServerOptions {
  HttpLimits limits;
  size_t max_connections = 512;
  int request_timeout_ms = 10000;  ///< a request must arrive, and its response be read, in this
  int idle_timeout_ms = 5000;      ///< a kept-alive connection may wait this long for the next
};

class HttpServer {
 public:
  using Handler = std::function<HttpResponse(const HttpRequest&)>;

  /// Binds "HOST:PORT" (":PORT" or "0.0.0.0:PORT": every interface; "[::1]:PORT" IPv6;
  /// port 0: any free port) and serves `handler` on a background thread. Throws
  /// ErrorException FE-OPS-LISTEN.
  static std::unique_ptr<HttpServer> Start(const std::string& listen, Handler handler,
                                           HttpServerOptions options = {});
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  const std::string& host() const { return host_; }
  int port() const { return port_; }
  /// Closes every connection and joins the thread. Idempotent.
  void Stop();
  /// Connections open right now (for tests and metrics).
  size_t connections() const { return connections_.load(); }

 private:
  HttpServer() = default;
  void Loop();

  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::string host_;
  int port_ = 0;
  std::thread thread_;
  std::atomic<size_t> connections_{0};
};

}  // namespace flowengine
