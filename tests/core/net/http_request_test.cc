#include "core/net/http_request.h"

#include <gtest/gtest.h>

namespace flowengine {
namespace {

HttpParse Parse(const std::string& text, HttpRequest* r, size_t* consumed, int* status) {
  HttpLimits limits;
  limits.max_header_bytes = 1024;
  limits.max_body_bytes = 64;
  return ParseHttpRequest(text, limits, r, consumed, status);
}

TEST(HttpRequestTest, ParsesRequestLineHeadersAndBody) {
  HttpRequest r;
  size_t consumed = 0;
  int status = 0;
  const std::string text =
      "POST /runs?x=1 HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nX-Y:  v \r\n\r\nbodyGET";
  ASSERT_EQ(Parse(text, &r, &consumed, &status), HttpParse::kComplete);
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.path, "/runs");
  EXPECT_EQ(r.query, "x=1");
  EXPECT_EQ(r.Header("x-y"), "v");
  EXPECT_EQ(r.body, "body");
  EXPECT_TRUE(r.keep_alive);
  EXPECT_EQ(consumed, text.size() - 3);
}

TEST(HttpRequestTest, IncompleteUntilTheBodyIsThere) {
  HttpRequest r;
  size_t consumed = 0;
  int status = 0;
  EXPECT_EQ(Parse("GET / HTTP/1.1\r\nHost: a\r\n", &r, &consumed, &status), HttpParse::kIncomplete);
  EXPECT_EQ(Parse("POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc", &r, &consumed, &status),
            HttpParse::kIncomplete);
}

TEST(HttpRequestTest, RefusesWhatItDoesNotSpeakWithTheRightStatus) {
  HttpRequest r;
  size_t consumed = 0;
  const std::pair<std::string, int> cases[] = {
      {"get / HTTP/1.1\r\n\r\n", 400},
      {"GET noslash HTTP/1.1\r\n\r\n", 400},
      {"GET / HTTP/2.0\r\n\r\n", 505},
      {"GET / HTTP/1.1\r\nBad Header\r\n\r\n", 400},
      {"GET / HTTP/1.1\r\nContent-Length: x\r\n\r\n", 400},
      {"GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 400},
      {"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", 501},
      {"POST / HTTP/1.1\r\nContent-Length: 65\r\n\r\n", 413},
      {"GET / HTTP/1.1\r\nX: " + std::string(2000, 'a') + "\r\n\r\n", 431},
      {"GET /" + std::string(2000, 'a'), 431},
  };
  for (const auto& [text, want] : cases) {
    int status = 0;
    EXPECT_EQ(Parse(text, &r, &consumed, &status), HttpParse::kBad) << text;
    EXPECT_EQ(status, want) << text;
  }
}

TEST(HttpRequestTest, ConnectionHeaderDecidesKeepAlive) {
  HttpRequest r;
  size_t consumed = 0;
  int status = 0;
  ASSERT_EQ(
      Parse("GET / HTTP/1.1\r\nConnection: Keep-Alive, close\r\n\r\n", &r, &consumed, &status),
      HttpParse::kComplete);
  EXPECT_FALSE(r.keep_alive);
  ASSERT_EQ(Parse("GET / HTTP/1.0\r\n\r\n", &r, &consumed, &status), HttpParse::kComplete);
  EXPECT_FALSE(r.keep_alive);
  ASSERT_EQ(Parse("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", &r, &consumed, &status),
            HttpParse::kComplete);
  EXPECT_TRUE(r.keep_alive);
}

}  // namespace
}  // namespace flowengine
