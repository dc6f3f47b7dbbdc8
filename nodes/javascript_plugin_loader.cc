#include <dlfcn.h>
#include <unistd.h>

#include <filesystem>
#include <mutex>

#include "core/error/error.h"
#include "nodes/javascript_plugin.h"

namespace flowengine {
namespace {

using MakeTransform = TransformStage* (*)(const PipelineSpec*);

// The plugin beside the running executable.
std::string PluginPath() {
  std::error_code ec;
  const std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  return (exe.parent_path() / "libflowengine_js.so").string();
}

}  // namespace

std::unique_ptr<TransformStage> LoadJavascriptTransform(const PipelineSpec& spec) {
  static std::once_flag once;
  static MakeTransform make = nullptr;
  static std::string problem;
  std::call_once(once, [] {
    const std::string path = PluginPath();
    void* handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (handle == nullptr) {
      problem = "Cannot load the JavaScript runtime '" + path + "': " + ::dlerror();
      return;
    }
    make = reinterpret_cast<MakeTransform>(::dlsym(handle, "flowengine_make_javascript_transform"));
    if (make == nullptr) problem = "The JavaScript runtime '" + path + "' has no entry point";
  });
  if (make == nullptr) {
    Error e = MakeError("FE-INTERNAL", problem, {}, "startup");
    e.hint =
        "Build the flowengine_js target (it is built with flowengine), keep "
        "libflowengine_js.so beside the flowengine binary, and run tools/setup.sh for V8.";
    throw ErrorException(std::move(e));
  }
  return std::unique_ptr<TransformStage>(make(&spec));
}

}  // namespace flowengine
