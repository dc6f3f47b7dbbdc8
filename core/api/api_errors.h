// The public API's ErrorInfo and the engine's Error, one into the other (the same code,
// class, place, hint, field and script), for the CLI, which logs the API's errors through the
// engine's logger. Pure functions; thread-safe.
#pragma once

#include "core/error/error.h"
#include "flowengine/flowengine.h"

namespace flowengine {

ErrorInfo ToErrorInfo(const Error& e);
Error FromErrorInfo(const ErrorInfo& info);

}  // namespace flowengine
