// SSE4.2 + PCLMUL kernel (16-byte lanes). Compiled with -msse4.2 -mpclmul -mpopcnt; only
// called when the CPU reports those features (kernel_dispatch.cc).
#include <immintrin.h>

#include <cstddef>
#include <cstdint>

#include "core/csv/grammar.h"
#include "core/csv/scan_kernel.h"

namespace flowengine {
namespace {

#include "core/csv/parse_loop_masks.h"

inline uint64_t Match(const __m128i lanes[4], __m128i needle) {
  uint64_t out = 0;
  for (int i = 0; i < 4; ++i) {
    uint32_t bits = static_cast<uint32_t>(_mm_movemask_epi8(_mm_cmpeq_epi8(lanes[i], needle)));
    out |= static_cast<uint64_t>(bits) << (16 * i);
  }
  return out;
}

struct Simd {
  static Masks Classify(const char* p, char delimiter, char quote) {
    __m128i lanes[4];
    for (int i = 0; i < 4; ++i) {
      lanes[i] = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16 * i));
    }
    return Masks{Match(lanes, _mm_set1_epi8(quote)), Match(lanes, _mm_set1_epi8(delimiter)),
                 Match(lanes, _mm_set1_epi8('\n')), Match(lanes, _mm_set1_epi8('\r'))};
  }
  static uint64_t PrefixXor(uint64_t bits) {
    __m128i product =
        _mm_clmulepi64_si128(_mm_set_epi64x(0, static_cast<int64_t>(bits)), _mm_set1_epi8(-1), 0);
    return static_cast<uint64_t>(_mm_cvtsi128_si64(product));
  }
};

#include "core/csv/parse_loop_impl.h"

constexpr ScanKernel kKernel{"sse42", FindBoundaryImpl, ParseImpl, MarkSpecialImpl};

}  // namespace

const ScanKernel& Sse42Kernel() { return kKernel; }

}  // namespace flowengine
