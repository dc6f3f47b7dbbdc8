#include "core/graph/pipeline_graph.h"

#include <oneapi/tbb/flow_graph.h>
#include <oneapi/tbb/global_control.h>
#include <oneapi/tbb/task_arena.h>

#include <memory>
#include <optional>
#include <type_traits>

#include "core/batch/chunk_pool.h"

namespace flowengine {
namespace {

namespace flow = oneapi::tbb::flow;

// Runs `body`, turning any exception into the chunk's error.
template <typename Body>
void Guarded(Chunk& chunk, const char* stage, Body&& body) noexcept {
  try {
    body();
  } catch (const ErrorException& e) {
    chunk.error = e.error();
  } catch (const MemoryBudgetExceeded& e) {
    Location loc;
    if (chunk.block.file != nullptr) loc.file = *chunk.block.file;
    loc.line = chunk.block.first_line;
    loc.byte_offset = chunk.block.byte_offset;
    const auto mib = [](int64_t bytes) {
      return std::to_string((bytes + (1 << 20) - 1) >> 20) + " MiB";
    };
    chunk.error =
        MakeError("FE-RESOURCE-MEMORY",
                  std::string("limits.memory (") + mib(e.limit()) + ") is spent: the " + stage +
                      " stage of the block starting here needs " + mib(e.requested()) +
                      " more, with " + mib(e.reserved()) + " in use by the blocks in flight",
                  loc, stage);
  } catch (const std::bad_alloc&) {
    chunk.error = MakeError("FE-INTERNAL", "Out of memory", {}, stage);
  } catch (const std::exception& e) {
    chunk.error =
        MakeError("FE-INTERNAL", std::string("Unexpected exception: ") + e.what(), {}, stage);
  } catch (...) {
    chunk.error = MakeError("FE-INTERNAL", "Unexpected exception", {}, stage);
  }
}

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Runs one stage on one block: adds the time `body` takes to `total` (nanoseconds), and to
// the metrics and the trace when the run has them. A body that returns false handled no
// block (the reader at the end of the input): its time counts, but not as a block.
template <typename Body>
void Timed(std::atomic<int64_t>& total, const GraphOptions& options, Stage stage,
           const Chunk& chunk, Body&& body) {
  const auto start = std::chrono::steady_clock::now();
  bool handled_a_block = true;
  if constexpr (std::is_void_v<std::invoke_result_t<Body>>) {
    body();
  } else {
    handled_a_block = body();
  }
  const auto elapsed = std::chrono::steady_clock::now() - start;
  const int64_t ns = std::chrono::duration_cast<std::chrono::nanoseconds>(elapsed).count();
  total.fetch_add(ns, std::memory_order_relaxed);
  if (!handled_a_block) return;
  if (options.metrics != nullptr) {
    options.metrics->blocks[static_cast<size_t>(stage)].Add();
    options.metrics->block_seconds[static_cast<size_t>(stage)].ObserveNanos(ns);
  }
  if (options.trace != nullptr) {
    options.trace->Record(stage, start, std::chrono::nanoseconds(ns), chunk.block.seq,
                          chunk.batch.num_rows, chunk.block.bytes.size());
  }
}

// The writer's share of the metrics: rows and bytes that reached the sinks, rejects by code,
// and the memory in use.
void RecordWritten(Metrics& m, const Chunk& chunk, const MemoryBudget* budget) {
  const TransformOutput& t = chunk.transform;
  m.rows_written.Add(t.active ? t.main_rows.size() : chunk.batch.num_rows);
  m.rows_dead_lettered.Add(chunk.rejects.size());
  uint64_t bytes = chunk.output.size() + chunk.dead_output.size();
  for (const ByteBuffer& b : chunk.route_output) bytes += b.size();
  m.bytes_written.Add(bytes);
  for (const Reject& r : chunk.rejects) m.AddReject(r.error.code);
  if (budget != nullptr) {
    m.memory_bytes.Set(budget->reserved());
    m.memory_peak_bytes.Set(budget->peak());
  }
}

// Row conservation for one block: every record the parse read is written, routed, filtered
// or rejected, exactly once. A mismatch is an engine bug; it fails the run before anything
// is committed.
std::optional<Error> CheckConservation(const Chunk& chunk) {
  const TransformOutput& t = chunk.transform;
  const uint64_t accounted =
      (t.active ? t.main_rows.size() + t.routed + t.filtered : chunk.batch.num_rows) +
      chunk.rejects.size();
  if (accounted == chunk.records) return std::nullopt;
  Location loc;
  loc.line = chunk.block.first_line;
  loc.byte_offset = chunk.block.byte_offset;
  Error e = MakeError(
      "FE-INTERNAL",
      "Row accounting does not hold for the block starting here: " + std::to_string(chunk.records) +
          " records read, " + std::to_string(accounted) +
          " written, routed, filtered or rejected; nothing is committed",
      loc, "write");
  e.hint = "This is a FlowEngine bug: please report it with the pipeline and this message.";
  return e;
}

double Seconds(const std::atomic<int64_t>& ns) { return static_cast<double>(ns.load()) / 1e9; }

}  // namespace

namespace {

// Builds the graph; runs it unless `shape_only`, which receives the nodes and edges instead
// (what `flowengine inspect` shows is this graph, not a description of it).
GraphResult BuildAndRun(const GraphStages& stages, const GraphOptions& options,
                        GraphShape* shape_only) {
  GraphResult result;
  GraphShape shape;
  // Every node is recorded as it is made, and every edge as it is connected.
  const auto node = [&shape](std::string name, std::string concurrency, std::string detail) {
    shape.nodes.push_back(
        GraphShape::Node{std::move(name), std::move(concurrency), std::move(detail)});
    return shape.nodes.size() - 1;
  };
  const auto connect = [&shape](auto& from, size_t from_id, auto& to, size_t to_id,
                                const char* label = "") {
    flow::make_edge(from, to);
    shape.edges.push_back(GraphShape::Edge{from_id, to_id, label});
  };
  result.threads = options.threads > 0 ? options.threads : 1;
  result.tokens = options.tokens > 0 ? options.tokens : 1;
  std::atomic<bool> local_stop{false};
  std::atomic<bool>& external_stop = options.stop ? *options.stop : local_stop;
  std::atomic<bool> failed{false};
  ChunkPool pool(options.budget);
  uint64_t next_seq = 0;
  bool reader_done = false;

  auto stopping = [&] { return failed.load() || external_stop.load(); };
  Metrics* const metrics = options.metrics;
  bool full_after_read = false;  // reader-only state for the reader-wait metrics
  int64_t last_read_end_ns = 0;
  if (metrics != nullptr) metrics->limiter_tokens.Set(static_cast<int64_t>(result.tokens));
  std::atomic<int64_t> read_ns{0}, parse_ns{0}, transform_ns{0}, format_ns{0}, write_ns{0};

  // oneTBB caps its workers at the CPUs it sees: more threads than that (limits.threads above
  // the affinity or quota) would be silently refused, with a plain-text warning on stderr.
  // Raise the cap for this run so that the threads the run reports are the threads it has.
  std::optional<oneapi::tbb::global_control> allow;
  const size_t allowed = oneapi::tbb::global_control::active_value(
      oneapi::tbb::global_control::max_allowed_parallelism);
  if (static_cast<size_t>(result.threads) > allowed) {
    allow.emplace(oneapi::tbb::global_control::max_allowed_parallelism,
                  static_cast<size_t>(result.threads));
  }
  oneapi::tbb::task_arena arena(result.threads);
  arena.execute([&] {
    flow::graph g;
    flow::input_node<Chunk*> reader(g, [&](oneapi::tbb::flow_control& fc) -> Chunk* {
      const ScopedRunLog run_log(options.log);  // this thread works for this run now
      if (reader_done || stopping()) {
        if (external_stop.load() && !failed.load()) result.stopped = true;
        fc.stop();
        return nullptr;
      }
      if (metrics != nullptr && full_after_read) {
        // The limiter held the reader back since its last block (the memory budget holds).
        metrics->reader_waits.Add();
        metrics->reader_wait_ns.Add(static_cast<uint64_t>(NowNs() - last_read_end_ns));
        full_after_read = false;
      }
      Chunk* chunk = pool.Acquire();
      bool more = true;
      chunk->batch.num_rows = 0;
      Timed(read_ns, options, Stage::kRead, *chunk, [&] {
        Guarded(*chunk, "read", [&] { more = stages.read(chunk->block); });
        return more || chunk->error.has_value();
      });
      if (!more && !chunk->error) {
        pool.Release(chunk);
        reader_done = true;
        fc.stop();
        return nullptr;
      }
      chunk->block.seq = next_seq++;  // contiguous, whatever the source numbers
      if (chunk->error) reader_done = true;
      if (metrics != nullptr) {
        metrics->blocks_in_flight.Add(1);
        metrics->bytes_read.Add(chunk->block.bytes.size());
        // Every token taken: the reader cannot go on until the writer frees one.
        full_after_read = metrics->blocks_in_flight.Value() >= static_cast<int64_t>(result.tokens);
        last_read_end_ns = NowNs();
      }
      return chunk;
    });
    const size_t reader_id = node("read", "serial", "");
    flow::limiter_node<Chunk*> limiter(g, result.tokens);
    const size_t limiter_id =
        node("limiter", "", std::to_string(result.tokens) + " blocks in flight");
    flow::function_node<Chunk*, Chunk*> parse(g, flow::unlimited, [&](Chunk* chunk) {
      const ScopedRunLog run_log(options.log);  // this thread works for this run now
      if (chunk->error || stopping()) {
        chunk->skipped = true;
      } else {
        Timed(parse_ns, options, Stage::kParse, *chunk,
              [&] { Guarded(*chunk, "parse", [&] { stages.parse(*chunk); }); });
        chunk->records = chunk->batch.num_rows + chunk->rejects.size();
        if (metrics != nullptr) {
          metrics->rows_parsed.Add(chunk->batch.num_rows);
          metrics->rows_parse_rejected.Add(chunk->rejects.size());
        }
      }
      return chunk;
    });
    const size_t parse_id = node("parse", "parallel", "");
    // One node per transform step; a chunk that failed or is being dropped passes through.
    std::vector<size_t> step_ids;
    std::vector<std::unique_ptr<flow::function_node<Chunk*, Chunk*>>> steps;
    for (size_t k = 0; k < stages.transforms.size(); ++k) {
      const bool last = k + 1 == stages.transforms.size();
      steps.push_back(std::make_unique<flow::function_node<Chunk*, Chunk*>>(
          g, flow::unlimited, [&, k, last](Chunk* chunk) {
            const ScopedRunLog run_log(options.log);  // this thread works for this run now
            if (chunk->error || chunk->skipped || stopping()) return chunk;
            TransformOutput& t = chunk->transform;
            const uint64_t filtered = t.filtered, routed = t.routed, copies = t.copies,
                           rejected = t.rejected;
            Timed(transform_ns, options, Stage::kTransform, *chunk,
                  [&] { Guarded(*chunk, "transform", [&] { stages.transforms[k](*chunk); }); });
            if (metrics != nullptr && t.active) {
              if (last) metrics->rows_transformed.Add(t.main_rows.size());
              metrics->rows_filtered.Add(t.filtered - filtered);
              metrics->rows_routed.Add(t.routed - routed);
              metrics->rows_copied.Add(t.copies - copies);
              metrics->rows_script_rejected.Add(t.rejected - rejected);
            }
            return chunk;
          }));
      step_ids.push_back(node("transform[" + std::to_string(k) + "]", "parallel", ""));
    }
    flow::function_node<Chunk*, Chunk*> format(g, flow::unlimited, [&](Chunk* chunk) {
      const ScopedRunLog run_log(options.log);  // this thread works for this run now
      if (!chunk->error && !chunk->skipped && !stopping()) {
        Timed(format_ns, options, Stage::kFormat, *chunk,
              [&] { Guarded(*chunk, "format", [&] { stages.format(*chunk); }); });
      }
      return chunk;
    });
    const size_t format_id = node("format", "parallel", "");
    flow::sequencer_node<Chunk*> sequencer(
        g, [](Chunk* const& chunk) -> size_t { return static_cast<size_t>(chunk->block.seq); });
    const size_t sequencer_id = node("sequencer", "", "input order (by block)");
    flow::function_node<Chunk*, flow::continue_msg> writer(g, flow::serial, [&](Chunk* chunk) {
      const ScopedRunLog run_log(options.log);  // this thread works for this run now
      if (!failed.load()) {
        // fail-fast: the first chunk with an error in input order ends the run; its
        // good rows are not written because nothing is committed anyway.
        if (chunk->error) {
          result.error = chunk->error;
          result.rows += chunk->batch.num_rows;  // the rows parsed before the bad one
          failed.store(true);
        } else if (!chunk->skipped && !external_stop.load()) {
          Timed(write_ns, options, Stage::kWrite, *chunk,
                [&] { Guarded(*chunk, "write", [&] { stages.write(*chunk); }); });
          if (chunk->error) {
            result.error = chunk->error;
            failed.store(true);
          } else if (std::optional<Error> lost = CheckConservation(*chunk)) {
            result.error = std::move(lost);
            failed.store(true);
          } else {
            ++result.blocks;
            const TransformOutput& t = chunk->transform;
            const uint64_t rejected = chunk->rejects.size();
            result.rows += chunk->records;
            result.rows_rejected += rejected;
            for (const Reject& r : chunk->rejects) ++result.rejects_by_code[r.error.code];
            if (rejected > 0 && !result.first_reject) result.first_reject = chunk->rejects[0].error;
            result.rows_written += t.active ? t.main_rows.size() : chunk->batch.num_rows;
            result.rows_routed += t.active ? t.routed : 0;
            result.rows_filtered += t.active ? t.filtered : 0;
            result.row_copies += t.active ? t.copies : 0;
            if (options.max_rejects >= 0 &&
                result.rows_rejected > static_cast<uint64_t>(options.max_rejects)) {
              result.error = MakeError("FE-INPUT-MAX-ERRORS",
                                       "More rows were rejected than maxErrors allows (" +
                                           std::to_string(options.max_rejects) +
                                           "); the first: " + result.first_reject->message,
                                       result.first_reject->location, "write");
              failed.store(true);
            }
            result.bytes_read += chunk->block.bytes.size();
            if (metrics != nullptr) RecordWritten(*metrics, *chunk, options.budget);
          }
        }
      }
      if (metrics != nullptr) metrics->blocks_in_flight.Add(-1);
      pool.Release(chunk);
      return flow::continue_msg();
    });
    const size_t writer_id = node("write", "serial", "");
    connect(reader, reader_id, limiter, limiter_id);
    connect(limiter, limiter_id, parse, parse_id);
    flow::sender<Chunk*>* previous = &parse;
    size_t previous_id = parse_id;
    for (size_t k = 0; k < steps.size(); ++k) {
      connect(*previous, previous_id, *steps[k], step_ids[k]);
      previous = steps[k].get();
      previous_id = step_ids[k];
    }
    connect(*previous, previous_id, format, format_id);
    connect(format, format_id, sequencer, sequencer_id);
    connect(sequencer, sequencer_id, writer, writer_id);
    connect(writer, writer_id, limiter.decrementer(), limiter_id, "decrement");
    if (shape_only != nullptr) {
      *shape_only = std::move(shape);
      g.wait_for_all();  // connecting buffering nodes may have spawned (empty) tasks
      return;            // never activated: nothing is read
    }
    reader.activate();
    g.wait_for_all();
  });
  if (external_stop.load() && !result.error) result.stopped = true;
  result.busy = StageSeconds{Seconds(read_ns), Seconds(parse_ns), Seconds(transform_ns),
                             Seconds(format_ns), Seconds(write_ns)};
  return result;
}

}  // namespace

GraphResult RunGraph(const GraphStages& stages, const GraphOptions& options) {
  return BuildAndRun(stages, options, nullptr);
}

GraphShape CompileGraph(const GraphStages& stages, const GraphOptions& options) {
  GraphShape shape;
  BuildAndRun(stages, options, &shape);
  return shape;
}

}  // namespace flowengine
