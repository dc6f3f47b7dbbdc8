// ScriptIsolate: one V8 isolate holding a user's script and FlowEngine's driver, each in a
// context (a realm) of its own (core/js/driver_js.h):
//   - the user's context: a bare V8 context without eval/new Function from strings, without
//     SharedArrayBuffer, Atomics and WebAssembly, with `console` writing to the log, and the
//     engine's API (`context`, the per-row loop) installed before the user's script runs;
//   - the driver's context: column views, row values, the values set and the routes. No
//     object of this realm is ever handed to the user's script, so nothing the script
//     redefines can change how rows are read and written.
// Memory: the V8 heap is limited to limits.scriptHeap, and ArrayBuffers are allocated by a
// counting allocator that refuses to pass scriptHeap with the heap (a RangeError in the
// script, not an abort); near the heap limit the running call is terminated (FE-SCRIPT-HEAP)
// and the isolate is not used again.
// Promise jobs (then callbacks, the rest of an async function after an await) run only when
// the engine runs them: after the top level, and after each row that made or settled a
// promise, as part of that row (RunPromiseJobs); a promise rejected with nothing to handle it
// by then fails the row (or the load).
// Errors: exceptions are reported at the user's throw, or at the innermost frame of the
// user's script when the engine's API threw (e.g. an unknown column), with the user's frames.
//
// Thread safety: used by one thread at a time; every method that touches V8 expects the
// caller to hold a v8::Locker and to be inside the isolate's scope (JsWorker::Run does).
// Construction compiles and runs the script's top level under the watchdog, and throws
// ErrorException (FE-SCRIPT-SYNTAX, FE-SCRIPT-ERROR, FE-SCRIPT-TIMEOUT, FE-SCRIPT-HEAP,
// FE-SCRIPT-NO-PROCESS).
#pragma once

#include <v8.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/error/error.h"
#include "core/js/js_protocol.h"
#include "core/js/js_worker.h"
#include "core/js/watchdog.h"

namespace flowengine::js {

/// Calls from JavaScript back into the worker, on the isolate's thread.
class ScriptHooks {
 public:
  virtual ~ScriptHooks() = default;
  /// native.column(c): the view of input column c in the current batch (may be empty).
  virtual v8::Local<v8::Value> ColumnView(uint32_t c) = 0;
  /// Input line of the row the script is working on (0 when there is none).
  virtual int64_t CurrentLine() const = 0;
  /// Input file of that row (for several input files, each block's own).
  virtual std::string CurrentFile() const = 0;
  /// native.grow(count): the setField buffers are full after `count` entries: larger ones,
  /// holding those entries, as [Int32Array index, Int32Array kind/length] (driver realm).
  virtual v8::Local<v8::Value> GrowSetBuffers(uint32_t count) = 0;
  /// native.unescaped(i): field i (row-major) of the batch, unescaped (block views).
  virtual v8::Local<v8::Value> UnescapedField(uint32_t field) = 0;
  /// native.window(row): the text of the block view from `row` on, as [text, base, end row].
  virtual v8::Local<v8::Value> TextWindow(uint32_t row) = 0;
  /// native.text(s): the next piece of the text of the string and number values set in this
  /// batch (the driver hands it over in pieces; core/js/js_protocol.h, kFlushUnits).
  virtual void AppendSetText(v8::Local<v8::String> text) = 0;
};

class ScriptIsolate {
 public:
  ScriptIsolate(const ScriptConfig& config, Watchdog* watchdog, ScriptHooks* hooks);
  ~ScriptIsolate();
  ScriptIsolate(const ScriptIsolate&) = delete;
  ScriptIsolate& operator=(const ScriptIsolate&) = delete;

  v8::Isolate* isolate() const { return isolate_; }
  v8::Local<v8::Context> driver_context() const { return driver_.Get(isolate_); }
  v8::Local<v8::Context> user_context() const { return user_.Get(isolate_); }
  /// runBatch(start, n) of the API (user's realm): kBatchDone or a row with a bad result.
  v8::Local<v8::Function> run_batch() const { return run_batch_.Get(isolate_); }
  /// badResult() of the API: the value that row returned.
  v8::Local<v8::Function> bad_result() const { return bad_result_.Get(isolate_); }
  /// Starts a batch of `n` rows on both sides: `moves` (n ints, kToMain each) is shared by
  /// the API and the driver; the driver records setField calls into `set_idx`/`set_len`
  /// (`capacity` entries each; it asks for more with native.grow) and sendCopy calls into
  /// `copies`, an array of the driver's realm made here. False when the isolate cannot run
  /// anything any more (its heap limit was hit).
  bool BeginBatch(int32_t* moves, size_t n, int32_t* set_idx, int32_t* set_len, size_t capacity,
                  v8::Local<v8::Array>* copies);
  /// What the batch set: the number of setField calls and the other values in order; the
  /// text of the string and number values reaches ScriptHooks::AppendSetText before this
  /// returns. False when that fails.
  bool Collect(uint32_t* count, v8::Local<v8::Array>* others);
  /// Int32Array of `n` ints over `data` (C++ memory), in the driver's realm.
  v8::Local<v8::Int32Array> DriverInts(int32_t* data, size_t n);
  /// Ends a batch on both sides (the column views are dropped). No user code runs.
  void EndBatch();
  WatchedRun& watched() { return *watched_; }
  /// The ints shared with the API (core/js/js_protocol.h, kProgressRows and kProgressJobs).
  volatile int32_t* progress() { return progress_; }
  /// True when a promise was made or settled since promise jobs last ran: jobs may be queued.
  bool promise_jobs_pending() const { return progress_[kProgressJobs] != 0; }
  /// Runs the promise jobs queued (then callbacks, the rest of async functions) to the end,
  /// under the watchdog, as part of the row the API is at. When a promise was rejected and
  /// nothing handled it by the end, *rejection is set to the error for it, located at
  /// `row` (the first such promise; the others are dropped). The watchdog's verdict on the
  /// call is returned (a terminated run of jobs drops the jobs still queued).
  WatchedRun::Ended RunPromiseJobs(Location row, std::optional<Error>* rejection);
  /// True once the heap limit was hit: the isolate must not run anything again.
  bool heap_exceeded() const { return heap_exceeded_.load(); }
  /// Bytes of ArrayBuffers the script holds now.
  int64_t array_buffer_bytes() const;
  /// V8 heap in use plus ArrayBuffers (for metrics and the summary).
  int64_t memory_in_use() const;

  /// The error for the exception caught by `tc`, located in the user's script (innermost
  /// user frame), its message and user stack frames appended; `row` locates the input row.
  Error ScriptError(const std::string& code, const std::string& what, const v8::TryCatch& tc,
                    Location row) const;

 private:
  friend struct IdleIsolate;
  class CountingAllocator;
  void Init();
  void Retire();
  void ResetHandles();
  v8::Local<v8::Object> InitDriverContext();
  void InitUserContext(v8::Local<v8::Object> driver);
  [[noreturn]] void ThrowLoadError(const std::string& code, const std::string& what,
                                   v8::Local<v8::Context> ctx, const v8::TryCatch& tc) const;
  static void NativeColumn(const v8::FunctionCallbackInfo<v8::Value>& args);
  static void NativeWindow(const v8::FunctionCallbackInfo<v8::Value>& args);
  static void NativeGrow(const v8::FunctionCallbackInfo<v8::Value>& args);
  static void NativeText(const v8::FunctionCallbackInfo<v8::Value>& args);
  static void NativeUnescaped(const v8::FunctionCallbackInfo<v8::Value>& args);
  static void NativeConvert(const v8::FunctionCallbackInfo<v8::Value>& args);
  static void NativeLog(const v8::FunctionCallbackInfo<v8::Value>& args);
  static void NativeConsole(const v8::FunctionCallbackInfo<v8::Value>& args);
  static size_t NearHeapLimit(void* data, size_t current_limit, size_t initial_limit);
  static void PromiseHook(v8::PromiseHookType type, v8::Local<v8::Promise> promise,
                          v8::Local<v8::Value> parent);
  static void PromiseRejected(v8::PromiseRejectMessage message);
  /// The error for the first promise rejected with no handler (none: nullopt); the list is
  /// cleared. Runs under the watchdog: making the message may run the reason's getters.
  std::optional<Error> TakeRejection(const std::string& what, Location row);
  /// Drops the rejections of this round and starts the next.
  void ForgetRejections();

  ScriptConfig config_;
  Watchdog* watchdog_;
  ScriptHooks* hooks_;
  std::unique_ptr<CountingAllocator> allocator_;
  v8::Isolate* isolate_ = nullptr;
  v8::Global<v8::Context> user_;
  v8::Global<v8::Context> driver_;
  v8::Global<v8::Function> run_batch_, bad_result_;
  v8::Global<v8::Function> api_begin_batch_, api_end_batch_;
  v8::Global<v8::Function> driver_begin_batch_, driver_end_batch_, driver_collect_;
  int user_script_id_ = -1;
  std::atomic<bool> heap_exceeded_{false};
  alignas(64) volatile int32_t progress_[16] = {};
  // Promises rejected with no handler yet, with their reasons (PromiseRejected).
  struct Unhandled {
    uint64_t order;  // when it was reported: the earliest is the one shown
    v8::Global<v8::Promise> promise;
    v8::Global<v8::Value> reason;
  };
  // By the promise's identity hash; at most kMaxUnhandled (the rest only counted).
  std::unordered_multimap<int, Unhandled> unhandled_;
  uint64_t unhandled_order_ = 0;
  size_t unhandled_count_ = 0;    // promises rejected with no handler now
  uint32_t rejection_round_ = 0;  // which TakeRejection the rejections now belong to
  std::unique_ptr<WatchedRun> watched_;
};

}  // namespace flowengine::js
