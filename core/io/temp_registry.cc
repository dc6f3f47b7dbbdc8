#include "core/io/temp_registry.h"

#include <unistd.h>

#include <atomic>
#include <cstring>
#include <mutex>

namespace flowengine {
namespace {

constexpr size_t kSlots = 64;
constexpr size_t kMaxPath = 4096;

struct Slot {
  std::atomic<bool> used{false};
  char path[kMaxPath];
};

Slot g_slots[kSlots];
std::mutex g_mutex;

}  // namespace

void RegisterTempFile(const std::string& path) {
  if (path.size() >= kMaxPath) return;
  std::lock_guard<std::mutex> lock(g_mutex);
  for (Slot& s : g_slots) {
    if (s.used.load()) continue;
    std::memcpy(s.path, path.c_str(), path.size() + 1);
    s.used.store(true);
    return;
  }
}

void UnregisterTempFile(const std::string& path) {
  std::lock_guard<std::mutex> lock(g_mutex);
  for (Slot& s : g_slots) {
    if (s.used.load() && path == s.path) {
      s.used.store(false);
      return;
    }
  }
}

void RemoveAllTempFilesFromSignalHandler() noexcept {
  for (Slot& s : g_slots) {
    if (s.used.load()) ::unlink(s.path);
  }
}

}  // namespace flowengine
