/* AVX2 NTT kernels: the ref algorithms on 4 lanes of 64 bits. AVX2 has no 64-bit multiply, so a Shoup product is
 * built from 32 x 32 vpmuludq pieces: the high half of w_shoup y (y < 2^52, so the cross sum cannot overflow) and
 * the low halves of w y and q p. Stages with butterflies closer than a vector (half = 2, 1) regroup two vectors
 * into an x vector and a y vector whose lane k is butterfly k of the pair, so every stage is the same butterfly.
 * Pointwise products use scalar Barrett (mulx): four lanes of 64 x 64 pieces would cost more than they save. */
#include <immintrin.h>

#include "kernels/ntt/ntt_ops.h"

#define LANES  4
#define INLINE static inline __attribute__((always_inline))

typedef __m256i vec;

INLINE vec load(const uint64_t *p) { return _mm256_loadu_si256((const __m256i *)p); }
INLINE void store(uint64_t *p, vec v) { _mm256_storeu_si256((__m256i *)p, v); }
INLINE vec set1(uint64_t x) { return _mm256_set1_epi64x((long long)x); }

/* v >= m ? v - m : v, for v, m < 2^63. */
INLINE vec sub_if_ge(vec v, vec m) {
  vec r = _mm256_sub_epi64(v, m);
  return _mm256_castpd_si256(_mm256_blendv_pd(_mm256_castsi256_pd(r), _mm256_castsi256_pd(v), _mm256_castsi256_pd(r)));
}

/* floor(a y / 2^64) for y < 2^52. */
INLINE vec mulhi_y52(vec a, vec y) {
  const vec a_hi = _mm256_srli_epi64(a, 32), y_hi = _mm256_srli_epi64(y, 32);
  const vec ll = _mm256_mul_epu32(a, y), hl = _mm256_mul_epu32(a_hi, y), lh = _mm256_mul_epu32(a, y_hi);
  const vec hh = _mm256_mul_epu32(a_hi, y_hi);
  vec cross = _mm256_add_epi64(_mm256_srli_epi64(ll, 32), _mm256_and_si256(hl, set1(0xffffffffu)));
  cross = _mm256_add_epi64(cross, lh);
  return _mm256_add_epi64(_mm256_add_epi64(hh, _mm256_srli_epi64(hl, 32)), _mm256_srli_epi64(cross, 32));
}

/* a b mod 2^64 (only the low halves of the cross products matter). */
INLINE vec mullo(vec a, vec b) {
  const vec ll = _mm256_mul_epu32(a, b);
  const vec cross =
      _mm256_add_epi64(_mm256_mul_epu32(_mm256_srli_epi64(a, 32), b), _mm256_mul_epu32(a, _mm256_srli_epi64(b, 32)));
  return _mm256_add_epi64(ll, _mm256_slli_epi64(cross, 32));
}

/* w y mod p up to one p, as fsn_ntt_mul_shoup_lazy, for y < 2^52: in [0, 2p). */
INLINE vec mul_shoup_lazy(vec y, vec w, vec w_shoup, vec p) {
  return _mm256_sub_epi64(mullo(w, y), mullo(mulhi_y52(w_shoup, y), p));
}

typedef struct {
  vec p, two_p;
} consts;

/* Cooley-Tukey butterfly on [0, 4p) values, and Gentleman-Sande on [0, 2p) values (see ntt_ref.c). */
INLINE void ct(vec *x, vec *y, vec w, vec ws, consts c) {
  vec u = sub_if_ge(*x, c.two_p), v = mul_shoup_lazy(*y, w, ws, c.p);
  *x = _mm256_add_epi64(u, v);
  *y = _mm256_add_epi64(_mm256_sub_epi64(u, v), c.two_p);
}
INLINE void gs(vec *x, vec *y, vec w, vec ws, consts c) {
  vec u = *x, v = *y;
  *x = sub_if_ge(_mm256_add_epi64(u, v), c.two_p);
  *y = mul_shoup_lazy(_mm256_add_epi64(_mm256_sub_epi64(u, v), c.two_p), w, ws, c.p);
}

/* Stages with half >= 4: lanes run along j, one twiddle per group. */
INLINE void wide_stage(uint64_t *a, size_t m, size_t half, const uint64_t *tw, const uint64_t *tws, consts c,
                       int forward) {
  for (size_t i = 0; i < m; i++) {
    const vec w = set1(tw[m + i]), ws = set1(tws[m + i]);
    uint64_t *x = a + 2 * i * half, *y = x + half;
    for (size_t j = 0; j < half; j += LANES) {
      vec xv = load(x + j), yv = load(y + j);
      if (forward)
        ct(&xv, &yv, w, ws, c);
      else
        gs(&xv, &yv, w, ws, c);
      store(x + j, xv), store(y + j, yv);
    }
  }
}

/* Stages with half = 2 or 1: 8 values (4 butterflies) per step, lane k = butterfly k, twiddle index m + i + k / half.
 */
INLINE vec twiddles(const uint64_t *tw, size_t half) {
  if (half == 2) return _mm256_permute4x64_epi64(_mm256_castsi128_si256(_mm_loadu_si128((const __m128i *)tw)), 0x50);
  return load(tw);
}
INLINE void narrow_stage(uint64_t *a, size_t n, size_t m, size_t half, const uint64_t *tw, const uint64_t *tws,
                         consts c, int forward) {
  for (size_t b = 0; b < n / 2; b += LANES) { /* b: first butterfly of the step */
    uint64_t *base = a + 2 * b;
    const vec v0 = load(base), v1 = load(base + LANES);
    const size_t i = m + b / half;
    vec x, y, w = twiddles(tw + i, half), ws = twiddles(tws + i, half);
    if (half == 2) {
      x = _mm256_permute2x128_si256(v0, v1, 0x20), y = _mm256_permute2x128_si256(v0, v1, 0x31);
    } else { /* unpack gives butterflies in lane order 0, 2, 1, 3: permute the twiddles to match */
      x = _mm256_unpacklo_epi64(v0, v1), y = _mm256_unpackhi_epi64(v0, v1);
      w = _mm256_permute4x64_epi64(w, 0xd8), ws = _mm256_permute4x64_epi64(ws, 0xd8);
    }
    if (forward)
      ct(&x, &y, w, ws, c);
    else
      gs(&x, &y, w, ws, c);
    if (half == 2) {
      store(base, _mm256_permute2x128_si256(x, y, 0x20)), store(base + LANES, _mm256_permute2x128_si256(x, y, 0x31));
    } else {
      store(base, _mm256_unpacklo_epi64(x, y)), store(base + LANES, _mm256_unpackhi_epi64(x, y));
    }
  }
}

void fsn_ntt_forward__avx2(uint64_t *a, const fsn_ntt_table *t) {
  if (t->n < 2 * LANES) {
    fsn_ntt_forward__ref(a, t);
    return;
  }
  const consts c = {set1(t->p), set1(2 * t->p)};
  size_t m = 1, half = t->n / 2;
  for (; half >= LANES; m *= 2, half /= 2) wide_stage(a, m, half, t->w, t->w_shoup, c, 1);
  narrow_stage(a, t->n, m, 2, t->w, t->w_shoup, c, 1);
  narrow_stage(a, t->n, 2 * m, 1, t->w, t->w_shoup, c, 1);
  for (size_t j = 0; j < t->n; j += LANES) store(a + j, sub_if_ge(sub_if_ge(load(a + j), c.two_p), c.p));
}

void fsn_ntt_inverse__avx2(uint64_t *a, const fsn_ntt_table *t) {
  if (t->n < 2 * LANES) {
    fsn_ntt_inverse__ref(a, t);
    return;
  }
  const consts c = {set1(t->p), set1(2 * t->p)};
  narrow_stage(a, t->n, t->n / 2, 1, t->iw, t->iw_shoup, c, 0);
  narrow_stage(a, t->n, t->n / 4, 2, t->iw, t->iw_shoup, c, 0);
  for (size_t m = t->n / 8, half = 4; m >= 1; m /= 2, half *= 2) wide_stage(a, m, half, t->iw, t->iw_shoup, c, 0);
  const vec n_inv = set1(t->n_inv), n_inv_shoup = set1(t->n_inv_shoup);
  for (size_t j = 0; j < t->n; j += LANES)
    store(a + j, sub_if_ge(mul_shoup_lazy(load(a + j), n_inv, n_inv_shoup, c.p), c.p));
}

void fsn_ntt_mul__avx2(uint64_t *c, const uint64_t *a, const uint64_t *b, size_t n, const fsn_ntt_table *t) {
  for (size_t i = 0; i < n; i++) c[i] = fsn_ntt_mul_barrett(a[i], b[i], t->p, t->bits, t->barrett);
}

void fsn_ntt_mul_acc__avx2(uint64_t *acc, const uint64_t *a, const uint64_t *b, size_t n, const fsn_ntt_table *t) {
  for (size_t i = 0; i < n; i++) {
    uint64_t s = acc[i] + fsn_ntt_mul_barrett(a[i], b[i], t->p, t->bits, t->barrett);
    acc[i] = s >= t->p ? s - t->p : s;
  }
}

void fsn_ntt_add__avx2(uint64_t *c, const uint64_t *a, const uint64_t *b, size_t n, const fsn_ntt_table *t) {
  const vec p = set1(t->p);
  size_t i = 0;
  for (; i + LANES <= n; i += LANES) store(c + i, sub_if_ge(_mm256_add_epi64(load(a + i), load(b + i)), p));
  fsn_ntt_add__ref(c + i, a + i, b + i, n - i, t);
}

void fsn_ntt_sub__avx2(uint64_t *c, const uint64_t *a, const uint64_t *b, size_t n, const fsn_ntt_table *t) {
  const vec p = set1(t->p);
  size_t i = 0;
  for (; i + LANES <= n; i += LANES)
    store(c + i, sub_if_ge(_mm256_add_epi64(_mm256_sub_epi64(load(a + i), load(b + i)), p), p));
  fsn_ntt_sub__ref(c + i, a + i, b + i, n - i, t);
}

void fsn_ntt_modswitch_prime__avx2(uint64_t *out, const uint64_t *x1, const uint64_t *x2, size_t n, uint64_t p1,
                                   uint64_t p2) {
  fsn_ntt_modswitch_prime__ref(out, x1, x2, n, p1, p2);
}

void fsn_ntt_modswitch_pow2__avx2(uint64_t *out, const uint64_t *x1, const uint64_t *x2, size_t n, uint64_t p1,
                                  uint64_t p2, unsigned k) {
  fsn_ntt_modswitch_pow2__ref(out, x1, x2, n, p1, p2, k);
}
