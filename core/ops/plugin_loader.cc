#include "core/ops/plugin_loader.h"

#include <dlfcn.h>

#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <vector>

namespace flowengine {
namespace {

std::mutex g_mutex;  // dlopen is thread-safe; this keeps the directory and `problem` coherent
std::string g_plugin_dir;

// Where the engine's own code is: libflowengine.so, or the executable it is linked into.
std::filesystem::path EngineDirectory() {
  Dl_info info{};
  if (::dladdr(reinterpret_cast<void*>(&SetPluginDirectory), &info) != 0 &&
      info.dli_fname != nullptr) {
    std::error_code ec;
    const std::filesystem::path p = std::filesystem::canonical(info.dli_fname, ec);
    if (!ec) return p.parent_path();
  }
  std::error_code ec;
  return std::filesystem::read_symlink("/proc/self/exe", ec).parent_path();
}

}  // namespace

void SetPluginDirectory(const std::string& dir) {
  std::lock_guard<std::mutex> lock(g_mutex);
  g_plugin_dir = dir;
}

void* LoadPluginSymbol(const std::string& library, const char* symbol, std::string* problem) {
  std::lock_guard<std::mutex> lock(g_mutex);
  std::vector<std::filesystem::path> dirs;
  if (!g_plugin_dir.empty()) dirs.emplace_back(g_plugin_dir);
  if (const char* env = std::getenv("FLOWENGINE_PLUGIN_DIR"); env != nullptr && *env != '\0') {
    dirs.emplace_back(env);
  }
  const std::filesystem::path here = EngineDirectory();
  dirs.push_back(here);
  dirs.push_back(here / "flowengine");
  dirs.push_back(here.parent_path() / "lib" / "flowengine");
#ifdef FLOWENGINE_PLUGIN_INSTALL_DIR
  dirs.emplace_back(FLOWENGINE_PLUGIN_INSTALL_DIR);  // <libdir>/flowengine of the install
#endif
  std::string tried;
  for (const std::filesystem::path& dir : dirs) {
    const std::string path = (dir / library).string();
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) {
      tried += (tried.empty() ? "" : ", ") + path;
      continue;
    }
    void* handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (handle == nullptr) {
      *problem = "Cannot load '" + path + "': " + ::dlerror();
      return nullptr;
    }
    void* address = ::dlsym(handle, symbol);
    if (address == nullptr) *problem = "'" + path + "' has no entry point " + symbol;
    return address;
  }
  *problem = "'" + library + "' not found (tried " + tried + ")";
  return nullptr;
}

}  // namespace flowengine
