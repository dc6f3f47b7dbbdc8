#include "core/engine/pipeline_runner.h"

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <thread>

#include "core/engine/pipeline_paths.h"
#include "core/engine/row_sampler.h"
#include "core/engine/step_fold.h"
#include "core/graph/pipeline_graph.h"
#include "core/io/atomic_file.h"
#include "core/io/commit_set.h"
#include "core/log/logger.h"
#include "core/memory/memory_plan.h"

namespace flowengine {
namespace {

// The stages of one run; sinks[0] is the main sink, sinks[1 + k] route k, and under
// skip-row the last one the dead-letter sink.
struct Stages {
  std::unique_ptr<SourceStage> source;
  std::vector<std::unique_ptr<TransformStage>> transforms;  ///< the steps, in order
  std::vector<std::unique_ptr<SinkStage>> sinks;
  SinkStage* dead_letter = nullptr;

  const Schema& OutputSchema() const {
    return transforms.empty() ? source->schema() : transforms.back()->output_schema();
  }
  void AbortSinks() noexcept {
    for (auto& s : sinks) s->Abort();
  }
};

// A step's startup error in a pipeline of several steps names the step, and points at the
// step in the pipeline file when it has no place of its own (inline code without a line).
Error NameTheStep(const PipelineSpec& spec, size_t k, Error e) {
  if (spec.transforms.size() < 2) return e;
  const std::string label = "transform[" + std::to_string(k) + "]";
  if (e.message.rfind(label, 0) != 0) e.message = label + ": " + e.message;
  const Location& where = spec.transforms[k].where;
  if (e.location.line == 0 && where.line > 0 &&
      (e.location.file.empty() || e.location.file == where.file)) {
    e.location = where;
  }
  return e;
}

// Opens the source and transform and builds (but does not open) every sink. `stop` (may be
// null: the process's flag) ends waits for input and running scripts; `metrics` (may be
// null) receives the transform's own measures.
void Build(const PipelineSpec& spec, const NodeFactory& factory, Stages& st,
           const std::atomic<bool>* stop = nullptr, Metrics* metrics = nullptr,
           MemoryBudget* budget = nullptr) {
  st.source = factory.make_source(spec);
  if (stop != nullptr) st.source->SetStopFlag(stop);
  if (budget != nullptr) st.source->AttachMemoryBudget(budget);
  st.source->Open();
  for (size_t k = 0; k < spec.transforms.size(); ++k) {
    if (!factory.make_transform) {
      ThrowError("FE-INTERNAL", "This engine was built without transform nodes", {}, "startup");
    }
    const Schema& input = st.OutputSchema();
    std::unique_ptr<TransformStage> step = factory.make_transform(spec, k);
    if (stop != nullptr) step->SetStopFlag(stop);
    if (metrics != nullptr) step->AttachMetrics(metrics);  // before the first isolate
    try {
      step->Open(input);
    } catch (const ErrorException& e) {
      throw ErrorException(NameTheStep(spec, k, e.error()));
    }
    st.transforms.push_back(std::move(step));
  }
  st.sinks.push_back(factory.make_sink(spec, spec.sink, st.OutputSchema()));
  for (const RouteSpec& route : spec.routes) {
    st.sinks.push_back(factory.make_sink(spec, route.sink, st.OutputSchema()));
  }
  if (spec.error_handling == ErrorHandling::kSkipRow) {
    st.sinks.push_back(factory.make_dead_letter(spec));
    st.dead_letter = st.sinks.back().get();
  }
  if (stop != nullptr) {
    for (auto& sink : st.sinks) sink->SetStopFlag(stop);
  }
}

// Every sink's file, committed as one set (a streaming sink finishes first: it has no file).
void CommitSinks(Stages& st) {
  std::vector<AtomicFile*> files;
  for (auto& sink : st.sinks) {
    if (sink->Streams()) {
      sink->Finish();
    } else {
      files.push_back(&sink->file());
    }
  }
  CommitAsSet(files);
}

// limits.timeout: a thread that sets `stop` (and `fired`) when the time is up, unless the
// run ends first.
class JobTimer {
 public:
  JobTimer(int64_t timeout_ms, std::atomic<bool>& stop) {
    if (timeout_ms <= 0) return;
    thread_ = std::thread([this, timeout_ms, &stop] {
      std::unique_lock<std::mutex> lock(mutex_);
      if (!cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms), [this] { return done_; })) {
        fired_.store(true);
        stop.store(true);
      }
    });
  }
  ~JobTimer() { Cancel(); }
  void Cancel() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      done_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }
  bool fired() const { return fired_.load(); }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  bool done_ = false;
  std::atomic<bool> fired_{false};
  std::thread thread_;
};

// When limits.timeout stopped the run, its interruption becomes FE-RESOURCE-TIMEOUT (a
// real error found before the stop stays as it is).
void ReportTimeout(const PipelineSpec& spec, const JobTimer& timer, RunSummary& summary) {
  if (!timer.fired() ||
      !(summary.stopped || (summary.error && summary.error->code == "FE-RESOURCE-INTERRUPTED"))) {
    return;
  }
  summary.stopped = false;
  Location loc;
  loc.file = spec.config_path;
  summary.error = MakeError(
      "FE-RESOURCE-TIMEOUT",
      "The run took longer than limits.timeout (" + std::to_string(spec.limits.timeout_ms) +
          " ms) and was stopped after " + std::to_string(summary.rows_read) + " rows",
      loc, "run");
}

// Under skip-row: a log line per rejected row, naming its dead-letter row (the first
// kLoggedRejects at warn, the rest at debug).
constexpr uint64_t kLoggedRejects = 100;
void LogRejects(const Chunk& chunk, const std::string& dead_letter, uint64_t& rows) {
  for (const Reject& r : chunk.rejects) {
    ++rows;
    const LogLevel level = rows <= kLoggedRejects ? LogLevel::kWarn : LogLevel::kDebug;
    if (!LogEnabled(level)) continue;
    LogError(r.error,
             {LogField::Str("dead_letter", dead_letter),
              LogField::Num("dead_letter_row", static_cast<int64_t>(rows)),
              LogField::Num("record_line", r.line)},
             level);
    if (rows == kLoggedRejects) {
      Log(LogLevel::kWarn, LogCategory::kEngine,
          "further rejected rows are logged at debug level only; every one is in " + dead_letter);
    }
  }
}

double SecondsSince(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

// The output is about as large as the input: refuse to start when the target's filesystem
// cannot hold that much (the previous target stays until the commit, so it does not count).
void CheckFreeSpace(const PipelineSpec& spec, const SourceStage& source) {
  const int64_t needed = source.input_size();
  if (spec.sink.path == "-") return;  // standard output
  const int64_t available = AvailableBytes(spec.sink.path);
  if (needed <= 0 || available < 0 || available >= needed) return;
  Location loc;
  loc.file = spec.sink.path;
  Error e = MakeError("FE-OUTPUT-SPACE",
                      "Not enough free space for the output: " + std::to_string(available) +
                          " bytes free, about " + std::to_string(needed) + " needed",
                      loc, "startup");
  throw ErrorException(std::move(e));
}

}  // namespace

void ValidatePipeline(const PipelineSpec& spec, const NodeFactory& factory) {
  CheckPathsAndRecover(spec);
  Stages st;
  Build(spec, factory, st);
  for (auto& sink : st.sinks) sink->Check();
  CheckFreeSpace(spec, *st.source);
}

RunSummary RunPipeline(const PipelineSpec& spec, const NodeFactory& factory,
                       const RunOptions& options) {
  const ScopedRunLog run_log(options.log);
  const auto start = std::chrono::steady_clock::now();
  RunSummary summary;
  Stages st;
  std::atomic<bool> local_stop{false};
  std::atomic<bool>& stop = options.stop != nullptr ? *options.stop : local_stop;
  JobTimer timer(spec.limits.timeout_ms, stop);
  Metrics* const metrics = options.metrics;
  const MemoryPlan plan = PlanMemory(spec.limits, spec.transforms.size());
  if (metrics != nullptr) {
    metrics->start_unix_ms.store(std::chrono::duration_cast<std::chrono::milliseconds>(
                                     std::chrono::system_clock::now().time_since_epoch())
                                     .count());
    metrics->threads.Set(plan.threads);
    metrics->memory_budget_bytes.Set(plan.budget);
    metrics->job_timeout_ms.Set(spec.limits.timeout_ms);
    bool javascript = false;
    for (const TransformSpec& t : spec.transforms)
      javascript = javascript || t.node == "javascript";
    metrics->script_heap_limit_bytes.Set(javascript ? spec.limits.script_heap : 0);
  }
  // The budget exists before the source opens: the reader's buffer is charged to it too,
  // so moving bytes between the reader and a block never changes the account.
  MemoryBudget budget(plan.budget);
  try {
    CheckPathsAndRecover(spec, options.report_files);
    summary.paths_checked = true;
    Build(spec, factory, st, &stop, metrics, &budget);
    if (metrics != nullptr) {
      metrics->input_size_bytes.Set(st.source->input_size());
    }
    if (options.sampler != nullptr) {
      std::vector<std::string> routes;
      for (const RouteSpec& r : spec.routes) routes.push_back(r.name);
      options.sampler->Start(st.source->schema(),
                             st.transforms.empty() ? nullptr : &st.OutputSchema(),
                             spec.source.dialect, std::move(routes));
    }
    CheckFreeSpace(spec, *st.source);
    for (auto& sink : st.sinks) sink->Open();
  } catch (const ErrorException& e) {
    st.AbortSinks();
    summary.error = e.error();
    timer.Cancel();
    ReportTimeout(spec, timer, summary);  // e.g. stopped while waiting for a pipe's header
    if (metrics != nullptr) metrics->outcome.store(0);
    return summary;
  }

  GraphStages stages;
  stages.read = [&](Block& block) { return st.source->ReadBlock(block); };
  stages.parse = [&](Chunk& chunk) { st.source->Parse(chunk); };
  for (size_t k = 0; k < st.transforms.size(); ++k) {
    TransformStage* step = st.transforms[k].get();
    if (k == 0) {
      stages.transforms.push_back([step](Chunk& chunk) { step->Transform(chunk); });
    } else {
      const Dialect source = spec.source.dialect;
      stages.transforms.push_back([step, source](Chunk& chunk) {
        FoldForNextStep(chunk, source);
        step->Transform(chunk);
      });
    }
  }
  const size_t n_routes = spec.routes.size();
  stages.format = [&](Chunk& chunk) {
    st.sinks[0]->Format(chunk, -1, chunk.output);
    chunk.EnsureRoutes(n_routes);
    for (size_t k = 0; k < n_routes; ++k) {
      st.sinks[1 + k]->Format(chunk, static_cast<int>(k), chunk.route_output[k]);
    }
    if (st.dead_letter != nullptr) st.dead_letter->Format(chunk, -1, chunk.dead_output);
  };
  uint64_t dead_letter_rows = 0;
  stages.write = [&](const Chunk& chunk) {
    if (options.sampler != nullptr) options.sampler->Observe(chunk);
    LogRejects(chunk, spec.dead_letter.path, dead_letter_rows);
    st.sinks[0]->Write(chunk.output);
    for (size_t k = 0; k < n_routes; ++k) st.sinks[1 + k]->Write(chunk.route_output[k]);
    if (st.dead_letter != nullptr) st.dead_letter->Write(chunk.dead_output);
  };
  GraphOptions graph_options;
  graph_options.threads = plan.threads;
  graph_options.tokens = plan.tokens;
  graph_options.budget = &budget;
  graph_options.stop = &stop;
  graph_options.max_rejects = spec.max_errors.count;
  graph_options.metrics = metrics;
  graph_options.trace = options.trace;
  graph_options.log = options.log;
  const auto graph_start = std::chrono::steady_clock::now();
  if (metrics != nullptr) metrics->ready.store(true);
  GraphResult result = RunGraph(stages, graph_options);
  if (metrics != nullptr) metrics->ready.store(false);
  timer.Cancel();
  summary.graph_seconds = SecondsSince(graph_start);
  if (metrics != nullptr) {
    const Metrics& m = *metrics;
    summary.parse_rows = {m.rows_parsed.Value() + m.rows_parse_rejected.Value(),
                          m.rows_parsed.Value()};
    if (!st.transforms.empty()) {
      summary.transform_rows = {m.rows_parsed.Value(),
                                m.rows_transformed.Value() + m.rows_routed.Value()};
    }
    summary.write_rows = {m.rows_written.Value() + m.rows_routed.Value() + m.rows_copied.Value() +
                              m.rows_dead_lettered.Value(),
                          m.rows_written.Value()};
    summary.reader_waits = metrics->reader_waits.Value();
    summary.reader_wait_seconds = static_cast<double>(metrics->reader_wait_ns.Value()) / 1e9;
    metrics->memory_peak_bytes.Set(budget.peak());
    summary.script_memory_peak = metrics->v8_heap_peak_bytes.Value();
  }
  summary.memory_peak = budget.peak();
  summary.memory_budget = budget.limit();
  summary.tokens = plan.tokens;
  summary.threads = result.threads;
  summary.busy = result.busy;
  summary.rows_read = result.rows;
  summary.rows_written = result.rows_written;
  summary.rows_routed = result.rows_routed;
  summary.rows_filtered = result.rows_filtered;
  summary.row_copies = result.row_copies;
  summary.rows_rejected = result.rows_rejected;
  summary.rejects_by_code = result.rejects_by_code;
  // The bytes the source read, as the flowengine_bytes_total{stage="read"} metric says (the
  // graph's own count covers only the blocks that reached the writer: 0 for a run that
  // failed in its first block, beside rows.read of that block).
  summary.bytes_read = metrics != nullptr
                           ? std::max<uint64_t>(result.bytes_read,
                                                static_cast<uint64_t>(metrics->bytes_read.Value()))
                           : result.bytes_read;
  summary.error = result.error;
  summary.stopped = result.stopped;
  char percent[32];
  std::snprintf(percent, sizeof(percent), "%g%%", spec.max_errors.percent);
  if (!summary.error && spec.max_errors.percent >= 0 && summary.rows_read > 0 &&
      100.0 * static_cast<double>(summary.rows_rejected) / static_cast<double>(summary.rows_read) >
          spec.max_errors.percent) {
    summary.error = MakeError("FE-INPUT-MAX-ERRORS",
                              "More rows were rejected than maxErrors allows (" +
                                  std::to_string(summary.rows_rejected) + " of " +
                                  std::to_string(summary.rows_read) + " rows, more than " +
                                  percent + "); the first: " + result.first_reject->message,
                              result.first_reject->location, "commit");
  }
  ReportTimeout(spec, timer, summary);
  const uint64_t accounted =
      summary.rows_written + summary.rows_routed + summary.rows_filtered + summary.rows_rejected;
  if (!summary.error && accounted != summary.rows_read) {
    summary.error = MakeError("FE-INTERNAL",
                              "Row accounting does not hold: " + std::to_string(summary.rows_read) +
                                  " rows read, " + std::to_string(accounted) +
                                  " written, routed, filtered or rejected; nothing is committed",
                              {}, "commit");
    summary.error->hint =
        "This is a FlowEngine bug: please report it with the pipeline and this message.";
  }
  if (!summary.error && summary.stopped) {
    summary.error =
        MakeError("FE-RESOURCE-INTERRUPTED", "The run was interrupted by a signal", {}, "run");
  }
  if (summary.error) {
    st.AbortSinks();
  } else {
    try {
      const auto commit_start = std::chrono::steady_clock::now();
      CommitSinks(st);
      summary.commit_seconds = SecondsSince(commit_start);
    } catch (const ErrorException& e) {
      st.AbortSinks();
      summary.error = e.error();
    }
    for (auto& sink : st.sinks) {
      if (!sink->Streams()) summary.targets_replaced += sink->file().published() ? 1 : 0;
    }
  }
  summary.seconds = SecondsSince(start);
  if (metrics != nullptr) metrics->outcome.store(summary.error ? 0 : 1);
  return summary;
}

}  // namespace flowengine
