/* AVX-512 multiply-add peak: the GEMM tile's arithmetic (vpmullq + vpaddq), 6 vectors, x in registers. */
#include <immintrin.h>

#include "kernels/peak/peak_ops.h"

void fsn_peak_mul_add_l1__avx512(uint64_t *acc, const uint64_t *x, size_t iters) {
  __m512i xv[6], sum[6];
  for (size_t v = 0; v < 6; v++) {
    xv[v] = _mm512_loadu_si512(x + 8 * v);
    sum[v] = _mm512_loadu_si512(acc + 8 * v);
  }
  for (size_t t = 0; t < iters; t++) {
    const __m512i y = _mm512_set1_epi64((long long)x[t % 32]);
    for (size_t v = 0; v < 6; v++) sum[v] = _mm512_add_epi64(sum[v], _mm512_mullo_epi64(y, xv[v]));
  }
  for (size_t v = 0; v < 6; v++) _mm512_storeu_si512(acc + 8 * v, sum[v]);
}
