#include <cstdlib>
#include <string_view>
#include <vector>

#include "core/csv/scan_kernel.h"

namespace flowengine {
namespace {

bool HasSse42() {
  return __builtin_cpu_supports("sse4.2") && __builtin_cpu_supports("pclmul") &&
         __builtin_cpu_supports("popcnt");
}
bool HasAvx2() {
  return HasSse42() && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("bmi");
}

std::vector<const ScanKernel*> Detect() {
  std::vector<const ScanKernel*> kernels{&ScalarKernel()};
  if (HasSse42()) kernels.push_back(&Sse42Kernel());
  if (HasAvx2()) kernels.push_back(&Avx2Kernel());
  return kernels;
}

const std::vector<const ScanKernel*>& Kernels() {
  static const std::vector<const ScanKernel*> kernels = Detect();
  return kernels;
}

}  // namespace

std::span<const ScanKernel* const> AvailableKernels() { return Kernels(); }

const ScanKernel& BestKernel() {
  static const ScanKernel* best = [] {
    // FLOWENGINE_KERNEL=scalar|sse42|avx2 pins a kernel (for benchmarks and bug reports);
    // an unknown or unsupported name falls back to the best one.
    if (const char* forced = std::getenv("FLOWENGINE_KERNEL")) {
      for (const ScanKernel* k : Kernels()) {
        if (std::string_view(k->name) == forced) return k;
      }
    }
    return Kernels().back();
  }();
  return *best;
}

}  // namespace flowengine
