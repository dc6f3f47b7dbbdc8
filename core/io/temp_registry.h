// A process-wide registry of live temp files, so that a second SIGINT/SIGTERM can remove
// them from the signal handler before exiting at once. Register/Unregister take a mutex;
// RemoveAllTempFilesFromSignalHandler is async-signal-safe (fixed slots, unlink only).
#pragma once

#include <string>

namespace flowengine {

void RegisterTempFile(const std::string& path);
void UnregisterTempFile(const std::string& path);
/// Unlinks every registered temp file. Async-signal-safe.
void RemoveAllTempFilesFromSignalHandler() noexcept;

}  // namespace flowengine
