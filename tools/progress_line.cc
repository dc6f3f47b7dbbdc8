#include "tools/progress_line.h"

#include <unistd.h>

#include <cstdio>
#include <string>

#include "core/log/logger.h"

namespace flowengine::cli {

ProgressLine::ProgressLine()
    : enabled_(isatty(STDERR_FILENO) != 0 && CurrentLogFormat() == LogFormat::kText) {}

ProgressLine::~ProgressLine() { Erase(); }

void ProgressLine::Erase() {
  if (drawn_) std::fputs("\r\033[K", stderr);
  drawn_ = false;
}

void ProgressLine::OnFinished(const RunResult& /*result*/) { Erase(); }

void ProgressLine::OnLog(const LogRecord& /*record*/) { Erase(); }

void ProgressLine::OnProgress(const Progress& p) {
  if (!enabled_) return;
  const auto bytes = static_cast<double>(p.bytes_read);
  const auto rows = static_cast<double>(p.rows_read);
  const auto size = static_cast<double>(p.input_bytes);
  const double seconds = p.seconds;
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
      static_cast<unsigned long long>(p.rows_rejected));
  std::fputs(line, stderr);
  std::fflush(stderr);
  drawn_ = true;
}

}  // namespace flowengine::cli
