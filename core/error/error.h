// The one error type of FlowEngine: class, stable code, message, location, stage, hint and a
// retryable flag. Built off the hot path (kernels return small codes; callers build an Error).
// Value type; not synchronised.
#pragma once

#include <cstdint>
#include <exception>
#include <optional>
#include <string>

namespace flowengine {

/// What kind of thing went wrong; decides who has to act (user config, input data, ...).
enum class ErrorClass {
  kConfig,
  kInput,
  kEncoding,
  kSchema,
  kScript,
  kOutput,
  kResource,
  kBench,    ///< flowengine bench: figures too noisy or a regression (never in dead letters)
  kService,  ///< flowengine serve: a request refused (never in dead letters)
  kInternal
};

/// Lower-case name used in messages and the dead-letter `error_class` column.
const char* ErrorClassName(ErrorClass c);

/// Where an error happened. Unknown parts are left empty / zero.
struct Location {
  std::string file;          ///< file the error refers to (YAML, input, output, script)
  int64_t line = 0;          ///< 1-based line, 0 when unknown
  int64_t column = 0;        ///< 1-based column, 0 when unknown
  int64_t byte_offset = -1;  ///< byte offset in `file`, -1 when unknown
  std::string field;         ///< field / column / config key name
};

/// A user-facing error. `code` is stable (e.g. FE-INPUT-FIELD-COUNT) and listed in
/// docs/errors.md; `message` puts static text first and values last.
struct Error {
  ErrorClass error_class = ErrorClass::kInternal;
  std::string code;
  std::string message;
  Location location;
  std::string stage;   ///< config, read, parse, format, write, commit, ...
  std::string hint;    ///< how to fix it
  std::string script;  ///< where in the script (file:line:column), for script errors
  bool retryable = false;

  /// Multi-line human-readable form: "file:line:col: error CODE: message" + hint.
  std::string ToString() const;
};

/// Exception carrying an Error; used off the hot path (config, startup, I/O) and always
/// caught before it can escape a graph node or the CLI.
class ErrorException : public std::exception {
 public:
  explicit ErrorException(Error error) : error_(std::move(error)) {}
  const Error& error() const { return error_; }
  const char* what() const noexcept override { return error_.message.c_str(); }

 private:
  Error error_;
};

/// Builds an Error from the catalogue entry of `code` (class, hint, retryable filled in).
Error MakeError(const std::string& code, std::string message, Location location = {},
                std::string stage = {});

/// Throws MakeError(code, message, location, stage).
[[noreturn]] void ThrowError(const std::string& code, std::string message, Location location = {},
                             std::string stage = {});

}  // namespace flowengine
