// JsWorker: one V8 isolate running a transform step for one thread (see
// core/js/script_isolate.h for the isolate: the user's script and the engine's driver in
// contexts of their own). Created on first use by each thread that runs the transform stage
// (nodes/javascript_transform.h) and reused for every block; a script's globals therefore
// persist per worker thread. Run() crosses into JavaScript once per batch (more only after a
// failing row under skip-row), hands the values set back one by one (core/js/output_values.h)
// and decides each row's destination in plain C++ (core/js/batch_outcome.h).
//
// Thread safety: a JsWorker is used by one thread at a time (it takes a v8::Locker).
// Construction compiles and runs the script's top level; it throws ErrorException
// (FE-SCRIPT-SYNTAX, FE-SCRIPT-ERROR, FE-SCRIPT-TIMEOUT, FE-SCRIPT-HEAP,
// FE-SCRIPT-NO-PROCESS) on a bad script.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/batch/row_batch.h"
#include "core/config/pipeline_spec.h"
#include "core/js/watchdog.h"
#include "core/metrics/metrics.h"

namespace flowengine {

/// Everything a worker needs to know about the script and the rows it sees.
struct ScriptConfig {
  std::string code;
  std::string display_name;  ///< file path, or the YAML file for inline code
  int line_offset = 0;       ///< added to script line numbers in messages (inline code)
  std::string input_file;    ///< the source file, for row locations in messages
  Dialect input_dialect;     ///< how the source's fields are quoted and escaped
  std::vector<ColumnSpec> input;
  std::vector<ColumnSpec> output;
  std::vector<std::string> routes;
  std::string routes_note;
  /// "transform[k]" in a pipeline of several steps (prefixed to the messages of the errors
  /// this step finds, so that each names its step); "" for a pipeline of one step.
  std::string step_label;  ///< shown for the routes when `routes` is empty ("" : none configured)
  int64_t heap_bytes = 128ll << 20;
  bool skip_bad_rows = false;  ///< errorHandling: skip-row: failing rows become rejects
  Metrics* metrics = nullptr;  ///< V8 heap + ArrayBuffers in use, reported after each batch
};

class JsWorker {
 public:
  JsWorker(const ScriptConfig& config, Watchdog* watchdog);
  ~JsWorker();
  JsWorker(const JsWorker&) = delete;
  JsWorker& operator=(const JsWorker&) = delete;

  /// Runs process(context) for every row of chunk.StepInput() and fills chunk.transform; on a
  /// failing row sets chunk.error (script error, timeout, heap limit, bad return value).
  void Run(Chunk& chunk);

  /// True after the heap limit was hit: the isolate must not be used again.
  bool broken() const { return broken_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  bool broken_ = false;
};

}  // namespace flowengine
