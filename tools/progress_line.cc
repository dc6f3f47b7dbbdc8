#include "tools/progress_line.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <string>

#include "core/log/logger.h"

namespace flowengine::cli {

ProgressLine::ProgressLine(const Metrics& metrics) : metrics_(metrics) {
  if (!isatty(STDERR_FILENO) || CurrentLogFormat() != LogFormat::kText) return;
  thread_ = std::thread([this] { Loop(); });
}

ProgressLine::~ProgressLine() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    done_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (drawn_) std::fputs("\r\033[K", stderr);
}

void ProgressLine::Loop() {
  const auto start = std::chrono::steady_clock::now();
  std::unique_lock<std::mutex> lock(mutex_);
  while (!cv_.wait_for(lock, std::chrono::milliseconds(250), [this] { return done_; })) {
    Draw(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
}

void ProgressLine::Draw(double seconds) {
  const double bytes = static_cast<double>(metrics_.bytes_read.Value());
  const double rows =
      static_cast<double>(metrics_.rows_parsed.Value() + metrics_.rows_parse_rejected.Value());
  const double size = static_cast<double>(metrics_.input_size_bytes.Value());
  uint64_t rejects = 0;
  for (const auto& [code, n] : metrics_.RejectsByCode()) rejects += n;
  const double rate = seconds > 0 ? bytes / seconds : 0;
  std::string eta = "?";
  if (size > 0 && rate > 0 && bytes <= size) {
    const auto left = static_cast<long long>((size - bytes) / rate);
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%lld:%02lld", left / 60, left % 60);
    eta = buf;
  }
  char line[256];
  std::snprintf(
      line, sizeof(line),
      "\r\033[K%.1f MB%s  %.0f rows  %.0f MB/s  %.0f rows/s  ETA %s  rejects %llu", bytes / 1e6,
      size > 0 ? (" of " + std::to_string(static_cast<long long>(size / 1e6)) + " MB").c_str() : "",
      rows, rate / 1e6, seconds > 0 ? rows / seconds : 0, eta.c_str(),
      static_cast<unsigned long long>(rejects));
  std::fputs(line, stderr);
  std::fflush(stderr);
  drawn_ = true;
}

}  // namespace flowengine::cli
