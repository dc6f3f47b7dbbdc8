// Optional parts of the engine live in plugins loaded with dlopen only when a pipeline needs
// them, so that every other run starts without their dependencies: libflowengine_js.so (V8,
// for transforms). Plugins sit beside the flowengine executable and resolve engine symbols
// from it.
#pragma once

#include <string>

namespace flowengine {

/// The address of `symbol` in the plugin `library` (a file name beside the executable),
/// loading it on first use; nullptr with `*problem` set when it cannot.
void* LoadPluginSymbol(const std::string& library, const char* symbol, std::string* problem);

}  // namespace flowengine
