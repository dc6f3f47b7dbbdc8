// Runs a pipeline end to end: startup checks, the flow graph, then commit or abort.
// Whatever happens, the sink's target is either untouched or replaced by the complete
// output. One call per pipeline run; the caller's thread drives it.
#pragma once

#include <atomic>
#include <map>
#include <optional>
#include <string>

#include "core/config/pipeline_spec.h"
#include "core/engine/stages.h"
#include "core/error/error.h"
#include "core/graph/pipeline_graph.h"
#include "core/io/file_identity.h"

namespace flowengine {

class RowSampler;

struct RunOptions {
  std::atomic<bool>* stop = nullptr;  ///< set (e.g. by a signal handler) to stop the run
  Metrics* metrics = nullptr;         ///< filled while the run lasts (may be null)
  TraceRecorder* trace = nullptr;     ///< a slice per block per stage (null: no trace)
  RowSampler* sampler = nullptr;      ///< --sample (null: none)
  /// Where the run's log lines go, from every thread working for it (null: the process
  /// logger); see core/log/logger.h.
  RunLog* log = nullptr;
  /// Files the caller writes after the run (report files: summary, trace, metrics,
  /// samples): checked with the pipeline's own files so that none of them is an input or
  /// another output.
  std::vector<PathUse> report_files;
};

struct RunSummary {
  std::optional<Error> error;  ///< set when the run failed or was stopped
  /// The file identity check passed: the report files (RunOptions::report_files) are
  /// distinct from every input and output and may be written. False when the run stopped
  /// before or at that check.
  bool paths_checked = false;
  /// Output targets (sink, routes, dead letters) replaced by the commit: all of them after a
  /// success, none after almost any failure, some after FE-OUTPUT-PARTIAL-COMMIT.
  size_t targets_replaced = 0;
  bool stopped = false;  ///< stopped through RunOptions::stop
  uint64_t rows_read = 0;
  uint64_t rows_written = 0;   ///< to the main sink
  uint64_t rows_routed = 0;    ///< moved to routes with send()
  uint64_t rows_filtered = 0;  ///< dropped by the transform (process() returned false)
  uint64_t row_copies = 0;     ///< copies sent to routes with sendCopy()
  uint64_t rows_rejected = 0;  ///< set aside under skip-row (in the dead-letter file)
  std::map<std::string, uint64_t> rejects_by_code;
  uint64_t bytes_read = 0;
  double seconds = 0;         ///< whole run: startup, graph, commit
  double graph_seconds = 0;   ///< reading, parsing, formatting and writing
  double commit_seconds = 0;  ///< fsync and rename of the output
  int threads = 0;
  StageSeconds busy;          ///< busy time per stage, summed over threads
  size_t tokens = 0;          ///< blocks in flight allowed by the memory plan
  int64_t memory_peak = 0;    ///< peak bytes reserved by block, batch and output buffers
  int64_t memory_budget = 0;  ///< limits.memory
  /// Largest V8 heap plus ArrayBuffers of one isolate (0 without a transform or metrics);
  /// bounded by limits.scriptHeap, outside limits.memory.
  int64_t script_memory_peak = 0;
  /// Rows into and out of each stage (from the metrics; all zero without them).
  struct StageRows {
    uint64_t in = 0;
    uint64_t out = 0;
  };
  StageRows parse_rows;       ///< in: records parsed; out: rows that parsed (in - rejected)
  StageRows transform_rows;   ///< in: rows given to the script; out: rows kept (main + routes)
  StageRows write_rows;       ///< in: rows formatted for every sink; out: main-sink rows
  uint64_t reader_waits = 0;  ///< blocks held back for a limiter token (memory budget)
  double reader_wait_seconds = 0;
};

/// Runs `spec` with nodes from `factory`. Never throws for pipeline problems: they are in
/// RunSummary::error.
RunSummary RunPipeline(const PipelineSpec& spec, const NodeFactory& factory,
                       const RunOptions& options = {});

/// The checks of `flowengine validate`: file identity, the source (header, schema) and the
/// sinks, without writing anything — except that a commit a killed run left half done is
/// completed first (and logged). Throws ErrorException.
void ValidatePipeline(const PipelineSpec& spec, const NodeFactory& factory);

}  // namespace flowengine
