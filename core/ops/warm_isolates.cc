#include "core/ops/warm_isolates.h"

#include <atomic>

namespace flowengine {
namespace {

std::atomic<size_t> g_limit{0};
std::atomic<uint64_t> g_created{0};
std::atomic<uint64_t> g_reused{0};
std::atomic<uint64_t> g_idle{0};
std::atomic<void (*)()> g_release{nullptr};

}  // namespace

void SetWarmIsolateLimit(size_t limit) { g_limit.store(limit); }
size_t WarmIsolateLimit() { return g_limit.load(); }

WarmIsolateStats GetWarmIsolateStats() {
  WarmIsolateStats s;
  s.created = g_created.load();
  s.reused = g_reused.load();
  s.idle = g_idle.load();
  return s;
}

void CountIsolateCreated() { g_created.fetch_add(1); }
void CountIsolateReused() { g_reused.fetch_add(1); }
void SetIdleIsolateCount(uint64_t idle) { g_idle.store(idle); }
void SetWarmIsolateReleaser(void (*release)()) { g_release.store(release); }

void ReleaseWarmIsolates() {
  if (void (*release)() = g_release.load()) release();
}

}  // namespace flowengine
