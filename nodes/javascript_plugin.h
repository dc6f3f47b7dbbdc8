// Loading the JavaScript runtime plugin (libflowengine_js.so, built beside the flowengine
// binary). LoadJavascriptTransform is thread-safe; the plugin stays loaded until exit.
#pragma once

#include <memory>

#include "core/config/pipeline_spec.h"
#include "core/engine/stages.h"

extern "C" flowengine::TransformStage* flowengine_make_javascript_step(
    const flowengine::PipelineSpec* spec, size_t step);

namespace flowengine {

/// JavaScript step `step` of `spec`, from the plugin. Throws ErrorException (FE-INTERNAL)
/// when the plugin cannot be loaded.
std::unique_ptr<TransformStage> LoadJavascriptTransform(const PipelineSpec& spec, size_t step);

}  // namespace flowengine
