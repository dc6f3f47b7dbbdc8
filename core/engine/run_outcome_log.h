// The end-of-run log lines, the same for `flowengine run`, an embedding application's runs
// and `flowengine serve`: the outcome with the accounting, rejects by code, the script's
// memory peak, the reader's waits for memory, the busy time and rows of each stage; after a
// failure, what was and was not committed. Called on the thread that ran the pipeline, after
// the run (its lines go where that thread's log goes: core/log/logger.h).
#pragma once

#include "core/config/pipeline_spec.h"
#include "core/engine/pipeline_runner.h"
#include "core/metrics/metrics.h"

namespace flowengine {

/// The lines of a successful run.
void LogRunSummary(const PipelineSpec& spec, const RunSummary& summary, const Metrics& metrics);

/// The lines of a failed or cancelled run: the error, then what became of the targets. A
/// reader of standard output that closed it early (FE-OUTPUT-CLOSED) is not shouted about.
/// `signal`: the signal that cancelled the run (SIGINT, SIGTERM), named in the line; 0: none.
void LogRunFailure(const PipelineSpec& spec, const RunSummary& summary, bool cancelled, int signal);

}  // namespace flowengine
