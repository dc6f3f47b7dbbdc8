// Whether the process's scripts are its callers' own: the process-wide setting behind
// EngineOptions::trusted_scripts (`flowengine run` sets it; `flowengine serve` and the library's
// default do not). The JavaScript plugin reads it once, when V8 starts (core/js/v8_platform.cc):
// trusted scripts run without V8's write protection of its code memory between compiles.
// This part of the engine has no V8 dependency: an Engine sets it without loading the plugin.
// Thread safety: both functions are thread-safe.
#pragma once

namespace flowengine {

/// Marks the process's scripts as trusted (or no longer); only a V8 not yet started sees it.
void SetScriptsTrusted(bool trusted);
bool ScriptsTrusted();

}  // namespace flowengine
