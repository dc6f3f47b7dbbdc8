// Process-wide V8 initialisation: the platform is created once, on first use, and lives
// until the process exits. Thread-safe.
#pragma once

namespace flowengine {

/// Initialises V8 once; later calls return at once.
void EnsureV8Initialized();

}  // namespace flowengine
