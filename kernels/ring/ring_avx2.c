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

void fsn_ring_sub__avx2(uint64_t *z, const uint64_t *x, const uint64_t *y, size_t n, unsigned ell) {
  fsn_ring_sub__ref(z, x, y, n, ell);
}
void fsn_ring_neg__avx2(uint64_t *z, const uint64_t *x, size_t n, unsigned ell) { fsn_ring_neg__ref(z, x, n, ell); }
void fsn_ring_mul__avx2(uint64_t *z, const uint64_t *x, const uint64_t *y, size_t n, unsigned ell) {
  fsn_ring_mul__ref(z, x, y, n, ell);
}
void fsn_ring_scale__avx2(uint64_t *z, const uint64_t *x, uint64_t a, size_t n, unsigned ell) {
  fsn_ring_scale__ref(z, x, a, n, ell);
}
void fsn_ring_axpy__avx2(uint64_t *y, const uint64_t *x, uint64_t a, size_t n, unsigned ell) {
  fsn_ring_axpy__ref(y, x, a, n, ell);
}
void fsn_ring_reduce__avx2(uint64_t *z, const uint64_t *x, size_t n, unsigned ell) {
  fsn_ring_reduce__ref(z, x, n, ell);
}
void fsn_ring_sum__avx2(uint64_t *out, const uint64_t *x, size_t n, unsigned ell) { fsn_ring_sum__ref(out, x, n, ell); }
void fsn_ring_encode__avx2(uint64_t *z, const double *x, size_t n, unsigned ell, unsigned s) {
  fsn_ring_encode__ref(z, x, n, ell, s);
}
void fsn_ring_decode__avx2(double *z, const uint64_t *x, size_t n, unsigned ell, unsigned s) {
  fsn_ring_decode__ref(z, x, n, ell, s);
}
