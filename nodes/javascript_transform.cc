#include "nodes/javascript_transform.h"

#include <chrono>

namespace flowengine {

JavascriptTransform::JavascriptTransform(const PipelineSpec& spec, size_t step)
    : spec_(spec), step_(step) {}

JavascriptTransform::~JavascriptTransform() {
  workers_.clear();  // isolates go before the watchdog that watches them
  watchdog_.reset();
}

void JavascriptTransform::Open(const Schema& input) {
  const TransformSpec& t = spec_.transforms.at(step_);
  config_.code = t.code;
  config_.display_name = t.display_name;
  config_.line_offset = t.code_line_offset;
  config_.input_file = spec_.source.path == "-" ? "<stdin>" : spec_.source.path;
  config_.input_dialect = spec_.source.dialect;
  config_.input = input.columns;
  config_.output = t.output.empty() ? input.columns : t.output;
  // Routes take rows from the last step only: an earlier step's rows go on to the next.
  if (step_ + 1 == spec_.transforms.size()) {
    for (const RouteSpec& r : spec_.routes) config_.routes.push_back(r.name);
  } else if (!spec_.routes.empty()) {
    config_.routes_note = "(none in transform[" + std::to_string(step_) +
                          "]: routes take rows from the last transform step only, transform[" +
                          std::to_string(spec_.transforms.size() - 1) + "])";
  }
  config_.heap_bytes = spec_.limits.script_heap;
  if (spec_.transforms.size() > 1) config_.step_label = "transform[" + std::to_string(step_) + "]";
  config_.skip_bad_rows = spec_.error_handling == ErrorHandling::kSkipRow;
  output_.columns = config_.output;
  watchdog_ =
      std::make_unique<Watchdog>(std::chrono::milliseconds(spec_.limits.script_timeout_ms), stop_);
  // Compiling here reports syntax errors at startup; this thread keeps the worker.
  WorkerForThisThread();
}

JsWorker& JavascriptTransform::WorkerForThisThread() {
  const std::thread::id id = std::this_thread::get_id();
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = workers_.find(id);
    if (it != workers_.end() && !it->second->broken()) return *it->second;
  }
  auto worker = std::make_unique<JsWorker>(config_, watchdog_.get());
  std::lock_guard<std::mutex> lock(mutex_);
  std::unique_ptr<JsWorker>& slot = workers_[id];
  slot = std::move(worker);
  return *slot;
}

void JavascriptTransform::Transform(Chunk& chunk) { WorkerForThisThread().Run(chunk); }

}  // namespace flowengine
