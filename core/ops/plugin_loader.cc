#include "core/ops/plugin_loader.h"

#include <dlfcn.h>

#include <filesystem>
#include <mutex>

namespace flowengine {

void* LoadPluginSymbol(const std::string& library, const char* symbol, std::string* problem) {
  static std::mutex mutex;  // dlopen is thread-safe; this keeps `problem` coherent
  std::lock_guard<std::mutex> lock(mutex);
  std::error_code ec;
  const std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  const std::string path = (exe.parent_path() / library).string();
  void* handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    *problem = "Cannot load '" + path + "': " + ::dlerror();
    return nullptr;
  }
  void* address = ::dlsym(handle, symbol);
  if (address == nullptr) *problem = "'" + path + "' has no entry point " + symbol;
  return address;
}

}  // namespace flowengine
