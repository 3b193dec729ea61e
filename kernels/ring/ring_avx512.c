/* AVX-512 ring kernels: 8 lanes of 64 bits; tails through a lane mask. */
#include <immintrin.h>

#include "kernels/ring/ring_ops.h"

void fsn_ring_add__avx512(uint64_t *z, const uint64_t *x, const uint64_t *y, size_t n, unsigned ell) {
  const __m512i mask = _mm512_set1_epi64((long long)fsn_ring_mask(ell));
  for (size_t i = 0; i < n; i += 8) {
    __mmask8 live = n - i >= 8 ? 0xff : (__mmask8)((1u << (n - i)) - 1);
    __m512i xv = _mm512_maskz_loadu_epi64(live, x + i);
    __m512i yv = _mm512_maskz_loadu_epi64(live, y + i);
    _mm512_mask_storeu_epi64(z + i, live, _mm512_and_si512(_mm512_add_epi64(xv, yv), mask));
  }
}
