/* AVX2 ring kernels: 4 lanes of 64 bits. */
#include <immintrin.h>

#include "kernels/ring/ring_ops.h"

void fsn_ring_add__avx2(uint64_t *z, const uint64_t *x, const uint64_t *y, size_t n, unsigned ell) {
  const __m256i mask = _mm256_set1_epi64x((long long)fsn_ring_mask(ell));
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    __m256i xv = _mm256_loadu_si256((const __m256i *)(x + i));
    __m256i yv = _mm256_loadu_si256((const __m256i *)(y + i));
    _mm256_storeu_si256((__m256i *)(z + i), _mm256_and_si256(_mm256_add_epi64(xv, yv), mask));
  }
  fsn_ring_add__ref(z + i, x + i, y + i, n - i, ell);
}
