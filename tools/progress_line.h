// ProgressLine: on a terminal, a line on stderr redrawn at each progress report of a run
// (four times a second): bytes and rows done, MB/s, rows/s, ETA (from the input size),
// rejects so far. Erased when the run ends. Does nothing when stderr is not a terminal or the
// log is JSON. A RunObserver of the public API (include/flowengine/flowengine.h); the engine
// calls it from one thread at a time.
#pragma once

#include "flowengine/flowengine.h"

namespace flowengine::cli {

class ProgressLine final : public RunObserver {
 public:
  ProgressLine();
  ~ProgressLine() override;  ///< erases the line
  ProgressLine(const ProgressLine&) = delete;
  ProgressLine& operator=(const ProgressLine&) = delete;

  void OnProgress(const Progress& p) override;
  void OnFinished(const RunResult& result) override;
  /// A log line is about to be written: the progress line makes way (redrawn at the next
  /// progress report).
  void OnLog(const LogRecord& record) override;

 private:
  void Erase();
  bool enabled_ = false;
  bool drawn_ = false;
};

}  // namespace flowengine::cli
