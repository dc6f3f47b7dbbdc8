#include <mutex>

#include "core/error/error.h"
#include "core/ops/plugin_loader.h"
#include "nodes/javascript_plugin.h"

namespace flowengine {
namespace {

using MakeTransform = TransformStage* (*)(const PipelineSpec*, size_t);

}  // namespace

std::unique_ptr<TransformStage> LoadJavascriptTransform(const PipelineSpec& spec, size_t step) {
  static std::once_flag once;
  static MakeTransform make = nullptr;
  static std::string problem;
  std::call_once(once, [] {
    make = reinterpret_cast<MakeTransform>(
        LoadPluginSymbol("libflowengine_js.so", "flowengine_make_javascript_step", &problem));
    if (make == nullptr) problem = "The JavaScript runtime is missing: " + problem;
  });
  if (make == nullptr) {
    Error e = MakeError("FE-INTERNAL", problem, {}, "startup");
    e.hint =
        "Build the flowengine_js target (it is built with flowengine), keep "
        "libflowengine_js.so beside the flowengine binary, and run tools/setup.sh for V8.";
    throw ErrorException(std::move(e));
  }
  return std::unique_ptr<TransformStage>(make(&spec, step));
}

}  // namespace flowengine
