// Logger: the one place FlowEngine writes diagnostics (stderr by default). Each line has a
// level, a category and a message, plus optional fields; errors carry their location.
// A thread working for one run of an embedding application (the runner thread, and each
// graph node body on a worker thread) names that run's RunLog with ScopedRunLog: its lines
// then go there (the application's sink, the run's observer) instead of the process logger,
// so that concurrent runs keep separate logs.
// Two formats: JSON lines (one object per line; the default when stderr is not a terminal)
// and readable text ("flowengine: ..."; the default on a terminal). Configured once at
// startup (CLI --log-level / --log-format, or FLOWENGINE_LOG_LEVEL / FLOWENGINE_LOG_FORMAT);
// then thread-safe: lines from different threads never interleave.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error/error.h"

namespace flowengine {

enum class LogLevel : uint8_t { kDebug, kInfo, kWarn, kError };
enum class LogCategory : uint8_t { kConfig, kSource, kTransform, kSink, kEngine, kScript };
enum class LogFormat : uint8_t { kText, kJson };

std::string_view LogLevelName(LogLevel level);
std::string_view LogCategoryName(LogCategory category);
std::optional<LogLevel> ParseLogLevel(std::string_view name);    ///< debug|info|warn|error
std::optional<LogFormat> ParseLogFormat(std::string_view name);  ///< text|json

/// The category of an error, from the stage it happened in.
LogCategory CategoryOfStage(std::string_view stage);

/// A key and value added to a log line; numbers are written unquoted in JSON.
struct LogField {
  std::string key;
  std::string value;
  bool number = false;

  static LogField Num(std::string key, int64_t v) {
    return LogField{std::move(key), std::to_string(v), true};
  }
  /// A number with `digits` decimals.
  static LogField Real(std::string key, double v, int digits = 3);
  static LogField Str(std::string key, std::string v) {
    return LogField{std::move(key), std::move(v), false};
  }
};

/// The destination of one run's log lines. Record() is called from any of the run's threads;
/// implementations serialise it themselves. `level` is the run's threshold.
class RunLog {
 public:
  explicit RunLog(LogLevel level) : level_(level) {}
  virtual ~RunLog() = default;
  LogLevel level() const { return level_; }
  /// One line: `error` is set for LogError lines (message is then error->message).
  virtual void Record(LogLevel level, LogCategory category, std::string_view message,
                      const Error* error, const std::vector<LogField>& fields) noexcept = 0;

 private:
  LogLevel level_;
};

/// Makes `log` (may be null: no change) this thread's destination until the end of the scope.
class ScopedRunLog {
 public:
  explicit ScopedRunLog(RunLog* log);
  ~ScopedRunLog();
  ScopedRunLog(const ScopedRunLog&) = delete;
  ScopedRunLog& operator=(const ScopedRunLog&) = delete;

 private:
  RunLog* previous_;
  bool set_;
};

/// The process logger itself, bypassing any RunLog (for RunLogs that forward there).
void LogToProcess(LogLevel level, LogCategory category, std::string_view message,
                  const std::vector<LogField>& fields);
void LogErrorToProcess(const Error& error, const std::vector<LogField>& fields, LogLevel level);

/// Configures the process logger. `out` null: stderr.
void ConfigureLogger(LogLevel level, LogFormat format, std::ostream* out = nullptr);
/// The format the logger writes (for callers that draw on the terminal themselves).
LogFormat CurrentLogFormat();
/// The process logger's level.
LogLevel CurrentLogLevel();
bool LogEnabled(LogLevel level);

/// Writes one line. Text: "flowengine: [warning: ]message" (fields only in JSON; a script
/// line reads "flowengine: script LEVEL [file:line]: message").
void Log(LogLevel level, LogCategory category, std::string_view message,
         const std::vector<LogField>& fields = {});

/// Writes an error: text is the compiler-style "file:line:col: error CODE message" with its
/// hint; JSON has code, class, stage, file, line, column, byte_offset, field and hint.
void LogError(const Error& error, const std::vector<LogField>& fields = {},
              LogLevel level = LogLevel::kError);

/// A JSON string literal for `text` (quotes and escapes included).
std::string JsonQuote(std::string_view text);

}  // namespace flowengine
