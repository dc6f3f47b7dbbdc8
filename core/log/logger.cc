#include "core/log/logger.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <mutex>
#include <sstream>

namespace flowengine {
namespace {

struct LoggerState {
  std::mutex mutex;
  LogLevel level = LogLevel::kInfo;
  LogFormat format = LogFormat::kText;
  std::ostream* out = &std::cerr;
};

LoggerState& State() {
  static LoggerState state;
  return state;
}

// 2026-11-29T20:15:03.123Z
std::string Timestamp() {
  const auto now = std::chrono::system_clock::now();
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  const std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[96];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(ms % 1000));
  return buf;
}

std::string JsonHead(LogLevel level, LogCategory category) {
  std::string out = "{\"time\":\"" + Timestamp() + "\",\"level\":\"";
  out += LogLevelName(level);
  out += "\",\"category\":\"";
  out += LogCategoryName(category);
  out += "\"";
  return out;
}

void AppendFields(std::string& json, const std::vector<LogField>& fields) {
  for (const LogField& f : fields) {
    json += "," + JsonQuote(f.key) + ":" + (f.number ? f.value : JsonQuote(f.value));
  }
}

// A text line as written: control characters from the values it quotes (a pipeline name, a
// path, a script's message) are escaped, so that no value can forge a log line of its own or
// send terminal escapes. A line break stays only where it continues the entry ("\n  at:",
// "\n  hint:"): indented, it cannot pass for a new "flowengine: ..." line.
std::string EscapeTextLine(const std::string& line) {
  std::string out;
  out.reserve(line.size());
  for (size_t i = 0; i < line.size(); ++i) {
    const auto c = static_cast<unsigned char>(line[i]);
    if (c == '\n' && line.compare(i + 1, 2, "  ") == 0) {
      out += '\n';
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if ((c < 0x20 && c != '\t') || c == 0x7F) {
      char hex[8];
      std::snprintf(hex, sizeof(hex), "\\x%02X", c);
      out += hex;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

void Emit(const std::string& line) {
  LoggerState& s = State();
  const std::string text = s.format == LogFormat::kText ? EscapeTextLine(line) : line;
  std::lock_guard<std::mutex> lock(s.mutex);
  *s.out << text << '\n';
  s.out->flush();
}

std::string TextFields(const std::vector<LogField>& fields) {
  if (fields.empty()) return "";
  std::string out = " (";
  for (size_t i = 0; i < fields.size(); ++i) {
    if (i > 0) out += ", ";
    out += fields[i].key + "=" + fields[i].value;
  }
  return out + ")";
}

}  // namespace

std::string_view LogLevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarn:
      return "warn";
    case LogLevel::kError:
      return "error";
  }
  return "?";
}

std::string_view LogCategoryName(LogCategory category) {
  switch (category) {
    case LogCategory::kConfig:
      return "config";
    case LogCategory::kSource:
      return "source";
    case LogCategory::kTransform:
      return "transform";
    case LogCategory::kSink:
      return "sink";
    case LogCategory::kEngine:
      return "engine";
    case LogCategory::kScript:
      return "script";
  }
  return "?";
}

std::optional<LogLevel> ParseLogLevel(std::string_view name) {
  if (name == "debug") return LogLevel::kDebug;
  if (name == "info") return LogLevel::kInfo;
  if (name == "warn") return LogLevel::kWarn;
  if (name == "error") return LogLevel::kError;
  return std::nullopt;
}

std::optional<LogFormat> ParseLogFormat(std::string_view name) {
  if (name == "text") return LogFormat::kText;
  if (name == "json") return LogFormat::kJson;
  return std::nullopt;
}

LogCategory CategoryOfStage(std::string_view stage) {
  if (stage == "config" || stage == "cli") return LogCategory::kConfig;
  if (stage == "read" || stage == "parse") return LogCategory::kSource;
  if (stage == "transform") return LogCategory::kTransform;
  if (stage == "format" || stage == "write" || stage == "commit" || stage == "open") {
    return LogCategory::kSink;
  }
  return LogCategory::kEngine;
}

void ConfigureLogger(LogLevel level, LogFormat format, std::ostream* out) {
  LoggerState& s = State();
  std::lock_guard<std::mutex> lock(s.mutex);
  s.level = level;
  s.format = format;
  s.out = out != nullptr ? out : &std::cerr;
}

LogFormat CurrentLogFormat() { return State().format; }

LogLevel CurrentLogLevel() { return State().level; }

namespace {
thread_local RunLog* t_run_log = nullptr;
}  // namespace

ScopedRunLog::ScopedRunLog(RunLog* log) : previous_(t_run_log), set_(log != nullptr) {
  if (set_) t_run_log = log;
}

ScopedRunLog::~ScopedRunLog() {
  if (set_) t_run_log = previous_;
}

bool LogEnabled(LogLevel level) {
  if (const RunLog* run = t_run_log) return level >= run->level();
  return level >= State().level;
}

void Log(LogLevel level, LogCategory category, std::string_view message,
         const std::vector<LogField>& fields) {
  if (!LogEnabled(level)) return;
  if (RunLog* run = t_run_log) {
    run->Record(level, category, message, nullptr, fields);
    return;
  }
  LogToProcess(level, category, message, fields);
}

void LogError(const Error& e, const std::vector<LogField>& fields, LogLevel level) {
  if (!LogEnabled(level)) return;
  if (RunLog* run = t_run_log) {
    run->Record(level, CategoryOfStage(e.stage), e.message, &e, fields);
    return;
  }
  LogErrorToProcess(e, fields, level);
}

void LogToProcess(LogLevel level, LogCategory category, std::string_view message,
                  const std::vector<LogField>& fields) {
  if (level < State().level) return;
  if (State().format == LogFormat::kJson) {
    std::string json = JsonHead(level, category);
    json += ",\"message\":" + JsonQuote(message);
    AppendFields(json, fields);
    Emit(json + "}");
    return;
  }
  // Text: the message alone (fields are for machines); a script's log line says where.
  std::string line = "flowengine: ";
  if (category == LogCategory::kScript) {
    std::string file;
    std::string row_line;
    for (const LogField& f : fields) {
      if (f.key == "file") file = f.value;
      if (f.key == "line") row_line = f.value;
    }
    line += "script " + std::string(LogLevelName(level)) + " [" + file + ":" + row_line + "]: ";
    line += message;
    Emit(line);
    return;
  }
  if (level == LogLevel::kWarn) line += "warning: ";
  if (level == LogLevel::kDebug) line += "debug: ";
  line += message;
  Emit(line);
}

void LogErrorToProcess(const Error& e, const std::vector<LogField>& fields, LogLevel level) {
  if (level < State().level) return;
  const LogCategory category = CategoryOfStage(e.stage);
  if (State().format == LogFormat::kText) {
    std::string line = "flowengine: ";
    if (level == LogLevel::kWarn) line += "warning: ";
    line += e.ToString();
    if (!fields.empty()) line += "\n  " + TextFields(fields).substr(1);
    Emit(line);
    return;
  }
  std::string json = JsonHead(level, category);
  json += ",\"message\":" + JsonQuote(e.message);
  json += ",\"code\":" + JsonQuote(e.code);
  json += ",\"class\":" + JsonQuote(ErrorClassName(e.error_class));
  if (!e.stage.empty()) json += ",\"stage\":" + JsonQuote(e.stage);
  const Location& loc = e.location;
  if (!loc.file.empty()) json += ",\"file\":" + JsonQuote(loc.file);
  if (loc.line > 0) json += ",\"line\":" + std::to_string(loc.line);
  if (loc.column > 0) json += ",\"column\":" + std::to_string(loc.column);
  if (loc.byte_offset >= 0) json += ",\"byte_offset\":" + std::to_string(loc.byte_offset);
  if (!loc.field.empty()) json += ",\"field\":" + JsonQuote(loc.field);
  if (!e.script.empty()) json += ",\"script\":" + JsonQuote(e.script);
  if (!e.hint.empty()) json += ",\"hint\":" + JsonQuote(e.hint);
  AppendFields(json, fields);
  Emit(json + "}");
}

namespace {

// Length of the valid UTF-8 sequence at p[0, n), or 0 when it is not one.
size_t Utf8SequenceLength(const unsigned char* p, size_t n) {
  const unsigned char c = p[0];
  size_t len = c >= 0xF0 && c <= 0xF4 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 && c <= 0xDF ? 2 : 0;
  if (len == 0 || len > n) return 0;
  for (size_t i = 1; i < len; ++i) {
    if ((p[i] & 0xC0) != 0x80) return 0;
  }
  // Overlong 3- and 4-byte forms, surrogates, and code points above U+10FFFF.
  if (len == 3 && ((c == 0xE0 && p[1] < 0xA0) || (c == 0xED && p[1] >= 0xA0))) return 0;
  if (len == 4 && ((c == 0xF0 && p[1] < 0x90) || (c == 0xF4 && p[1] >= 0x90))) return 0;
  return len;
}

}  // namespace

std::string JsonQuote(std::string_view text) {
  std::string out = "\"";
  const auto* bytes = reinterpret_cast<const unsigned char*>(text.data());
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (u < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\u%04x", u);
      out += buf;
    } else if (u < 0x80) {
      out += c;
    } else if (const size_t len = Utf8SequenceLength(bytes + i, text.size() - i); len > 0) {
      out.append(text.data() + i, len);
      i += len - 1;
    } else {
      out += "\\ufffd";  // not UTF-8 (e.g. a message cut inside a character): JSON stays valid
    }
  }
  return out + "\"";
}

LogField LogField::Real(std::string key, double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.*f", digits, std::isfinite(v) ? v : 0.0);
  return LogField{std::move(key), buf, true};
}

}  // namespace flowengine
