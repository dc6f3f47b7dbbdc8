#include "core/engine/run_summary_json.h"

#include <cstdio>

namespace flowengine {

std::string RunSummaryToJson(const PipelineSpec& spec, const RunSummary& s) {
  auto number = [](double v) {
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%.6f", v);
    return std::string(buf);
  };
  std::string out = "{";
  out += "\"pipeline\":" + JsonQuote(spec.name);
  out += ",\"ok\":" + std::string(s.error ? "false" : "true");
  out += ",\"rows\":{\"read\":" + std::to_string(s.rows_read) +
         ",\"written\":" + std::to_string(s.rows_written) +
         ",\"routed\":" + std::to_string(s.rows_routed) +
         ",\"filtered\":" + std::to_string(s.rows_filtered) +
         ",\"rejected\":" + std::to_string(s.rows_rejected) +
         ",\"copies\":" + std::to_string(s.row_copies) + "}";
  out += ",\"rejected_by_code\":{";
  bool first = true;
  for (const auto& [code, count] : s.rejects_by_code) {
    out += (first ? "" : ",") + JsonQuote(code) + ":" + std::to_string(count);
    first = false;
  }
  out += "}";
  out += ",\"bytes_read\":" + std::to_string(s.bytes_read);
  out += ",\"seconds\":{\"total\":" + number(s.seconds) + ",\"graph\":" + number(s.graph_seconds) +
         ",\"commit\":" + number(s.commit_seconds) + "}";
  out += ",\"busy_seconds\":{\"read\":" + number(s.busy.read) +
         ",\"parse\":" + number(s.busy.parse) + ",\"transform\":" + number(s.busy.transform) +
         ",\"format\":" + number(s.busy.format) + ",\"write\":" + number(s.busy.write) + "}";
  const auto stage = [&](const char* name, const RunSummary::StageRows& rows, double busy) {
    return std::string("\"") + name + "\":{\"rows_in\":" + std::to_string(rows.in) +
           ",\"rows_out\":" + std::to_string(rows.out) + ",\"busy_seconds\":" + number(busy) +
           ",\"rows_per_busy_second\":" +
           number(busy > 0 ? static_cast<double>(rows.in) / busy : 0) + "}";
  };
  out += ",\"stages\":{" + stage("parse", s.parse_rows, s.busy.parse) + "," +
         stage("transform", s.transform_rows, s.busy.transform) + "," +
         stage("write", s.write_rows, s.busy.write) + "}";
  out += ",\"reader_waits\":" + std::to_string(s.reader_waits);
  out += ",\"threads\":" + std::to_string(s.threads);
  out += ",\"targets_replaced\":" + std::to_string(s.targets_replaced);
  out += ",\"memory\":{\"peak_bytes\":" + std::to_string(s.memory_peak) +
         ",\"budget_bytes\":" + std::to_string(s.memory_budget) +
         ",\"script_peak_bytes\":" + std::to_string(s.script_memory_peak) + "}";
  if (s.error) {
    const Error& e = *s.error;
    out += ",\"error\":{\"code\":" + JsonQuote(e.code) +
           ",\"class\":" + JsonQuote(ErrorClassName(e.error_class)) +
           ",\"message\":" + JsonQuote(e.message) + ",\"file\":" + JsonQuote(e.location.file) +
           ",\"line\":" + std::to_string(e.location.line) +
           ",\"column\":" + std::to_string(e.location.column) +
           ",\"byte_offset\":" + std::to_string(e.location.byte_offset) +
           ",\"field\":" + JsonQuote(e.location.field) + ",\"stage\":" + JsonQuote(e.stage) +
           ",\"script\":" + JsonQuote(e.script) +
           ",\"retryable\":" + (e.retryable ? "true" : "false") + ",\"hint\":" + JsonQuote(e.hint) +
           "}";
  }
  out += "}\n";
  return out;
}

}  // namespace flowengine
