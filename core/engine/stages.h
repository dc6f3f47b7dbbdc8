// The contracts between the engine and the pipeline's nodes. The engine (core/) only knows
// these interfaces; nodes/ implements them and hands the engine a NodeFactory, so core/
// never includes nodes/. Each method says when the engine calls it and on which thread.
#pragma once

#include <atomic>
#include <functional>
#include <memory>

#include "core/batch/row_batch.h"
#include "core/config/pipeline_spec.h"
#include "core/io/atomic_file.h"
#include "core/memory/memory_budget.h"
#include "core/metrics/metrics.h"
#include "core/types/schema.h"

namespace flowengine {

/// Reads and parses the input.
class SourceStage {
 public:
  virtual ~SourceStage() = default;
  /// Before Open(): the run's stop flag, which must end any wait for input (default: the
  /// process's stop flag).
  virtual void SetStopFlag(const std::atomic<bool>* /*stop*/) {}
  /// Before Open(): the run's memory budget, to charge the reader's own buffers to (the
  /// blocks it hands out are charged by the engine's chunks).
  virtual void AttachMemoryBudget(MemoryBudget* /*budget*/) {}
  /// Startup, calling thread: open the input, resolve the schema. Throws ErrorException.
  virtual void Open() = 0;
  /// After Open(): the schema of the rows Parse() produces.
  virtual const Schema& schema() const = 0;
  /// After Open(): input size in bytes, 0 when unknown.
  virtual int64_t input_size() const = 0;
  /// Reader stage, one call at a time: the next block of whole records; false at the end.
  virtual bool ReadBlock(Block& block) = 0;
  /// Parse stage, concurrent on different chunks: fill chunk.batch, set chunk.error.
  virtual void Parse(Chunk& chunk) const = 0;
};

/// One transform step (a JavaScript step, or a node an application registered:
/// core/engine/node_registry.h). A pipeline's steps run in order, each its own parallel node
/// of the graph; step k+1 sees the rows step k sent on, folded into chunk.fold_batch
/// (core/engine/step_fold.h).
class TransformStage {
 public:
  virtual ~TransformStage() = default;
  /// Before Open(), calling thread: the run's stop flag; a step that can run long (a script)
  /// must end its work when it is set.
  virtual void SetStopFlag(const std::atomic<bool>* /*stop*/) {}
  /// Startup, calling thread, once: check against the input schema (the source's, or the
  /// previous step's output), compile, and size what the step needs. May do I/O and block.
  /// Throws ErrorException.
  virtual void Open(const Schema& input) = 0;
  /// After Open(): the schema of the rows Transform() produces.
  virtual const Schema& output_schema() const = 0;
  /// Transform stage, on the graph's worker threads, concurrently on different chunks (never
  /// two calls on one chunk). Must not block on I/O or on other chunks (the graph's threads
  /// are shared by every stage); may wait only for its own per-thread resources. Reads
  /// chunk.StepInput() (its spans point into chunk.BatchText()); writes only:
  ///   - chunk.transform, after chunk.BeginTransformStep(): batch (one output row per input
  ///     row, rows[] copied from the input), values (appended, never rewritten), main_rows,
  ///     route_rows, and adds to filtered, routed, copies, rejected;
  ///   - chunk.rejects (skip-row: append, keeping input order), chunk.error (fail-fast).
  /// Throwing ErrorException is the same as setting chunk.error.
  virtual void Transform(Chunk& chunk) = 0;
  /// Before Open(), calling thread: where to report the step's own measures (V8 heap).
  virtual void AttachMetrics(Metrics* /*metrics*/) {}
};

/// Formats and writes the output atomically.
class SinkStage {
 public:
  virtual ~SinkStage() = default;
  /// Before Open(): the run's stop flag, which must end any wait (lock, retry backoff).
  virtual void SetStopFlag(const std::atomic<bool>* /*stop*/) {}
  /// Side-effect-free startup checks (target directory, output mode). Throws ErrorException.
  virtual void Check() const = 0;
  /// Startup: create the temp file, write the header. Throws ErrorException.
  virtual void Open() = 0;
  /// Format stage, concurrent on different chunks: render the rows of `chunk` meant for
  /// this sink (`route` -1: the main sink, else that route) into `out`.
  virtual void Format(const Chunk& chunk, int route, ByteBuffer& out) const = 0;
  /// Writer stage, one call at a time, chunks in input order. Throws ErrorException.
  virtual void Write(const ByteBuffer& bytes) = 0;
  /// After a successful run, on the calling thread: the file holding this sink's output,
  /// opened by Open() and complete. The engine commits the files of every sink of the run
  /// as one set (core/io/commit_set.h); a sink never makes its output visible itself.
  virtual AtomicFile& file() = 0;
  /// A sink that streams (standard output) writes as the rows come: it has no file to
  /// commit (file() is not called) and cannot take back what it wrote.
  virtual bool Streams() const { return false; }
  /// After a successful run, on the calling thread, before the files are committed: a
  /// streaming sink writes what is left (the header of an empty output). Throws.
  virtual void Finish() {}
  /// After a failed or stopped run: remove every trace; the target stays untouched.
  virtual void Abort() noexcept = 0;
};

/// Builds the stages of a pipeline. Constructors must not do I/O.
struct NodeFactory {
  std::function<std::unique_ptr<SourceStage>(const PipelineSpec&)> make_source;
  /// Transform step `step` of spec.transforms (built by the node registry). Unset: a
  /// factory that builds no transform (the pipeline must then have no steps).
  std::function<std::unique_ptr<TransformStage>(const PipelineSpec&, size_t step)> make_transform;
  /// A sink writing `sink` (the main sink or a route's); `input` is the schema of the rows
  /// reaching it, whose untouched fields are still in the source's dialect.
  std::function<std::unique_ptr<SinkStage>(const PipelineSpec&, const SinkSpec& sink,
                                           const Schema& input)>
      make_sink;
  /// The dead-letter sink of a skip-row pipeline (formats chunk.rejects).
  std::function<std::unique_ptr<SinkStage>(const PipelineSpec&)> make_dead_letter;
};

}  // namespace flowengine
