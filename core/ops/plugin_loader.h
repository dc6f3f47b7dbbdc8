// Optional parts of the engine live in plugins loaded with dlopen only when a pipeline needs
// them, so that every other run starts without their dependencies: libflowengine_js.so (V8,
// for transforms). A plugin resolves the engine's symbols from the process (the flowengine
// executable, or libflowengine.so in an embedding application). Searched, in order: the
// directory set with SetPluginDirectory (Engine options), $FLOWENGINE_PLUGIN_DIR, the
// directory of the code calling (libflowengine.so or the executable) and its "flowengine"
// subdirectory, and ../lib/flowengine from there (the install layout: bin/flowengine with
// lib/flowengine/libflowengine_js.so).
#pragma once

#include <string>

namespace flowengine {

/// The address of `symbol` in the plugin `library` (a file name), loading it on first use;
/// nullptr with `*problem` set (every place tried) when it cannot.
void* LoadPluginSymbol(const std::string& library, const char* symbol, std::string* problem);

/// Looks for plugins in `dir` first (thread-safe; for later loads).
void SetPluginDirectory(const std::string& dir);

}  // namespace flowengine
