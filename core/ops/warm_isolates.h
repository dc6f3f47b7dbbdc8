// Warm V8 isolates: the process-wide setting and counters behind EngineOptions::warm_isolates
// (`flowengine serve` keeps isolates warm between runs). The JavaScript plugin
// (core/js/script_isolate.cc) owns the idle isolates; this part of the engine, which has no
// V8 dependency, holds how many it may keep, counts what happened, and lets the engine
// release them (Engine's destructor) without loading the plugin.
//
// A warm isolate keeps V8's heap, its compiled code for the engine's driver and its
// compilation cache; every run still gets fresh contexts, so no script state passes from one
// run to the next. An isolate that hit its heap limit or whose script was stopped is never
// kept.
// Thread safety: every function is thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>

namespace flowengine {

/// How many idle isolates the plugin may keep (0, the default: dispose each at the end of
/// its run).
void SetWarmIsolateLimit(size_t limit);
size_t WarmIsolateLimit();

struct WarmIsolateStats {
  uint64_t created = 0;  ///< isolates made new
  uint64_t reused = 0;   ///< isolates taken warm from the idle set
  uint64_t idle = 0;     ///< isolates idle right now
};
WarmIsolateStats GetWarmIsolateStats();

// For the plugin.
void CountIsolateCreated();
void CountIsolateReused();
void SetIdleIsolateCount(uint64_t idle);
/// `release` disposes every idle isolate; registered by the plugin on first use.
void SetWarmIsolateReleaser(void (*release)());

/// Disposes every idle isolate (nothing when the plugin never kept one).
void ReleaseWarmIsolates();

}  // namespace flowengine
