#include "core/js/js_worker.h"

#include <pthread.h>
#include <time.h>
#include <v8.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <mutex>

#include "core/csv/block_parser.h"
#include "core/js/driver_js.h"
#include "core/js/v8_platform.h"
#include "core/log/logger.h"
#include "fast_float/fast_float.h"

namespace flowengine {
namespace {

constexpr int64_t kMaxSafeInteger = (int64_t{1} << 53) - 1;

std::string ToStdString(v8::Isolate* iso, v8::Local<v8::Value> value) {
  if (value.IsEmpty()) return "";
  v8::String::Utf8Value utf8(iso, value);
  return *utf8 ? std::string(*utf8, static_cast<size_t>(utf8.length())) : "";
}

v8::Local<v8::String> Str(v8::Isolate* iso, std::string_view s) {
  return v8::String::NewFromUtf8(iso, s.data(), v8::NewStringType::kNormal,
                                 static_cast<int>(s.size()))
      .ToLocalChecked();
}

v8::Local<v8::Array> StringArray(v8::Isolate* iso, const std::vector<std::string>& items) {
  std::vector<v8::Local<v8::Value>> values;
  for (const std::string& s : items) values.push_back(Str(iso, s));
  return v8::Array::New(iso, values.data(), values.size());
}

bool IsAscii(std::string_view text) {
  const char* p = text.data();
  size_t n = text.size();
  uint64_t bits = 0;
  for (; n >= 8; p += 8, n -= 8) {
    uint64_t word;
    std::memcpy(&word, p, 8);
    bits |= word;
  }
  for (; n > 0; ++p, --n) bits |= static_cast<unsigned char>(*p);
  return (bits & 0x8080808080808080ull) == 0;
}

// UTF-16 code units of valid UTF-8 text: one per sequence, two for 4-byte sequences.
int64_t Utf16Length(std::string_view text) {
  int64_t units = 0;
  for (unsigned char b : text) {
    if ((b & 0xC0) != 0x80) ++units;
    if (b >= 0xF0) ++units;
  }
  return units;
}

// The byte offset after `units` UTF-16 code units of the UTF-8 text starting at `at` (a
// 4-byte sequence is two units; an unpaired surrogate was written as 3 bytes, one unit).
size_t AdvanceUtf16(const char* text, size_t at, size_t end, int32_t units) {
  while (units > 0 && at < end) {
    const auto b = static_cast<unsigned char>(text[at]);
    const size_t bytes = b < 0x80 ? 1 : b < 0xE0 ? 2 : b < 0xF0 ? 3 : 4;
    units -= bytes == 4 ? 2 : 1;
    at += bytes;
  }
  return at;
}

// A JavaScript string literal for `s`.
std::string JsonString(std::string_view s) {
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

}  // namespace

struct JsWorker::Impl {
  ScriptConfig config;
  Watchdog* watchdog = nullptr;
  std::unique_ptr<v8::ArrayBuffer::Allocator> allocator;
  v8::Isolate* isolate = nullptr;
  v8::Global<v8::Context> context;
  v8::Global<v8::Function> run_batch;
  v8::Global<v8::Int32Array> progress_array;
  alignas(64) volatile int32_t progress[16] = {};
  WatchedRun watched;
  bool heap_exceeded = false;
  int metrics_index = -1;  // this isolate's slot in Metrics::v8_heap_bytes
  const Chunk* current = nullptr;
  std::vector<int> out_from_in;  // output column -> input column of the same name, or -1
  PodBuffer<int32_t> moves;
  std::vector<v8::Local<v8::Value>> scratch;
  std::string text_scratch;
  struct ColumnScratch {
    ByteBuffer text;             // UTF-8 of every value, concatenated
    PodBuffer<int32_t> offsets;  // start of each value in UTF-16 units, plus the end
    PodBuffer<uint8_t> nulls;    // 1 where the field is empty
    PodBuffer<double> numbers;   // numeric columns
  };
  std::vector<ColumnScratch> columns;

  template <typename T>
  v8::Local<v8::ArrayBuffer> Wrap(PodBuffer<T>& buffer, size_t count) {
    auto store = v8::ArrayBuffer::NewBackingStore(buffer.data(), count * sizeof(T),
                                                  v8::BackingStore::EmptyDeleter, nullptr);
    return v8::ArrayBuffer::New(isolate, std::move(store));
  }

  v8::Local<v8::Value> View(std::initializer_list<v8::Local<v8::Value>> parts) {
    std::vector<v8::Local<v8::Value>> items(parts);
    return v8::Array::New(isolate, items.data(), items.size());
  }

  // Values of column `c` as a view: one string, or one typed array, per column and batch, so
  // that per-value work happens in JIT code instead of one V8 API call per field.
  v8::Local<v8::Value> ColumnView(const Chunk& chunk, uint32_t c) {
    const RowBatch& in = chunk.batch;
    const size_t n = in.num_rows;
    const char* data = chunk.block.bytes.data();
    const ColumnType type = config.input[c].type;
    ColumnScratch& col = columns[c];
    col.nulls.ResizeDiscard(n);
    if (type == ColumnType::kString) {
      col.text.Clear();
      col.offsets.ResizeDiscard(n + 1);
      int64_t units = 0;
      bool ascii = true;
      for (size_t r = 0; r < n; ++r) {
        const std::string_view text =
            FieldText(data, in.Field(r, c), config.input_dialect, text_scratch);
        col.offsets[r] = static_cast<int32_t>(units);
        col.nulls[r] = text.empty();
        col.text.Append(text.data(), text.size());
        if (IsAscii(text)) {
          units += static_cast<int64_t>(text.size());
        } else {
          ascii = false;
          units += Utf16Length(text);
        }
      }
      col.offsets[n] = static_cast<int32_t>(units);
      const auto* bytes = reinterpret_cast<const uint8_t*>(col.text.data());
      const int size = static_cast<int>(col.text.size());
      v8::Local<v8::String> str =
          ascii
              ? v8::String::NewFromOneByte(isolate, bytes, v8::NewStringType::kNormal, size)
                    .ToLocalChecked()
              : v8::String::NewFromUtf8(isolate, col.text.data(), v8::NewStringType::kNormal, size)
                    .ToLocalChecked();
      if (str->Length() == units) {
        return View({v8::Integer::New(isolate, 0), str,
                     v8::Int32Array::New(Wrap(col.offsets, n + 1), 0, n + 1),
                     v8::Uint8Array::New(Wrap(col.nulls, n), 0, n)});
      }
      // Invalid UTF-8 decodes to a different length: fall back to one string per value.
    } else if (type == ColumnType::kBool) {
      for (size_t r = 0; r < n; ++r) {
        const std::string_view text =
            FieldText(data, in.Field(r, c), config.input_dialect, text_scratch);
        col.nulls[r] = text.empty() ? 2 : ParseBool(text).value_or(false) ? 1 : 0;
      }
      return View({v8::Integer::New(isolate, 2), v8::Uint8Array::New(Wrap(col.nulls, n), 0, n)});
    } else {
      col.numbers.ResizeDiscard(n);
      bool exact = true;
      for (size_t r = 0; r < n; ++r) {
        const std::string_view text =
            FieldText(data, in.Field(r, c), config.input_dialect, text_scratch);
        col.nulls[r] = text.empty();
        col.numbers[r] = text.empty() ? 0.0 : ParseNumber(text, type, &exact);
      }
      if (exact) {
        return View({v8::Integer::New(isolate, 1),
                     v8::Float64Array::New(Wrap(col.numbers, n), 0, n),
                     v8::Uint8Array::New(Wrap(col.nulls, n), 0, n)});
      }
      // An int64 beyond 2^53 becomes a BigInt: one value at a time.
    }
    scratch.resize(n);
    for (size_t r = 0; r < n; ++r) scratch[r] = InputValue(data, in.Field(r, c), type);
    return View({v8::Integer::New(isolate, 3), v8::Array::New(isolate, scratch.data(), n)});
  }

  void InitContext();

  // Releases everything V8 holds for this worker. Safe to call once.
  void Destroy() {
    if (isolate == nullptr) return;
    {
      v8::Locker locker(isolate);
      run_batch.Reset();
      progress_array.Reset();
      context.Reset();
    }
    isolate->Dispose();
    isolate = nullptr;
  }

  // Values were validated by the parse stage; a leading '+' is allowed there.
  static int64_t ParseInt(std::string_view text) {
    const char* first = text.data() + (text[0] == '+' ? 1 : 0);
    int64_t v = 0;
    std::from_chars(first, text.data() + text.size(), v);
    return v;
  }

  static double ParseNumber(std::string_view text, ColumnType type, bool* exact) {
    if (type == ColumnType::kFloat64) {
      const char* first = text.data() + (text[0] == '+' ? 1 : 0);
      double v = 0;
      fast_float::from_chars(first, text.data() + text.size(), v);
      return v;
    }
    const int64_t v = ParseInt(text);
    if (v > kMaxSafeInteger || v < -kMaxSafeInteger) *exact = false;
    return static_cast<double>(v);
  }

  [[noreturn]] void ThrowScriptError(const std::string& code, const std::string& what,
                                     v8::Local<v8::Context> ctx, const v8::TryCatch& tc) {
    Location loc;
    loc.file = config.display_name;
    std::string message = what;
    v8::Local<v8::Message> m = tc.Message();
    if (!m.IsEmpty()) {
      loc.line = m->GetLineNumber(ctx).FromMaybe(0);
      loc.column = m->GetStartColumn(ctx).FromMaybe(-1) + 1;
      message += ": " + ToStdString(isolate, m->Get());
    }
    ThrowError(code, message, loc, "transform");
  }

  // From here until watched.running is cleared, the watchdog measures this thread's CPU time
  // against limits.scriptTimeout; `start` is the first row of the call.
  void StartWatched(int32_t start) {
    progress[0] = start;
    clockid_t clock = 0;
    if (::pthread_getcpuclockid(::pthread_self(), &clock) == 0) watched.thread_clock.store(clock);
    watched.running.store(true);
  }

  int64_t RowLine(const Chunk& chunk, size_t row) const {
    return chunk.block.first_line + chunk.batch.rows[row].line_delta;
  }

  Error RowError(const std::string& code, const std::string& message, const Chunk& chunk,
                 size_t row) const {
    Location loc;
    loc.file = config.input_file;
    loc.line = RowLine(chunk, row);
    loc.byte_offset = chunk.block.byte_offset + chunk.batch.rows[row].begin;
    return MakeError(code, message, loc, "transform");
  }

  static void Log(const v8::FunctionCallbackInfo<v8::Value>& args) {
    auto* self = static_cast<Impl*>(args.Data().As<v8::External>()->Value());
    v8::Isolate* iso = args.GetIsolate();
    const std::string level = ToStdString(iso, args[0]);
    const std::string message = ToStdString(iso, args[1]);
    const auto row =
        static_cast<size_t>(args[2]->Int32Value(iso->GetCurrentContext()).FromMaybe(0));
    int64_t line = 0;
    if (self->current != nullptr && row < self->current->batch.num_rows) {
      line = self->RowLine(*self->current, row);
    }
    const std::optional<LogLevel> parsed = ParseLogLevel(level == "warning" ? "warn" : level);
    flowengine::Log(parsed.value_or(LogLevel::kInfo), LogCategory::kScript, message,
                    {LogField::Str("file", self->config.input_file), LogField::Num("line", line),
                     LogField::Str("script", self->config.display_name)});
  }

  // Skip-row: sets `row` aside with `error` (moves -3: it goes nowhere else).
  void Reject(Chunk& chunk, size_t row, Error error) {
    moves[row] = -3;
    ++chunk.transform.rejected;
    const RowInfo& info = chunk.batch.rows[row];
    chunk.rejects.push_back(flowengine::Reject{
        std::move(error), info.begin, info.end, chunk.block.first_line + info.line_delta,
        chunk.block.byte_offset + static_cast<int64_t>(info.begin)});
  }

  // native.column(c): the view of input column c for the current batch.
  static void Column(const v8::FunctionCallbackInfo<v8::Value>& args) {
    auto* self = static_cast<Impl*>(args.Data().As<v8::External>()->Value());
    v8::Isolate* iso = args.GetIsolate();
    const uint32_t c = args[0]->Uint32Value(iso->GetCurrentContext()).FromMaybe(0);
    if (self->current == nullptr || c >= self->config.input.size()) return;
    args.GetReturnValue().Set(self->ColumnView(*self->current, c));
  }

  static size_t NearHeapLimit(void* data, size_t current_limit, size_t /*initial_limit*/) {
    auto* self = static_cast<Impl*>(data);
    self->heap_exceeded = true;
    self->isolate->TerminateExecution();
    // V8 needs a higher limit to unwind; the worker is discarded afterwards.
    return current_limit + (64u << 20);
  }

  // The fallback of ColumnView, one value at a time: an int64 column holding a value beyond
  // 2^53 (those become BigInts), or a string column V8 would decode to another length.
  v8::Local<v8::Value> InputValue(const char* data, const FieldSpan& span, ColumnType type) {
    std::string_view text = FieldText(data, span, config.input_dialect, text_scratch);
    if (text.empty()) return v8::Null(isolate);
    if (type == ColumnType::kInt64 || type == ColumnType::kInt32) {
      const int64_t v = ParseInt(text);
      if (v > kMaxSafeInteger || v < -kMaxSafeInteger) return v8::BigInt::New(isolate, v);
      return v8::Number::New(isolate, static_cast<double>(v));
    }
    return v8::String::NewFromUtf8(isolate, text.data(), v8::NewStringType::kNormal,
                                   static_cast<int>(text.size()))
        .ToLocalChecked();
  }

  // Appends `str` as UTF-8 to `arena`; returns its length in bytes.
  uint32_t AppendUtf8(v8::Local<v8::String> str, ByteBuffer& arena) {
    const size_t at = arena.size();
    if (str->IsOneByte()) {
      // One-byte strings are Latin-1: when all of it is ASCII the bytes are the UTF-8.
      const int length = str->Length();
      arena.Resize(at + static_cast<size_t>(length));
      str->WriteOneByte(isolate, reinterpret_cast<uint8_t*>(arena.data() + at), 0, length,
                        v8::String::NO_NULL_TERMINATION);
      if (IsAscii(std::string_view(arena.data() + at, static_cast<size_t>(length)))) {
        return static_cast<uint32_t>(length);
      }
      arena.Resize(at);
    }
    const int length = str->Utf8Length(isolate);
    arena.Resize(at + static_cast<size_t>(length));
    str->WriteUtf8(isolate, arena.data() + at, length, nullptr,
                   v8::String::NO_NULL_TERMINATION | v8::String::REPLACE_INVALID_UTF8);
    return static_cast<uint32_t>(length);
  }
};

// Compiles the script and the driver in a fresh context of the isolate.
void JsWorker::Impl::InitContext() {
  Impl& s = *this;
  v8::Locker locker(s.isolate);
  v8::Isolate::Scope isolate_scope(s.isolate);
  v8::HandleScope handles(s.isolate);
  v8::Local<v8::Context> ctx = v8::Context::New(s.isolate);
  ctx->AllowCodeGenerationFromStrings(false);
  ctx->SetErrorMessageForCodeGenerationFromStrings(
      Str(s.isolate,
          "code generation from strings (eval, new Function) is disabled in "
          "FlowEngine scripts"));
  s.context.Reset(s.isolate, ctx);
  v8::Context::Scope context_scope(ctx);
  v8::TryCatch tc(s.isolate);

  v8::ScriptOrigin origin(s.isolate, Str(s.isolate, config.display_name), config.line_offset, 0);
  v8::Local<v8::Script> script;
  if (!v8::Script::Compile(ctx, Str(s.isolate, config.code), &origin).ToLocal(&script)) {
    s.ThrowScriptError("FE-SCRIPT-SYNTAX", "Script does not compile", ctx, tc);
  }
  // The top level runs under the watchdog too: a script that loops while loading is stopped
  // after limits.scriptTimeout instead of hanging the startup.
  s.StartWatched(0);
  const bool loaded = !script->Run(ctx).IsEmpty();
  s.watched.running.store(false);
  if (s.watched.timed_out.exchange(false) || s.watched.stopped.exchange(false)) {
    s.isolate->CancelTerminateExecution();
    Location loc;
    loc.file = config.display_name;
    ThrowError("FE-SCRIPT-TIMEOUT",
               "Script's top level ran longer than limits.scriptTimeout (" +
                   std::to_string(s.watchdog ? s.watchdog->timeout().count() : 0) +
                   " ms) while loading and was stopped",
               loc, "transform");
  }
  if (!loaded) s.ThrowScriptError("FE-SCRIPT-ERROR", "Script failed while loading", ctx, tc);
  v8::Local<v8::Value> process;
  if (!ctx->Global()->Get(ctx, Str(s.isolate, "process")).ToLocal(&process) ||
      !process->IsFunction()) {
    Location loc;
    loc.file = config.display_name;
    ThrowError("FE-SCRIPT-NO-PROCESS", "Script does not define a function process(context)", loc,
               "transform");
  }

  v8::ScriptOrigin driver_origin(s.isolate, Str(s.isolate, "flowengine:driver"));
  v8::Local<v8::Value> factory =
      v8::Script::Compile(ctx, Str(s.isolate, kDriverSource), &driver_origin)
          .ToLocalChecked()
          ->Run(ctx)
          .ToLocalChecked();
  std::vector<std::string> in_names, in_types, out_names;
  for (const ColumnSpec& c : config.input) {
    in_names.push_back(c.name);
    in_types.push_back(std::string(ColumnTypeName(c.type)));
  }
  for (const ColumnSpec& c : config.output) out_names.push_back(c.name);
  v8::Local<v8::Object> native = v8::Object::New(s.isolate);
  v8::Local<v8::External> self = v8::External::New(s.isolate, &s);
  native->Set(ctx, Str(s.isolate, "log"), v8::Function::New(ctx, &Impl::Log, self).ToLocalChecked())
      .Check();
  native
      ->Set(ctx, Str(s.isolate, "column"),
            v8::Function::New(ctx, &Impl::Column, self).ToLocalChecked())
      .Check();
  // makeRow(r) as an object literal of the schema's columns: one allocation per row.
  std::string row_source = "(function (get) { return function (r) { return {";
  for (size_t c = 0; c < config.input.size(); ++c) {
    row_source += (c > 0 ? ", " : "") + JsonString(config.input[c].name) + ": get(" +
                  std::to_string(c) + ", r)";
  }
  row_source += "}; }; })";
  v8::ScriptOrigin row_origin(s.isolate, Str(s.isolate, "flowengine:row"));
  v8::Local<v8::Value> row_factory =
      v8::Script::Compile(ctx, Str(s.isolate, row_source), &row_origin)
          .ToLocalChecked()
          ->Run(ctx)
          .ToLocalChecked();
  v8::Local<v8::Value> args[] = {process,
                                 StringArray(s.isolate, in_names),
                                 StringArray(s.isolate, in_types),
                                 StringArray(s.isolate, out_names),
                                 StringArray(s.isolate, config.routes),
                                 native,
                                 row_factory};
  v8::Local<v8::Value> driver =
      factory.As<v8::Function>()
          ->Call(ctx, v8::Undefined(s.isolate), static_cast<int>(std::size(args)), args)
          .ToLocalChecked();
  s.run_batch.Reset(s.isolate, driver.As<v8::Function>());

  auto store =
      v8::ArrayBuffer::NewBackingStore(const_cast<int32_t*>(s.progress), sizeof(s.progress),
                                       v8::BackingStore::EmptyDeleter, nullptr);
  v8::Local<v8::ArrayBuffer> buffer = v8::ArrayBuffer::New(s.isolate, std::move(store));
  s.progress_array.Reset(s.isolate, v8::Int32Array::New(buffer, 0, 1));
}

JsWorker::JsWorker(const ScriptConfig& config, Watchdog* watchdog) : impl_(new Impl) {
  EnsureV8Initialized();
  Impl& s = *impl_;
  s.config = config;
  s.watchdog = watchdog;
  s.allocator.reset(v8::ArrayBuffer::Allocator::NewDefaultAllocator());
  v8::Isolate::CreateParams params;
  params.array_buffer_allocator = s.allocator.get();
  // V8's defaults for this heap size, with a young generation that lets a batch's
  // short-lived strings die young: 32 MiB initial, growing to 96 MiB (32 MiB semi-spaces),
  // which measured fastest on the js-enrich benchmark (docs/benchmarks.md).
  params.constraints.ConfigureDefaultsFromHeapSize(0, static_cast<size_t>(config.heap_bytes));
  const size_t young = std::min<size_t>(static_cast<size_t>(config.heap_bytes) / 2, 96u << 20);
  params.constraints.set_max_young_generation_size_in_bytes(young);
  params.constraints.set_initial_young_generation_size_in_bytes(young / 3);
  s.isolate = v8::Isolate::New(params);
  s.isolate->AddNearHeapLimitCallback(&Impl::NearHeapLimit, &s);
  if (config.metrics != nullptr) s.metrics_index = config.metrics->v8_workers.fetch_add(1);
  s.watched.isolate = s.isolate;
  s.watched.progress = s.progress;
  for (const ColumnSpec& out : config.output) {
    int index = -1;
    for (size_t i = 0; i < config.input.size(); ++i) {
      if (config.input[i].name == out.name) index = static_cast<int>(i);
    }
    s.out_from_in.push_back(index);
  }

  if (watchdog != nullptr) watchdog->Add(&s.watched);
  try {
    s.InitContext();
  } catch (...) {
    if (watchdog != nullptr) watchdog->Remove(&s.watched);
    s.Destroy();  // the destructor will not run: release the isolate here
    throw;
  }
}

JsWorker::~JsWorker() {
  Impl& s = *impl_;
  if (s.watchdog != nullptr) s.watchdog->Remove(&s.watched);
  s.Destroy();
}

namespace {

// On leaving JsWorker::Run (still inside the isolate's lock): the heap in use, to metrics.
struct HeapReport {
  v8::Isolate* isolate;
  Metrics* metrics;
  int index;
  ~HeapReport() {
    if (metrics == nullptr || index < 0 || index >= static_cast<int>(Metrics::kMaxWorkers)) {
      return;
    }
    v8::HeapStatistics stats;
    isolate->GetHeapStatistics(&stats);
    metrics->v8_heap_bytes[static_cast<size_t>(index)].Set(
        static_cast<int64_t>(stats.used_heap_size()));
  }
};

}  // namespace

void JsWorker::Run(Chunk& chunk) {
  Impl& s = *impl_;
  TransformOutput& out = chunk.transform;
  const RowBatch& in = chunk.batch;
  const size_t n = in.num_rows;
  const uint32_t n_in = in.num_columns;
  const uint32_t n_out = static_cast<uint32_t>(s.config.output.size());
  const size_t n_routes = s.config.routes.size();
  out.Reset();
  out.active = true;
  chunk.EnsureRoutes(n_routes);
  out.batch.num_columns = n_out;
  out.batch.num_rows = n;
  if (n == 0) return;

  v8::Isolate* iso = s.isolate;
  v8::Locker locker(iso);
  v8::Isolate::Scope isolate_scope(iso);
  const HeapReport heap_report{iso, s.config.metrics, s.metrics_index};
  v8::HandleScope handles(iso);
  v8::Local<v8::Context> ctx = s.context.Get(iso);
  v8::Context::Scope context_scope(ctx);
  v8::TryCatch tc(iso);
  s.current = &chunk;

  const char* data = chunk.block.bytes.data();
  s.columns.resize(n_in);
  v8::Local<v8::Array> set_vals = v8::Array::New(iso, 0);
  v8::Local<v8::Array> set_list = v8::Array::New(iso, 0);
  v8::Local<v8::Array> copies = v8::Array::New(iso, 0);
  s.moves.ResizeDiscard(n);
  std::fill(s.moves.data(), s.moves.data() + n, -1);
  auto store = v8::ArrayBuffer::NewBackingStore(s.moves.data(), n * sizeof(int32_t),
                                                v8::BackingStore::EmptyDeleter, nullptr);
  v8::Local<v8::Int32Array> moves =
      v8::Int32Array::New(v8::ArrayBuffer::New(iso, std::move(store)), 0, n);
  v8::Local<v8::Value> args[] = {v8::Integer::New(iso, 0),
                                 v8::Integer::New(iso, static_cast<int32_t>(n)),
                                 set_vals,
                                 set_list,
                                 moves,
                                 copies,
                                 s.progress_array.Get(iso)};

  // One call runs the whole batch. Under skip-row a failing row is set aside and the batch
  // goes on after it with another call.
  const size_t parse_rejects = chunk.rejects.size();
  size_t start = 0;
  v8::Local<v8::Array> set;
  while (true) {
    args[0] = v8::Integer::New(iso, static_cast<int32_t>(start));
    s.StartWatched(static_cast<int32_t>(start));
    v8::MaybeLocal<v8::Value> result = s.run_batch.Get(iso)->Call(
        ctx, v8::Undefined(iso), static_cast<int>(std::size(args)), args);
    s.watched.running.store(false);
    size_t row = static_cast<size_t>(std::max(1, static_cast<int>(s.progress[0])) - 1);
    std::optional<Error> failure;
    if (s.heap_exceeded) {
      broken_ = true;  // the isolate is spent: fatal even under skip-row
      chunk.error = s.RowError("FE-SCRIPT-HEAP",
                               "Script exceeded limits.scriptHeap (" +
                                   std::to_string(s.config.heap_bytes) + " bytes) and was stopped",
                               chunk, row);
      return;
    }
    if (s.watched.stopped.load()) {
      // The run is stopping (signal or limits.timeout): drop the batch, not a script error.
      iso->CancelTerminateExecution();
      s.watched.stopped.store(false);
      s.watched.timed_out.store(false);
      chunk.error = s.RowError("FE-RESOURCE-INTERRUPTED",
                               "The run was stopped while the script ran", chunk, row);
      return;
    }
    if (s.watched.timed_out.load()) {
      iso->CancelTerminateExecution();
      s.watched.timed_out.store(false);
      failure = s.RowError("FE-SCRIPT-TIMEOUT",
                           "Script ran longer than limits.scriptTimeout (" +
                               std::to_string(s.watchdog ? s.watchdog->timeout().count() : 0) +
                               " ms) in process() and was stopped",
                           chunk, row);
    } else if (result.IsEmpty()) {
      Error e = s.RowError("FE-SCRIPT-ERROR", "Script threw an exception", chunk, row);
      v8::Local<v8::Message> m = tc.Message();
      if (!m.IsEmpty()) {
        e.message += ": " + ToStdString(iso, m->Get());
        e.script = s.config.display_name + ":" +
                   std::to_string(m->GetLineNumber(ctx).FromMaybe(0)) + ":" +
                   std::to_string(m->GetStartColumn(ctx).FromMaybe(-1) + 1);
        e.message += " (at " + e.script + ")";
      }
      v8::Local<v8::Value> stack;
      if (tc.StackTrace(ctx).ToLocal(&stack)) e.message += "\n  stack: " + ToStdString(iso, stack);
      failure = std::move(e);
    } else if (!result.ToLocalChecked()->IsArray()) {
      v8::Local<v8::Object> bad = result.ToLocalChecked().As<v8::Object>();
      row = static_cast<size_t>(
          bad->Get(ctx, Str(iso, "row")).ToLocalChecked()->Int32Value(ctx).FromMaybe(0));
      failure =
          s.RowError("FE-SCRIPT-RETURN",
                     "process() must return true or false, got " +
                         ToStdString(iso, bad->Get(ctx, Str(iso, "type")).ToLocalChecked()) + " " +
                         ToStdString(iso, bad->Get(ctx, Str(iso, "value")).ToLocalChecked()),
                     chunk, row);
    } else {
      set = result.ToLocalChecked().As<v8::Array>();
      break;
    }
    if (!s.config.skip_bad_rows) {
      chunk.error = std::move(failure);
      return;
    }
    s.Reject(chunk, row, std::move(*failure));
    tc.Reset();
    start = row + 1;
  }
  v8::Local<v8::Int32Array> set_indices = set->Get(ctx, 0).ToLocalChecked().As<v8::Int32Array>();
  v8::Local<v8::Int32Array> set_lengths = set->Get(ctx, 1).ToLocalChecked().As<v8::Int32Array>();
  v8::Local<v8::String> set_text = set->Get(ctx, 2).ToLocalChecked().As<v8::String>();

  // Output spans: input values of the same name by default, then what the script set.
  RowBatch& ob = out.batch;
  ob.fields.ResizeDiscard(n * n_out);
  ob.rows.ResizeDiscard(n);
  std::memcpy(ob.rows.data(), in.rows.data(), n * sizeof(RowInfo));
  for (size_t r = 0; r < n; ++r) {
    for (uint32_t c = 0; c < n_out; ++c) {
      const int from = s.out_from_in[c];
      ob.fields[r * n_out + c] =
          from >= 0 ? in.Field(r, static_cast<size_t>(from)) : FieldSpan{0, FieldSpan::kArena};
    }
  }
  // All values set arrive as one string; UTF-16 lengths become byte spans in the arena.
  const size_t n_set = set_indices->Length();
  const auto* indices =
      static_cast<const int32_t*>(set_indices->Buffer()->GetBackingStore()->Data()) +
      set_indices->ByteOffset() / sizeof(int32_t);
  const auto* lengths =
      static_cast<const int32_t*>(set_lengths->Buffer()->GetBackingStore()->Data()) +
      set_lengths->ByteOffset() / sizeof(int32_t);
  const size_t text_at = out.values.size();
  s.AppendUtf8(set_text, out.values);
  size_t at = text_at;
  for (size_t k = 0; k < n_set; ++k) {
    const auto index = static_cast<size_t>(indices[k]);
    FieldSpan span{static_cast<uint32_t>(at), FieldSpan::kArena};
    if (lengths[k] > 0) {
      const size_t begin = at;
      at = AdvanceUtf16(out.values.data(), at, out.values.size(), lengths[k]);
      span.length_and_flags |= static_cast<uint32_t>(at - begin);
    }
    ob.fields[index] = span;
  }

  // Declared output types and required outputs hold for every row that goes anywhere.
  std::string scratch;
  for (uint32_t c = 0; c < n_out; ++c) {
    const ColumnSpec& col = s.config.output[c];
    if (col.type == ColumnType::kString && !col.required) continue;
    for (size_t r = 0; r < n; ++r) {
      if (s.moves[r] == -2 || s.moves[r] == -3) continue;
      const FieldSpan& span = ob.fields[r * n_out + c];
      const std::string_view text =
          span.in_arena() ? std::string_view(out.values.data() + span.offset, span.length())
                          : FieldText(data, span, s.config.input_dialect, scratch);
      std::optional<Error> bad;
      if (text.empty()) {
        if (!col.required) continue;
        bad = s.RowError("FE-SCRIPT-OUTPUT", "Required output column '" + col.name + "' is empty",
                         chunk, r);
      } else if (!IsValidValue(col.type, text)) {
        bad = s.RowError("FE-SCRIPT-OUTPUT",
                         "Value of output column '" + col.name + "' is not a valid " +
                             std::string(ColumnTypeName(col.type)) + ": '" +
                             std::string(text.substr(0, 60)) + "'",
                         chunk, r);
      } else {
        continue;
      }
      if (!s.config.skip_bad_rows) {
        chunk.error = std::move(bad);
        return;
      }
      s.Reject(chunk, r, std::move(*bad));
    }
  }
  // Where each row goes.
  for (size_t r = 0; r < n; ++r) {
    const int32_t m = s.moves[r];
    if (m == -1) {
      const auto row32 = static_cast<uint32_t>(r);
      out.main_rows.Append(&row32, 1);
    } else if (m == -2) {
      ++out.filtered;
    } else if (m >= 0) {
      const auto row32 = static_cast<uint32_t>(r);
      out.route_rows[static_cast<size_t>(m)].Append(&row32, 1);
      ++out.routed;
    }
  }
  const uint32_t n_copies = copies->Length() / 2;
  for (uint32_t k = 0; k < n_copies; ++k) {
    const uint32_t r = copies->Get(ctx, 2 * k).ToLocalChecked()->Uint32Value(ctx).FromJust();
    const uint32_t route =
        copies->Get(ctx, 2 * k + 1).ToLocalChecked()->Uint32Value(ctx).FromJust();
    if (s.moves[r] == -3) continue;  // a rejected row is not copied either
    out.route_rows[route].Append(&r, 1);
    ++out.copies;
  }
  if (n_copies > 0) {
    for (auto& rows : out.route_rows) std::stable_sort(rows.data(), rows.data() + rows.size());
  }
  s.current = nullptr;
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

}  // namespace flowengine
