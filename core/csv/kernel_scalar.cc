// Scalar kernel: the reference every SIMD kernel is tested against, and the fallback for
// CPUs without SSE4.2. Compiled with the baseline flags.
#include <cstddef>
#include <cstdint>

#include "core/csv/grammar.h"
#include "core/csv/scan_kernel.h"

namespace flowengine {
namespace {

#include "core/csv/parse_loop_masks.h"

struct Simd {
  static Masks Classify(const char* p, char delimiter, char quote) {
    Masks m{0, 0, 0, 0};
    for (int i = 0; i < 64; ++i) {
      const uint64_t bit = uint64_t{1} << i;
      const char c = p[i];
      if (c == quote) m.quote |= bit;
      if (c == delimiter) m.delimiter |= bit;
      if (c == '\n') m.lf |= bit;
      if (c == '\r') m.cr |= bit;
    }
    return m;
  }
  static uint64_t PrefixXor(uint64_t bits) {
    bits ^= bits << 1;
    bits ^= bits << 2;
    bits ^= bits << 4;
    bits ^= bits << 8;
    bits ^= bits << 16;
    bits ^= bits << 32;
    return bits;
  }
};

#include "core/csv/parse_loop_impl.h"

constexpr ScanKernel kKernel{"scalar", FindBoundaryImpl, ParseImpl, MarkSpecialImpl};

}  // namespace

const ScanKernel& ScalarKernel() { return kKernel; }

}  // namespace flowengine
