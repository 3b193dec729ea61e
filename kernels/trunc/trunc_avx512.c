/* AVX-512 trunc kernels: the AVX2 algorithms on 8 lanes of 64 bits (kept parallel for review, see trunc_avx2.c),
 * tails through a lane mask. msb reads bit ell-1 of 8 lanes straight into a mask register, i.e. one packed byte. */
#include <immintrin.h>

#include "kernels/trunc/trunc_divmagic.h"
#include "kernels/trunc/trunc_ops.h"
#include "kernels/simd_avx512.h"

#define LANES 8

void fsn_trunc_sar__avx512(uint64_t *z, const uint64_t *x, size_t n, unsigned ell, unsigned s) {
  const unsigned shift = s < ell - 1 ? s : ell - 1;
  const uint64_t half = (uint64_t)1 << (ell - 1);
  const __m512i mask = _mm512_set1_epi64((long long)fsn_ring_mask(ell)), halfv = _mm512_set1_epi64((long long)half);
  const __m512i bias = _mm512_set1_epi64((long long)(half >> shift));
  const __m128i count = _mm_cvtsi32_si128((int)shift);
  for (size_t i = 0; i < n; i += LANES) {
    __mmask8 live = fsn_live_lanes8(i, n);
    __m512i w = _mm512_xor_si512(_mm512_maskz_loadu_epi64(live, x + i), halfv);
    _mm512_mask_storeu_epi64(z + i, live, _mm512_and_si512(_mm512_sub_epi64(_mm512_srl_epi64(w, count), bias), mask));
  }
}

void fsn_trunc_shr__avx512(uint64_t *z, const uint64_t *x, size_t n, unsigned ell, unsigned s) {
  const __m512i mask = _mm512_set1_epi64((long long)fsn_ring_mask(ell));
  const __m128i count = _mm_cvtsi32_si128((int)s);
  for (size_t i = 0; i < n; i += LANES) {
    __mmask8 live = fsn_live_lanes8(i, n);
    __m512i u = _mm512_and_si512(_mm512_maskz_loadu_epi64(live, x + i), mask);
    _mm512_mask_storeu_epi64(z + i, live, _mm512_srl_epi64(u, count));
  }
}

/* Dead lanes load as zero, so the last byte's unused high bits come out zero. */
void fsn_trunc_msb__avx512(uint8_t *bits, const uint64_t *x, size_t n, unsigned ell) {
  const __m512i top = _mm512_set1_epi64((long long)((uint64_t)1 << (ell - 1)));
  for (size_t i = 0; i < n; i += LANES)
    bits[i / 8] = (uint8_t)_mm512_test_epi64_mask(_mm512_maskz_loadu_epi64(fsn_live_lanes8(i, n), x + i), top);
}

/* hi64(a m) per lane, as in trunc_avx2.c (AVX-512 has no 64 x 64 -> 128 multiply either). */
static inline __m512i mulhi64(__m512i a, __m512i m, __m512i m_hi) {
  const __m512i low32 = _mm512_set1_epi64(0xffffffffll);
  __m512i a_hi = _mm512_srli_epi64(a, 32);
  __m512i u = _mm512_add_epi64(_mm512_mul_epu32(a_hi, m), _mm512_srli_epi64(_mm512_mul_epu32(a, m), 32));
  __m512i v = _mm512_add_epi64(_mm512_mul_epu32(a, m_hi), _mm512_and_si512(u, low32));
  __m512i hi = _mm512_add_epi64(_mm512_mul_epu32(a_hi, m_hi), _mm512_srli_epi64(u, 32));
  return _mm512_add_epi64(hi, _mm512_srli_epi64(v, 32));
}

/* Multiply-high instead of a divide (see trunc_divmagic.h), with the sign handled as ~floor(~v / d). */
void fsn_trunc_div__avx512(uint64_t *z, const uint64_t *x, uint64_t d, size_t n, unsigned ell) {
  if (d == 1) { /* floor(v / 1) = v: the input, already reduced */
    for (size_t i = 0; i < n; i++) z[i] = x[i];
    return;
  }
  const fsn_divmagic g = fsn_divmagic_for(d);
  const __m512i mask = _mm512_set1_epi64((long long)fsn_ring_mask(ell));
  const __m512i top = _mm512_set1_epi64((long long)((uint64_t)1 << (ell - 1)));
  const __m512i m = _mm512_set1_epi64((long long)g.m), m_hi = _mm512_set1_epi64((long long)(g.m >> 32));
  const __m128i count = _mm_cvtsi32_si128((int)g.post_shift);
  for (size_t i = 0; i < n; i += LANES) {
    __mmask8 live = fsn_live_lanes8(i, n);
    __m512i xv = _mm512_maskz_loadu_epi64(live, x + i);
    __m512i negative = _mm512_movm_epi64(_mm512_test_epi64_mask(xv, top));
    __m512i a = _mm512_and_si512(_mm512_xor_si512(xv, negative), mask);
    __m512i q = _mm512_srl_epi64(mulhi64(a, m, m_hi), count);
    _mm512_mask_storeu_epi64(z + i, live, _mm512_and_si512(_mm512_xor_si512(q, negative), mask));
  }
}

void fsn_trunc_sext__avx512(uint64_t *z, const uint64_t *x, size_t n, unsigned ell) {
  const __m512i half = _mm512_set1_epi64((long long)((uint64_t)1 << (ell - 1)));
  for (size_t i = 0; i < n; i += LANES) {
    __mmask8 live = fsn_live_lanes8(i, n);
    __m512i u = _mm512_maskz_loadu_epi64(live, x + i);
    _mm512_mask_storeu_epi64(z + i, live, _mm512_sub_epi64(_mm512_xor_si512(u, half), half));
  }
}
