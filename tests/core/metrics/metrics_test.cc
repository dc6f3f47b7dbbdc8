// Metrics: sharded counters sum exactly across threads, histogram buckets are cumulative,
// and the Prometheus rendering has HELP/TYPE for every family and escapes label values.
#include "core/metrics/metrics.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace flowengine {
namespace {

TEST(MetricsTest, CounterSumsEveryThreadsAdds) {
  Counter c;
  std::vector<std::thread> threads;
  for (int t = 0; t < 24; ++t) {
    threads.emplace_back([&c] {
      for (int i = 0; i < 10000; ++i) c.Add(3);
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(c.Value(), 24u * 10000u * 3u);
}

TEST(MetricsTest, HistogramBucketsAreCumulative) {
  Histogram h;
  h.ObserveNanos(50'000);          // 50 µs: first bucket (0.0001 s)
  h.ObserveNanos(2'000'000);       // 2 ms: le 0.0025
  h.ObserveNanos(20'000'000'000);  // 20 s: +Inf only
  const Histogram::Snapshot s = h.Read();
  EXPECT_EQ(s.count, 3u);
  EXPECT_EQ(s.cumulative[0], 1u);
  EXPECT_EQ(s.cumulative[4], 2u);                              // le 0.0025
  EXPECT_EQ(s.cumulative[Histogram::kBounds.size() - 1], 2u);  // le 10
  EXPECT_EQ(s.cumulative.back(), 3u);
  EXPECT_NEAR(s.sum, 20.00205, 1e-9);
}

TEST(MetricsTest, PrometheusTextHasEveryFamilyOnce) {
  Metrics m;
  m.rows_parsed.Add(5);
  m.AddReject("FE-INPUT-FIELD-COUNT");
  m.AddReject("FE-INPUT-FIELD-COUNT");
  m.v8_workers = 2;
  m.v8_heap_bytes[1].Set(1024);
  m.block_seconds[1].ObserveNanos(1000);
  const std::string text = m.RenderPrometheus();
  EXPECT_NE(text.find("flowengine_rows_total{stage=\"parse\",outcome=\"ok\"} 5\n"),
            std::string::npos);
  EXPECT_NE(text.find("flowengine_rejects_total{code=\"FE-INPUT-FIELD-COUNT\"} 2\n"),
            std::string::npos);
  EXPECT_NE(text.find("flowengine_v8_heap_bytes{worker=\"1\"} 1024\n"), std::string::npos);
  EXPECT_NE(text.find("flowengine_block_seconds_count{stage=\"parse\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("flowengine_run_success -1\n"), std::string::npos);
  // Every sample line belongs to a family announced by # TYPE.
  size_t families = 0;
  size_t pos = 0;
  while ((pos = text.find("# TYPE ", pos)) != std::string::npos) {
    ++families;
    ++pos;
  }
  EXPECT_GT(families, 20u);
  EXPECT_EQ(text.find("# TYPE flowengine_rows_total"), text.rfind("# TYPE flowengine_rows_total"));
}

}  // namespace
}  // namespace flowengine
