#include "core/ops/script_trust.h"

#include <atomic>

namespace flowengine {
namespace {

std::atomic<bool> g_trusted{false};

}  // namespace

void SetScriptsTrusted(bool trusted) { g_trusted.store(trusted); }
bool ScriptsTrusted() { return g_trusted.load(); }

}  // namespace flowengine
