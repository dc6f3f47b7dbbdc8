// JavascriptTransform: the `javascript` transform step. Open() compiles the script on the
// calling thread (syntax errors are reported before any data is read); Transform() runs on
// any thread and uses that thread's JsWorker — one V8 isolate per thread, created on first
// use and kept for the rest of the run. A watchdog thread enforces limits.scriptTimeout.
// Transform() is thread-safe; the constructor does no work.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include "core/config/pipeline_spec.h"
#include "core/engine/stages.h"
#include "core/js/js_worker.h"
#include "core/js/watchdog.h"

namespace flowengine {

class JavascriptTransform final : public TransformStage {
 public:
  /// Step `step` of spec.transforms (a javascript step).
  JavascriptTransform(const PipelineSpec& spec, size_t step);
  ~JavascriptTransform() override;

  void Open(const Schema& input) override;
  const Schema& output_schema() const override { return output_; }
  void Transform(Chunk& chunk) override;
  void AttachMetrics(Metrics* metrics) override { config_.metrics = metrics; }
  void SetStopFlag(const std::atomic<bool>* stop) override { stop_ = stop; }

 private:
  JsWorker& WorkerForThisThread();

  const PipelineSpec& spec_;
  size_t step_;
  ScriptConfig config_;
  Schema output_;
  std::unique_ptr<Watchdog> watchdog_;
  const std::atomic<bool>* stop_ = nullptr;  // null: the process's stop flag
  std::mutex mutex_;
  std::map<std::thread::id, std::unique_ptr<JsWorker>> workers_;
};

}  // namespace flowengine
