#include "core/js/v8_platform.h"

#include <libplatform/libplatform.h>
#include <v8.h>

#include <cstdlib>
#include <memory>
#include <mutex>

namespace flowengine {

void EnsureV8Initialized() {
  static std::once_flag once;
  std::call_once(once, [] {
    // FLOWENGINE_V8_FLAGS passes flags to V8 for profiling the engine's own JavaScript (e.g.
    // "--perf-basic-prof" for perf); not for production use (docs/benchmarks.md).
    if (const char* flags = std::getenv("FLOWENGINE_V8_FLAGS")) v8::V8::SetFlagsFromString(flags);
    // Intentionally never disposed: isolates may be torn down by thread exits until the end.
    static std::unique_ptr<v8::Platform> platform = v8::platform::NewDefaultPlatform();
    v8::V8::InitializePlatform(platform.get());
    v8::V8::Initialize();
  });
}

}  // namespace flowengine
