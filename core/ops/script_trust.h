// Whether the process's scripts are their callers' own: the process-wide state behind
// EngineOptions::trusted_scripts (`flowengine run` sets it; `flowengine serve` and the library's
// default do not). The JavaScript plugin reads it once, when V8 starts (core/js/v8_platform.cc):
// trusted scripts run without V8's write protection of its code memory between compiles. It
// holds only while every live Engine says so: one Engine with scripts from others keeps the
// protection for the whole process. This part of the engine has no V8 dependency: an Engine
// counts itself without loading the plugin.
// Thread safety: every function is thread-safe.
#pragma once

namespace flowengine {

/// An Engine with (or without) trusted_scripts was made: +1; destroyed: -1.
void CountEngine(bool trusted_scripts, int delta);

/// True while at least one live Engine has trusted scripts and none has scripts from others.
bool ScriptsTrusted();

}  // namespace flowengine
