// The public API (include/flowengine/flowengine.h) over the engine's internals: the loader,
// ValidatePipeline and RunPipeline with the built-in nodes.
#include <oneapi/tbb/global_control.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <mutex>
#include <optional>
#include <thread>
#include <tuple>

#include "core/api/api_errors.h"
#include "core/config/config_keys.h"
#include "core/config/config_loader.h"
#include "core/engine/pipeline_inspect.h"
#include "core/engine/pipeline_paths.h"
#include "core/engine/pipeline_runner.h"
#include "core/engine/row_sampler.h"
#include "core/engine/run_outcome_log.h"
#include "core/engine/run_summary_json.h"
#include "core/error/error.h"
#include "core/error/error_codes.h"
#include "core/graph/cpu_count.h"
#include "core/io/atomic_file.h"
#include "core/io/file_identity.h"
#include "core/log/logger.h"
#include "core/memory/memory_plan.h"
#include "core/metrics/metrics.h"
#include "core/metrics/trace.h"
#include "core/ops/metrics_endpoint.h"
#include "core/ops/plugin_loader.h"
#include "core/ops/script_trust.h"
#include "core/ops/warm_isolates.h"
#include "flowengine/flowengine.h"
#include "nodes/node_factory.h"

#ifndef FLOWENGINE_VERSION
#define FLOWENGINE_VERSION "0.0.0"
#endif

namespace flowengine {
namespace {

ErrorInfo ToInfo(const Error& e) { return ToErrorInfo(e); }

template <typename F>
auto Translating(F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const ErrorException& e) {
    throw PipelineError(ToInfo(e.error()));
  }
}

// A run's log lines: to the engine's sink (else the process logger) and to the observer,
// one line at a time (`observer_mutex` is shared with the progress reports).
class ApiRunLog final : public RunLog {
 public:
  ApiRunLog(LogLevel level, std::string pipeline, const std::function<void(const LogRecord&)>* sink,
            RunObserver* observer, std::mutex* observer_mutex)
      : RunLog(level),
        pipeline_(std::move(pipeline)),
        sink_(sink),
        observer_(observer),
        observer_mutex_(observer_mutex) {}

  void Record(LogLevel level, LogCategory category, std::string_view message, const Error* error,
              const std::vector<LogField>& fields) noexcept override {
    // Called from engine threads and from inside V8 callbacks: nothing may escape.
    try {
      Deliver(level, category, message, error, fields);
    } catch (...) {
      dropped_.fetch_add(1, std::memory_order_relaxed);
    }
  }
  /// Lines the sink or the observer threw on.
  uint64_t dropped() const { return dropped_.load(); }

 private:
  void Deliver(LogLevel level, LogCategory category, std::string_view message, const Error* error,
               const std::vector<LogField>& fields) {
    const bool to_sink = sink_ != nullptr && *sink_;
    if (to_sink || observer_ != nullptr) {
      LogRecord r;
      r.level = std::string(LogLevelName(level));
      r.category = std::string(LogCategoryName(category));
      r.message = std::string(message);
      if (error != nullptr) r.error = ToInfo(*error);
      for (const LogField& f : fields) r.fields.emplace_back(f.key, f.value);
      r.pipeline = pipeline_;
      // The observer first: a progress line on the terminal is erased before the line lands.
      std::lock_guard<std::mutex> lock(*observer_mutex_);
      if (observer_ != nullptr) observer_->OnLog(r);
      if (to_sink) (*sink_)(r);
    }
    if (to_sink) return;
    // stderr, shared by every run of the process: each line names its pipeline.
    std::vector<LogField> named = fields;
    bool has_pipeline = false;
    for (const LogField& f : fields) has_pipeline = has_pipeline || f.key == "pipeline";
    // (JSON lines only: a text line is for a person reading one run's output.)
    if (!has_pipeline && CurrentLogFormat() == LogFormat::kJson) {
      named.push_back(LogField::Str("pipeline", pipeline_));
    }
    if (error != nullptr) {
      LogErrorToProcess(*error, named, level);
    } else {
      LogToProcess(level, category, message, named);
    }
  }

  std::atomic<uint64_t> dropped_{0};
  std::string pipeline_;
  const std::function<void(const LogRecord&)>* sink_;
  RunObserver* observer_;
  std::mutex* observer_mutex_;
};

// limits.scriptHeap for each JavaScript step: the V8 heaps of one thread.
int64_t ScriptHeapsPerThread(const PipelineSpec& spec) {
  int64_t steps = 0;
  for (const TransformSpec& t : spec.transforms) steps += t.node == "javascript" ? 1 : 0;
  return steps * spec.limits.script_heap;
}

// Writes a report file (trace, metrics, summary) atomically like every sink; a failure is
// logged, not fatal: the run's outcome is already decided.
void WriteReport(const std::string& what, const std::string& path, const std::string& text) {
  if (path.empty()) return;
  try {
    WriteFileAtomically(path, text);
    Log(LogLevel::kDebug, LogCategory::kEngine, what + " written to " + path);
  } catch (const ErrorException& e) {
    LogError(e.error());
  }
}

// Reports progress every 250 ms while a run lasts.
class ProgressThread {
 public:
  ProgressThread(const Metrics& metrics, RunObserver* observer, std::mutex* observer_mutex)
      : metrics_(metrics) {
    if (observer == nullptr) return;
    thread_ = std::thread([this, observer, observer_mutex] {
      const auto start = std::chrono::steady_clock::now();
      std::unique_lock<std::mutex> lock(mutex_);
      while (!cv_.wait_for(lock, std::chrono::milliseconds(250), [this] { return done_; })) {
        Progress p;
        p.rows_read = metrics_.rows_parsed.Value() + metrics_.rows_parse_rejected.Value();
        p.rows_written = metrics_.rows_written.Value();
        p.rows_rejected =
            metrics_.rows_parse_rejected.Value() + metrics_.rows_script_rejected.Value();
        p.bytes_read = metrics_.bytes_read.Value();
        p.input_bytes = metrics_.input_size_bytes.Value();
        p.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        lock.unlock();
        {
          std::lock_guard<std::mutex> calls(*observer_mutex);
          observer->OnProgress(p);
        }
        lock.lock();
      }
    });
  }
  ~ProgressThread() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      done_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }

 private:
  const Metrics& metrics_;
  std::mutex mutex_;
  std::condition_variable cv_;
  bool done_ = false;
  std::thread thread_;
};

}  // namespace

ErrorInfo ToErrorInfo(const Error& e) {
  ErrorInfo info;
  info.code = e.code;
  info.error_class = ErrorClassName(e.error_class);
  info.message = e.message;
  info.hint = e.hint;
  info.file = e.location.file;
  info.line = e.location.line;
  info.column = e.location.column;
  info.byte_offset = e.location.byte_offset;
  info.stage = e.stage;
  info.field = e.location.field;
  info.script = e.script;
  info.retryable = e.retryable;
  return info;
}

Error FromErrorInfo(const ErrorInfo& info) {
  Error e;
  e.code = info.code;
  e.message = info.message;
  e.hint = info.hint;
  e.stage = info.stage;
  e.script = info.script;
  e.retryable = info.retryable;
  e.location.file = info.file;
  e.location.line = info.line;
  e.location.column = info.column;
  e.location.byte_offset = info.byte_offset;
  e.location.field = info.field;
  if (const ErrorCodeInfo* c = FindErrorCode(info.code)) e.error_class = c->error_class;
  return e;
}

std::string ErrorInfo::ToString() const { return FromErrorInfo(*this).ToString(); }

PipelineError::PipelineError(ErrorInfo info) : info_(std::move(info)), text_(info_.ToString()) {}

Pipeline::Pipeline(std::shared_ptr<const PipelineSpec> spec) : spec_(std::move(spec)) {}

Pipeline Pipeline::FromFile(const std::string& path, const std::vector<std::string>& overrides) {
  return Translating([&] {
    return Pipeline(std::make_shared<const PipelineSpec>(LoadPipelineSpec(path, overrides)));
  });
}

Pipeline Pipeline::FromYaml(const std::string& yaml, const std::string& base_dir,
                            const std::vector<std::string>& overrides) {
  return Translating([&] {
    const std::string path =
        (std::filesystem::absolute(base_dir) / "(pipeline from YAML text)").string();
    return Pipeline(
        std::make_shared<const PipelineSpec>(LoadPipelineSpecFromString(yaml, path, overrides)));
  });
}

Pipeline::Builder::Builder(std::string base_dir) : base_dir_(std::move(base_dir)) {}

Pipeline::Builder& Pipeline::Builder::Set(const std::string& key, const std::string& value) {
  values_.emplace_back(key, value);
  return *this;
}

Pipeline Pipeline::Builder::Build() const {
  return Translating([&] {
    const std::string path =
        (std::filesystem::absolute(base_dir_) / "(pipeline built in code)").string();
    return Pipeline(std::make_shared<const PipelineSpec>(LoadPipelineSpecFromKeys(values_, path)));
  });
}

void Pipeline::Validate() const {
  Translating([&] { ValidatePipeline(*spec_, DelimitedNodeFactory()); });
}

std::string Pipeline::Inspect(bool dot) const {
  return Translating([&] {
    return InspectPipeline(*spec_, DelimitedNodeFactory(),
                           dot ? InspectFormat::kDot : InspectFormat::kText);
  });
}

const std::string& Pipeline::name() const { return spec_->name; }

std::vector<Pipeline::File> Pipeline::Files() const {
  std::vector<File> files;
  for (const PathUse& u : PipelinePaths(*spec_)) {
    const bool data = u.output || u.key.rfind("source.path", 0) == 0;
    files.push_back(File{u.key, u.path, u.output, data});
  }
  return files;
}

bool Pipeline::uses_standard_streams() const {
  if (spec_->sink.path == "-" || spec_->source.path == "-") return true;
  for (const std::string& p : spec_->source.paths) {
    if (p == "-") return true;
  }
  return false;
}

int64_t Pipeline::memory_budget() const { return spec_->limits.memory; }

int64_t Pipeline::script_heap() const { return ScriptHeapsPerThread(*spec_); }

int Pipeline::threads() const { return spec_->limits.threads; }

std::string Pipeline::JsonSchema() { return ConfigJsonSchema(); }

CancellationToken::CancellationToken() : state_(std::make_shared<State>()) {}
void CancellationToken::Cancel() noexcept { state_->flag.store(true); }
void CancellationToken::CancelForSignal(int signo) noexcept {
  state_->signal.store(signo);
  state_->flag.store(true);
}
bool CancellationToken::cancelled() const noexcept { return state_->flag.load(); }
int CancellationToken::signal() const noexcept { return state_->signal.load(); }

struct Engine::Impl {
  LogLevel log_level = LogLevel::kWarn;
  std::function<void(const LogRecord&)> log_sink;
  int threads = 0;
  bool warm = false;
  bool trusted = false;  // EngineOptions::trusted_scripts (counted: core/ops/script_trust.h)
  std::optional<oneapi::tbb::global_control> pool_cap;
  // EngineOptions::memory_budget: reserved bytes, and the runs waiting in turn.
  int64_t memory_budget = 0;
  std::mutex memory_mutex;
  std::condition_variable memory_freed;
  int64_t memory_reserved = 0;
  std::deque<const void*> memory_queue;  // the waiting runs, first come first served
};

namespace {

// A run's share of the engine's memory budget, held while it runs.
class MemoryReservation {
 public:
  MemoryReservation() = default;
  MemoryReservation(const MemoryReservation&) = delete;
  MemoryReservation& operator=(const MemoryReservation&) = delete;
  ~MemoryReservation() { Release(); }

  // Waits in the queue until this run is first and `bytes` fit; false when `stop` was set
  // first. A run that stops waiting (or throws) leaves the queue, so no one waits for it.
  template <typename Impl>
  bool Acquire(Impl& e, int64_t bytes, const std::atomic<bool>& stop) {
    std::unique_lock<std::mutex> lock(e.memory_mutex);
    e.memory_queue.push_back(this);
    struct Leave {  // on every way out: out of the queue, and the next one woken
      Impl& e;
      const void* self;
      ~Leave() {
        e.memory_queue.erase(std::find(e.memory_queue.begin(), e.memory_queue.end(), self));
        e.memory_freed.notify_all();
      }
    } leave{e, this};
    while (e.memory_queue.front() != this || e.memory_reserved + bytes > e.memory_budget) {
      if (stop.load()) return false;
      e.memory_freed.wait_for(lock, std::chrono::milliseconds(50));  // polls `stop`
    }
    e.memory_reserved += bytes;
    release_ = [&e, bytes] {
      std::lock_guard<std::mutex> l(e.memory_mutex);
      e.memory_reserved -= bytes;
      e.memory_freed.notify_all();
    };
    return true;
  }
  void Release() {
    if (release_) release_();
    release_ = nullptr;
  }

 private:
  std::function<void()> release_;
};

}  // namespace

Engine::Engine(EngineOptions options) : impl_(std::make_unique<Impl>()) {
  if (!options.plugin_dir.empty()) SetPluginDirectory(options.plugin_dir);
  impl_->log_level = ParseLogLevel(options.log_level).value_or(LogLevel::kWarn);
  impl_->log_sink = std::move(options.log_sink);
  if (!impl_->log_sink) {
    // stderr: the process logger (its level and format are process-wide).
    ConfigureLogger(impl_->log_level,
                    ParseLogFormat(options.log_format).value_or(LogFormat::kJson));
  }
  if (options.threads > 0) {
    impl_->threads = options.threads;
    // Every run's task arena draws from oneTBB's one pool of workers; this caps it.
    impl_->pool_cap.emplace(oneapi::tbb::global_control::max_allowed_parallelism,
                            static_cast<size_t>(options.threads));
  }
  impl_->memory_budget = options.memory_budget > 0 ? options.memory_budget : 0;
  if (options.warm_isolates > 0) {
    impl_->warm = true;
    SetWarmIsolateLimit(static_cast<size_t>(options.warm_isolates));
  }
  impl_->trusted = options.trusted_scripts;
  CountEngine(impl_->trusted, +1);
}

Engine::~Engine() {
  if (impl_->warm) {
    SetWarmIsolateLimit(0);
    ReleaseWarmIsolates();
  }
  CountEngine(impl_->trusted, -1);
}

Engine::IsolateStats Engine::Isolates() {
  const WarmIsolateStats w = GetWarmIsolateStats();
  return IsolateStats{w.created, w.reused, w.idle};
}

std::string Engine::Version() { return FLOWENGINE_VERSION; }

RunResult Engine::Run(const Pipeline& pipeline, const CancellationToken* cancel,
                      RunObserver* observer) {
  return Run(pipeline, cancel, observer, RunReports{});
}

RunResult Engine::Run(const Pipeline& pipeline, const CancellationToken* cancel,
                      RunObserver* observer, const RunReports& reports) {
  // Each run: its own stop flag (the token's, or a local one), metrics and summary.
  const CancellationToken local;
  const std::shared_ptr<CancellationToken::State> token =
      cancel != nullptr ? cancel->state_ : local.state_;
  std::atomic<bool>* const stop = &token->flag;
  Metrics metrics;
  RunOptions options;
  options.stop = stop;
  options.metrics = &metrics;
  // An engine with a thread cap gives each run at most that many threads.
  const PipelineSpec* spec = pipeline.spec_.get();
  std::optional<PipelineSpec> capped;
  if (impl_->threads > 0 && (spec->limits.threads <= 0 || spec->limits.threads > impl_->threads)) {
    capped.emplace(*spec);
    capped->limits.threads = impl_->threads;
    spec = &*capped;
  }
  std::mutex observer_mutex;
  ApiRunLog run_log(impl_->log_level, spec->name, &impl_->log_sink, observer, &observer_mutex);
  options.log = &run_log;
  const ScopedRunLog scoped(&run_log);  // the lines of this thread are the run's until it returns
  RunResult r;

  const int cpus = AvailableCpus();
  const int asked = pipeline.spec_->limits.threads;  // as the user wrote it (not capped)
  if (asked > cpus && spec->limits.threads > cpus) {
    Log(LogLevel::kWarn, LogCategory::kConfig,
        "limits.threads is " + std::to_string(asked) + " but this process may use " +
            std::to_string(cpus) + " CPUs (affinity / cgroup quota); threads will share them");
  }
  // The report files are outputs too: none of them may be an input or another output.
  const auto report = [&](const std::string& key, const std::string& path) {
    if (path.empty()) return;
    Location where;
    where.file = key + " " + path;
    options.report_files.push_back(PathUse{key, path, true, where, false});
  };
  report("--summary", reports.summary_file);
  report("--trace", reports.trace_file);
  report("--metrics-file", reports.metrics_file);
  // Written at the end to the files they lead to now, when they are checked: a link
  // re-pointed or planted during the run must not redirect them (to the input, say).
  const auto resolved = [](const std::string& path) {
    return path.empty() ? path : ResolvePath(path).real;
  };
  const std::string summary_file = resolved(reports.summary_file);
  const std::string trace_file = resolved(reports.trace_file);
  const std::string metrics_file = resolved(reports.metrics_file);
  if (!reports.sample_dir.empty()) {
    report("--sample-dir", reports.sample_dir + "/source.csv");
    if (!spec->transforms.empty()) report("--sample-dir", reports.sample_dir + "/transform.csv");
  }
  const auto fail_early = [&](const Error& e) {
    LogError(e, {}, r.cancelled ? LogLevel::kWarn : LogLevel::kError);
    r.error = ToInfo(e);
    if (observer != nullptr) observer->OnFinished(r);
    return r;
  };
  if (!reports.sample_dir.empty() && !std::filesystem::is_directory(reports.sample_dir)) {
    return fail_early(MakeError("FE-CONFIG-VALUE",
                                "--sample-dir '" + reports.sample_dir + "' is not a directory", {},
                                "startup"));
  }
  // A report file is written after the run, whose outcome is decided by then: a directory it
  // cannot be written in fails the run now, before anything is read (as for the sink).
  for (const auto& [key, path, real] :
       {std::tuple{"--summary", reports.summary_file, summary_file},
        std::tuple{"--trace", reports.trace_file, trace_file},
        std::tuple{"--metrics-file", reports.metrics_file, metrics_file}}) {
    if (path.empty()) continue;
    const std::string dir = std::filesystem::path(real).parent_path().string();
    const char* problem = !std::filesystem::is_directory(dir) ? "does not exist"
                          : ::access(dir.c_str(), W_OK) != 0  ? "is not writable"
                                                              : nullptr;
    if (problem == nullptr) continue;
    Location where;
    where.file = std::string(key) + " " + path;
    Error e = MakeError("FE-OUTPUT-OPEN",
                        std::string("The directory of ") + key + " ('" + dir + "') " + problem,
                        where, "startup");
    e.hint = "Create the directory, or name a file in a writable one.";
    return fail_early(e);
  }
  // The engine's memory budget: what the run may use, reserved before it starts.
  MemoryReservation reservation;
  if (impl_->memory_budget > 0) {
    const int64_t need =
        spec->limits.memory +
        static_cast<int64_t>(EffectiveThreads(spec->limits.threads)) * ScriptHeapsPerThread(*spec);
    if (need > impl_->memory_budget) {
      Error e = MakeError("FE-RESOURCE-MEMORY",
                          "The run needs " + std::to_string(need >> 20) +
                              " MiB (limits.memory plus limits.scriptHeap per thread per "
                              "JavaScript step), more than the engine's whole memory budget (" +
                              std::to_string(impl_->memory_budget >> 20) + " MiB)",
                          {}, "startup");
      e.hint = "Lower limits.memory, limits.scriptHeap or limits.threads, or raise the budget.";
      return fail_early(e);
    }
    if (!reservation.Acquire(*impl_, need, *stop)) {
      Error e = MakeError("FE-RESOURCE-INTERRUPTED",
                          "The run was cancelled while it waited for the engine's memory budget",
                          {}, "startup");
      e.hint = "Nothing was read or written.";
      r.cancelled = true;
      return fail_early(e);
    }
  }
  std::unique_ptr<MetricsEndpoint> endpoint;
  if (!reports.metrics_listen.empty()) {
    try {
      endpoint = StartMetricsEndpoint(metrics, reports.metrics_listen);
    } catch (const ErrorException& e) {
      return fail_early(e.error());
    }
    const std::string& host = endpoint->host();  // an IPv6 address goes in brackets
    const std::string address = (host.find(':') != std::string::npos ? "[" + host + "]" : host) +
                                ":" + std::to_string(endpoint->port());
    Log(LogLevel::kInfo, LogCategory::kEngine,
        "serving /metrics, /healthz and /readyz on http://" + address,
        {LogField::Str("listen", address), LogField::Num("port", endpoint->port())});
  }
  std::unique_ptr<TraceRecorder> trace;
  if (!reports.trace_file.empty()) trace = std::make_unique<TraceRecorder>();
  std::unique_ptr<RowSampler> sampler;
  if (reports.sample_rows > 0)
    sampler = std::make_unique<RowSampler>(reports.sample_rows, reports.sample_dir);
  options.trace = trace.get();
  options.sampler = sampler.get();

  RunSummary s;
  {
    ProgressThread progress(metrics, observer, &observer_mutex);
    try {
      s = RunPipeline(*spec, DelimitedNodeFactory(), options);
    } catch (const std::exception& e) {  // out of memory, no thread: a failed run, not a crash
      s = RunSummary{};
      s.error = MakeError("FE-INTERNAL",
                          std::string("The run stopped on an exception: ") + e.what(), {}, "run");
    }
  }
  reservation.Release();  // the memory is free again: an observer may start the next run
  r.ok = !s.error.has_value();
  r.cancelled = s.stopped || (s.error && s.error->code == "FE-RESOURCE-INTERRUPTED");
  if (s.error) r.error = ToInfo(*s.error);
  if (r.error && r.error->code == "FE-RESOURCE-INTERRUPTED" && cancel != nullptr &&
      cancel->cancelled()) {
    r.error->message = "The run was cancelled";
    r.error->hint = "Nothing was committed; the targets were left untouched.";
  }
  r.rows_read = s.rows_read;
  r.rows_written = s.rows_written;
  r.rows_routed = s.rows_routed;
  r.rows_filtered = s.rows_filtered;
  r.rows_rejected = s.rows_rejected;
  r.row_copies = s.row_copies;
  r.bytes_read = s.bytes_read;
  r.seconds = s.seconds;
  r.threads = s.threads;
  r.targets_replaced = s.targets_replaced;
  r.summary_json = RunSummaryToJson(*spec, s);
  // Report files are written only once they are known not to alias an input or output.
  if (s.paths_checked) {
    if (sampler != nullptr) {
      try {
        sampler->Finish();
      } catch (const ErrorException& e) {
        LogError(e.error());
      }
    }
    if (trace != nullptr) {
      WriteReport("trace", trace_file, trace->ToJson());
      Log(LogLevel::kInfo, LogCategory::kEngine,
          "trace: " + std::to_string(trace->event_count()) + " slices in " + reports.trace_file);
    }
    WriteReport("metrics", metrics_file, metrics.RenderPrometheus());
    WriteReport("summary", summary_file, r.summary_json);
  }
  if (endpoint != nullptr) endpoint->Stop();
  if (s.error) {
    LogRunFailure(*spec, s, r.cancelled, token->signal.load());
  } else {
    LogRunSummary(*spec, s, metrics);
  }
  if (run_log.dropped() > 0 && (!impl_->log_sink || observer != nullptr)) {
    LogToProcess(LogLevel::kWarn, LogCategory::kEngine,
                 std::to_string(run_log.dropped()) +
                     " log lines were lost: the log sink or the observer threw",
                 {});
  }
  if (observer != nullptr) observer->OnFinished(r);
  return r;
}

}  // namespace flowengine
