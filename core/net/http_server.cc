#include "core/net/http_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <map>

#include "core/error/error.h"

namespace flowengine {
namespace {

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

[[noreturn]] void FailListen(const std::string& message) {
  ThrowError("FE-OPS-LISTEN", message, {}, "startup");
}

struct Connection {
  int fd = -1;
  std::string in;
  std::string out;
  size_t out_done = 0;
  bool close_after_write = false;
  int64_t deadline_ms = 0;       // closed when it passes
  int64_t last_activity_ms = 0;  // for choosing whom to close when full
  bool in_request = false;       // bytes of a request arrived (request deadline applies)
};

std::string Serialize(const HttpResponse& r, bool head, bool keep_alive) {
  std::string s = "HTTP/1.1 " + std::to_string(r.status) + " " + HttpReason(r.status) + "\r\n";
  s += "Content-Type: " + r.content_type + "\r\n";
  s += "Content-Length: " + std::to_string(r.body.size()) + "\r\n";
  s += keep_alive ? "Connection: keep-alive\r\n" : "Connection: close\r\n";
  for (const auto& [name, value] : r.headers) s += name + ": " + value + "\r\n";
  s += "\r\n";
  if (!head) s += r.body;
  return s;
}

// The answer to a request that could not be parsed, in the error format of every other
// answer ({"error": {code, class, message, hint}}): what was wrong and how to send it.
HttpResponse ParseErrorResponse(int status, const HttpLimits& limits) {
  std::string message, hint = "Send an HTTP/1.1 request with CRLF line endings.";
  switch (status) {
    case 413:
      message =
          "The request body is larger than " + std::to_string(limits.max_body_bytes) + " bytes";
      hint = "Send a smaller body.";
      break;
    case 431:
      message = "The request line and headers are larger than " +
                std::to_string(limits.max_header_bytes) + " bytes or more than " +
                std::to_string(limits.max_headers) + " headers";
      hint = "Send fewer or shorter headers.";
      break;
    case 501:
      message = "Transfer-Encoding (a chunked body) is not supported";
      hint = "Send the body whole, with a Content-Length header.";
      break;
    case 505:
      message = "Only HTTP/1.0 and HTTP/1.1 are spoken here";
      break;
    default:
      message =
          "The request is not valid HTTP/1.1: a malformed request line, header or "
          "Content-Length, or line endings other than CRLF";
      break;
  }
  HttpResponse r;
  r.status = status;
  r.content_type = "application/json";
  r.body = "{\"error\":{\"code\":\"FE-SERVE-REQUEST\",\"class\":\"service\",\"message\":\"" +
           message + "\",\"hint\":\"" + hint + "\"}}\n";
  return r;
}

}  // namespace

struct HttpServer::Impl {
  Handler handler;
  HttpServerOptions options;
  int listen_fd = -1;
  int epoll_fd = -1;
  int wake_fd = -1;
  std::atomic<bool> stopping{false};
  std::map<int, Connection> connections;
  std::vector<int> pipelined;  // connections with a request already buffered

  ~Impl() {
    for (auto& [fd, c] : connections) ::close(fd);
    if (listen_fd >= 0) ::close(listen_fd);
    if (epoll_fd >= 0) ::close(epoll_fd);
    if (wake_fd >= 0) ::close(wake_fd);
  }

  void Close(int fd) {
    ::epoll_ctl(epoll_fd, EPOLL_CTL_DEL, fd, nullptr);
    ::close(fd);
    connections.erase(fd);
  }

  void Watch(Connection& c, bool want_write) {
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLRDHUP | (want_write ? EPOLLOUT : 0u);
    ev.data.fd = c.fd;
    ::epoll_ctl(epoll_fd, EPOLL_CTL_MOD, c.fd, &ev);
  }

  void Accept(int64_t now) {
    while (true) {
      const int fd = ::accept4(listen_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) return;  // EAGAIN, or a transient error: the loop comes back
      if (connections.size() >= options.max_connections) {
        // Full: the least recently active connection makes room for the new one.
        int oldest = -1;
        int64_t oldest_ms = INT64_MAX;
        for (const auto& [other, c] : connections) {
          if (c.last_activity_ms < oldest_ms) {
            oldest_ms = c.last_activity_ms;
            oldest = other;
          }
        }
        if (oldest >= 0) Close(oldest);
      }
      const int one = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
      Connection c;
      c.fd = fd;
      c.deadline_ms = now + options.request_timeout_ms;
      c.last_activity_ms = now;
      epoll_event ev{};
      ev.events = EPOLLIN | EPOLLRDHUP;
      ev.data.fd = fd;
      if (::epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &ev) != 0) {
        ::close(fd);
        continue;
      }
      connections.emplace(fd, std::move(c));
    }
  }

  // Answers the complete requests in c.in (one at a time: the next once this one is sent).
  // With `last`, the peer sends nothing more: close once the answer is out.
  void Serve(Connection& c, int64_t now, bool last = false) {
    if (!c.out.empty()) return;  // still sending the previous response
    HttpRequest request;
    size_t consumed = 0;
    int status = 0;
    const HttpParse parsed = ParseHttpRequest(c.in, options.limits, &request, &consumed, &status);
    if (parsed == HttpParse::kIncomplete) return;
    HttpResponse response;
    bool keep_alive = false;
    bool head = false;
    if (parsed == HttpParse::kBad) {
      response = ParseErrorResponse(status, options.limits);
      c.in.clear();
    } else {
      c.in.erase(0, consumed);
      keep_alive = request.keep_alive;
      head = request.method == "HEAD";
      try {
        response = handler(request);
      } catch (...) {
        response = HttpResponse{};
        response.status = 500;
        response.body = "Internal Server Error\n";
      }
    }
    c.out = Serialize(response, head, keep_alive && !last);
    c.out_done = 0;
    c.close_after_write = !keep_alive || last;
    c.deadline_ms = now + options.request_timeout_ms;  // the client must read it in time
    c.in_request = false;
    Flush(c, now);
  }

  // Sends what it can; false when the connection was closed.
  bool Flush(Connection& c, int64_t now) {
    while (c.out_done < c.out.size()) {
      const ssize_t n =
          ::send(c.fd, c.out.data() + c.out_done, c.out.size() - c.out_done, MSG_NOSIGNAL);
      if (n > 0) {
        c.out_done += static_cast<size_t>(n);
        c.last_activity_ms = now;
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        Watch(c, true);
        return true;
      }
      Close(c.fd);
      return false;
    }
    c.out.clear();
    c.out_done = 0;
    if (c.close_after_write) {
      ::shutdown(c.fd, SHUT_WR);
      Close(c.fd);
      return false;
    }
    Watch(c, false);
    c.deadline_ms = now + options.idle_timeout_ms;
    if (!c.in.empty()) {
      // A pipelined request waits: it is served on the next turn of the loop, after every
      // other connection's, so that no client can keep the server to itself.
      c.in_request = true;
      c.deadline_ms = now + options.request_timeout_ms;
      pipelined.push_back(c.fd);
    }
    return true;
  }

  void Read(Connection& c, int64_t now) {
    const size_t cap = options.limits.max_header_bytes + options.limits.max_body_bytes + 4096;
    char buf[16384];
    while (true) {
      const ssize_t n = ::recv(c.fd, buf, sizeof(buf), 0);
      if (n > 0) {
        if (!c.in_request) {
          c.in_request = true;
          c.deadline_ms = now + options.request_timeout_ms;
        }
        c.last_activity_ms = now;
        if (c.in.size() + static_cast<size_t>(n) > cap) {
          c.in.clear();
          Close(c.fd);
          return;
        }
        c.in.append(buf, static_cast<size_t>(n));
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
      if (n < 0) {
        Close(c.fd);
        return;
      }
      // The peer finished sending (it may still read): answer what arrived, then close.
      if (c.out.empty() && ParseComplete(c)) {
        c.in_request = true;
        Serve(c, now, /*last=*/true);
      } else if (c.out.empty()) {
        Close(c.fd);
      } else {
        c.close_after_write = true;
      }
      return;
    }
    Serve(c, now);
  }

  bool ParseComplete(const Connection& c) const {
    HttpRequest request;
    size_t consumed = 0;
    int status = 0;
    return ParseHttpRequest(c.in, options.limits, &request, &consumed, &status) !=
           HttpParse::kIncomplete;
  }

  void ExpireConnections(int64_t now) {
    std::vector<int> expired;
    for (const auto& [fd, c] : connections) {
      if (c.deadline_ms <= now) expired.push_back(fd);
    }
    for (int fd : expired) Close(fd);
  }
};

std::unique_ptr<HttpServer> HttpServer::Start(const std::string& listen, Handler handler,
                                              HttpServerOptions options) {
  const size_t colon = listen.rfind(':');
  if (colon == std::string::npos) FailListen("--listen expects HOST:PORT, got '" + listen + "'");
  std::string host = listen.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  } else if (host.find(':') != std::string::npos) {  // "::1:9464": which colon ends the host?
    FailListen("--listen needs an IPv6 address in brackets, [HOST]:PORT (e.g. [::1]:9464), got '" +
               listen + "'");
  }
  const std::string port_text = listen.substr(colon + 1);
  if (port_text.empty() || port_text.size() > 5 ||
      port_text.find_first_not_of("0123456789") != std::string::npos ||
      std::stoi(port_text) > 65535) {
    FailListen("--listen expects a port from 0 to 65535, got '" + listen + "'");
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  if (const int rc =
          ::getaddrinfo(host.empty() ? nullptr : host.c_str(), port_text.c_str(), &hints, &found);
      rc != 0) {
    FailListen("Cannot listen on " + listen + ": " + ::gai_strerror(rc));
  }
  auto server = std::unique_ptr<HttpServer>(new HttpServer());
  server->impl_ = std::make_unique<Impl>();
  Impl& impl = *server->impl_;
  impl.handler = std::move(handler);
  impl.options = options;
  // Clients may hold at most a quarter of the process's file descriptors: the rest stay for
  // the work itself (a run's inputs, temp files, journal), which idle or hostile connections
  // must never starve (EMFILE).
  if (rlimit files{}; ::getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur != RLIM_INFINITY) {
    impl.options.max_connections =
        std::min(impl.options.max_connections, std::max<size_t>(4, files.rlim_cur / 4));
  }
  std::string problem = "no address";
  for (addrinfo* a = found; a != nullptr && impl.listen_fd < 0; a = a->ai_next) {
    const int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) continue;
    const int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (::bind(fd, a->ai_addr, a->ai_addrlen) != 0 || ::listen(fd, 1024) != 0) {
      problem = std::strerror(errno);
      ::close(fd);
      continue;
    }
    impl.listen_fd = fd;
  }
  ::freeaddrinfo(found);
  if (impl.listen_fd < 0) {
    FailListen("Cannot listen on " + listen + ": " + problem +
               " (the address is in use or not available here)");
  }
  sockaddr_storage bound{};
  socklen_t len = sizeof(bound);
  ::getsockname(impl.listen_fd, reinterpret_cast<sockaddr*>(&bound), &len);
  char text[INET6_ADDRSTRLEN] = {};
  if (bound.ss_family == AF_INET6) {
    const auto* a6 = reinterpret_cast<const sockaddr_in6*>(&bound);
    ::inet_ntop(AF_INET6, &a6->sin6_addr, text, sizeof(text));
    server->port_ = ntohs(a6->sin6_port);
  } else {
    const auto* a4 = reinterpret_cast<const sockaddr_in*>(&bound);
    ::inet_ntop(AF_INET, &a4->sin_addr, text, sizeof(text));
    server->port_ = ntohs(a4->sin_port);
  }
  server->host_ = text;
  impl.epoll_fd = ::epoll_create1(EPOLL_CLOEXEC);
  impl.wake_fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (impl.epoll_fd < 0 || impl.wake_fd < 0)
    FailListen(std::string("epoll: ") + std::strerror(errno));
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = impl.listen_fd;
  ::epoll_ctl(impl.epoll_fd, EPOLL_CTL_ADD, impl.listen_fd, &ev);
  ev.data.fd = impl.wake_fd;
  ::epoll_ctl(impl.epoll_fd, EPOLL_CTL_ADD, impl.wake_fd, &ev);
  server->thread_ = std::thread([s = server.get()] { s->Loop(); });
  return server;
}

HttpServer::~HttpServer() { Stop(); }

void HttpServer::Stop() {
  if (!thread_.joinable()) return;
  impl_->stopping.store(true);
  const uint64_t one = 1;
  if (::write(impl_->wake_fd, &one, sizeof(one)) < 0) {
    // The loop also wakes every 50 ms and sees `stopping`.
  }
  thread_.join();
}

void HttpServer::Loop() {
  Impl& impl = *impl_;
  epoll_event events[64];
  while (!impl.stopping.load()) {
    const int n = ::epoll_wait(impl.epoll_fd, events, 64, impl.pipelined.empty() ? 50 : 0);
    const int64_t now = NowMs();
    // A few buffered requests per turn, oldest first, so that new connections are accepted
    // and answered between them however many clients pipeline requests.
    constexpr size_t kPipelinedPerTurn = 4;
    const size_t count = std::min(impl.pipelined.size(), kPipelinedPerTurn);
    std::vector<int> turn(impl.pipelined.begin(),
                          impl.pipelined.begin() + static_cast<long>(count));
    impl.pipelined.erase(impl.pipelined.begin(), impl.pipelined.begin() + static_cast<long>(count));
    for (int fd : turn) {
      auto it = impl.connections.find(fd);
      if (it != impl.connections.end()) impl.Serve(it->second, now);
    }
    for (int i = 0; i < n; ++i) {
      const int fd = events[i].data.fd;
      if (fd == impl.wake_fd) continue;
      if (fd == impl.listen_fd) {
        impl.Accept(now);
        continue;
      }
      auto it = impl.connections.find(fd);
      if (it == impl.connections.end()) continue;
      Connection& c = it->second;
      if ((events[i].events & EPOLLOUT) != 0 && !impl.Flush(c, now)) continue;
      if ((events[i].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0) {
        impl.Read(c, now);
      }
    }
    impl.ExpireConnections(now);
    connections_.store(impl.connections.size());
  }
  for (auto& [fd, c] : impl.connections) ::close(fd);
  impl.connections.clear();
  connections_.store(0);
}

}  // namespace flowengine
