#include "core/metrics/trace.h"

#include <atomic>
#include <cstdio>

namespace flowengine {
namespace {

std::atomic<uint64_t> g_next_recorder_id{1};

struct ThreadSlot {
  uint64_t recorder_id = 0;
  void* buffer = nullptr;
};
thread_local ThreadSlot t_slot;

}  // namespace

TraceRecorder::TraceRecorder()
    : origin_(std::chrono::steady_clock::now()), id_(g_next_recorder_id.fetch_add(1)) {}

TraceRecorder::ThreadBuffer& TraceRecorder::BufferForThisThread() {
  if (t_slot.recorder_id != id_) {
    std::lock_guard<std::mutex> lock(mutex_);
    buffers_.push_back(ThreadBuffer{static_cast<int>(buffers_.size()) + 1, {}});
    buffers_.back().events.reserve(1024);
    t_slot.recorder_id = id_;
    t_slot.buffer = &buffers_.back();
  }
  return *static_cast<ThreadBuffer*>(t_slot.buffer);
}

void TraceRecorder::Record(Stage stage, std::chrono::steady_clock::time_point start,
                           std::chrono::nanoseconds duration, uint64_t seq, uint64_t rows,
                           uint64_t bytes) {
  const int64_t start_ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(start - origin_).count();
  BufferForThisThread().events.push_back(
      Event{start_ns, static_cast<int64_t>(duration.count()), seq, rows, bytes, stage});
}

size_t TraceRecorder::event_count() const {
  std::lock_guard<std::mutex> lock(mutex_);
  size_t n = 0;
  for (const ThreadBuffer& b : buffers_) n += b.events.size();
  return n;
}

std::string TraceRecorder::ToJson() const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::string out = "{\"displayTimeUnit\":\"ms\",\"traceEvents\":[\n";
  out +=
      "{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":1,\"tid\":0,"
      "\"args\":{\"name\":\"flowengine\"}}";
  char buf[320];
  for (const ThreadBuffer& b : buffers_) {
    std::snprintf(buf, sizeof(buf),
                  ",\n{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":1,\"tid\":%d,"
                  "\"args\":{\"name\":\"thread %d\"}}",
                  b.tid, b.tid);
    out += buf;
    for (const Event& e : b.events) {
      std::snprintf(buf, sizeof(buf),
                    ",\n{\"name\":\"%s\",\"cat\":\"block\",\"ph\":\"X\",\"ts\":%.3f,"
                    "\"dur\":%.3f,\"pid\":1,\"tid\":%d,\"args\":{\"seq\":%llu,\"rows\":%llu,"
                    "\"bytes\":%llu}}",
                    StageLabel(e.stage), static_cast<double>(e.start_ns) / 1e3,
                    static_cast<double>(e.duration_ns) / 1e3, b.tid,
                    static_cast<unsigned long long>(e.seq), static_cast<unsigned long long>(e.rows),
                    static_cast<unsigned long long>(e.bytes));
      out += buf;
    }
  }
  out += "\n]}\n";
  return out;
}

}  // namespace flowengine
