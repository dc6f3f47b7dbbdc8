// AVX2 + PCLMUL kernel (32-byte lanes). Compiled with -mavx2 -mpclmul -mpopcnt -mbmi;
// only called when the CPU reports those features (kernel_dispatch.cc).
#include <immintrin.h>

#include <cstddef>
#include <cstdint>

#include "core/csv/grammar.h"
#include "core/csv/scan_kernel.h"

namespace flowengine {
namespace {

#include "core/csv/parse_loop_masks.h"

inline uint64_t Match(__m256i lo, __m256i hi, __m256i needle) {
  uint32_t a = static_cast<uint32_t>(_mm256_movemask_epi8(_mm256_cmpeq_epi8(lo, needle)));
  uint32_t b = static_cast<uint32_t>(_mm256_movemask_epi8(_mm256_cmpeq_epi8(hi, needle)));
  return static_cast<uint64_t>(a) | (static_cast<uint64_t>(b) << 32);
}

struct Simd {
  static Masks Classify(const char* p, char delimiter, char quote) {
    const __m256i lo = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
    const __m256i hi = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 32));
    return Masks{Match(lo, hi, _mm256_set1_epi8(quote)), Match(lo, hi, _mm256_set1_epi8(delimiter)),
                 Match(lo, hi, _mm256_set1_epi8('\n')), Match(lo, hi, _mm256_set1_epi8('\r'))};
  }
  static uint64_t PrefixXor(uint64_t bits) {
    __m128i product =
        _mm_clmulepi64_si128(_mm_set_epi64x(0, static_cast<int64_t>(bits)), _mm_set1_epi8(-1), 0);
    return static_cast<uint64_t>(_mm_cvtsi128_si64(product));
  }
};

#include "core/csv/parse_loop_impl.h"

constexpr ScanKernel kKernel{"avx2", FindBoundaryImpl, ParseImpl, MarkSpecialImpl};

}  // namespace

const ScanKernel& Avx2Kernel() { return kKernel; }

}  // namespace flowengine
