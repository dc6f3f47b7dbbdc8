// `flowengine inspect`: the compiled pipeline — stages and their concurrency, the memory
// plan (threads, blocks in flight, block size), the schema in and out of each stage, the
// sinks and routes — as readable text or Graphviz DOT. Opens the source (header) and
// compiles the script, writes nothing. Called from one thread.
#pragma once

#include <string>

#include "core/config/pipeline_spec.h"
#include "core/engine/stages.h"

namespace flowengine {

enum class InspectFormat { kText, kDot };

/// The description of `spec`. Throws ErrorException like ValidatePipeline.
std::string InspectPipeline(const PipelineSpec& spec, const NodeFactory& factory,
                            InspectFormat format);

}  // namespace flowengine
