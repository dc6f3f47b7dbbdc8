// Process-wide V8 initialisation: the platform is created once, on first use, and lives
// until the process exits. V8 gets background threads only when warm isolates are kept
// (EngineOptions::warm_isolates; decided at the first call). Thread-safe.
#pragma once

namespace flowengine {

/// Initialises V8 once; later calls return at once.
void EnsureV8Initialized();

}  // namespace flowengine
