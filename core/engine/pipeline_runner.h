// Runs a pipeline end to end: startup checks, the flow graph, then commit or abort.
// Whatever happens, the sink's target is either untouched or replaced by the complete
// output. One call per pipeline run; the caller's thread drives it.
#pragma once

#include <atomic>
#include <optional>

#include "core/config/pipeline_spec.h"
#include "core/engine/stages.h"
#include "core/error/error.h"

namespace flowengine {

struct RunOptions {
  std::atomic<bool>* stop = nullptr;  ///< set (e.g. by a signal handler) to stop the run
};

struct RunSummary {
  std::optional<Error> error;  ///< set when the run failed or was stopped
  bool stopped = false;        ///< stopped through RunOptions::stop
  uint64_t rows_read = 0;
  uint64_t rows_written = 0;
  uint64_t bytes_read = 0;
  double seconds = 0;
  int threads = 0;
};

/// Runs `spec` with nodes from `factory`. Never throws for pipeline problems: they are in
/// RunSummary::error.
RunSummary RunPipeline(const PipelineSpec& spec, const NodeFactory& factory,
                       const RunOptions& options = {});

/// The checks of `flowengine validate`: opens the source (header, schema) and checks the
/// sink, without writing anything. Throws ErrorException.
void ValidatePipeline(const PipelineSpec& spec, const NodeFactory& factory);

}  // namespace flowengine
