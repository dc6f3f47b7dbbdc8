// The run summary as JSON (`flowengine run --summary FILE`): counts, accounting, rejects by
// code, timings and the error, if any. Pure function; thread-safe.
#pragma once

#include <string>

#include "core/config/pipeline_spec.h"
#include "core/engine/pipeline_runner.h"
#include "core/log/logger.h"

namespace flowengine {

/// One JSON object, newline-terminated.
std::string RunSummaryToJson(const PipelineSpec& spec, const RunSummary& summary);

}  // namespace flowengine
