// HTTP/1.1 request parsing for FlowEngine's own small server (core/net/http_server.h): the
// request line, headers and a Content-Length body, with hard limits on every part. Pure
// functions over a byte buffer; no allocation beyond the request's own strings; thread-safe.
// Fuzzed by tests/fuzz/http_fuzzer.cc.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace flowengine {

struct HttpRequest {
  std::string method;  ///< "GET", "POST", ... (as sent, upper case required)
  std::string path;    ///< the target up to '?', percent-encoding kept
  std::string query;   ///< after '?', or ""
  std::vector<std::pair<std::string, std::string>> headers;  ///< names lower-cased
  std::string body;
  bool keep_alive = true;  ///< HTTP/1.1 without "Connection: close" (1.0: only keep-alive)

  /// The first header called `name` (lower case), or "".
  std::string_view Header(std::string_view name) const;
};

struct HttpLimits {
  size_t max_header_bytes = 16 << 10;  ///< request line + headers
  size_t max_body_bytes = 1 << 20;
  size_t max_headers = 64;
};

enum class HttpParse {
  kIncomplete,  ///< more bytes are needed
  kComplete,    ///< *request filled, *consumed bytes used
  kBad,         ///< malformed: answer `*status` and close
};

/// Parses one request from the start of `data`. On kBad, `*status` is 400, 413 (body too
/// large), 431 (headers too large), 501 (Transfer-Encoding) or 505 (HTTP version).
HttpParse ParseHttpRequest(std::string_view data, const HttpLimits& limits, HttpRequest* request,
                           size_t* consumed, int* status);

/// The reason phrase of a status code ("OK", "Not Found", ...).
const char* HttpReason(int status);

}  // namespace flowengine
