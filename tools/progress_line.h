// ProgressLine: on a terminal, a line on stderr redrawn four times a second while a run
// lasts: bytes and rows done, MB/s, rows/s, ETA (from the input size), rejects so far.
// Erased when the run ends. Does nothing when stderr is not a terminal or the log is JSON.
#pragma once

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "core/metrics/metrics.h"

namespace flowengine::cli {

class ProgressLine {
 public:
  explicit ProgressLine(const Metrics& metrics);
  ~ProgressLine();  ///< stops and erases the line
  ProgressLine(const ProgressLine&) = delete;
  ProgressLine& operator=(const ProgressLine&) = delete;

 private:
  void Loop();
  void Draw(double seconds);

  const Metrics& metrics_;
  std::mutex mutex_;
  std::condition_variable cv_;
  bool done_ = false;
  bool drawn_ = false;
  std::thread thread_;
};

}  // namespace flowengine::cli
