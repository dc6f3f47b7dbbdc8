// Metrics: the counters, gauges and histograms of one pipeline run, rendered in the
// Prometheus text exposition format (for /metrics and --metrics-file).
//
// Hot-path updates are lock-free: counters and histograms are sharded per thread (each
// thread adds to its own cache line with a relaxed atomic) and merged when read, so the
// graph's threads never contend. Updates happen per block, not per row. Gauges are single
// atomics. Rejects by error code are counted by the writer (one thread) under a mutex that
// only readers contend for.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>

namespace flowengine {

inline constexpr size_t kMetricShards = 16;

/// A monotonically increasing count, sharded per thread.
class Counter {
 public:
  void Add(uint64_t n = 1) noexcept;
  uint64_t Value() const noexcept;

 private:
  struct alignas(64) Shard {
    std::atomic<uint64_t> value{0};
  };
  std::array<Shard, kMetricShards> shards_;
};

/// A value that goes up and down.
class Gauge {
 public:
  void Set(int64_t v) noexcept { value_.store(v, std::memory_order_relaxed); }
  void Add(int64_t d) noexcept { value_.fetch_add(d, std::memory_order_relaxed); }
  /// Raises the value to `v` when it is larger (a peak).
  void Max(int64_t v) noexcept {
    int64_t now = value_.load(std::memory_order_relaxed);
    while (v > now && !value_.compare_exchange_weak(now, v, std::memory_order_relaxed)) {
    }
  }
  int64_t Value() const noexcept { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<int64_t> value_{0};
};

/// Durations in fixed buckets (seconds: 100 µs to 10 s), sharded per thread.
class Histogram {
 public:
  static constexpr std::array<double, 14> kBounds{
      0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 10};
  void ObserveNanos(int64_t ns) noexcept;
  /// Cumulative counts per bound (then +Inf), sum in seconds and count.
  struct Snapshot {
    std::array<uint64_t, kBounds.size() + 1> cumulative{};
    double sum = 0;
    uint64_t count = 0;
  };
  Snapshot Read() const noexcept;

 private:
  struct alignas(64) Shard {
    std::array<std::atomic<uint64_t>, kBounds.size() + 1> buckets{};
    std::atomic<uint64_t> sum_ns{0};
  };
  std::array<Shard, kMetricShards> shards_;
};

/// The graph's stages, as metric labels.
enum class Stage : uint8_t { kRead, kParse, kTransform, kFormat, kWrite };
inline constexpr size_t kStageCount = 5;
const char* StageLabel(Stage stage);

/// Everything FlowEngine measures about a run. One per run; shared by the graph's threads,
/// the HTTP endpoint and the progress line.
struct Metrics {
  // Rows by stage and outcome.
  Counter rows_parsed;           ///< stage=parse outcome=ok
  Counter rows_parse_rejected;   ///< stage=parse outcome=rejected
  Counter rows_transformed;      ///< stage=transform outcome=ok
  Counter rows_filtered;         ///< stage=transform outcome=filtered
  Counter rows_routed;           ///< stage=transform outcome=routed
  Counter rows_copied;           ///< stage=transform outcome=copied
  Counter rows_script_rejected;  ///< stage=transform outcome=rejected
  Counter rows_written;          ///< stage=write outcome=written (main sink)
  Counter rows_dead_lettered;    ///< stage=write outcome=dead_letter
  // Bytes.
  Counter bytes_read;     ///< input bytes handed to the graph
  Counter bytes_written;  ///< bytes formatted for every sink
  // Blocks and latency.
  std::array<Counter, kStageCount> blocks;
  std::array<Histogram, kStageCount> block_seconds;
  Gauge blocks_in_flight;
  Gauge limiter_tokens;
  Counter reader_waits;    ///< blocks that waited for a limiter token (memory budget)
  Counter reader_wait_ns;  ///< time they waited
  // Memory.
  Gauge memory_bytes;  ///< arena bytes reserved now (updated per block)
  Gauge memory_peak_bytes;
  Gauge memory_budget_bytes;
  // Limits.
  Gauge threads;
  Gauge job_timeout_ms;  ///< limits.timeout, 0 when unset (rendered in seconds)
  Gauge script_heap_limit_bytes;
  Gauge input_size_bytes;
  // V8 heap plus ArrayBuffers in use per isolate (worker index < kMaxWorkers), and the
  // largest of them seen.
  static constexpr size_t kMaxWorkers = 256;
  std::array<Gauge, kMaxWorkers> v8_heap_bytes;
  Gauge v8_heap_peak_bytes;
  std::atomic<int> v8_workers{0};
  // State.
  std::atomic<bool> ready{false};  ///< startup checks passed and the graph is running
  std::atomic<int64_t> start_unix_ms{0};
  std::atomic<int> outcome{-1};  ///< -1 running, 0 failed, 1 succeeded

  /// Counts one rejected row by its error code.
  void AddReject(const std::string& code);
  std::map<std::string, uint64_t> RejectsByCode() const;

  /// Prometheus text exposition format, version 0.0.4.
  std::string RenderPrometheus() const;

 private:
  mutable std::mutex rejects_mutex_;
  std::map<std::string, uint64_t> rejects_;
};

}  // namespace flowengine
