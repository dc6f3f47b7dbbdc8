#include "core/metrics/metrics.h"

#include <sys/resource.h>

#include <chrono>
#include <cstdio>

#include "core/io/retry.h"

namespace flowengine {
namespace {

// Each thread adds to one shard, picked round-robin when the thread first counts.
size_t ShardIndex() noexcept {
  static std::atomic<size_t> next{0};
  thread_local const size_t index = next.fetch_add(1, std::memory_order_relaxed) % kMetricShards;
  return index;
}

std::string Number(double v) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.9g", v);
  return buf;
}

std::string LabelValue(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

struct Writer {
  std::string out;
  void Head(const char* name, const char* type, const char* help) {
    out += "# HELP ";
    out += name;
    out += ' ';
    out += help;
    out += "\n# TYPE ";
    out += name;
    out += ' ';
    out += type;
    out += '\n';
  }
  void Sample(const std::string& name, const std::string& labels, double value) {
    out += name;
    if (!labels.empty()) out += "{" + labels + "}";
    out += ' ';
    out += Number(value);
    out += '\n';
  }
};

}  // namespace

void Counter::Add(uint64_t n) noexcept {
  shards_[ShardIndex()].value.fetch_add(n, std::memory_order_relaxed);
}

uint64_t Counter::Value() const noexcept {
  uint64_t sum = 0;
  for (const Shard& s : shards_) sum += s.value.load(std::memory_order_relaxed);
  return sum;
}

void Histogram::ObserveNanos(int64_t ns) noexcept {
  const double seconds = static_cast<double>(ns) / 1e9;
  size_t b = 0;
  while (b < kBounds.size() && seconds > kBounds[b]) ++b;
  Shard& s = shards_[ShardIndex()];
  s.buckets[b].fetch_add(1, std::memory_order_relaxed);
  s.sum_ns.fetch_add(static_cast<uint64_t>(ns > 0 ? ns : 0), std::memory_order_relaxed);
}

Histogram::Snapshot Histogram::Read() const noexcept {
  Snapshot snap;
  uint64_t sum_ns = 0;
  std::array<uint64_t, kBounds.size() + 1> counts{};
  for (const Shard& s : shards_) {
    for (size_t b = 0; b < counts.size(); ++b) {
      counts[b] += s.buckets[b].load(std::memory_order_relaxed);
    }
    sum_ns += s.sum_ns.load(std::memory_order_relaxed);
  }
  uint64_t running = 0;
  for (size_t b = 0; b < counts.size(); ++b) {
    running += counts[b];
    snap.cumulative[b] = running;
  }
  snap.count = running;
  snap.sum = static_cast<double>(sum_ns) / 1e9;
  return snap;
}

const char* StageLabel(Stage stage) {
  switch (stage) {
    case Stage::kRead:
      return "read";
    case Stage::kParse:
      return "parse";
    case Stage::kTransform:
      return "transform";
    case Stage::kFormat:
      return "format";
    case Stage::kWrite:
      return "write";
  }
  return "?";
}

void Metrics::AddReject(const std::string& code) {
  std::lock_guard<std::mutex> lock(rejects_mutex_);
  ++rejects_[code];
}

std::map<std::string, uint64_t> Metrics::RejectsByCode() const {
  std::lock_guard<std::mutex> lock(rejects_mutex_);
  return rejects_;
}

std::string Metrics::RenderPrometheus() const {
  Writer w;
  const auto d = [](uint64_t v) { return static_cast<double>(v); };

  w.Head("flowengine_rows_total", "counter", "Rows by stage and outcome.");
  const struct {
    const char* stage;
    const char* outcome;
    const Counter& c;
  } rows[] = {{"parse", "ok", rows_parsed},
              {"parse", "rejected", rows_parse_rejected},
              {"transform", "ok", rows_transformed},
              {"transform", "filtered", rows_filtered},
              {"transform", "routed", rows_routed},
              {"transform", "copied", rows_copied},
              {"transform", "rejected", rows_script_rejected},
              {"write", "written", rows_written},
              {"write", "dead_letter", rows_dead_lettered}};
  for (const auto& r : rows) {
    w.Sample("flowengine_rows_total",
             std::string("stage=\"") + r.stage + "\",outcome=\"" + r.outcome + "\"",
             d(r.c.Value()));
  }
  w.Head("flowengine_bytes_total", "counter",
         "Bytes read from the source and formatted for sinks.");
  w.Sample("flowengine_bytes_total", "stage=\"read\"", d(bytes_read.Value()));
  w.Sample("flowengine_bytes_total", "stage=\"write\"", d(bytes_written.Value()));

  w.Head("flowengine_blocks_total", "counter", "Blocks each stage has processed.");
  for (size_t s = 0; s < kStageCount; ++s) {
    w.Sample("flowengine_blocks_total",
             std::string("stage=\"") + StageLabel(static_cast<Stage>(s)) + "\"",
             d(blocks[s].Value()));
  }
  w.Head("flowengine_block_seconds", "histogram", "Time one stage spends on one block.");
  for (size_t s = 0; s < kStageCount; ++s) {
    const std::string stage = std::string("stage=\"") + StageLabel(static_cast<Stage>(s)) + "\"";
    const Histogram::Snapshot snap = block_seconds[s].Read();
    for (size_t b = 0; b < Histogram::kBounds.size(); ++b) {
      w.Sample("flowengine_block_seconds_bucket",
               stage + ",le=\"" + Number(Histogram::kBounds[b]) + "\"", d(snap.cumulative[b]));
    }
    w.Sample("flowengine_block_seconds_bucket", stage + ",le=\"+Inf\"", d(snap.cumulative.back()));
    w.Sample("flowengine_block_seconds_sum", stage, snap.sum);
    w.Sample("flowengine_block_seconds_count", stage, d(snap.count));
  }
  w.Head("flowengine_blocks_in_flight", "gauge", "Blocks between the reader and the writer.");
  w.Sample("flowengine_blocks_in_flight", "", static_cast<double>(blocks_in_flight.Value()));
  w.Head("flowengine_limiter_tokens", "gauge",
         "Blocks the limiter admits at once (from limits.memory and the thread count).");
  w.Sample("flowengine_limiter_tokens", "", static_cast<double>(limiter_tokens.Value()));
  w.Head("flowengine_reader_waits_total", "counter",
         "Blocks the reader had to hold back because every limiter token was taken.");
  w.Sample("flowengine_reader_waits_total", "", d(reader_waits.Value()));
  w.Head("flowengine_reader_wait_seconds_total", "counter",
         "Time blocks waited for a limiter token.");
  w.Sample("flowengine_reader_wait_seconds_total", "", d(reader_wait_ns.Value()) / 1e9);

  w.Head("flowengine_memory_bytes", "gauge", "Block, batch and output memory reserved now.");
  w.Sample("flowengine_memory_bytes", "", static_cast<double>(memory_bytes.Value()));
  w.Head("flowengine_memory_peak_bytes", "gauge", "Peak of flowengine_memory_bytes.");
  w.Sample("flowengine_memory_peak_bytes", "", static_cast<double>(memory_peak_bytes.Value()));
  w.Head("flowengine_memory_budget_bytes", "gauge", "limits.memory.");
  w.Sample("flowengine_memory_budget_bytes", "", static_cast<double>(memory_budget_bytes.Value()));
  w.Head("flowengine_threads", "gauge",
         "Worker threads (limits.threads, capped by the CPU quota).");
  w.Sample("flowengine_threads", "", static_cast<double>(threads.Value()));
  w.Head("flowengine_job_timeout_seconds", "gauge", "limits.timeout (0: none).");
  w.Sample("flowengine_job_timeout_seconds", "", static_cast<double>(job_timeout_ms.Value()) / 1e3);
  w.Head("flowengine_input_size_bytes", "gauge", "Size of the input file (0 for a pipe).");
  w.Sample("flowengine_input_size_bytes", "", static_cast<double>(input_size_bytes.Value()));

  const int workers = v8_workers.load();
  w.Head("flowengine_v8_heap_limit_bytes", "gauge", "limits.scriptHeap, per isolate.");
  w.Sample("flowengine_v8_heap_limit_bytes", "",
           static_cast<double>(script_heap_limit_bytes.Value()));
  w.Head("flowengine_v8_heap_bytes", "gauge",
         "V8 heap plus ArrayBuffers in use per isolate (worker thread).");
  for (int i = 0; i < workers && i < static_cast<int>(kMaxWorkers); ++i) {
    w.Sample("flowengine_v8_heap_bytes", "worker=\"" + std::to_string(i) + "\"",
             static_cast<double>(v8_heap_bytes[static_cast<size_t>(i)].Value()));
  }

  w.Head("flowengine_retries_total", "counter", "Transient I/O failures retried.");
  w.Sample("flowengine_retries_total", "", d(RetryCount().load()));
  w.Head("flowengine_rejects_total", "counter", "Rows rejected under skip-row, by error code.");
  for (const auto& [code, count] : RejectsByCode()) {
    w.Sample("flowengine_rejects_total", "code=\"" + LabelValue(code) + "\"", d(count));
  }

  struct rusage usage {};
  getrusage(RUSAGE_SELF, &usage);
  w.Head("flowengine_peak_rss_bytes", "gauge", "Peak resident memory of the process so far.");
  w.Sample("flowengine_peak_rss_bytes", "", static_cast<double>(usage.ru_maxrss) * 1024);

  w.Head("flowengine_ready", "gauge", "1 while startup checks have passed and the graph runs.");
  w.Sample("flowengine_ready", "", ready.load() ? 1 : 0);
  w.Head("flowengine_run_success", "gauge", "1 succeeded, 0 failed, -1 still running.");
  w.Sample("flowengine_run_success", "", outcome.load());
  const int64_t start_ms = start_unix_ms.load();
  w.Head("flowengine_start_time_seconds", "gauge", "Unix time the run started.");
  w.Sample("flowengine_start_time_seconds", "", static_cast<double>(start_ms) / 1e3);
  const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
  w.Head("flowengine_run_duration_seconds", "gauge", "Time since the run started.");
  w.Sample("flowengine_run_duration_seconds", "",
           start_ms > 0 ? static_cast<double>(now_ms - start_ms) / 1e3 : 0);
  return w.out;
}

}  // namespace flowengine
