// libFuzzer target for the HTTP request parser (core/net/http_request.h), which faces the
// network in `run --listen` and `serve`. Checks, besides memory safety: a complete request
// never consumes more than it was given and its body has the declared length; every proper
// prefix of a complete request parses as incomplete (the server sees requests in pieces);
// and a request parsed twice gives the same result.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/net/http_request.h"

#define CHECK(condition)                                                                        \
  do {                                                                                          \
    if (!(condition)) {                                                                         \
      std::fprintf(stderr, "http_fuzzer: check failed at line %d: %s\n", __LINE__, #condition); \
      std::abort();                                                                             \
    }                                                                                           \
  } while (0)

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  flowengine::HttpLimits limits;
  limits.max_header_bytes = 512;
  limits.max_body_bytes = 256;
  limits.max_headers = 8;
  flowengine::HttpRequest request;
  size_t consumed = 0;
  int status = 0;
  const auto result = flowengine::ParseHttpRequest(input, limits, &request, &consumed, &status);
  if (result == flowengine::HttpParse::kBad) {
    CHECK(status >= 400 && status < 600);
    return 0;
  }
  if (result == flowengine::HttpParse::kIncomplete) return 0;
  CHECK(consumed > 0 && consumed <= size);
  CHECK(!request.method.empty() && !request.path.empty() && request.path[0] == '/');
  CHECK(request.body.size() <= limits.max_body_bytes);
  const std::string_view length = request.Header("content-length");
  CHECK(length.empty()
            ? request.body.empty()
            : std::strtoull(std::string(length).c_str(), nullptr, 10) == request.body.size());
  for (size_t cut = 0; cut < consumed; cut += 1 + cut / 8) {
    flowengine::HttpRequest partial;
    size_t c = 0;
    int s = 0;
    CHECK(flowengine::ParseHttpRequest(input.substr(0, cut), limits, &partial, &c, &s) ==
          flowengine::HttpParse::kIncomplete);
  }
  flowengine::HttpRequest again;
  size_t consumed_again = 0;
  CHECK(flowengine::ParseHttpRequest(input, limits, &again, &consumed_again, &status) ==
        flowengine::HttpParse::kComplete);
  CHECK(consumed_again == consumed && again.method == request.method &&
        again.path == request.path && again.query == request.query && again.body == request.body &&
        again.headers == request.headers && again.keep_alive == request.keep_alive);
  return 0;
}
