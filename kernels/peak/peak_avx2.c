/* AVX2 multiply-add peak: the GEMM tile's arithmetic (vpmuludq for lo * lo, vpmulld against swapped dwords for the
 * cross products, separate accumulators folded at the end), 6 vectors per pass, x read from L1. */
#include <immintrin.h>

#include "kernels/peak/peak_ops.h"

static inline __m256i fold(__m256i lo, __m256i cross) {
  const __m256i high_dword = _mm256_set1_epi64x((long long)0xffffffff00000000ull);
  return _mm256_add_epi64(lo, _mm256_add_epi64(_mm256_slli_epi64(cross, 32), _mm256_and_si256(cross, high_dword)));
}

#define PEAK_STEP(v)                                                                                                   \
  do {                                                                                                                 \
    const __m256i xv = _mm256_loadu_si256((const __m256i *)(xs + 4 * (v)));                                            \
    lo##v = _mm256_add_epi64(lo##v, _mm256_mul_epu32(y, xv));                                                          \
    cr##v = _mm256_add_epi32(cr##v, _mm256_mullo_epi32(y_swapped, xv));                                                \
  } while (0)

static void pass(uint64_t *acc, const uint64_t *xs, const uint64_t *x, const uint64_t *x_swapped, size_t iters) {
  __m256i lo0 = _mm256_setzero_si256(), lo1 = lo0, lo2 = lo0, lo3 = lo0, lo4 = lo0, lo5 = lo0;
  __m256i cr0 = lo0, cr1 = lo0, cr2 = lo0, cr3 = lo0, cr4 = lo0, cr5 = lo0;
  for (size_t t = 0; t < iters; t++) {
    const __m256i y = _mm256_set1_epi64x((long long)x[t % 32]);
    const __m256i y_swapped = _mm256_set1_epi64x((long long)x_swapped[t % 32]);
    PEAK_STEP(0);
    PEAK_STEP(1);
    PEAK_STEP(2);
    PEAK_STEP(3);
    PEAK_STEP(4);
    PEAK_STEP(5);
  }
  const __m256i sums[6] = {fold(lo0, cr0), fold(lo1, cr1), fold(lo2, cr2),
                           fold(lo3, cr3), fold(lo4, cr4), fold(lo5, cr5)};
  for (size_t v = 0; v < 6; v++) {
    __m256i *dst = (__m256i *)(acc + 4 * v);
    _mm256_storeu_si256(dst, _mm256_add_epi64(_mm256_loadu_si256(dst), sums[v]));
  }
}

void fsn_peak_mul_add_l1__avx2(uint64_t *acc, const uint64_t *x, size_t iters) {
  uint64_t x_swapped[32];
  for (size_t i = 0; i < 32; i++) x_swapped[i] = (x[i] >> 32) | (x[i] << 32);
  pass(acc, x, x, x_swapped, iters);
  pass(acc + 24, x + 24, x, x_swapped, iters);
}
