#include "core/js/js_worker.h"

#include <v8.h>

#include <algorithm>
#include <cstring>
#include <optional>

#include "core/js/batch_outcome.h"
#include "core/js/column_views.h"
#include "core/js/js_protocol.h"
#include "core/js/output_values.h"
#include "core/js/script_isolate.h"
#include "core/js/utf16_to_utf8.h"

namespace flowengine {
namespace {

using js::ToUtf8;

const char* TypeName(v8::Local<v8::Value> v) {
  if (v->IsNull()) return "null";
  if (v->IsUndefined()) return "undefined";
  if (v->IsString()) return "string";
  if (v->IsNumber()) return "number";
  if (v->IsBigInt()) return "bigint";
  if (v->IsBoolean()) return "boolean";
  if (v->IsSymbol()) return "symbol";
  if (v->IsFunction()) return "function";
  return "object";
}

}  // namespace

struct JsWorker::Impl final : public js::ScriptHooks {
  ScriptConfig config;
  Watchdog* watchdog = nullptr;
  js::ColumnViews views;
  std::unique_ptr<js::ScriptIsolate> script;
  int metrics_index = -1;  // this isolate's slot in Metrics::v8_heap_bytes
  const Chunk* current = nullptr;
  std::vector<int> out_from_in;  // output column -> input column of the same name, or -1
  bool checked_outputs = false;  // some output column is typed or required
  // Per output column: checked in every row (kCheckAlways), only in rows where the script set
  // it (kCheckIfSet: an input column of the same type and no weaker requirement, whose
  // values the parse stage or the step before already checked), or never.
  enum : uint8_t { kCheckNever, kCheckIfSet, kCheckAlways };
  std::vector<uint8_t> check_mode;
  PodBuffer<uint8_t> check;  // per row of the batch and output column: 1 to check
  PodBuffer<int32_t> moves;
  PodBuffer<int32_t> set_idx, set_len;      // setField calls of the batch (driver writes them)
  std::vector<PodBuffer<int32_t>> retired;  // buffers replaced by GrowSetBuffers this batch
  PodBuffer<uint16_t> text16;  // the text of the values set so far (native.text), UTF-16
  std::vector<js::SetValue> set_values;
  std::vector<std::pair<uint32_t, uint32_t>> copies;

  Impl(const ScriptConfig& c, Watchdog* w)
      : config(c), watchdog(w), views(c.input, c.input_dialect) {}

  v8::Local<v8::Value> ColumnView(uint32_t c) override {
    if (current == nullptr) return {};
    return views.Build(script->isolate(), *current, c);
  }

  v8::Local<v8::Value> UnescapedField(uint32_t field) override {
    if (current == nullptr) return {};
    return views.Unescaped(script->isolate(), *current, field);
  }

  v8::Local<v8::Value> TextWindow(uint32_t row) override {
    if (current == nullptr) return {};
    return views.Window(script->isolate(), *current, row);
  }

  void AppendSetText(v8::Local<v8::String> text) override {
    const int length = text->Length();
    const size_t at = text16.size();
    text16.Resize(at + static_cast<size_t>(length));
    text->Write(script->isolate(), text16.data() + at, 0, length, v8::String::NO_NULL_TERMINATION);
  }

  std::string CurrentFile() const override {
    if (current == nullptr || current->block.file == nullptr) return config.input_file;
    return *current->block.file;
  }

  int64_t CurrentLine() const override {
    if (current == nullptr) return 0;
    const int32_t started = script->progress()[js::kProgressRows];
    if (started <= 0 || static_cast<size_t>(started) > current->StepInput().num_rows) return 0;
    return RowLine(*current, static_cast<size_t>(started - 1));
  }

  v8::Local<v8::Value> GrowSetBuffers(uint32_t count) override {
    const size_t capacity = std::max<size_t>(set_idx.capacity() * 2, 1024);
    PodBuffer<int32_t> idx, len;
    idx.Reserve(capacity);
    len.Reserve(capacity);
    std::memcpy(idx.data(), set_idx.data(), count * sizeof(int32_t));
    std::memcpy(len.data(), set_len.data(), count * sizeof(int32_t));
    // The old buffers stay alive until the batch ends: the driver's old arrays point there.
    retired.push_back(std::move(set_idx));
    retired.push_back(std::move(set_len));
    set_idx = std::move(idx);
    set_len = std::move(len);
    v8::Isolate* iso = script->isolate();
    v8::Local<v8::Value> parts[] = {script->DriverInts(set_idx.data(), capacity),
                                    script->DriverInts(set_len.data(), capacity)};
    return v8::Array::New(iso, parts, 2);
  }

  static int64_t RowLine(const Chunk& chunk, size_t row) {
    return chunk.block.first_line + chunk.StepInput().rows[row].line_delta;
  }

  Location RowLocation(const Chunk& chunk, size_t row) const {
    Location loc;
    loc.file = chunk.block.file != nullptr ? *chunk.block.file : config.input_file;
    loc.line = RowLine(chunk, row);
    loc.byte_offset = chunk.block.byte_offset + chunk.StepInput().rows[row].begin;
    return loc;
  }

  Error RowError(const std::string& code, const std::string& message, const Chunk& chunk,
                 size_t row) const {
    Error e =
        MakeError(code, config.step_label.empty() ? message : config.step_label + ": " + message,
                  RowLocation(chunk, row), "transform");
    e.script = config.display_name;  // which script, when no line of it is to blame
    return e;
  }

  // The watchdog stopped the script while it ran `where` for `row`.
  Error TimeoutError(const Chunk& chunk, size_t row, const char* where) const {
    return RowError("FE-SCRIPT-TIMEOUT",
                    "Script ran longer than limits.scriptTimeout (" +
                        std::to_string(watchdog ? watchdog->timeout().count() : 0) + " ms) in " +
                        where + " and was stopped",
                    chunk, row);
  }

  // Skip-row: sets `row` aside with `error`; it goes nowhere else.
  void Reject(Chunk& chunk, size_t row, Error error) {
    if (moves[row] == js::kRejected) return;
    moves[row] = js::kRejected;
    ++chunk.transform.rejected;
    const RowInfo& info = chunk.StepInput().rows[row];
    chunk.rejects.push_back(flowengine::Reject{
        std::move(error), info.begin, info.end, chunk.block.first_line + info.line_delta,
        chunk.block.byte_offset + static_cast<int64_t>(info.begin)});
  }

  // A row failed: fail-fast stops the chunk, skip-row sets the row aside. True to go on.
  bool Fail(Chunk& chunk, size_t row, Error error) {
    if (!config.skip_bad_rows) {
      chunk.error = std::move(error);
      return false;
    }
    Reject(chunk, row, std::move(error));
    return true;
  }

  void Run(Chunk& chunk, bool* broken);
  bool RunRows(Chunk& chunk, v8::Local<v8::Context> ctx, bool* broken);
  Error BadResult(const Chunk& chunk, size_t row, v8::Local<v8::Context> ctx,
                  v8::Local<v8::Context> user);

  // After a call into the script: a spent heap (the isolate is broken: fatal even under
  // skip-row) or a stopping run (signal or limits.timeout: the batch is dropped, not a
  // script error) ends the batch with chunk.error set. True when it did.
  bool CallEndedTheBatch(WatchedRun::Ended ended, Chunk& chunk, size_t row, bool* broken) {
    if (script->heap_exceeded()) {
      *broken = true;
      chunk.error = RowError("FE-SCRIPT-HEAP",
                             "Script exceeded limits.scriptHeap (" +
                                 std::to_string(config.heap_bytes) + " bytes) and was stopped",
                             chunk, row);
      return true;
    }
    if (ended == WatchedRun::Ended::kStopped) {
      chunk.error = RowError("FE-RESOURCE-INTERRUPTED", "The run was stopped while the script ran",
                             chunk, row);
      return true;
    }
    return false;
  }
  bool HandBack(Chunk& chunk, v8::Local<v8::Context> ctx, v8::Local<v8::Array> copy_list);
  void ReportMemory();
};

// Calls runBatch until every row ran; a row that throws, times out or returns neither true
// nor false fails (fail-fast: the chunk; skip-row: that row, and the batch goes on after it).
// False when the chunk failed.
bool JsWorker::Impl::RunRows(Chunk& chunk, v8::Local<v8::Context> ctx, bool* broken) {
  v8::Isolate* iso = script->isolate();
  const size_t n = chunk.StepInput().num_rows;
  size_t start = 0;
  while (start < n) {
    v8::HandleScope scope(iso);  // what one call leaves behind goes with it
    v8::TryCatch tc(iso);
    v8::Local<v8::Value> args[] = {v8::Integer::New(iso, static_cast<int32_t>(start)),
                                   v8::Integer::New(iso, static_cast<int32_t>(n))};
    script->progress()[js::kProgressRows] = static_cast<int32_t>(start);
    script->watched().BeginCall();
    v8::Local<v8::Context> user = script->user_context();
    v8::Context::Scope user_scope(user);
    v8::MaybeLocal<v8::Value> result = script->run_batch()->Call(user, v8::Undefined(iso), 2, args);
    const WatchedRun::Ended ended = script->watched().EndCall();
    size_t row = static_cast<size_t>(
        std::max(1, static_cast<int>(script->progress()[js::kProgressRows])) - 1);
    if (row >= n) row = n - 1;
    if (CallEndedTheBatch(ended, chunk, row, broken)) return false;
    std::optional<Error> failure;
    if (ended == WatchedRun::Ended::kTimedOut) {
      failure = TimeoutError(chunk, row, "process()");
    } else if (result.IsEmpty()) {
      failure = script->ScriptError("FE-SCRIPT-ERROR", "Script threw an exception", tc,
                                    RowLocation(chunk, row));
    } else {
      const int32_t bad = result.ToLocalChecked()->Int32Value(ctx).FromMaybe(js::kBatchDone);
      if (bad == js::kBatchDone) return true;
      if (bad != js::kRowJobs) {
        row = static_cast<size_t>(bad);
        failure = BadResult(chunk, row, ctx, user);
      }
    }
    // The promise jobs the row queued run now, as part of it: what they set or route is the
    // row's, a rejection nothing handled or a timeout in them fails it. For a row that failed
    // already they still run (and are dropped with it): none may run in a later row.
    if (script->promise_jobs_pending()) {
      std::optional<Error> rejection;
      const WatchedRun::Ended jobs = script->RunPromiseJobs(RowLocation(chunk, row), &rejection);
      if (CallEndedTheBatch(jobs, chunk, row, broken)) return false;
      if (jobs == WatchedRun::Ended::kTimedOut && !failure) {
        failure = TimeoutError(chunk, row, "a promise callback of process()");
      }
      if (rejection && !failure) failure = std::move(rejection);
    }
    if (failure && !Fail(chunk, row, std::move(*failure))) return false;
    start = row + 1;
  }
  return true;
}

// The error for row `row`, whose process() returned neither true nor false (badResult()).
Error JsWorker::Impl::BadResult(const Chunk& chunk, size_t row, v8::Local<v8::Context> ctx,
                                v8::Local<v8::Context> user) {
  v8::Isolate* iso = script->isolate();
  v8::Local<v8::Value> value;
  if (!script->bad_result()->Call(user, v8::Undefined(iso), 0, nullptr).ToLocal(&value)) {
    value = v8::Undefined(iso);
  }
  if (value->IsPromise()) {
    return RowError("FE-SCRIPT-RETURN",
                    "process() must return true or false, got a Promise: process() cannot be an "
                    "async function (an async helper it calls can: its promise callbacks run "
                    "before the next row)",
                    chunk, row);
  }
  std::string shown;
  if (!value->IsSymbol()) {
    // String(value) may run the value's own toString: under the watchdog.
    v8::TryCatch inner(iso);
    script->watched().BeginCall();
    v8::Local<v8::String> text;
    if (value->ToString(ctx).ToLocal(&text)) shown = ToUtf8(iso, text);
    script->watched().EndCall();
  }
  if (shown.size() > 60) {  // cut at a character boundary
    size_t cut = 60;
    while (cut > 0 && (static_cast<unsigned char>(shown[cut]) & 0xC0) == 0x80) --cut;
    shown = shown.substr(0, cut) + "...";
  }
  return RowError("FE-SCRIPT-RETURN",
                  "process() must return true or false, got " + std::string(TypeName(value)) +
                      (shown.empty() ? "" : " " + shown),
                  chunk, row);
}

// The values set, each converted on its own, and the copies, into the chunk's transform
// output. Strings and numbers arrive as one text (handed over in pieces during the batch:
// native.text) cut by UTF-16 lengths, each piece transcoded on its own (a lone surrogate becomes
// U+FFFD inside its own value); objects, Dates and the like were converted to text when they were
// set (native.convert, inside the script's watched call), so a value changed after setField does
// not change what was written. False when the chunk failed.
bool JsWorker::Impl::HandBack(Chunk& chunk, v8::Local<v8::Context> ctx,
                              v8::Local<v8::Array> copy_list) {
  v8::Isolate* iso = script->isolate();
  TransformOutput& out = chunk.transform;
  const auto n_out = static_cast<uint32_t>(config.output.size());
  uint32_t count = 0;
  v8::Local<v8::Array> others;
  if (!script->Collect(&count, &others)) {
    chunk.error =
        RowError("FE-INTERNAL", "The values set by the script could not be read", chunk, 0);
    return false;
  }
  set_values.clear();
  set_values.reserve(count);
  size_t at = 0;       // units of the text consumed
  uint32_t other = 0;  // others consumed
  const size_t n = chunk.StepInput().num_rows;
  for (uint32_t k = 0; k < count; ++k) {
    const auto index = static_cast<uint32_t>(set_idx[k]);
    const int32_t kind = set_len[k];
    const size_t row = index / n_out;
    if (row >= n) {  // never: every setField runs inside a row of the batch
      chunk.error =
          RowError("FE-INTERNAL", "A value was set outside the rows of the batch", chunk, n - 1);
      return false;
    }
    FieldSpan span{static_cast<uint32_t>(out.values.size()), FieldSpan::kArena};
    uint32_t bytes = 0;
    if (kind >= 0) {
      const auto units = static_cast<size_t>(kind);
      if (at + units > text16.size()) {  // the driver handed over less text than it counted
        chunk.error =
            RowError("FE-INTERNAL", "The values set by the script could not be read", chunk, row);
        return false;
      }
      if (moves[row] != js::kRejected) {
        bytes = js::AppendUtf16AsUtf8(text16.data() + at, units, out.values);
      }
      at += units;
    } else if (kind == js::kSetTrue || kind == js::kSetFalse) {
      const char* word = kind == js::kSetTrue ? "true" : "false";
      bytes = kind == js::kSetTrue ? 4 : 5;
      out.values.Append(word, bytes);
    } else if (kind == js::kSetOther) {
      // A value setField could not convert (converted when set: native.convert); the
      // driver kept why.
      v8::HandleScope scope(iso);
      v8::Local<v8::Value> why;
      if (!others->Get(ctx, other++).ToLocal(&why)) why = v8::Undefined(iso);
      if (moves[row] == js::kRejected) continue;
      const std::string column = config.output[index % n_out].name;
      if (!Fail(chunk, row,
                RowError("FE-SCRIPT-OUTPUT",
                         "Value of output column '" + column +
                             "' cannot be written: " + ToUtf8(iso, why),
                         chunk, row))) {
        return false;
      }
      continue;
    }
    if (moves[row] == js::kRejected) continue;
    span.length_and_flags |= bytes;  // kSetEmpty: length 0, an empty field
    set_values.push_back(js::SetValue{index, span});
  }
  copies.clear();
  const uint32_t n_copies = copy_list->Length() / 2;
  for (uint32_t k = 0; k < n_copies; ++k) {
    const uint32_t r = copy_list->Get(ctx, 2 * k).ToLocalChecked()->Uint32Value(ctx).FromJust();
    const uint32_t route =
        copy_list->Get(ctx, 2 * k + 1).ToLocalChecked()->Uint32Value(ctx).FromJust();
    if (r >= n || route >= config.routes.size()) {  // never, as above
      chunk.error =
          RowError("FE-INTERNAL", "A row was copied outside the rows of the batch", chunk, n - 1);
      return false;
    }
    copies.emplace_back(r, route);
  }
  return true;
}

void JsWorker::Impl::ReportMemory() {
  if (config.metrics == nullptr || metrics_index < 0 ||
      metrics_index >= static_cast<int>(Metrics::kMaxWorkers)) {
    script->memory_in_use();  // keeps the ArrayBuffer allocator's view of the heap current
    return;
  }
  const int64_t in_use = script->memory_in_use();
  config.metrics->v8_heap_bytes[static_cast<size_t>(metrics_index)].Set(in_use);
  config.metrics->v8_heap_peak_bytes.Max(in_use);
}

void JsWorker::Impl::Run(Chunk& chunk, bool* broken) {
  TransformOutput& out = chunk.transform;
  const size_t n = chunk.StepInput().num_rows;
  chunk.BeginTransformStep();
  chunk.EnsureRoutes(config.routes.size());
  out.batch.num_columns = static_cast<uint32_t>(config.output.size());
  out.batch.num_rows = n;
  if (n == 0) return;

  v8::Isolate* iso = script->isolate();
  v8::Locker locker(iso);
  v8::Isolate::Scope isolate_scope(iso);
  v8::HandleScope handles(iso);
  v8::Local<v8::Context> ctx = script->driver_context();
  v8::Context::Scope context_scope(ctx);
  current = &chunk;
  struct Done {  // whatever happens: the views are dropped and the memory reported
    Impl& s;
    ~Done() {
      if (!s.script->heap_exceeded()) {
        s.script->EndBatch();
        s.ReportMemory();
      }
      s.views.EndBatch();
      s.current = nullptr;
    }
  } done{*this};

  moves.ResizeDiscard(n);
  std::fill(moves.data(), moves.data() + n, js::kToMain);
  const size_t capacity = std::max<size_t>(2 * n, 1024);
  set_idx.ResizeDiscard(capacity);
  set_len.ResizeDiscard(capacity);
  retired.clear();
  text16.Clear();
  v8::Local<v8::Array> copy_list;
  if (!script->BeginBatch(moves.data(), n, set_idx.data(), set_len.data(), set_idx.capacity(),
                          &copy_list)) {
    *broken = true;
    chunk.error = RowError("FE-SCRIPT-HEAP",
                           "Script exceeded limits.scriptHeap (" +
                               std::to_string(config.heap_bytes) + " bytes) and was stopped",
                           chunk, 0);
    return;
  }

  const size_t parse_rejects = chunk.rejects.size();
  if (!RunRows(chunk, ctx, broken)) return;
  if (!HandBack(chunk, ctx, copy_list)) return;

  js::BuildOutputSpans(chunk.StepInput(), out_from_in, set_values, out);
  // Declared output types and required outputs hold for every row that goes anywhere: the
  // values the script set, and input values only where the input column's own check does not
  // already cover the output column's.
  if (checked_outputs) {
    const size_t n_out = check_mode.size();
    check.ResizeDiscard(n * n_out);
    for (size_t r = 0; r < n; ++r) {
      for (size_t c = 0; c < n_out; ++c) check[r * n_out + c] = check_mode[c] == kCheckAlways;
    }
    for (const js::SetValue& v : set_values) {
      if (check_mode[v.index % n_out] != kCheckNever) check[v.index] = 1;
    }
    for (size_t r = 0; r < n; ++r) {
      if (moves[r] == js::kFiltered || moves[r] == js::kRejected) continue;
      const uint8_t* row_check = check.data() + r * n_out;
      if (std::find(row_check, row_check + n_out, uint8_t{1}) == row_check + n_out) continue;
      std::optional<std::string> problem = js::CheckOutputRow(
          out, r, config.output, chunk.BatchText().data(), config.input_dialect, row_check);
      if (problem && !Fail(chunk, r, RowError("FE-SCRIPT-OUTPUT", *problem, chunk, r))) return;
    }
  }
  js::RouteRows(moves.data(), n, copies, out);
  // Rejects in input order: the parse stage's, then this stage's, merged by position.
  auto by_position = [](const flowengine::Reject& x, const flowengine::Reject& y) {
    return x.raw_begin < y.raw_begin;
  };
  std::sort(chunk.rejects.begin() + static_cast<std::ptrdiff_t>(parse_rejects), chunk.rejects.end(),
            by_position);
  std::inplace_merge(chunk.rejects.begin(),
                     chunk.rejects.begin() + static_cast<std::ptrdiff_t>(parse_rejects),
                     chunk.rejects.end(), by_position);
}

JsWorker::JsWorker(const ScriptConfig& config, Watchdog* watchdog)
    : impl_(new Impl(config, watchdog)) {
  Impl& s = *impl_;
  for (const ColumnSpec& out : config.output) {
    int index = -1;
    for (size_t i = 0; i < config.input.size(); ++i) {
      if (config.input[i].name == out.name) index = static_cast<int>(i);
    }
    s.out_from_in.push_back(index);
    const bool checked = out.type != ColumnType::kString || out.required;
    s.checked_outputs = s.checked_outputs || checked;
    const bool covered = index >= 0 && config.input[static_cast<size_t>(index)].type == out.type &&
                         (!out.required || config.input[static_cast<size_t>(index)].required);
    s.check_mode.push_back(!checked  ? Impl::kCheckNever
                           : covered ? Impl::kCheckIfSet
                                     : Impl::kCheckAlways);
  }
  s.script = std::make_unique<js::ScriptIsolate>(config, watchdog, &s);
  if (config.metrics != nullptr) s.metrics_index = config.metrics->v8_workers.fetch_add(1);
}

JsWorker::~JsWorker() = default;

void JsWorker::Run(Chunk& chunk) { impl_->Run(chunk, &broken_); }

}  // namespace flowengine
