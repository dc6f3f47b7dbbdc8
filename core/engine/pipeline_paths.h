// The files a pipeline run touches, named by the keys that configure them, and the startup
// checks over them: file identity (core/io/file_identity.h) and the completion of commits a
// killed run left half done (core/io/commit_set.h). Used by `run` and `validate` alike.
// Stateless functions; thread-safe.
#pragma once

#include <string>
#include <vector>

#include "core/config/pipeline_spec.h"
#include "core/io/file_identity.h"

namespace flowengine {

/// Every path of `spec`: inputs (source, script files, the pipeline file itself) and outputs
/// (sink, routes, dead letters), each with the key and YAML location that set it; standard
/// input and output ("-") are not paths and are left out.
std::vector<PathUse> PipelinePaths(const PipelineSpec& spec);

/// The output files of `spec` (sink unless it is standard output, routes, dead letters), in
/// commit order.
std::vector<std::string> OutputTargets(const PipelineSpec& spec);

/// Checks file identity over the pipeline's paths plus `extra` (report files of the CLI),
/// then completes interrupted commits beside the outputs, logging what it did. Throws
/// ErrorException (FE-CONFIG-ALIAS, FE-CONFIG-NOT-REGULAR, FE-OUTPUT-COMMIT).
void CheckPathsAndRecover(const PipelineSpec& spec, const std::vector<PathUse>& extra = {});

}  // namespace flowengine
