#include "core/error/error.h"

#include "core/error/error_codes.h"

namespace flowengine {

const char* ErrorClassName(ErrorClass c) {
  switch (c) {
    case ErrorClass::kConfig:
      return "config";
    case ErrorClass::kInput:
      return "input";
    case ErrorClass::kEncoding:
      return "encoding";
    case ErrorClass::kSchema:
      return "schema";
    case ErrorClass::kScript:
      return "script";
    case ErrorClass::kOutput:
      return "output";
    case ErrorClass::kResource:
      return "resource";
    case ErrorClass::kBench:
      return "bench";
    case ErrorClass::kService:
      return "service";
    case ErrorClass::kInternal:
      return "internal";
  }
  return "internal";
}

std::string Error::ToString() const {
  std::string out;
  const Location& loc = location;
  if (!loc.file.empty()) {
    out += loc.file;
    if (loc.line > 0) {
      out += ":" + std::to_string(loc.line);
      if (loc.column > 0) out += ":" + std::to_string(loc.column);
    }
    out += ": ";
  }
  out += "error ";
  out += code;
  out += " (";
  out += ErrorClassName(error_class);
  if (!stage.empty()) out += ", stage " + stage;
  out += "): ";
  out += message;
  if (loc.byte_offset >= 0 || !loc.field.empty() || !script.empty()) {
    out += "\n  at:";
    if (!loc.field.empty()) out += " field '" + loc.field + "'";
    if (loc.byte_offset >= 0) out += " byte offset " + std::to_string(loc.byte_offset);
    if (!script.empty()) out += " script " + script;
  }
  if (!hint.empty()) out += "\n  hint: " + hint;
  return out;
}

Error MakeError(const std::string& code, std::string message, Location location,
                std::string stage) {
  Error e;
  e.code = code;
  e.message = std::move(message);
  e.location = std::move(location);
  e.stage = std::move(stage);
  if (const ErrorCodeInfo* info = FindErrorCode(code)) {
    e.error_class = info->error_class;
    e.retryable = info->retryable;
    e.hint = std::string(info->hint);
  }
  return e;
}

void ThrowError(const std::string& code, std::string message, Location location,
                std::string stage) {
  throw ErrorException(MakeError(code, std::move(message), std::move(location), std::move(stage)));
}

}  // namespace flowengine
