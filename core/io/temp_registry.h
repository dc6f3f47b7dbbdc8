// A process-wide registry of the files a run must not leave behind if the process is
// interrupted — named temp files and lock files — so that a second SIGINT/SIGTERM can remove
// them from the signal handler before exiting at once. Each entry is a directory handle plus
// a name, so removal works even when the directory was renamed meanwhile. Register and
// Unregister take a mutex; RemoveAllTempFilesFromSignalHandler is async-signal-safe (fixed
// slots, unlinkat only).
#pragma once

#include <string>

namespace flowengine {

/// Remembers `name` in the directory open as `dir_fd` (the caller keeps the fd open until
/// Unregister). Returns false when every slot is taken (the file is then only removed by the
/// normal cleanup paths).
bool RegisterTempFile(int dir_fd, const std::string& name);
void UnregisterTempFile(int dir_fd, const std::string& name);
/// Unlinks every registered file. Async-signal-safe.
void RemoveAllTempFilesFromSignalHandler() noexcept;

}  // namespace flowengine
