/* AVX2 trunc kernels: 4 lanes of 64 bits; tails through the ref kernel. AVX2 has no 64-bit arithmetic shift, so sar
 * works on the offset-binary form w = x ^ 2^(ell-1) (v = w - 2^(ell-1), w >= 0): for s <= ell - 1,
 * floor(v / 2^s) = (w >> s) - (2^(ell-1) >> s), and larger s give the same result as s = ell - 1 (0 or -1). */
#include <immintrin.h>

#include "kernels/trunc/trunc_divmagic.h"
#include "kernels/trunc/trunc_ops.h"

#define LANES 4

static inline __m256i load(const uint64_t *p) { return _mm256_loadu_si256((const __m256i *)p); }
static inline void store(uint64_t *p, __m256i v) { _mm256_storeu_si256((__m256i *)p, v); }

void fsn_trunc_sar__avx2(uint64_t *z, const uint64_t *x, size_t n, unsigned ell, unsigned s) {
  const unsigned shift = s < ell - 1 ? s : ell - 1;
  const uint64_t half = (uint64_t)1 << (ell - 1);
  const __m256i mask = _mm256_set1_epi64x((long long)fsn_ring_mask(ell)), halfv = _mm256_set1_epi64x((long long)half);
  const __m256i bias = _mm256_set1_epi64x((long long)(half >> shift));
  const __m128i count = _mm_cvtsi32_si128((int)shift);
  size_t i = 0;
  for (; i + LANES <= n; i += LANES) {
    __m256i w = _mm256_xor_si256(load(x + i), halfv);
    store(z + i, _mm256_and_si256(_mm256_sub_epi64(_mm256_srl_epi64(w, count), bias), mask));
  }
  fsn_trunc_sar__ref(z + i, x + i, n - i, ell, s);
}

void fsn_trunc_shr__avx2(uint64_t *z, const uint64_t *x, size_t n, unsigned ell, unsigned s) {
  const __m256i mask = _mm256_set1_epi64x((long long)fsn_ring_mask(ell));
  const __m128i count = _mm_cvtsi32_si128((int)s);
  size_t i = 0;
  for (; i + LANES <= n; i += LANES) store(z + i, _mm256_srl_epi64(_mm256_and_si256(load(x + i), mask), count));
  fsn_trunc_shr__ref(z + i, x + i, n - i, ell, s);
}

/* Bit ell-1 moved to bit 63, where movemask picks it up: 4 bits per vector, two vectors per byte. */
void fsn_trunc_msb__avx2(uint8_t *bits, const uint64_t *x, size_t n, unsigned ell) {
  const __m128i count = _mm_cvtsi32_si128((int)(64 - ell));
  size_t i = 0;
  for (; i + 2 * LANES <= n; i += 2 * LANES) {
    int low = _mm256_movemask_pd(_mm256_castsi256_pd(_mm256_sll_epi64(load(x + i), count)));
    int high = _mm256_movemask_pd(_mm256_castsi256_pd(_mm256_sll_epi64(load(x + i + LANES), count)));
    bits[i / 8] = (uint8_t)(low | high << 4);
  }
  fsn_trunc_msb__ref(bits + i / 8, x + i, n - i, ell);
}

/* hi64(a m) per lane from four 32 x 32 -> 64 products, carries kept exact:
 * u = a1 m0 + hi32(a0 m0), v = a0 m1 + lo32(u), hi = a1 m1 + hi32(u) + hi32(v); no term overflows 64 bits. */
static inline __m256i mulhi64(__m256i a, __m256i m, __m256i m_hi) {
  const __m256i low32 = _mm256_set1_epi64x(0xffffffffll);
  __m256i a_hi = _mm256_srli_epi64(a, 32);
  __m256i u = _mm256_add_epi64(_mm256_mul_epu32(a_hi, m), _mm256_srli_epi64(_mm256_mul_epu32(a, m), 32));
  __m256i v = _mm256_add_epi64(_mm256_mul_epu32(a, m_hi), _mm256_and_si256(u, low32));
  __m256i hi = _mm256_add_epi64(_mm256_mul_epu32(a_hi, m_hi), _mm256_srli_epi64(u, 32));
  return _mm256_add_epi64(hi, _mm256_srli_epi64(v, 32));
}

/* Multiply-high instead of a divide (see trunc_divmagic.h), with the sign handled as ~floor(~v / d). */
void fsn_trunc_div__avx2(uint64_t *z, const uint64_t *x, uint64_t d, size_t n, unsigned ell) {
  if (d == 1) { /* floor(v / 1) = v: the input, already reduced */
    for (size_t i = 0; i < n; i++) z[i] = x[i];
    return;
  }
  const fsn_divmagic g = fsn_divmagic_for(d);
  const __m256i mask = _mm256_set1_epi64x((long long)fsn_ring_mask(ell));
  const __m256i top = _mm256_set1_epi64x((long long)((uint64_t)1 << (ell - 1)));
  const __m256i m = _mm256_set1_epi64x((long long)g.m), m_hi = _mm256_set1_epi64x((long long)(g.m >> 32));
  const __m128i count = _mm_cvtsi32_si128((int)g.post_shift);
  size_t i = 0;
  for (; i + LANES <= n; i += LANES) {
    __m256i xv = load(x + i);
    __m256i negative = _mm256_cmpeq_epi64(_mm256_and_si256(xv, top), top);
    __m256i a = _mm256_and_si256(_mm256_xor_si256(xv, negative), mask);
    __m256i q = _mm256_srl_epi64(mulhi64(a, m, m_hi), count);
    store(z + i, _mm256_and_si256(_mm256_xor_si256(q, negative), mask));
  }
  for (; i < n; i++) z[i] = fsn_divmagic_floor(g, x[i], ell);
}

void fsn_trunc_sext__avx2(uint64_t *z, const uint64_t *x, size_t n, unsigned ell) {
  const __m256i half = _mm256_set1_epi64x((long long)((uint64_t)1 << (ell - 1)));
  size_t i = 0;
  for (; i + LANES <= n; i += LANES) store(z + i, _mm256_sub_epi64(_mm256_xor_si256(load(x + i), half), half));
  fsn_trunc_sext__ref(z + i, x + i, n - i, ell);
}
