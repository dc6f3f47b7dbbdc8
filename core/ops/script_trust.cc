#include "core/ops/script_trust.h"

#include <mutex>

namespace flowengine {
namespace {

std::mutex g_mutex;  // the two counts are read together
int g_trusted = 0;
int g_untrusted = 0;

}  // namespace

void CountEngine(bool trusted_scripts, int delta) {
  std::lock_guard<std::mutex> lock(g_mutex);
  (trusted_scripts ? g_trusted : g_untrusted) += delta;
}

bool ScriptsTrusted() {
  std::lock_guard<std::mutex> lock(g_mutex);
  return g_trusted > 0 && g_untrusted == 0;
}

}  // namespace flowengine
