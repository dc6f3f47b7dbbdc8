// The catalogue of stable error codes. docs/errors.md is checked against this table by a
// test, so every code a user can see is documented. Immutable, thread-safe.
#pragma once

#include <span>
#include <string_view>

#include "core/error/error.h"

namespace flowengine {

/// One entry of the catalogue.
struct ErrorCodeInfo {
  std::string_view code;
  ErrorClass error_class;
  bool retryable;
  std::string_view summary;  ///< one line: what the code means
  std::string_view hint;     ///< how to fix it
};

/// Every code, in catalogue order.
std::span<const ErrorCodeInfo> AllErrorCodes();

/// The entry for `code`, or nullptr when unknown.
const ErrorCodeInfo* FindErrorCode(std::string_view code);

}  // namespace flowengine
