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

void fsn_ring_sub__avx512(uint64_t *z, const uint64_t *x, const uint64_t *y, size_t n, unsigned ell) {
  fsn_ring_sub__ref(z, x, y, n, ell);
}
void fsn_ring_neg__avx512(uint64_t *z, const uint64_t *x, size_t n, unsigned ell) { fsn_ring_neg__ref(z, x, n, ell); }
void fsn_ring_mul__avx512(uint64_t *z, const uint64_t *x, const uint64_t *y, size_t n, unsigned ell) {
  fsn_ring_mul__ref(z, x, y, n, ell);
}
void fsn_ring_scale__avx512(uint64_t *z, const uint64_t *x, uint64_t a, size_t n, unsigned ell) {
  fsn_ring_scale__ref(z, x, a, n, ell);
}
void fsn_ring_axpy__avx512(uint64_t *y, const uint64_t *x, uint64_t a, size_t n, unsigned ell) {
  fsn_ring_axpy__ref(y, x, a, n, ell);
}
void fsn_ring_reduce__avx512(uint64_t *z, const uint64_t *x, size_t n, unsigned ell) {
  fsn_ring_reduce__ref(z, x, n, ell);
}
void fsn_ring_sum__avx512(uint64_t *out, const uint64_t *x, size_t n, unsigned ell) {
  fsn_ring_sum__ref(out, x, n, ell);
}
void fsn_ring_encode__avx512(uint64_t *z, const double *x, size_t n, unsigned ell, unsigned s) {
  fsn_ring_encode__ref(z, x, n, ell, s);
}
void fsn_ring_decode__avx512(double *z, const uint64_t *x, size_t n, unsigned ell, unsigned s) {
  fsn_ring_decode__ref(z, x, n, ell, s);
}
