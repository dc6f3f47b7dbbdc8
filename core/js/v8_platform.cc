#include "core/js/v8_platform.h"

#include <libplatform/libplatform.h>
#include <v8.h>

#include <cstdlib>
#include <memory>
#include <mutex>

#include "core/ops/script_trust.h"
#include "core/ops/warm_isolates.h"

namespace flowengine {

void EnsureV8Initialized() {
  static std::once_flag once;
  std::call_once(once, [] {
    // A batch (no warm isolates: `flowengine run`) gets no background threads of V8's own
    // (concurrent compilation, marking, sweeping, parallel scavenges): the engine already
    // runs one isolate per core, and V8's helpers only contend with them. On 2 cores,
    // js-enrich ran 6% faster with 2 threads (2% with one) on 6-10% less CPU time and 3-5 MiB
    // less peak RSS. An engine keeping warm isolates (`flowengine serve`) runs many short
    // jobs, whose latency the background compiler shortens (p50 20 against 25 ms for a
    // 1,000-row job): it keeps them (docs/benchmarks.md, "JavaScript"). Decided once, when
    // V8 starts.
    // A batch also compiles every function to baseline code (Sparkplug) on its first call
    // instead of interpreting it until its feedback is collected: the first blocks of each
    // isolate (until TurboFan takes over) run faster. Counted with callgrind, 90,000 rows,
    // one thread: ~50M fewer instructions per isolate in every JavaScript scenario
    // (js-enrich 827.6M -> 773.2M), the same per row afterwards; a 1,000-row job +1.3%.
    if (WarmIsolateLimit() == 0) v8::V8::SetFlagsFromString("--single-threaded --always-sparkplug");
    // Scripts that are the caller's own (EngineOptions::trusted_scripts: `flowengine run`) run
    // with V8's code memory left writable between compiles: the write protection costs an
    // mprotect around each compile, ~50 us on the measured VM plus a TLB flush that stops the
    // other core, and the first blocks of each isolate compile a lot (js-enrich +3.6% rows/s,
    // docs/benchmarks.md, "Issue 13: fifth pass"). The protection stands against a V8 exploit
    // writing code; a pipeline's author running their own script has nothing to gain from
    // one. `flowengine serve` and the library's default keep it.
    if (ScriptsTrusted()) v8::V8::SetFlagsFromString("--no-write-protect-code-memory");
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
