#include "core/js/script_isolate.h"

#include <algorithm>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

#include "core/js/js_protocol.h"
#include "core/js/output_values.h"
#include "core/js/v8_platform.h"
#include "core/log/logger.h"
#include "core/ops/warm_isolates.h"

namespace flowengine::js {
namespace {

constexpr uint32_t kIsolateSlot = 0;    // Isolate::GetData: the ScriptIsolate using it
constexpr size_t kMaxUnhandled = 4096;  // reasons kept for the message; the rest only counted

v8::Local<v8::String> Str(v8::Isolate* iso, std::string_view s) {
  return v8::String::NewFromUtf8(iso, s.data(), v8::NewStringType::kNormal,
                                 static_cast<int>(s.size()))
      .ToLocalChecked();
}

// Names as internalized strings: the driver's Maps find the literal names of a script (also
// internalized) by identity instead of comparing their characters.
v8::Local<v8::Array> StringArray(v8::Isolate* iso, const std::vector<std::string>& items) {
  std::vector<v8::Local<v8::Value>> values;
  for (const std::string& s : items) {
    values.push_back(v8::String::NewFromUtf8(iso, s.data(), v8::NewStringType::kInternalized,
                                             static_cast<int>(s.size()))
                         .ToLocalChecked());
  }
  return v8::Array::New(iso, values.data(), values.size());
}

// A JavaScript string literal for `s`.
std::string JsString(std::string_view s) {
  std::string out = "\"";
  for (char ch : s) {
    const auto u = static_cast<unsigned char>(ch);
    if (ch == '"' || ch == '\\') {
      out += '\\';
      out += ch;
    } else if (u < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\u%04x", u);
      out += buf;
    } else {
      out += ch;
    }
  }
  return out + "\"";
}

// Compiles and runs engine code (no user code runs); its result.
v8::Local<v8::Value> RunEngineScript(v8::Isolate* iso, v8::Local<v8::Context> ctx,
                                     const std::string& source, const char* name) {
  v8::ScriptOrigin origin(iso, Str(iso, name));
  return v8::Script::Compile(ctx, Str(iso, source), &origin)
      .ToLocalChecked()
      ->Run(ctx)
      .ToLocalChecked();
}

// The same token for the user's and the driver's context (compared by identity): each may
// use the other's objects, e.g. the user's `new Function` is judged by the user's realm.
v8::Local<v8::Value> SecurityToken(v8::Isolate* iso) {
  return v8::String::NewFromUtf8Literal(iso, "flowengine-script", v8::NewStringType::kInternalized);
}

v8::Local<v8::Function> Method(v8::Isolate* iso, v8::Local<v8::Context> ctx,
                               v8::Local<v8::Object> object, const char* name) {
  return object->Get(ctx, Str(iso, name)).ToLocalChecked().As<v8::Function>();
}

}  // namespace

// ArrayBuffers of the script: refused (the script sees a RangeError) once the buffers and
// the heap measured after the last batch would pass limits.scriptHeap.
class ScriptIsolate::CountingAllocator final : public v8::ArrayBuffer::Allocator {
 public:
  explicit CountingAllocator(int64_t limit)
      : limit_(limit), base_(v8::ArrayBuffer::Allocator::NewDefaultAllocator()) {}
  void* Allocate(size_t length) override {
    if (!Charge(length)) return nullptr;
    void* p = base_->Allocate(length);
    if (p == nullptr) used_.fetch_sub(static_cast<int64_t>(length));
    return p;
  }
  void* AllocateUninitialized(size_t length) override {
    if (!Charge(length)) return nullptr;
    void* p = base_->AllocateUninitialized(length);
    if (p == nullptr) used_.fetch_sub(static_cast<int64_t>(length));
    return p;
  }
  void Free(void* data, size_t length) override {
    base_->Free(data, length);
    used_.fetch_sub(static_cast<int64_t>(length));
  }
  int64_t used() const { return used_.load(); }
  void set_heap_bytes(int64_t bytes) { heap_bytes_.store(bytes); }

 private:
  bool Charge(size_t length) {
    const auto n = static_cast<int64_t>(length);
    const int64_t before = used_.fetch_add(n);
    if (before + n + heap_bytes_.load() > limit_) {
      used_.fetch_sub(n);
      return false;
    }
    return true;
  }

  int64_t limit_;
  std::atomic<int64_t> used_{0};
  std::atomic<int64_t> heap_bytes_{0};
  std::unique_ptr<v8::ArrayBuffer::Allocator> base_;
};

// Young generation of an isolate: three semi-spaces of 2 MiB.
constexpr size_t kYoungBytes = 6u << 20;

// ArrayBuffers a warm isolate may still hold when it is kept (after its full GC).
constexpr int64_t kWarmBufferSlack = 1 << 20;
// Garbage (heap in use plus ArrayBuffers) a warm isolate may carry into the next run.
constexpr int64_t kWarmGarbage = 8 << 20;

// Idle isolates kept warm between runs (core/ops/warm_isolates.h), each with its allocator
// and the heap size it was made for (V8 fixes the heap's constraints at creation).
struct IdleIsolate {
  v8::Isolate* isolate = nullptr;
  std::unique_ptr<ScriptIsolate::CountingAllocator> allocator;
  int64_t heap_bytes = 0;
};

namespace {

// The warm isolates: idle ones ready for a run, and retired ones waiting for the janitor
// thread. The old contexts of a retired isolate stay in its heap, and their ArrayBuffers
// charged to its allocator, until a GC frees them; once they pass kWarmGarbage the janitor
// runs a full GC (LowMemoryNotification: ~2 ms, and it flushes the compiled code that made
// the next run start fast, so not after every run) off the run's own time. RSS stays flat
// over thousands of runs (bench/e2e/serve_soak.py).
class WarmIsolates {
 public:
  static WarmIsolates& Get() {
    static auto* pool = new WarmIsolates();  // lives as long as the process
    return *pool;
  }

  // An isolate made for `heap_bytes`, or false: an idle one, else a retired one the janitor
  // has not cleaned yet (its garbage goes at its next retirement), else the one it is
  // cleaning, once done (~2 ms, less than making one).
  bool Take(int64_t heap_bytes, IdleIsolate* out) {
    std::unique_lock<std::mutex> lock(mutex_);
    const auto take = [&](auto& from) {
      for (auto it = from.begin(); it != from.end(); ++it) {
        if (it->heap_bytes != heap_bytes) continue;
        *out = std::move(*it);
        from.erase(it);
        SetIdleIsolateCount(idle_.size());
        return true;
      }
      return false;
    };
    for (;;) {
      if (take(idle_) || take(retired_)) return true;
      if (cleaning_heap_ != heap_bytes) return false;
      cleaned_.wait(lock);
    }
  }

  // Takes a retired isolate (no contexts, no callbacks, nothing terminating): idle at once
  // while its garbage is small, else through the janitor.
  void Retire(IdleIsolate retired, int64_t garbage) {
    std::lock_guard<std::mutex> lock(mutex_);
    SetWarmIsolateReleaser(&WarmIsolates::ReleaseAll);
    if (!janitor_.joinable()) janitor_ = std::thread([this] { Loop(); });  // one, for good
    if (garbage <= kWarmGarbage && retired.allocator->used() <= kWarmBufferSlack) {
      if (idle_.size() < WarmIsolateLimit()) {
        idle_.push_back(std::move(retired));
        SetIdleIsolateCount(idle_.size());
      } else {
        retired.isolate->Dispose();
      }
      return;
    }
    retired_.push_back(std::move(retired));
    wake_.notify_one();
  }

  static void ReleaseAll() { Get().Release(); }

 private:
  void Loop() {
    std::unique_lock<std::mutex> lock(mutex_);
    for (;;) {
      wake_.wait(lock, [this] { return stop_ || !retired_.empty(); });
      if (retired_.empty()) return;  // stopping
      IdleIsolate r = std::move(retired_.front());
      retired_.pop_front();
      cleaning_heap_ = r.heap_bytes;
      lock.unlock();
      {
        v8::Locker locker(r.isolate);
        v8::Isolate::Scope isolate_scope(r.isolate);
        r.isolate->LowMemoryNotification();
      }
      const bool clean = r.allocator->used() <= kWarmBufferSlack;
      lock.lock();
      if (clean && !stop_ && idle_.size() < WarmIsolateLimit()) {
        r.allocator->set_heap_bytes(0);
        idle_.push_back(std::move(r));
        SetIdleIsolateCount(idle_.size());
      } else {
        r.isolate->Dispose();
      }
      cleaning_heap_ = -1;
      cleaned_.notify_all();
    }
  }

  void Release() {
    std::thread janitor;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
      janitor.swap(janitor_);
      wake_.notify_all();
    }
    if (janitor.joinable()) janitor.join();  // disposes what was retired
    std::lock_guard<std::mutex> lock(mutex_);
    for (IdleIsolate& i : idle_) i.isolate->Dispose();
    idle_.clear();
    SetIdleIsolateCount(0);
    stop_ = false;
  }

  std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable cleaned_;  ///< the janitor finished an isolate
  int64_t cleaning_heap_ = -1;       ///< heap size of the isolate being cleaned, or -1
  std::vector<IdleIsolate> idle_;
  std::deque<IdleIsolate> retired_;
  bool stop_ = false;
  std::thread janitor_;
};

}  // namespace

ScriptIsolate::ScriptIsolate(const ScriptConfig& config, Watchdog* watchdog, ScriptHooks* hooks)
    : config_(config), watchdog_(watchdog), hooks_(hooks) {
  EnsureV8Initialized();
  if (IdleIsolate warm; WarmIsolates::Get().Take(config.heap_bytes, &warm)) {
    isolate_ = warm.isolate;
    allocator_ = std::move(warm.allocator);
  }
  if (isolate_ != nullptr) {
    CountIsolateReused();
  } else {
    allocator_ = std::make_unique<CountingAllocator>(config.heap_bytes);
    v8::Isolate::CreateParams params;
    params.array_buffer_allocator = allocator_.get();
    // V8's defaults for this heap size, with a small young generation: what a batch keeps
    // alive is small (a text window, the values set since the last native.text), so
    // scavenges are cheap and frequent, and each isolate's resident memory stays low. 2 MiB
    // semi-spaces (V8 sizes the young generation as three of them) measured as fast as
    // V8's default of up to 32 MiB, at 40 MiB less peak RSS with 2 threads
    // (docs/benchmarks.md, "JavaScript").
    params.constraints.ConfigureDefaultsFromHeapSize(0, static_cast<size_t>(config.heap_bytes));
    const size_t young = std::min<size_t>(static_cast<size_t>(config.heap_bytes) / 4, kYoungBytes);
    params.constraints.set_max_young_generation_size_in_bytes(young);
    params.constraints.set_initial_young_generation_size_in_bytes(young);
    isolate_ = v8::Isolate::New(params);
    CountIsolateCreated();
    // Exceptions that reach C++ carry the stack where they were thrown, with script ids: the
    // innermost frame of the user's script locates errors the driver raises for it.
    isolate_->SetCaptureStackTraceForUncaughtExceptions(
        true, 16,
        static_cast<v8::StackTrace::StackTraceOptions>(v8::StackTrace::kOverview |
                                                       v8::StackTrace::kScriptId));
  }
  isolate_->AddNearHeapLimitCallback(&ScriptIsolate::NearHeapLimit, this);
  watched_ = std::make_unique<WatchedRun>(isolate_, progress_);
  if (watchdog_ != nullptr) watchdog_->Add(watched_.get());
  try {
    Init();
  } catch (...) {
    Retire();
    throw;
  }
}

ScriptIsolate::~ScriptIsolate() { Retire(); }

// Disposes the isolate, or hands it to the warm isolates without this run's contexts, with
// nothing terminating.
void ScriptIsolate::Retire() {
  if (isolate_ == nullptr) return;
  if (watchdog_ != nullptr) watchdog_->Remove(watched_.get());
  ResetHandles();
  // An isolate whose heap limit was hit, or one of whose calls was terminated (promise
  // callbacks it queued may be pending), is never used again.
  // So is one with promise jobs that may still be queued.
  if (WarmIsolateLimit() > 0 && !heap_exceeded_.load() && !watched_->ever_terminated() &&
      !promise_jobs_pending()) {
    int64_t garbage = 0;
    {
      v8::Locker locker(isolate_);
      v8::Isolate::Scope isolate_scope(isolate_);
      isolate_->RemoveNearHeapLimitCallback(&ScriptIsolate::NearHeapLimit, 0);
      isolate_->CancelTerminateExecution();
      isolate_->ContextDisposedNotification();
      v8::HeapStatistics stats;
      isolate_->GetHeapStatistics(&stats);
      garbage = static_cast<int64_t>(stats.used_heap_size()) + allocator_->used();
    }
    allocator_->set_heap_bytes(0);
    WarmIsolates::Get().Retire(IdleIsolate{isolate_, std::move(allocator_), config_.heap_bytes},
                               garbage);
  } else {
    isolate_->Dispose();
  }
  isolate_ = nullptr;
}

void ScriptIsolate::ResetHandles() {
  v8::Locker locker(isolate_);
  ForgetRejections();
  isolate_->SetData(kIsolateSlot, nullptr);
  run_batch_.Reset();
  bad_result_.Reset();
  api_begin_batch_.Reset();
  api_end_batch_.Reset();
  driver_begin_batch_.Reset();
  driver_end_batch_.Reset();
  driver_collect_.Reset();
  user_.Reset();
  driver_.Reset();
}

int64_t ScriptIsolate::array_buffer_bytes() const { return allocator_->used(); }

int64_t ScriptIsolate::memory_in_use() const {
  v8::HeapStatistics stats;
  isolate_->GetHeapStatistics(&stats);
  const auto heap = static_cast<int64_t>(stats.used_heap_size());
  allocator_->set_heap_bytes(heap);
  return heap + allocator_->used();
}

void ScriptIsolate::Init() {
  v8::Locker locker(isolate_);
  v8::Isolate::Scope isolate_scope(isolate_);
  v8::HandleScope handles(isolate_);
  // Promise jobs run when the engine says (RunPromiseJobs), not whenever a call from C++
  // returns: then they belong to the row that queued them.
  isolate_->SetData(kIsolateSlot, this);
  isolate_->SetMicrotasksPolicy(v8::MicrotasksPolicy::kExplicit);
  isolate_->SetPromiseHook(&ScriptIsolate::PromiseHook);
  isolate_->SetPromiseRejectCallback(&ScriptIsolate::PromiseRejected);
  InitUserContext(InitDriverContext());
}

void ScriptIsolate::ThrowLoadError(const std::string& code, const std::string& what,
                                   v8::Local<v8::Context> ctx, const v8::TryCatch& tc) const {
  Location loc;
  loc.file = config_.display_name;
  std::string message = what;
  v8::Local<v8::Message> m = tc.Message();
  if (!m.IsEmpty()) {
    loc.line = m->GetLineNumber(ctx).FromMaybe(0);
    loc.column = m->GetStartColumn(ctx).FromMaybe(-1) + 1;
    message += ": " + ToUtf8(isolate_, m->Get());
  }
  ThrowError(code, message, loc, "transform");
}

v8::Local<v8::Object> ScriptIsolate::InitDriverContext() {
  v8::Isolate* iso = isolate_;
  v8::EscapableHandleScope scope(iso);
  v8::Local<v8::Context> ctx = v8::Context::New(iso);
  ctx->AllowCodeGenerationFromStrings(false);
  ctx->SetSecurityToken(SecurityToken(iso));
  driver_.Reset(iso, ctx);
  v8::Context::Scope context_scope(ctx);
  v8::Local<v8::External> self = v8::External::New(iso, this);
  v8::Local<v8::Object> native = v8::Object::New(iso);
  native
      ->Set(ctx, Str(iso, "column"),
            v8::Function::New(ctx, &ScriptIsolate::NativeColumn, self).ToLocalChecked())
      .Check();
  native
      ->Set(ctx, Str(iso, "log"),
            v8::Function::New(ctx, &ScriptIsolate::NativeLog, self).ToLocalChecked())
      .Check();
  native
      ->Set(ctx, Str(iso, "grow"),
            v8::Function::New(ctx, &ScriptIsolate::NativeGrow, self).ToLocalChecked())
      .Check();
  native
      ->Set(ctx, Str(iso, "window"),
            v8::Function::New(ctx, &ScriptIsolate::NativeWindow, self).ToLocalChecked())
      .Check();
  native
      ->Set(ctx, Str(iso, "convert"),
            v8::Function::New(ctx, &ScriptIsolate::NativeConvert, self).ToLocalChecked())
      .Check();
  native
      ->Set(ctx, Str(iso, "text"),
            v8::Function::New(ctx, &ScriptIsolate::NativeText, self).ToLocalChecked())
      .Check();
  native
      ->Set(ctx, Str(iso, "unescaped"),
            v8::Function::New(ctx, &ScriptIsolate::NativeUnescaped, self).ToLocalChecked())
      .Check();
  std::vector<std::string> in_names, out_names;
  std::vector<ColumnType> in_types;
  for (const ColumnSpec& c : config_.input) {
    in_names.push_back(c.name);
    in_types.push_back(c.type);
  }
  for (const ColumnSpec& c : config_.output) out_names.push_back(c.name);
  v8::Local<v8::Value> args[] = {
      StringArray(iso, in_names), StringArray(iso, out_names), StringArray(iso, config_.routes),
      native, Str(iso, config_.routes_note.empty() ? "(none configured)" : config_.routes_note)};
  v8::Local<v8::Object> driver =
      RunEngineScript(iso, ctx, DriverSource(in_types), "flowengine:driver")
          .As<v8::Function>()
          ->Call(ctx, v8::Undefined(iso), static_cast<int>(std::size(args)), args)
          .ToLocalChecked()
          .As<v8::Object>();
  driver_begin_batch_.Reset(iso, Method(iso, ctx, driver, "beginBatch"));
  driver_end_batch_.Reset(iso, Method(iso, ctx, driver, "endBatch"));
  driver_collect_.Reset(iso, Method(iso, ctx, driver, "collect"));
  return scope.Escape(driver);
}

void ScriptIsolate::InitUserContext(v8::Local<v8::Object> driver) {
  v8::Isolate* iso = isolate_;
  v8::Local<v8::Context> ctx = v8::Context::New(iso);
  ctx->AllowCodeGenerationFromStrings(false);
  ctx->SetErrorMessageForCodeGenerationFromStrings(
      Str(iso,
          "code generation from strings (eval, new Function) is disabled in FlowEngine "
          "scripts"));
  ctx->SetSecurityToken(SecurityToken(iso));
  user_.Reset(iso, ctx);
  v8::Context::Scope context_scope(ctx);
  v8::TryCatch tc(iso);

  // makeRow(v0, v1, ...): { column: value } as an object literal of the schema's columns,
  // one allocation per row, own data properties (a column named __proto__ is a computed
  // key, so it stays a property). Compiled in the user's realm, before the user's script;
  // the driver's readRow calls it with the row's values (in one array beyond
  // kMaxRowArguments columns: makeRow([v0, v1, ...])).
  const size_t n = config_.input.size();
  const bool arguments = n <= kMaxRowArguments;
  std::string row_source = arguments ? "(function (" : "(function (v) { return {";
  for (size_t c = 0; arguments && c < n; ++c) {
    row_source += (c > 0 ? ", v" : "v") + std::to_string(c);
  }
  if (arguments) row_source += ") { return {";
  for (size_t c = 0; c < n; ++c) {
    const std::string& name = config_.input[c].name;
    const std::string key = name == "__proto__" ? "[" + JsString(name) + "]" : JsString(name);
    const std::string value = arguments ? "v" + std::to_string(c) : "v[" + std::to_string(c) + "]";
    row_source += (c > 0 ? ", " : "") + key + ": " + value;
  }
  row_source += "}; })";
  v8::Local<v8::Value> make_row = RunEngineScript(iso, ctx, row_source, "flowengine:row");

  std::vector<std::string> in_names, in_types;
  for (const ColumnSpec& c : config_.input) {
    in_names.push_back(c.name);
    in_types.push_back(std::string(ColumnTypeName(c.type)));
  }
  auto store = v8::ArrayBuffer::NewBackingStore(const_cast<int32_t*>(progress_), sizeof(progress_),
                                                v8::BackingStore::EmptyDeleter, nullptr);
  v8::Local<v8::Int32Array> progress =
      v8::Int32Array::New(v8::ArrayBuffer::New(iso, std::move(store)), 0, 2);
  v8::Local<v8::External> self = v8::External::New(iso, this);
  v8::Local<v8::Value> args[] = {
      driver,
      StringArray(iso, in_names),
      StringArray(iso, in_types),
      make_row,
      progress,
      v8::Function::New(ctx, &ScriptIsolate::NativeConsole, self).ToLocalChecked()};
  v8::Local<v8::Object> api =
      RunEngineScript(iso, ctx, ApiSource(), "flowengine:api")
          .As<v8::Function>()
          ->Call(ctx, v8::Undefined(iso), static_cast<int>(std::size(args)), args)
          .ToLocalChecked()
          .As<v8::Object>();
  run_batch_.Reset(iso, Method(iso, ctx, api, "runBatch"));
  bad_result_.Reset(iso, Method(iso, ctx, api, "badResult"));
  api_begin_batch_.Reset(iso, Method(iso, ctx, api, "beginBatch"));
  api_end_batch_.Reset(iso, Method(iso, ctx, api, "endBatch"));
  v8::Local<v8::Function> set_process = Method(iso, ctx, api, "setProcess");

  v8::ScriptOrigin origin(iso, Str(iso, config_.display_name), config_.line_offset, 0);
  v8::Local<v8::Script> script;
  if (!v8::Script::Compile(ctx, Str(iso, config_.code), &origin).ToLocal(&script)) {
    ThrowLoadError("FE-SCRIPT-SYNTAX", "Script does not compile", ctx, tc);
  }
  user_script_id_ = script->GetUnboundScript()->GetId();
  // The top level (and the lookup of `process`, which may be a getter) runs under the
  // watchdog: a script that loops while loading is stopped, not a hung startup.
  // Promise jobs the top level queued run with it.
  progress_[kProgressRows] = 0;
  watched_->BeginCall();
  const bool loaded = !script->Run(ctx).IsEmpty();
  if (loaded) isolate_->PerformMicrotaskCheckpoint();  // they may define process
  v8::Local<v8::Value> process;
  const bool found = loaded && ctx->Global()->Get(ctx, Str(iso, "process")).ToLocal(&process);
  if (loaded) {
    isolate_->PerformMicrotaskCheckpoint();  // a getter's, if process is one
    progress_[kProgressJobs] = 0;            // drained (or, terminated, dropped)
  }
  // A top level that threw leaves its jobs queued and the flag set: the isolate is never
  // used again (Retire), so they can never run in another run's load.
  const WatchedRun::Ended ended = watched_->EndCall();
  if (ended != WatchedRun::Ended::kNormally || heap_exceeded()) {
    Location loc;
    loc.file = config_.display_name;
    if (heap_exceeded()) {
      ThrowError("FE-SCRIPT-HEAP",
                 "Script's top level exceeded limits.scriptHeap (" +
                     std::to_string(config_.heap_bytes) + " bytes) while loading",
                 loc, "transform");
    }
    if (ended == WatchedRun::Ended::kStopped) {
      ThrowError("FE-RESOURCE-INTERRUPTED", "The run was stopped while the script loaded", loc,
                 "transform");
    }
    ThrowError("FE-SCRIPT-TIMEOUT",
               "Script's top level ran longer than limits.scriptTimeout (" +
                   std::to_string(watchdog_ ? watchdog_->timeout().count() : 0) +
                   " ms) while loading and was stopped",
               loc, "transform");
  }
  if (!loaded) ThrowLoadError("FE-SCRIPT-ERROR", "Script failed while loading", ctx, tc);
  Location top;
  top.file = config_.display_name;
  if (std::optional<Error> rejected = TakeRejection(
          "Script's top level left a promise rejected with nothing to handle it", top)) {
    throw ErrorException(std::move(*rejected));
  }
  if (!found || !process->IsFunction()) {
    Location loc;
    loc.file = config_.display_name;
    ThrowError("FE-SCRIPT-NO-PROCESS", "Script does not define a function process(context)", loc,
               "transform");
  }
  v8::Local<v8::Value> process_arg[] = {process};
  if (set_process->Call(ctx, v8::Undefined(iso), 1, process_arg).IsEmpty()) {
    ThrowLoadError("FE-INTERNAL", "The script's API could not be set up", ctx, tc);
  }
}

WatchedRun::Ended ScriptIsolate::RunPromiseJobs(Location row, std::optional<Error>* rejection) {
  v8::HandleScope scope(isolate_);
  progress_[kProgressJobs] = 0;
  watched_->BeginCall();
  {
    v8::TryCatch tc(isolate_);
    isolate_->PerformMicrotaskCheckpoint();  // to the end, jobs queued by jobs too
  }
  const WatchedRun::Ended ended = watched_->EndCall();
  // Drained, or (terminated) dropped by V8: nothing is queued either way.
  progress_[kProgressJobs] = 0;
  if (ended != WatchedRun::Ended::kNormally || heap_exceeded()) {
    ForgetRejections();
    return ended;
  }
  *rejection =
      TakeRejection("A promise of the row was rejected and nothing handled it", std::move(row));
  return ended;
}

void ScriptIsolate::ForgetRejections() {
  unhandled_.clear();
  unhandled_count_ = 0;
  ++rejection_round_;
}

std::optional<Error> ScriptIsolate::TakeRejection(const std::string& what, Location row) {
  if (unhandled_count_ == 0) {
    ForgetRejections();
    return std::nullopt;
  }
  v8::HandleScope scope(isolate_);
  v8::Local<v8::Value> reason =
      v8::String::NewFromUtf8Literal(isolate_, "(its reason was not kept)").As<v8::Value>();
  const Unhandled* first = nullptr;
  for (const auto& [hash, u] : unhandled_) {
    if (first == nullptr || u.order < first->order) first = &u;
  }
  if (first != nullptr) reason = first->reason.Get(isolate_);
  ForgetRejections();
  // Thrown again here to make its message, located where an Error was made (its stack).
  v8::Local<v8::Context> user = user_context();
  v8::Context::Scope user_scope(user);
  v8::TryCatch tc(isolate_);
  watched_->BeginCall();
  isolate_->ThrowException(reason);
  watched_->EndCall();
  return ScriptError("FE-SCRIPT-ERROR", what, tc, std::move(row));
}

void ScriptIsolate::PromiseHook(v8::PromiseHookType, v8::Local<v8::Promise>, v8::Local<v8::Value>) {
  auto* self = static_cast<ScriptIsolate*>(v8::Isolate::GetCurrent()->GetData(kIsolateSlot));
  if (self != nullptr) self->progress_[kProgressJobs] = 1;
}

void ScriptIsolate::PromiseRejected(v8::PromiseRejectMessage message) {
  v8::Isolate* iso = v8::Isolate::GetCurrent();
  auto* self = static_cast<ScriptIsolate*>(iso->GetData(kIsolateSlot));
  if (self == nullptr) return;
  self->progress_[kProgressJobs] = 1;
  v8::Local<v8::Promise> promise = message.GetPromise();
  // Each promise reported unhandled is marked with the current round (the rejections taken
  // since the last TakeRejection); a handler added later counts only for a promise of the
  // same round: a late handler on an earlier row's promise does not hide this row's
  // rejection. The count is exact; the reasons of the first few are kept for the message.
  v8::Local<v8::Context> ctx = iso->GetCurrentContext();
  if (ctx.IsEmpty()) return;  // never: V8 reports rejections while JavaScript runs
  v8::Local<v8::Private> key = v8::Private::ForApi(iso, Str(iso, "flowengine:rejection-round"));
  if (message.GetEvent() == v8::kPromiseRejectWithNoHandler) {
    if (promise->SetPrivate(ctx, key, v8::Integer::NewFromUnsigned(iso, self->rejection_round_))
            .FromMaybe(false)) {
      ++self->unhandled_count_;
    }
    if (self->unhandled_.size() < kMaxUnhandled) {
      self->unhandled_.emplace(
          promise->GetIdentityHash(),
          Unhandled{self->unhandled_order_++, v8::Global<v8::Promise>(iso, promise),
                    v8::Global<v8::Value>(iso, message.GetValue())});
    }
  } else if (message.GetEvent() == v8::kPromiseHandlerAddedAfterReject) {
    v8::Local<v8::Value> round;
    if (promise->GetPrivate(ctx, key).ToLocal(&round) && round->IsUint32() &&
        round.As<v8::Uint32>()->Value() == self->rejection_round_ && self->unhandled_count_ > 0) {
      --self->unhandled_count_;
    }
    auto [from, to] = self->unhandled_.equal_range(promise->GetIdentityHash());
    for (auto it = from; it != to; ++it) {
      if (it->second.promise == promise) {
        self->unhandled_.erase(it);
        break;
      }
    }
  }
}

v8::Local<v8::Int32Array> ScriptIsolate::DriverInts(int32_t* data, size_t n) {
  auto store = v8::ArrayBuffer::NewBackingStore(data, n * sizeof(int32_t),
                                                v8::BackingStore::EmptyDeleter, nullptr);
  return v8::Int32Array::New(v8::ArrayBuffer::New(isolate_, std::move(store)), 0, n);
}

bool ScriptIsolate::BeginBatch(int32_t* moves, size_t n, int32_t* set_idx, int32_t* set_len,
                               size_t capacity, v8::Local<v8::Array>* copies) {
  v8::Isolate* iso = isolate_;
  v8::TryCatch tc(iso);
  v8::Local<v8::Context> user = user_context();
  v8::Local<v8::Int32Array> shared_moves;
  {
    v8::Context::Scope scope(user);
    auto store = v8::ArrayBuffer::NewBackingStore(moves, n * sizeof(int32_t),
                                                  v8::BackingStore::EmptyDeleter, nullptr);
    shared_moves = v8::Int32Array::New(v8::ArrayBuffer::New(iso, std::move(store)), 0, n);
    v8::Local<v8::Value> args[] = {shared_moves};
    if (api_begin_batch_.Get(iso)->Call(user, v8::Undefined(iso), 1, args).IsEmpty()) return false;
  }
  v8::Local<v8::Context> driver = driver_context();
  v8::Context::Scope scope(driver);
  *copies = v8::Array::New(iso, 0);
  v8::Local<v8::Value> args[] = {shared_moves, DriverInts(set_idx, capacity),
                                 DriverInts(set_len, capacity), *copies};
  return !driver_begin_batch_.Get(iso)->Call(driver, v8::Undefined(iso), 4, args).IsEmpty();
}

bool ScriptIsolate::Collect(uint32_t* count, v8::Local<v8::Array>* others) {
  v8::Isolate* iso = isolate_;
  v8::Local<v8::Context> driver = driver_context();
  v8::TryCatch tc(iso);
  v8::Local<v8::Value> result;
  if (!driver_collect_.Get(iso)->Call(driver, v8::Undefined(iso), 0, nullptr).ToLocal(&result)) {
    return false;
  }
  v8::Local<v8::Array> parts = result.As<v8::Array>();
  v8::Local<v8::Value> c, o;
  if (!parts->Get(driver, 0).ToLocal(&c) || !parts->Get(driver, 1).ToLocal(&o)) return false;
  *count = c->Uint32Value(driver).FromMaybe(0);
  *others = o.As<v8::Array>();
  return true;
}

void ScriptIsolate::EndBatch() {
  v8::Isolate* iso = isolate_;
  // What new WeakRefs and deref() keep alive until the end of the current job: V8 lets go
  // of it when microtasks run, which here is only after rows that used promises.
  iso->ClearKeptObjects();
  v8::TryCatch tc(iso);
  v8::MaybeLocal<v8::Value> a =
      api_end_batch_.Get(iso)->Call(user_context(), v8::Undefined(iso), 0, nullptr);
  v8::MaybeLocal<v8::Value> b =
      driver_end_batch_.Get(iso)->Call(driver_context(), v8::Undefined(iso), 0, nullptr);
  (void)a;
  (void)b;
}

Error ScriptIsolate::ScriptError(const std::string& code, const std::string& what,
                                 const v8::TryCatch& tc, Location row) const {
  Error e = MakeError(code, config_.step_label.empty() ? what : config_.step_label + ": " + what,
                      std::move(row), "transform");
  e.script = config_.display_name;
  v8::Local<v8::Message> m = tc.Message();
  if (m.IsEmpty()) return e;
  v8::Local<v8::Context> ctx = isolate_->GetCurrentContext();
  e.message += ": " + ToUtf8(isolate_, m->Get());
  // Where: the throw itself when the user's script threw, else (the driver threw for a
  // misused API) the innermost frame of the user's script.
  int line = 0, column = 0;
  if (m->GetScriptOrigin().ScriptId() == user_script_id_) {
    line = m->GetLineNumber(ctx).FromMaybe(0);
    column = m->GetStartColumn(ctx).FromMaybe(-1) + 1;
  }
  std::string frames;
  v8::Local<v8::StackTrace> trace = m->GetStackTrace();
  if (!trace.IsEmpty()) {
    for (int i = 0; i < trace->GetFrameCount(); ++i) {
      v8::Local<v8::StackFrame> f = trace->GetFrame(isolate_, static_cast<uint32_t>(i));
      if (f->GetScriptId() != user_script_id_) continue;  // the engine's own frames
      if (line == 0) {
        line = f->GetLineNumber();
        column = f->GetColumn();
      }
      const std::string fn = ToUtf8(isolate_, f->GetFunctionName());
      frames += "\n    at " + (fn.empty() ? std::string("<anonymous>") : fn) + " (" +
                config_.display_name + ":" + std::to_string(f->GetLineNumber()) + ":" +
                std::to_string(f->GetColumn()) + ")";
    }
  }
  if (line > 0) {
    e.script = config_.display_name + ":" + std::to_string(line) + ":" + std::to_string(column);
    e.message += " (at " + e.script + ")";
  }
  if (!frames.empty()) {
    std::string thrown = ToUtf8(isolate_, m->Get());
    if (thrown.rfind("Uncaught ", 0) == 0) thrown.erase(0, 9);
    e.message += "\n  stack: " + thrown + frames;
  }
  return e;
}

void ScriptIsolate::NativeGrow(const v8::FunctionCallbackInfo<v8::Value>& args) {
  auto* self = static_cast<ScriptIsolate*>(args.Data().As<v8::External>()->Value());
  const uint32_t count = args[0]->Uint32Value(args.GetIsolate()->GetCurrentContext()).FromMaybe(0);
  args.GetReturnValue().Set(self->hooks_->GrowSetBuffers(count));
}

void ScriptIsolate::NativeText(const v8::FunctionCallbackInfo<v8::Value>& args) {
  auto* self = static_cast<ScriptIsolate*>(args.Data().As<v8::External>()->Value());
  if (args[0]->IsString()) self->hooks_->AppendSetText(args[0].As<v8::String>());
}

void ScriptIsolate::NativeUnescaped(const v8::FunctionCallbackInfo<v8::Value>& args) {
  auto* self = static_cast<ScriptIsolate*>(args.Data().As<v8::External>()->Value());
  const uint32_t field = args[0]->Uint32Value(args.GetIsolate()->GetCurrentContext()).FromMaybe(0);
  v8::Local<v8::Value> value = self->hooks_->UnescapedField(field);
  if (!value.IsEmpty()) args.GetReturnValue().Set(value);
}

// native.convert(v): an object, Date, function or symbol given to setField, converted at once
// (core/js/output_values.h): its text as a string, null for an empty field, or [problem].
void ScriptIsolate::NativeConvert(const v8::FunctionCallbackInfo<v8::Value>& args) {
  auto* self = static_cast<ScriptIsolate*>(args.Data().As<v8::External>()->Value());
  v8::Isolate* iso = args.GetIsolate();
  ByteBuffer text;
  uint32_t length = 0;
  std::string problem;
  const OutputText kind =
      AppendOutputText(iso, self->driver_context(), args[0], text, &length, &problem);
  if (kind == OutputText::kText) {
    v8::Local<v8::String> s;
    if (v8::String::NewFromUtf8(iso, text.data(), v8::NewStringType::kNormal,
                                static_cast<int>(length))
            .ToLocal(&s)) {
      args.GetReturnValue().Set(s);
      return;
    }
    problem = "the value's text is too long";
  } else if (kind == OutputText::kEmpty) {
    args.GetReturnValue().SetNull();
    return;
  }
  if (iso->IsExecutionTerminating()) return;  // stopped (timeout, heap): the call unwinds
  v8::Local<v8::Value> why[] = {Str(iso, problem)};
  args.GetReturnValue().Set(v8::Array::New(iso, why, 1));
}

void ScriptIsolate::NativeWindow(const v8::FunctionCallbackInfo<v8::Value>& args) {
  auto* self = static_cast<ScriptIsolate*>(args.Data().As<v8::External>()->Value());
  const uint32_t row = args[0]->Uint32Value(args.GetIsolate()->GetCurrentContext()).FromMaybe(0);
  v8::Local<v8::Value> window = self->hooks_->TextWindow(row);
  if (!window.IsEmpty()) args.GetReturnValue().Set(window);
}

void ScriptIsolate::NativeColumn(const v8::FunctionCallbackInfo<v8::Value>& args) {
  auto* self = static_cast<ScriptIsolate*>(args.Data().As<v8::External>()->Value());
  const uint32_t c = args[0]->Uint32Value(args.GetIsolate()->GetCurrentContext()).FromMaybe(0);
  v8::Local<v8::Value> view = self->hooks_->ColumnView(c);
  if (!view.IsEmpty()) args.GetReturnValue().Set(view);
}

namespace {

void LogScriptLine(const ScriptConfig& config, const std::string& level, const std::string& message,
                   const std::string& file, int64_t line) {
  const std::optional<LogLevel> parsed = ParseLogLevel(level == "warning" ? "warn" : level);
  flowengine::Log(parsed.value_or(LogLevel::kInfo), LogCategory::kScript, message,
                  {LogField::Str("file", file), LogField::Num("line", line),
                   LogField::Str("script", config.display_name)});
}

}  // namespace

void ScriptIsolate::NativeLog(const v8::FunctionCallbackInfo<v8::Value>& args) {
  auto* self = static_cast<ScriptIsolate*>(args.Data().As<v8::External>()->Value());
  v8::Isolate* iso = args.GetIsolate();
  LogScriptLine(self->config_, ToUtf8(iso, args[0]), ToUtf8(iso, args[1]),
                self->hooks_->CurrentFile(), self->hooks_->CurrentLine());
}

// console.log/info/warn/error/debug(...args): the arguments joined by spaces (strings as
// they are, other values as they would be written to an output column).
void ScriptIsolate::NativeConsole(const v8::FunctionCallbackInfo<v8::Value>& args) {
  auto* self = static_cast<ScriptIsolate*>(args.Data().As<v8::External>()->Value());
  v8::Isolate* iso = args.GetIsolate();
  v8::Local<v8::Context> ctx = iso->GetCurrentContext();
  const std::string level = ToUtf8(iso, args[0]);
  std::string message;
  if (args[1]->IsArray()) {
    v8::Local<v8::Array> items = args[1].As<v8::Array>();
    ByteBuffer text;
    for (uint32_t i = 0; i < items->Length(); ++i) {
      v8::Local<v8::Value> item;
      if (!items->Get(ctx, i).ToLocal(&item)) return;  // an exception: it propagates
      text.Clear();
      uint32_t length = 0;
      std::string problem;
      const OutputText kind =
          AppendOutputText(iso, self->driver_.IsEmpty() ? ctx : self->driver_context(), item, text,
                           &length, &problem);
      if (iso->IsExecutionTerminating()) return;
      if (i > 0) message += ' ';
      if (kind == OutputText::kText) {
        message.append(text.data(), text.size());
      } else if (kind == OutputText::kEmpty) {
        message += item->IsNull() ? "null" : "undefined";
      } else {
        message += ToUtf8(iso, item);
      }
    }
  }
  LogScriptLine(self->config_, level == "log" ? "info" : level, message,
                self->hooks_->CurrentFile(), self->hooks_->CurrentLine());
}

size_t ScriptIsolate::NearHeapLimit(void* data, size_t current_limit, size_t /*initial_limit*/) {
  auto* self = static_cast<ScriptIsolate*>(data);
  self->heap_exceeded_.store(true);
  self->isolate_->TerminateExecution();
  // V8 needs a higher limit to unwind; the worker is discarded afterwards.
  return current_limit + (64u << 20);
}

}  // namespace flowengine::js
