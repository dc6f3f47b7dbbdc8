// TraceRecorder: slices from several threads land in per-thread buffers and render as
// Chrome trace events with thread names.
#include "core/metrics/trace.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace flowengine {
namespace {

TEST(TraceTest, SlicesFromEveryThreadAreWritten) {
  TraceRecorder trace;
  std::vector<std::thread> threads;
  for (int t = 0; t < 3; ++t) {
    threads.emplace_back([&trace, t] {
      for (uint64_t seq = 0; seq < 5; ++seq) {
        trace.Record(t == 0 ? Stage::kRead : Stage::kParse, std::chrono::steady_clock::now(),
                     std::chrono::microseconds(7), seq, 100, 4096);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(trace.event_count(), 15u);
  const std::string json = trace.ToJson();
  EXPECT_EQ(json.rfind("{\"displayTimeUnit\":\"ms\",\"traceEvents\":[", 0), 0u);
  EXPECT_NE(json.find("\"name\":\"thread_name\""), std::string::npos);
  EXPECT_NE(json.find("\"name\":\"read\",\"cat\":\"block\",\"ph\":\"X\""), std::string::npos);
  EXPECT_NE(json.find("\"dur\":7.000"), std::string::npos);
  EXPECT_NE(json.find("\"args\":{\"seq\":4,\"rows\":100,\"bytes\":4096}"), std::string::npos);
  EXPECT_EQ(json.substr(json.size() - 4), "\n]}\n");
}

TEST(TraceTest, ASecondRecorderOnTheSameThreadHasItsOwnBuffer) {
  auto first = std::make_unique<TraceRecorder>();
  first->Record(Stage::kRead, std::chrono::steady_clock::now(), std::chrono::nanoseconds(1), 0, 0,
                0);
  first.reset();
  TraceRecorder second;
  second.Record(Stage::kWrite, std::chrono::steady_clock::now(), std::chrono::nanoseconds(1), 0, 0,
                0);
  EXPECT_EQ(second.event_count(), 1u);
}

}  // namespace
}  // namespace flowengine
