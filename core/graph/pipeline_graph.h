// Compiles the pipeline's stages into a oneTBB flow graph and runs it:
//
//   reader (input_node, serial) -> limiter_node(tokens) -> parse (parallel)
//     -> transform step 0 -> ... -> step N-1 (parallel, one node per step; none without
//        a transform) -> format (parallel)
//     -> sequencer_node(block seq) -> writer (serial) -> limiter decrement
//
// Stages are plain callbacks, so nodes/ never include TBB. No exception escapes a node
// body: each is caught and stored on the chunk as an Error; later stages pass such chunks
// through, and the writer, which sees chunks in input order, records the first one (the
// earliest in file order) and stops the reader. RunGraph is called from one thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/batch/row_batch.h"
#include "core/error/error.h"
#include "core/log/logger.h"
#include "core/memory/memory_budget.h"
#include "core/metrics/metrics.h"
#include "core/metrics/trace.h"

namespace flowengine {

struct GraphStages {
  std::function<bool(Block&)> read;   ///< serial; false when the input is exhausted
  std::function<void(Chunk&)> parse;  ///< parallel; may set chunk.error
  /// The transform steps in order, each its own parallel node; each may set chunk.error.
  std::vector<std::function<void(Chunk&)>> transforms;
  std::function<void(Chunk&)> format;       ///< parallel
  std::function<void(const Chunk&)> write;  ///< serial, in input order
};

struct GraphOptions {
  int threads = 1;                    ///< worker threads (see EffectiveThreads)
  size_t tokens = 4;                  ///< blocks admitted by the limiter
  MemoryBudget* budget = nullptr;     ///< account for the chunks' buffers
  int64_t max_rejects = -1;           ///< skip-row: more rejected rows fail the run; -1: any
  std::atomic<bool>* stop = nullptr;  ///< set from outside (signals) to stop reading
  Metrics* metrics = nullptr;         ///< per-block counters and latencies (may be null)
  TraceRecorder* trace = nullptr;     ///< a slice per block per stage (null: not traced)
  RunLog* log = nullptr;              ///< where the stages' log lines go (null: the process logger)
};

/// Busy time of each stage, summed over threads.
struct StageSeconds {
  double read = 0;
  double parse = 0;
  double transform = 0;
  double format = 0;
  double write = 0;
};

struct GraphResult {
  std::optional<Error> error;  ///< earliest error in file order
  bool stopped = false;        ///< ended because `stop` was set
  uint64_t blocks = 0;
  uint64_t rows = 0;           ///< rows read (parsed) in the blocks that were written, and after a
                               ///< failure the rows parsed before the failing one
  uint64_t rows_written = 0;   ///< rows for the main sink
  uint64_t rows_routed = 0;    ///< rows moved to a route
  uint64_t rows_filtered = 0;  ///< rows a transform dropped
  uint64_t row_copies = 0;     ///< copies sent to routes
  uint64_t rows_rejected = 0;  ///< rows set aside under skip-row
  std::map<std::string, uint64_t> rejects_by_code;
  std::optional<Error> first_reject;  ///< the earliest rejected row's error
  uint64_t bytes_read = 0;            ///< bytes of the blocks written
  size_t tokens = 0;
  int threads = 0;
  StageSeconds busy;
};

/// Runs the graph to completion (or to the first error / stop request).
GraphResult RunGraph(const GraphStages& stages, const GraphOptions& options);

/// The nodes and edges of the graph RunGraph builds, in the order it makes them.
struct GraphShape {
  struct Node {
    std::string name;         ///< "read", "limiter", "parse", "transform[0]", ... "write"
    std::string concurrency;  ///< "serial", "parallel", or "" (a buffering node)
    std::string detail;       ///< e.g. "6 blocks in flight"
  };
  struct Edge {
    size_t from, to;
    std::string label;  ///< "" or "decrement"
  };
  std::vector<Node> nodes;
  std::vector<Edge> edges;
};

/// Builds the graph RunGraph would run for `stages` and `options` (the same code), without
/// running it: nothing is read. For `flowengine inspect`.
GraphShape CompileGraph(const GraphStages& stages, const GraphOptions& options);

}  // namespace flowengine
