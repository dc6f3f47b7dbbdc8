#include "core/net/http_request.h"

#include <charconv>

namespace flowengine {
namespace {

bool IsTokenChar(char c) {
  const auto u = static_cast<unsigned char>(c);
  if (u <= 0x20 || u >= 0x7f) return false;
  switch (c) {
    case '(':
    case ')':
    case ',':
    case '/':
    case ':':
    case ';':
    case '<':
    case '=':
    case '>':
    case '?':
    case '@':
    case '[':
    case '\\':
    case ']':
    case '{':
    case '}':
    case '"':
      return false;
    default:
      return true;
  }
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool ContainsToken(std::string_view list, std::string_view token) {
  // Comma-separated, case-insensitive ("Connection: keep-alive, Upgrade").
  while (!list.empty()) {
    const size_t comma = list.find(',');
    if (Lower(Trim(list.substr(0, comma))) == token) return true;
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return false;
}

HttpParse Bad(int code, int* status) {
  *status = code;
  return HttpParse::kBad;
}

}  // namespace

std::string_view HttpRequest::Header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (key == name) return value;
  }
  return {};
}

HttpParse ParseHttpRequest(std::string_view data, const HttpLimits& limits, HttpRequest* request,
                           size_t* consumed, int* status) {
  const size_t end = data.find("\r\n\r\n");
  // Headers ended by a bare LF: never complete with CRLF, so refused at once rather than
  // left waiting for the request timeout.
  if (data.substr(0, end).find("\n\n") != std::string_view::npos) return Bad(400, status);
  if (end == std::string_view::npos) {
    return data.size() > limits.max_header_bytes ? Bad(431, status) : HttpParse::kIncomplete;
  }
  if (end + 4 > limits.max_header_bytes) return Bad(431, status);
  HttpRequest r;
  std::string_view head = data.substr(0, end);
  const size_t line_end = head.find("\r\n");
  std::string_view line = head.substr(0, line_end);
  head = line_end == std::string_view::npos ? std::string_view() : head.substr(line_end + 2);

  // Request line: METHOD SP TARGET SP HTTP/1.x
  const size_t sp1 = line.find(' ');
  const size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp1 == std::string_view::npos || sp2 == std::string_view::npos || sp1 == 0 ||
      sp2 == sp1 + 1 || line.find(' ', sp2 + 1) != std::string_view::npos) {
    return Bad(400, status);
  }
  const std::string_view method = line.substr(0, sp1);
  const std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  const std::string_view version = line.substr(sp2 + 1);
  for (char c : method) {
    if (c < 'A' || c > 'Z') return Bad(400, status);
  }
  if (target.front() != '/') return Bad(400, status);
  for (char c : target) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f) return Bad(400, status);
  }
  if (version == "HTTP/1.0") {
    r.keep_alive = false;
  } else if (version != "HTTP/1.1") {
    return version.substr(0, 5) == "HTTP/" ? Bad(505, status) : Bad(400, status);
  }
  r.method = std::string(method);
  const size_t q = target.find('?');
  r.path = std::string(target.substr(0, q));
  if (q != std::string_view::npos) r.query = std::string(target.substr(q + 1));

  // Headers: NAME ":" OWS VALUE OWS, no obsolete line folding.
  size_t content_length = 0;
  bool has_length = false;
  while (!head.empty()) {
    const size_t next = head.find("\r\n");
    const std::string_view h = head.substr(0, next);
    head = next == std::string_view::npos ? std::string_view() : head.substr(next + 2);
    const size_t colon = h.find(':');
    if (colon == std::string_view::npos || colon == 0) return Bad(400, status);
    for (size_t i = 0; i < colon; ++i) {
      if (!IsTokenChar(h[i])) return Bad(400, status);
    }
    const std::string_view value = Trim(h.substr(colon + 1));
    for (char c : value) {
      const auto u = static_cast<unsigned char>(c);
      if ((u < 0x20 && c != '\t') || u == 0x7f) return Bad(400, status);
    }
    if (r.headers.size() >= limits.max_headers) return Bad(431, status);
    r.headers.emplace_back(Lower(h.substr(0, colon)), std::string(value));
    const std::string& name = r.headers.back().first;
    if (name == "content-length") {
      size_t n = 0;
      const auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
      if (ec != std::errc() || ptr != value.data() + value.size() || value.empty() ||
          (has_length && n != content_length)) {
        return Bad(400, status);
      }
      content_length = n;
      has_length = true;
    } else if (name == "transfer-encoding") {
      return Bad(501, status);  // no chunked bodies: clients send Content-Length
    } else if (name == "connection") {
      if (ContainsToken(value, "close")) r.keep_alive = false;
      if (version == "HTTP/1.0" && ContainsToken(value, "keep-alive")) r.keep_alive = true;
    }
  }
  if (content_length > limits.max_body_bytes) return Bad(413, status);
  const size_t total = end + 4 + content_length;
  if (data.size() < total) return HttpParse::kIncomplete;
  r.body = std::string(data.substr(end + 4, content_length));
  *request = std::move(r);
  *consumed = total;
  return HttpParse::kComplete;
}

const char* HttpReason(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 202:
      return "Accepted";
    case 204:
      return "No Content";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 413:
      return "Content Too Large";
    case 415:
      return "Unsupported Media Type";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 503:
      return "Service Unavailable";
    case 505:
      return "HTTP Version Not Supported";
    default:
      return "Unknown";
  }
}

}  // namespace flowengine
