// FlowEngine's public C++ API: the only header an application includes.
//
//   flowengine::Engine engine;                                      // once per process
//   flowengine::Pipeline p = flowengine::Pipeline::FromFile("p.yaml", {"limits.threads=2"});
//   p.Validate();                                 // throws flowengine::PipelineError
//   flowengine::RunResult r = engine.Run(p);      // r.ok, r.rows_read, r.error, r.summary_json
//
// Lifetimes: an Engine outlives the runs it starts; a Pipeline is an immutable value (cheap
// to copy) and may be run any number of times, by any number of threads at once.
// Thread safety: Engine::Run may be called from several threads concurrently (each run has
// its own stop flag, metrics and summary); Pipeline is immutable; CancellationToken is
// thread-safe. Logs: each run's log lines go to its Engine's log sink (EngineOptions::
// log_sink; without one, the process's stderr) and to its observer (RunObserver::OnLog), so
// concurrent runs keep separate logs. Still process-wide: stderr itself, and the signal
// handling of the CLI (an embedding application handles its own signals).
// Errors: configuration problems throw PipelineError from Pipeline::From* and Validate();
// Run never throws for a failed run: RunResult::error says what went wrong.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace flowengine {

struct PipelineSpec;  // internal

/// One FlowEngine error: a stable code (FE-...), its class, where it happened and how to fix
/// it (docs/errors.md lists every code).
struct ErrorInfo {
  std::string code;         ///< "FE-CONFIG-VALUE", ...
  std::string error_class;  ///< config, input, encoding, schema, script, output, resource, ...
  std::string message;
  std::string hint;
  std::string file;
  int64_t line = 0;  ///< 1-based; 0 when unknown
  int64_t column = 0;
  int64_t byte_offset = -1;
  std::string stage;
  std::string field;   ///< the column, for errors about one value
  std::string script;  ///< where in the script (file:line:column), for script errors
  bool retryable = false;
  std::string ToString() const;  ///< "file:line:col: error CODE (class, stage): message" + hint
};

/// Thrown for configuration problems (an invalid pipeline file, --set override, a missing
/// input, a header that does not match, a script that does not compile).
class PipelineError : public std::exception {
 public:
  explicit PipelineError(ErrorInfo info);
  const ErrorInfo& info() const noexcept { return info_; }
  const char* what() const noexcept override { return text_.c_str(); }

 private:
  ErrorInfo info_;
  std::string text_;
};

/// A validated-on-demand pipeline. Built from a YAML file, from YAML text, or in code with
/// Builder; all three go through the same loader, so the same mistakes give the same codes.
class Pipeline {
 public:
  /// Loads `path`; `overrides` are --set style "key.path=value" strings. Throws
  /// PipelineError (FE-CONFIG-*).
  static Pipeline FromFile(const std::string& path, const std::vector<std::string>& overrides = {});
  /// Loads YAML text; relative paths in it resolve against `base_dir`.
  static Pipeline FromYaml(const std::string& yaml, const std::string& base_dir,
                           const std::vector<std::string>& overrides = {});

  /// Builds a pipeline in code: every Set() is a key of the configuration (docs/config.md),
  /// e.g. Set("source.path", "in.csv"), Set("limits.threads", "2"); lists with "[i]"
  /// ("transform[0].javascript.code"). Build() loads it like a file (same checks, same
  /// codes); relative paths resolve against `base_dir`.
  class Builder {
   public:
    explicit Builder(std::string base_dir);
    Builder& Set(const std::string& key, const std::string& value);
    Pipeline Build() const;

   private:
    std::string base_dir_;
    std::vector<std::pair<std::string, std::string>> values_;
  };

  /// Checks what `flowengine validate` checks: the file identity of every path, the source's
  /// header against the declared columns, the script, the sinks' directories and output
  /// modes. Reads headers, writes nothing. Throws PipelineError.
  void Validate() const;

  const std::string& name() const;

  /// One file the pipeline reads or writes, named by the key that configures it.
  struct File {
    std::string key;   ///< "source.path", "sink.path", "routes.NAME.path", "deadLetter.path",
                       ///< "transform[0].javascript.file", "the pipeline file"
    std::string path;  ///< absolute, as configured (links not resolved)
    bool output = false;
    bool data = false;  ///< an input or output of rows (not a script or the pipeline file)
  };
  /// Every file of the pipeline (standard input and output are not files: see
  /// uses_standard_streams()).
  std::vector<File> Files() const;
  /// source.path or sink.path is "-" (standard input or output).
  bool uses_standard_streams() const;
  /// limits.memory in bytes: the budget of the run's block, batch and output buffers.
  int64_t memory_budget() const;
  /// The V8 heaps of one thread in bytes: limits.scriptHeap per JavaScript step (each step
  /// has an isolate per thread), 0 without one.
  int64_t script_heap() const;
  /// limits.threads (0: all cores).
  int threads() const;

  /// The JSON Schema (draft 2020-12) every pipeline file follows.
  static std::string JsonSchema();

  /// What `flowengine inspect` prints: the compiled graph (one node per stage and transform
  /// step, in order, with its concurrency), the memory plan and the schema in and out of each
  /// stage, as text or (`dot`) Graphviz. Opens the source's header and compiles the scripts;
  /// writes nothing. Throws PipelineError.
  std::string Inspect(bool dot = false) const;

 private:
  explicit Pipeline(std::shared_ptr<const PipelineSpec> spec);
  std::shared_ptr<const PipelineSpec> spec_;
  friend class Engine;
};

/// Cancels a run from any thread: the run stops reading, its targets stay untouched.
class CancellationToken {
 public:
  CancellationToken();
  void Cancel() noexcept;
  /// Cancel() because of signal `signo` (SIGINT, SIGTERM): the run's log names the signal.
  /// Async-signal-safe (two atomic stores): call it from a signal handler.
  void CancelForSignal(int signo) noexcept;
  bool cancelled() const noexcept;
  int signal() const noexcept;  ///< the signal given to CancelForSignal, else 0

 private:
  friend class Engine;
  struct State {
    std::atomic<bool> flag{false};
    std::atomic<int> signal{0};
  };
  std::shared_ptr<State> state_;
};

/// How far a run is, reported to RunObserver::OnProgress about four times a second.
struct Progress {
  uint64_t rows_read = 0;
  uint64_t rows_written = 0;
  uint64_t rows_rejected = 0;
  uint64_t bytes_read = 0;
  int64_t input_bytes = 0;  ///< 0 when unknown (standard input)
  double seconds = 0;
};

struct RunResult;

/// One log line of a run.
struct LogRecord {
  std::string level;     ///< "debug", "info", "warn", "error"
  std::string category;  ///< "config", "source", "transform", "sink", "engine", "script"
  std::string message;
  std::optional<ErrorInfo> error;  ///< for a line about an error (a rejected row, a failure)
  std::vector<std::pair<std::string, std::string>> fields;  ///< more keys and values
  std::string pipeline;                                     ///< the run's pipeline name
};

/// Called on threads of the engine while a run lasts, never concurrently for one run (the
/// engine serialises a run's calls).
class RunObserver {
 public:
  virtual ~RunObserver() = default;
  virtual void OnProgress(const Progress& /*progress*/) {}
  /// Once, when the run has ended (committed, failed or cancelled).
  virtual void OnFinished(const RunResult& /*result*/) {}
  /// Every log line of the run at or above the engine's log level (rejected rows, the
  /// script's console.log and context.utils.log, the outcome). Added
  /// (Declared last in the vtable.)
  virtual void OnLog(const LogRecord& /*record*/) {}
};

struct RunResult {
  bool ok = false;
  bool cancelled = false;
  std::optional<ErrorInfo> error;  ///< set when the run failed or was cancelled
  uint64_t rows_read = 0;
  uint64_t rows_written = 0;
  uint64_t rows_routed = 0;
  uint64_t rows_filtered = 0;
  uint64_t rows_rejected = 0;
  uint64_t row_copies = 0;
  uint64_t bytes_read = 0;
  double seconds = 0;
  int threads = 0;
  /// Output targets replaced by the commit: all of them after a success, none after almost
  /// any failure, some after FE-OUTPUT-PARTIAL-COMMIT (the error names them).
  size_t targets_replaced = 0;
  /// The same JSON object as `flowengine run --summary` (docs/operations.md).
  std::string summary_json;
};

/// What a run reports besides its result: the files and the endpoint of `flowengine run`'s
/// options of the same names. Every file is checked with the pipeline's own files before the
/// run (none may be an input or another output) and written atomically after it; a file
/// that cannot be written is logged, the run's outcome stays what it was.
struct RunReports {
  std::string summary_file;  ///< the summary JSON (RunResult::summary_json)
  std::string metrics_file;  ///< the final metrics, Prometheus textfile format
  std::string trace_file;    ///< a Chrome trace: one slice per block per stage
  size_t sample_rows = 0;    ///< log the first N rows leaving the source and the transform
  std::string sample_dir;    ///< ... or write them to DIR/source.csv and DIR/transform.csv
  /// Serve /metrics, /healthz and /readyz on HOST:PORT while the run lasts (port 0: any
  /// free port, logged). A port that cannot be bound fails the run before it starts.
  std::string metrics_listen;
};

struct EngineOptions {
  /// Where the plugins (libflowengine_js.so for JavaScript steps) are; "" finds them in the
  /// install layout (<prefix>/lib/flowengine beside libflowengine.so) or beside the
  /// executable, or in $FLOWENGINE_PLUGIN_DIR.
  std::string plugin_dir;
  /// "debug", "info", "warn" or "error": the level of this engine's runs' log lines.
  std::string log_level = "warn";
  std::string log_format = "json";
  /// The engine's threads, shared by every run (oneTBB's pool, capped for the Engine's
  /// lifetime): a run asking for more (or for limits.threads 0, all cores) gets this many.
  /// 0: no cap (each run's limits.threads, as the CLI does).
  int threads = 0;
  /// Idle V8 isolates kept warm between runs (per heap size, limits.scriptHeap): a run takes
  /// one instead of making one, and gets fresh contexts in it (no script state passes from
  /// one run to the next). 0: every isolate is disposed when its run ends. Also decides, for
  /// the process, whether V8 has background threads (compiler, GC helpers): with warm
  /// isolates it does (short runs start faster); without, it has none (batch runs use every
  /// core for their isolates). Set before the process's first JavaScript run.
  int warm_isolates = 0;
  /// The scripts this engine runs are its caller's own, run with the caller's rights (the
  /// `flowengine run` CLI sets it: the pipeline author runs their own scripts). V8 then leaves
  /// its code memory writable between compiles instead of write-protecting it, which makes
  /// each isolate's first blocks faster (js-enrich +3.6% rows/s on 2 cores). Leave it false
  /// for scripts from anyone else (`flowengine serve` runs its clients' scripts with it
  /// false). Process-wide, decided when the process's first JavaScript run starts V8: the
  /// protection is left off only if every Engine alive then has trusted_scripts.
  bool trusted_scripts = false;
  /// One memory budget for every run of this engine, in bytes: a run reserves its
  /// limits.memory plus limits.scriptHeap per thread per JavaScript step (what it may use)
  /// and starts when that fits in what is left, in the order the runs were asked for; it
  /// waits until then (a cancelled run stops waiting). A run larger than the whole budget
  /// fails at once with FE-RESOURCE-MEMORY. 0: no engine budget (each run has its own).
  int64_t memory_budget = 0;
  /// Where this engine's runs log: called for every line, from the runs' threads, never
  /// concurrently for one run (two runs may call it at once). Unset: the process's stderr,
  /// as JSON lines or "text" (log_format; that setting is process-wide). A sink that
  /// throws loses that line, nothing else.
  std::function<void(const LogRecord&)> log_sink;
};

/// Runs pipelines. One per process is enough; runs may overlap.
class Engine {
 public:
  explicit Engine(EngineOptions options = {});
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  /// Runs `pipeline` to its end on the calling thread (the work itself runs on the engine's
  /// threads): the outputs are committed atomically as a set, or nothing is. Never throws
  /// for a failed run; RunResult::error says why.
  RunResult Run(const Pipeline& pipeline, const CancellationToken* cancel = nullptr,
                RunObserver* observer = nullptr);
  /// The same, with report files and a metrics endpoint (what `flowengine run` uses).
  RunResult Run(const Pipeline& pipeline, const CancellationToken* cancel, RunObserver* observer,
                const RunReports& reports);

  /// The version of the library ("0.1.0").
  static std::string Version();

  /// Isolates made new and taken warm since the process started, and idle now.
  struct IsolateStats {
    uint64_t created = 0;
    uint64_t reused = 0;
    uint64_t idle = 0;
  };
  static IsolateStats Isolates();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace flowengine
