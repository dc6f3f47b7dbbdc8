#include "tools/serve_runs.h"

#include <algorithm>
#include <cstdio>

#include "core/log/logger.h"

namespace flowengine::serve {

const char* RunStateName(RunState state) {
  switch (state) {
    case RunState::kQueued:
      return "queued";
    case RunState::kRunning:
      return "running";
    case RunState::kSucceeded:
      return "succeeded";
    case RunState::kFailed:
      return "failed";
    case RunState::kCancelled:
      return "cancelled";
  }
  return "failed";
}

namespace {

double SecondsSince(std::chrono::steady_clock::time_point t0,
                    std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(t - t0).count();
}

std::string Number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.3f", v);
  return buf;
}

std::string ErrorJson(const ErrorInfo& e) {
  return "{\"code\":" + JsonQuote(e.code) + ",\"class\":" + JsonQuote(e.error_class) +
         ",\"message\":" + JsonQuote(e.message) + ",\"hint\":" + JsonQuote(e.hint) +
         ",\"file\":" + JsonQuote(e.file) + ",\"line\":" + std::to_string(e.line) +
         ",\"column\":" + std::to_string(e.column) + ",\"stage\":" + JsonQuote(e.stage) + "}";
}

}  // namespace

int64_t RunMemory(const Pipeline& pipeline, int threads_cap) {
  const int t = pipeline.threads();
  const int threads = t <= 0 || t > threads_cap ? threads_cap : t;
  return pipeline.memory_budget() + static_cast<int64_t>(threads) * pipeline.script_heap();
}

struct RunScheduler::Run {
  explicit Run(Pipeline p) : pipeline(std::move(p)) {}
  std::string id;
  std::string pipeline_name;
  Pipeline pipeline;
  int64_t memory = 0;
  RunState state = RunState::kQueued;
  CancellationToken token;
  Progress progress;
  std::optional<RunResult> result;
  std::optional<ErrorInfo> error;  ///< a run cancelled before it started
  std::chrono::steady_clock::time_point submitted, started, ended;
  std::chrono::system_clock::time_point submitted_wall;
};

// Publishes a run's progress under the scheduler's lock.
class RunScheduler::Observer final : public RunObserver {
 public:
  Observer(RunScheduler& scheduler, Run& run) : scheduler_(scheduler), run_(run) {}
  void OnProgress(const Progress& p) override {
    std::lock_guard<std::mutex> lock(scheduler_.mutex_);
    run_.progress = p;
  }

 private:
  RunScheduler& scheduler_;
  Run& run_;
};

RunScheduler::RunScheduler(Engine& engine, SchedulerOptions options)
    : engine_(engine), options_(options) {
  for (int i = 0; i < std::max(1, options_.max_runs); ++i) {
    runners_.emplace_back([this] { RunnerLoop(); });
  }
}

RunScheduler::~RunScheduler() { Drain(std::chrono::steady_clock::now()); }

std::string RunScheduler::Submit(const std::string& name, Pipeline pipeline, Refusal* why) {
  std::lock_guard<std::mutex> lock(mutex_);
  *why = Refusal::kNone;
  if (draining_) {
    *why = Refusal::kDraining;
    return "";
  }
  const int64_t memory = RunMemory(pipeline, std::max(1, options_.threads));
  if (options_.memory > 0 && memory > options_.memory) {
    *why = Refusal::kTooLarge;
    return "";
  }
  // Runs that hold a runner or wait for one: beyond --max-runs of them, --max-queue wait.
  const size_t wanting = static_cast<size_t>(running_) + queue_.size();
  if (wanting >= static_cast<size_t>(std::max(1, options_.max_runs)) + options_.max_queue) {
    ++counts_.refused_queue_full;
    *why = Refusal::kQueueFull;
    return "";
  }
  auto run = std::make_shared<Run>(std::move(pipeline));
  char id[32];
  std::snprintf(id, sizeof(id), "run-%09llu", static_cast<unsigned long long>(next_id_++));
  run->id = id;
  run->pipeline_name = name;
  run->memory = memory;
  run->submitted = std::chrono::steady_clock::now();
  run->submitted_wall = std::chrono::system_clock::now();
  runs_[run->id] = run;
  queue_.push_back(run);
  ++counts_.submitted;
  wake_.notify_all();
  return run->id;
}

bool RunScheduler::Cancel(const std::string& id) {
  std::lock_guard<std::mutex> lock(mutex_);
  const auto it = runs_.find(id);
  if (it == runs_.end()) return false;
  if (it->second->state == RunState::kQueued) {
    CancelQueuedLocked(*it->second);
  } else if (it->second->state == RunState::kRunning) {
    it->second->token.Cancel();
  }
  return true;
}

void RunScheduler::CancelQueuedLocked(Run& run) {
  queue_.erase(std::remove_if(queue_.begin(), queue_.end(),
                              [&](const std::shared_ptr<Run>& r) { return r.get() == &run; }),
               queue_.end());
  run.state = RunState::kCancelled;
  run.ended = std::chrono::steady_clock::now();
  ErrorInfo e;
  e.code = "FE-RESOURCE-INTERRUPTED";
  e.error_class = "resource";
  e.message = "The run was cancelled before it started";
  e.hint = "Nothing was read or written.";
  run.error = e;
  ++counts_.finished["cancelled"];
  done_order_.push_back(run.id);
  ForgetOldLocked();
  wake_.notify_all();
}

void RunScheduler::RunnerLoop() {
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    // The oldest queued run starts once its memory fits (later runs wait behind it, so a
    // large run is never starved by small ones).
    wake_.wait(lock, [this] {
      if (draining_ && queue_.empty()) return true;
      if (queue_.empty()) return false;
      return options_.memory <= 0 || reserved_ + queue_.front()->memory <= options_.memory;
    });
    if (queue_.empty()) return;  // draining
    std::shared_ptr<Run> run = queue_.front();
    queue_.pop_front();
    run->state = RunState::kRunning;
    run->started = std::chrono::steady_clock::now();
    reserved_ += run->memory;
    ++running_;
    lock.unlock();

    RunResult result;
    // The files are checked again: a link may have changed while the run was queued.
    const std::string refusal =
        options_.check_before_start ? options_.check_before_start(run->pipeline) : "";
    if (!refusal.empty()) {
      ErrorInfo e;
      e.code = "FE-SERVE-PATH";
      e.error_class = "service";
      e.message = refusal + " (found when the run was about to start)";
      e.hint = "Nothing was read or written.";
      result.error = e;
    } else {
      Observer observer(*this, *run);
      result = engine_.Run(run->pipeline, &run->token, &observer);
    }

    lock.lock();
    reserved_ -= run->memory;
    --running_;
    run->ended = std::chrono::steady_clock::now();
    run->state = result.ok          ? RunState::kSucceeded
                 : result.cancelled ? RunState::kCancelled
                                    : RunState::kFailed;
    counts_.rows_read += result.rows_read;
    Log(result.ok ? LogLevel::kInfo : LogLevel::kWarn, LogCategory::kEngine,
        "run " + run->id + " (pipeline '" + run->pipeline_name + "') " + RunStateName(run->state) +
            (result.error ? ": " + result.error->code + " " + result.error->message : ""),
        {LogField::Str("run", run->id),
         LogField::Num("rows_read", static_cast<int64_t>(result.rows_read)),
         LogField::Real("seconds", result.seconds)});
    run->result = std::move(result);
    ++counts_.finished[RunStateName(run->state)];
    done_order_.push_back(run->id);
    ForgetOldLocked();
    wake_.notify_all();
    finished_.notify_all();
  }
}

void RunScheduler::ForgetOldLocked() {
  while (done_order_.size() > options_.max_history) {
    runs_.erase(done_order_.front());
    done_order_.pop_front();
  }
}

std::string RunScheduler::JsonLocked(const Run& run) const {
  const auto now = std::chrono::steady_clock::now();
  std::string out = "{\"id\":" + JsonQuote(run.id) +
                    ",\"pipeline\":" + JsonQuote(run.pipeline_name) + ",\"state\":\"" +
                    RunStateName(run.state) + "\"";
  const double queued_for =
      SecondsSince(run.submitted, run.state == RunState::kQueued                ? now
                                  : run.started.time_since_epoch().count() != 0 ? run.started
                                                                                : run.ended);
  out += ",\"queued_seconds\":" + Number(queued_for);
  if (run.state != RunState::kQueued && run.started.time_since_epoch().count() != 0) {
    out += ",\"run_seconds\":" +
           Number(SecondsSince(run.started, run.state == RunState::kRunning ? now : run.ended));
  }
  const Progress& p = run.result ? Progress{run.result->rows_read,     run.result->rows_written,
                                            run.result->rows_rejected, run.result->bytes_read,
                                            run.progress.input_bytes,  run.result->seconds}
                                 : run.progress;
  out += ",\"progress\":{\"rows_read\":" + std::to_string(p.rows_read) +
         ",\"rows_written\":" + std::to_string(p.rows_written) +
         ",\"rows_rejected\":" + std::to_string(p.rows_rejected) +
         ",\"bytes_read\":" + std::to_string(p.bytes_read) +
         ",\"input_bytes\":" + std::to_string(p.input_bytes) + "}";
  if (run.result) {
    std::string summary = run.result->summary_json;
    while (!summary.empty() && (summary.back() == '\n' || summary.back() == ' ')) {
      summary.pop_back();
    }
    if (!summary.empty()) out += ",\"summary\":" + summary;  // none: refused before it ran
    if (run.result->error) out += ",\"error\":" + ErrorJson(*run.result->error);
  } else if (run.error) {
    out += ",\"error\":" + ErrorJson(*run.error);
  }
  return out + "}";
}

std::optional<std::string> RunScheduler::RunJson(const std::string& id) const {
  std::lock_guard<std::mutex> lock(mutex_);
  const auto it = runs_.find(id);
  if (it == runs_.end()) return std::nullopt;
  return JsonLocked(*it->second);
}

std::string RunScheduler::RunsJson() const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::string out = "[";
  bool first = true;
  for (auto it = runs_.rbegin(); it != runs_.rend(); ++it) {  // ids grow with time
    out += (first ? "" : ",") + JsonLocked(*it->second);
    first = false;
  }
  return out + "]";
}

SchedulerCounts RunScheduler::Counts() const {
  std::lock_guard<std::mutex> lock(mutex_);
  SchedulerCounts c = counts_;
  c.queued = queue_.size();
  c.running = static_cast<uint64_t>(running_);
  c.memory_reserved = reserved_;
  return c;
}

void RunScheduler::CancelRunning() {
  std::lock_guard<std::mutex> lock(mutex_);
  for (auto& [id, run] : runs_) {
    if (run->state == RunState::kRunning) run->token.Cancel();
  }
}

bool RunScheduler::draining() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return draining_;
}

void RunScheduler::Drain(std::chrono::steady_clock::time_point deadline) {
  {
    // In one critical section: no runner can start a queued run in between.
    std::unique_lock<std::mutex> lock(mutex_);
    draining_ = true;
    while (!queue_.empty()) CancelQueuedLocked(*queue_.front());
  }
  {
    std::unique_lock<std::mutex> lock(mutex_);
    wake_.notify_all();
    finished_.wait_until(lock, deadline, [this] { return running_ == 0; });
  }
  CancelRunning();
  for (std::thread& t : runners_) {
    if (t.joinable()) t.join();
  }
  runners_.clear();
}

}  // namespace flowengine::serve
