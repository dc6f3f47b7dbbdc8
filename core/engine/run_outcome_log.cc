#include "core/engine/run_outcome_log.h"

#include <csignal>
#include <cstdio>
#include <string>

#include "core/log/logger.h"

namespace flowengine {
namespace {

std::string Fixed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.*f", decimals, v);
  return buf;
}

}  // namespace

// The end-of-run lines: the outcome with the accounting, rejects by code, the reader's
// waits for memory, and the busy time of each stage.
void LogRunSummary(const PipelineSpec& spec, const RunSummary& s, const Metrics& m) {
  const double secs = s.seconds > 0 ? s.seconds : 1e-9;
  const auto u = [](uint64_t v) { return std::to_string(v); };
  Log(LogLevel::kInfo, LogCategory::kEngine,
      "run '" + spec.name + "' ok: " + u(s.rows_read) + " rows read, " + u(s.rows_written) +
          " rows written, " + u(s.rows_routed) + " routed, " + u(s.rows_filtered) + " filtered, " +
          u(s.rows_rejected) + " rejected, " + u(s.row_copies) + " copies in " +
          Fixed(s.seconds, 3) + " s (" + Fixed(static_cast<double>(s.rows_read) / secs, 0) +
          " rows/s, " + Fixed(static_cast<double>(s.bytes_read) / secs / 1e6, 0) + " MB/s, " +
          std::to_string(s.threads) + " threads; graph " + Fixed(s.graph_seconds, 3) +
          " s, commit " + Fixed(s.commit_seconds, 3) + " s; memory peak " +
          Fixed(static_cast<double>(s.memory_peak) / (1 << 20), 1) + " MiB of " +
          Fixed(static_cast<double>(s.memory_budget) / (1 << 20), 0) + " MiB, " +
          std::to_string(s.tokens) + " blocks in flight)",
      {LogField::Num("rows_read", static_cast<int64_t>(s.rows_read)),
       LogField::Num("rows_written", static_cast<int64_t>(s.rows_written)),
       LogField::Num("rows_routed", static_cast<int64_t>(s.rows_routed)),
       LogField::Num("rows_filtered", static_cast<int64_t>(s.rows_filtered)),
       LogField::Num("rows_rejected", static_cast<int64_t>(s.rows_rejected)),
       LogField::Num("bytes_read", static_cast<int64_t>(s.bytes_read)),
       LogField{"seconds", Fixed(s.seconds, 3), true}});
  if (s.rows_rejected > 0) {
    std::string codes;
    for (const auto& [code, count] : s.rejects_by_code) {
      codes += (codes.empty() ? "" : ", ") + code + " " + std::to_string(count);
    }
    Log(LogLevel::kInfo, LogCategory::kEngine,
        "rejected rows by code: " + codes + " (in " + spec.dead_letter.path + ")",
        {LogField::Str("dead_letter", spec.dead_letter.path)});
  }
  if (!spec.transforms.empty()) {
    Log(LogLevel::kInfo, LogCategory::kTransform,
        "script memory peak " + Fixed(static_cast<double>(s.script_memory_peak) / (1 << 20), 1) +
            " MiB in one isolate (V8 heap + ArrayBuffers) of limits.scriptHeap " +
            Fixed(static_cast<double>(spec.limits.script_heap) / (1 << 20), 0) + " MiB",
        {LogField::Num("script_memory_peak_bytes", s.script_memory_peak)});
  }
  if (s.reader_waits > 0) {
    Log(LogLevel::kInfo, LogCategory::kSource,
        "the reader waited for memory " + std::to_string(s.reader_waits) + " times (" +
            Fixed(s.reader_wait_seconds, 3) + " s in total): limits.memory allows " +
            std::to_string(s.tokens) + " blocks in flight",
        {LogField::Num("reader_waits", static_cast<int64_t>(s.reader_waits)),
         LogField{"reader_wait_seconds", Fixed(s.reader_wait_seconds, 3), true}});
  }
  const StageSeconds& b = s.busy;
  const auto blocks_of = [&](Stage st) {
    return std::to_string(m.blocks[static_cast<size_t>(st)].Value()) + " blocks";
  };
  Log(LogLevel::kInfo, LogCategory::kEngine,
      "busy time per stage (summed over threads): read " + Fixed(b.read, 3) + " s, parse " +
          Fixed(b.parse, 3) + " s, transform " + Fixed(b.transform, 3) + " s, format " +
          Fixed(b.format, 3) + " s, write " + Fixed(b.write, 3) + " s",
      {LogField{"read_seconds", Fixed(b.read, 3), true},
       LogField{"parse_seconds", Fixed(b.parse, 3), true},
       LogField{"transform_seconds", Fixed(b.transform, 3), true},
       LogField{"format_seconds", Fixed(b.format, 3), true},
       LogField{"write_seconds", Fixed(b.write, 3), true}});
  // Rows in and out of each stage, and its rate per busy second (one thread's worth).
  const auto stage = [&](const char* name, const RunSummary::StageRows& rows, double busy) {
    return std::string(name) + " " + std::to_string(rows.in) + " in, " + std::to_string(rows.out) +
           " out" +
           (busy > 0 ? " (" + Fixed(static_cast<double>(rows.in) / busy, 0) + " rows/s busy)"
                     : std::string());
  };
  Log(LogLevel::kInfo, LogCategory::kEngine,
      "rows per stage: " + stage("parse", s.parse_rows, b.parse) +
          (spec.transforms.empty() ? std::string()
                                   : "; " + stage("transform", s.transform_rows, b.transform)) +
          "; " + stage("write", s.write_rows, b.write),
      {LogField::Num("parse_rows_in", static_cast<int64_t>(s.parse_rows.in)),
       LogField::Num("parse_rows_out", static_cast<int64_t>(s.parse_rows.out)),
       LogField::Num("transform_rows_in", static_cast<int64_t>(s.transform_rows.in)),
       LogField::Num("transform_rows_out", static_cast<int64_t>(s.transform_rows.out)),
       LogField::Num("write_rows_in", static_cast<int64_t>(s.write_rows.in)),
       LogField::Num("write_rows_out", static_cast<int64_t>(s.write_rows.out))});
  Log(LogLevel::kDebug, LogCategory::kEngine,
      "blocks per stage: read " + blocks_of(Stage::kRead) + ", parse " + blocks_of(Stage::kParse) +
          ", transform " + blocks_of(Stage::kTransform) + ", format " + blocks_of(Stage::kFormat) +
          ", write " + blocks_of(Stage::kWrite));
}

void LogRunFailure(const PipelineSpec& spec, const RunSummary& s, bool cancelled, int signal) {
  if (!s.error) return;
  if (signal != 0) {
    Log(LogLevel::kError, LogCategory::kEngine,
        "run '" + spec.name + "' interrupted by " +
            std::string(signal == SIGTERM  ? "SIGTERM"
                        : signal == SIGINT ? "SIGINT"
                                           : "a signal") +
            " after " + std::to_string(s.rows_read) +
            " rows read; nothing was committed, targets are untouched",
        {LogField::Num("signal", signal)});
    return;
  }
  if (cancelled) {
    Log(LogLevel::kWarn, LogCategory::kEngine,
        "run '" + spec.name + "' was cancelled after " + std::to_string(s.rows_read) +
            " rows read; nothing was committed, targets are untouched");
    return;
  }
  if (s.error->code == "FE-OUTPUT-CLOSED") {
    // `flowengine run p.yaml | head`: the reader has what it wanted.
    Log(LogLevel::kInfo, LogCategory::kEngine,
        "run '" + spec.name +
            "' stopped: standard output was closed by its reader; routes and dead letters were "
            "not committed");
    return;
  }
  LogError(*s.error);
  if (spec.sink.path == "-") {
    Log(LogLevel::kError, LogCategory::kEngine,
        "run '" + spec.name +
            "' failed; what was already streamed to standard output is incomplete; no file "
            "was committed");
    return;
  }
  Log(LogLevel::kError, LogCategory::kEngine,
      "run '" + spec.name + "' failed; " +
          (s.targets_replaced == 0
               ? std::string("nothing was committed, the targets are untouched")
               : std::to_string(s.targets_replaced) +
                     (s.targets_replaced == 1 ? " target was" : " targets were") +
                     " replaced before the failure (named above)"));
}

}  // namespace flowengine
