#include "core/io/temp_registry.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <mutex>

namespace flowengine {
namespace {

constexpr size_t kSlots = 256;
constexpr size_t kMaxName = 256;  // NAME_MAX + 1

struct Slot {
  std::atomic<bool> used{false};
  int dir_fd = -1;
  char name[kMaxName];
};

Slot g_slots[kSlots];
std::mutex g_mutex;

}  // namespace

bool RegisterTempFile(int dir_fd, const std::string& name) {
  if (name.size() >= kMaxName) return false;
  std::lock_guard<std::mutex> lock(g_mutex);
  for (Slot& s : g_slots) {
    if (s.used.load()) continue;
    s.dir_fd = dir_fd;
    std::memcpy(s.name, name.c_str(), name.size() + 1);
    s.used.store(true);
    return true;
  }
  return false;
}

void UnregisterTempFile(int dir_fd, const std::string& name) {
  std::lock_guard<std::mutex> lock(g_mutex);
  for (Slot& s : g_slots) {
    if (s.used.load() && s.dir_fd == dir_fd && name == s.name) {
      s.used.store(false);
      return;
    }
  }
}

void RemoveAllTempFilesFromSignalHandler() noexcept {
  for (Slot& s : g_slots) {
    if (s.used.load()) ::unlinkat(s.dir_fd, s.name, 0);
  }
}

}  // namespace flowengine
