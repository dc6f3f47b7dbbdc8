// The flow graph on synthetic stages: order, backpressure, error selection, stop.
#include "core/graph/pipeline_graph.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace flowengine {
namespace {

// Stages over `blocks` numbered blocks; parse sleeps a random time to shuffle completion.
struct FakePipeline {
  uint64_t blocks = 200;
  uint64_t fail_at = UINT64_MAX;   // parse fails on this block
  uint64_t throw_at = UINT64_MAX;  // parse throws a std::exception on this block
  std::vector<uint64_t> written;
  std::atomic<int> in_flight{0};
  std::atomic<int> max_in_flight{0};
  uint64_t next = 0;

  GraphStages Stages() {
    GraphStages s;
    s.read = [this](Block& b) {
      if (next == blocks) return false;
      b.byte_offset = static_cast<int64_t>(next++);
      int now = ++in_flight;
      int prev = max_in_flight.load();
      while (now > prev && !max_in_flight.compare_exchange_weak(prev, now)) {
      }
      return true;
    };
    s.parse = [this](Chunk& c) {
      thread_local std::mt19937 rng(std::random_device{}());
      std::this_thread::sleep_for(std::chrono::microseconds(rng() % 300));
      const auto id = static_cast<uint64_t>(c.block.byte_offset);
      if (id == fail_at) {
        Location loc;
        loc.line = static_cast<int64_t>(id);
        c.error = MakeError("FE-INPUT-FIELD-COUNT", "block " + std::to_string(id), loc, "parse");
      }
      if (id == throw_at) throw std::runtime_error("boom " + std::to_string(id));
      c.batch.num_rows = 1;
    };
    s.format = [](Chunk&) {};
    s.write = [this](const Chunk& c) {
      written.push_back(static_cast<uint64_t>(c.block.byte_offset));
      --in_flight;
    };
    return s;
  }
};

TEST(PipelineGraphTest, PreservesInputOrderWithManyThreads) {
  FakePipeline p;
  GraphOptions options;
  options.threads = 4;
  GraphResult r = RunGraph(p.Stages(), options);
  ASSERT_FALSE(r.error);
  ASSERT_EQ(p.written.size(), p.blocks);
  for (uint64_t i = 0; i < p.blocks; ++i) ASSERT_EQ(p.written[i], i);
  EXPECT_EQ(r.rows, p.blocks);
}

TEST(PipelineGraphTest, LimiterBoundsBlocksInFlight) {
  FakePipeline p;
  GraphOptions options;
  options.threads = 4;
  options.tokens = 3;
  GraphResult r = RunGraph(p.Stages(), options);
  ASSERT_FALSE(r.error);
  // The limiter admits `tokens` blocks; the input node may hold one more, read but waiting.
  EXPECT_LE(p.max_in_flight.load(), 4);
}

// Metrics and the trace are written by every stage's threads at once.
TEST(PipelineGraphTest, MetricsAndTraceCountEveryBlockOfEveryStage) {
  FakePipeline p;
  Metrics metrics;
  TraceRecorder trace;
  GraphOptions options;
  options.threads = 4;
  options.tokens = 3;
  options.metrics = &metrics;
  options.trace = &trace;
  GraphResult r = RunGraph(p.Stages(), options);
  ASSERT_FALSE(r.error);
  EXPECT_EQ(metrics.rows_parsed.Value(), p.blocks);
  EXPECT_EQ(metrics.rows_written.Value(), p.blocks);
  for (Stage stage : {Stage::kParse, Stage::kFormat, Stage::kWrite}) {
    EXPECT_EQ(metrics.blocks[static_cast<size_t>(stage)].Value(), p.blocks);
    EXPECT_EQ(metrics.block_seconds[static_cast<size_t>(stage)].Read().count, p.blocks);
  }
  EXPECT_EQ(metrics.blocks_in_flight.Value(), 0);
  EXPECT_EQ(metrics.limiter_tokens.Value(), 3);
  EXPECT_GT(metrics.reader_waits.Value(), 0u);  // 200 slow blocks through 3 tokens
  // read, parse, format, write (no transform stage); the empty last read is not a block.
  EXPECT_EQ(trace.event_count(), 4 * p.blocks);
  EXPECT_EQ(metrics.blocks[static_cast<size_t>(Stage::kRead)].Value(), p.blocks);
}

TEST(PipelineGraphTest, ReportsTheEarliestErrorInInputOrder) {
  for (int round = 0; round < 20; ++round) {
    FakePipeline p;
    p.fail_at = 50;
    GraphOptions options;
    options.threads = 4;
    GraphResult r = RunGraph(p.Stages(), options);
    ASSERT_TRUE(r.error);
    EXPECT_EQ(r.error->message, "block 50");
    ASSERT_EQ(p.written.size(), 50u);  // every block before the error, none after
  }
}

TEST(PipelineGraphTest, ExceptionsBecomeErrorsInsteadOfEscaping) {
  FakePipeline p;
  p.throw_at = 7;
  GraphOptions options;
  options.threads = 2;
  GraphResult r = RunGraph(p.Stages(), options);
  ASSERT_TRUE(r.error);
  EXPECT_EQ(r.error->code, "FE-INTERNAL");
  EXPECT_EQ(r.error->message, "Unexpected exception: boom 7");
  EXPECT_EQ(r.error->stage, "parse");
}

TEST(PipelineGraphTest, StopFlagEndsTheRunEarly) {
  FakePipeline p;
  p.blocks = 100000;
  std::atomic<bool> stop{false};
  GraphStages stages = p.Stages();
  auto read = stages.read;
  stages.read = [&](Block& b) {
    if (p.next == 10) stop = true;
    return read(b);
  };
  GraphOptions options;
  options.threads = 2;
  options.stop = &stop;
  GraphResult r = RunGraph(stages, options);
  EXPECT_TRUE(r.stopped);
  EXPECT_LT(p.written.size(), 100u);
}

TEST(PipelineGraphTest, SingleThreadWorks) {
  FakePipeline p;
  p.blocks = 20;
  GraphOptions options;
  options.threads = 1;
  GraphResult r = RunGraph(p.Stages(), options);
  ASSERT_FALSE(r.error);
  EXPECT_EQ(p.written.size(), 20u);
  EXPECT_EQ(r.threads, 1);
}

}  // namespace
}  // namespace flowengine
