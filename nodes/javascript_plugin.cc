// Entry point of libflowengine_js.so, the JavaScript runtime plugin. The plugin holds
// everything that needs V8 (core/js/, nodes/javascript_transform.cc) and links libnode; the
// flowengine binary loads it with dlopen only when a pipeline has a transform, so pipelines
// without one do not pay for loading libnode (about 25 ms of dynamic linking per process).
#include "nodes/javascript_plugin.h"

#include "nodes/javascript_transform.h"

extern "C" flowengine::TransformStage* flowengine_make_javascript_step(
    const flowengine::PipelineSpec* spec, size_t step) {
  return new flowengine::JavascriptTransform(*spec, step);
}
