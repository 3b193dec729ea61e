/* AVX-512 NTT kernels. The IFMA bodies (fsn_ntt_<op>__avx512_ifma) are the point of the family: Shoup products with
 * 52-bit constants in three vpmadd52 instructions (q = hi52(w' y), r = lo52(w y) - lo52(q p) mod 2^52), valid because
 * every lazy value stays below 4p < 2^52. Without IFMA the avx512 level runs the avx2 bodies (64-bit products from
 * 32-bit pieces would not beat them). This is the family's avx512_ifma variant (kernels/variants.h): dispatch runs it
 * only on a CPU with AVX-512 F/BW/VL/DQ and IFMA; the ops it has nothing better for delegate to the avx2 bodies. */
#include <immintrin.h>
#include <stdatomic.h>

#include "kernels/ntt/ntt_ops.h"
#include "kernels/simd_avx512.h"

#define LANES  8
#define INLINE static inline __attribute__((always_inline))

typedef __m512i vec;

INLINE vec load(const uint64_t *p) { return _mm512_loadu_si512(p); }
INLINE void store(uint64_t *p, vec v) { _mm512_storeu_si512(p, v); }
INLINE vec set1(uint64_t x) { return _mm512_set1_epi64((long long)x); }

/* v >= m ? v - m : v (if v < m, v - m wraps above v). */
INLINE vec sub_if_ge(vec v, vec m) { return _mm512_min_epu64(v, _mm512_sub_epi64(v, m)); }

typedef struct {
  vec p, two_p, neg_p, mask52;
} consts;

INLINE consts consts_for(uint64_t p) {
  return (consts){set1(p), set1(2 * p), set1(0 - p), set1(((uint64_t)1 << 52) - 1)};
}

/* w y mod p up to one p, for y < 2^52, w < p, w52 = floor(w 2^52 / p): in [0, 2p). */
INLINE vec mul_shoup52_lazy(vec y, vec w, vec w52, consts c) {
  const vec zero = _mm512_setzero_si512();
  vec q = _mm512_madd52hi_epu64(zero, w52, y);
  vec r = _mm512_madd52lo_epu64(zero, w, y);
  r = _mm512_madd52lo_epu64(r, q, c.neg_p); /* lo52(-q p) = lo52(q (2^52 - p)) */
  return _mm512_and_si512(r, c.mask52);
}

INLINE void ct(vec *x, vec *y, vec w, vec w52, consts c) {
  vec u = sub_if_ge(*x, c.two_p), v = mul_shoup52_lazy(*y, w, w52, c);
  *x = _mm512_add_epi64(u, v);
  *y = _mm512_add_epi64(_mm512_sub_epi64(u, v), c.two_p);
}
INLINE void gs(vec *x, vec *y, vec w, vec w52, consts c) {
  vec u = *x, v = *y;
  *x = sub_if_ge(_mm512_add_epi64(u, v), c.two_p);
  *y = mul_shoup52_lazy(_mm512_add_epi64(_mm512_sub_epi64(u, v), c.two_p), w, w52, c);
}

INLINE void wide_stage(uint64_t *a, size_t m, size_t half, const uint64_t *tw, const uint64_t *tw52, consts c,
                       int forward) {
  for (size_t i = 0; i < m; i++) {
    const vec w = set1(tw[m + i]), w52 = set1(tw52[m + i]);
    uint64_t *x = a + 2 * i * half, *y = x + half;
    for (size_t j = 0; j < half; j += LANES) {
      vec xv = load(x + j), yv = load(y + j);
      if (forward)
        ct(&xv, &yv, w, w52, c);
      else
        gs(&xv, &yv, w, w52, c);
      store(x + j, xv), store(y + j, yv);
    }
  }
}

/* Stages with half = 4, 2, 1 (row log2(half)): 16 values, 8 butterflies per step, lane k = butterfly k.
 * split_x/split_y pick x and y of butterfly k out of (v0, v1); merge_lo/merge_hi put them back; bcast spreads the
 * 8 / half twiddles of the step over the lanes. */
static const uint64_t split_x[3][8] = {
    {0, 2, 4, 6, 8, 10, 12, 14}, {0, 1, 4, 5, 8, 9, 12, 13}, {0, 1, 2, 3, 8, 9, 10, 11}};
static const uint64_t split_y[3][8] = {
    {1, 3, 5, 7, 9, 11, 13, 15}, {2, 3, 6, 7, 10, 11, 14, 15}, {4, 5, 6, 7, 12, 13, 14, 15}};
static const uint64_t merge_lo[3][8] = {
    {0, 8, 1, 9, 2, 10, 3, 11}, {0, 1, 8, 9, 2, 3, 10, 11}, {0, 1, 2, 3, 8, 9, 10, 11}};
static const uint64_t merge_hi[3][8] = {
    {4, 12, 5, 13, 6, 14, 7, 15}, {4, 5, 12, 13, 6, 7, 14, 15}, {4, 5, 6, 7, 12, 13, 14, 15}};
static const uint64_t bcast[3][8] = {{0, 1, 2, 3, 4, 5, 6, 7}, {0, 0, 1, 1, 2, 2, 3, 3}, {0, 0, 0, 0, 1, 1, 1, 1}};

/* last: the forward transform's final stage, which also reduces its outputs from [0, 4p) to [0, p). */
INLINE void narrow_stage(uint64_t *a, size_t n, size_t m, unsigned log_half, const uint64_t *tw, const uint64_t *tw52,
                         consts c, int forward, int last) {
  const size_t half = (size_t)1 << log_half;
  const vec sx = load(split_x[log_half]), sy = load(split_y[log_half]);
  const vec mlo = load(merge_lo[log_half]), mhi = load(merge_hi[log_half]), bc = load(bcast[log_half]);
  const __mmask8 groups = (__mmask8)((1u << (LANES >> log_half)) - 1);
  for (size_t b = 0; b < n / 2; b += LANES) {
    uint64_t *base = a + 2 * b;
    const vec v0 = load(base), v1 = load(base + LANES);
    const size_t i = m + b / half;
    vec w = _mm512_permutexvar_epi64(bc, _mm512_maskz_loadu_epi64(groups, tw + i));
    vec w52 = _mm512_permutexvar_epi64(bc, _mm512_maskz_loadu_epi64(groups, tw52 + i));
    vec x = _mm512_permutex2var_epi64(v0, sx, v1), y = _mm512_permutex2var_epi64(v0, sy, v1);
    if (forward)
      ct(&x, &y, w, w52, c);
    else
      gs(&x, &y, w, w52, c);
    if (last) x = sub_if_ge(sub_if_ge(x, c.two_p), c.p), y = sub_if_ge(sub_if_ge(y, c.two_p), c.p);
    store(base, _mm512_permutex2var_epi64(x, mlo, y)), store(base + LANES, _mm512_permutex2var_epi64(x, mhi, y));
  }
}

void fsn_ntt_forward__avx512_ifma(uint64_t *a, const fsn_ntt_table *t) {
  if (t->n < 2 * LANES) {
    fsn_ntt_forward__avx2(a, t);
    return;
  }
  const consts c = consts_for(t->p);
  size_t m = 1, half = t->n / 2;
  for (; half >= LANES; m *= 2, half /= 2) wide_stage(a, m, half, t->w, t->w_shoup52, c, 1);
  narrow_stage(a, t->n, m, 2, t->w, t->w_shoup52, c, 1, 0);
  narrow_stage(a, t->n, 2 * m, 1, t->w, t->w_shoup52, c, 1, 0);
  narrow_stage(a, t->n, 4 * m, 0, t->w, t->w_shoup52, c, 1, 1);
}

/* a[0, len) copied into every block of len (the skipped stages only copy, see ref), then the last log2(len)
 * stages. */
void fsn_ntt_forward_low__avx512_ifma(uint64_t *a, size_t len, const fsn_ntt_table *t) {
  if (t->n < 2 * LANES || len < 2 * LANES) {
    fsn_ntt_forward_low__avx2(a, len, t);
    return;
  }
  const consts c = consts_for(t->p);
  for (size_t j = len; j < t->n; j += LANES) store(a + j, load(a + j - len));
  size_t m = t->n / len, half = len / 2;
  for (; half >= LANES; m *= 2, half /= 2) wide_stage(a, m, half, t->w, t->w_shoup52, c, 1);
  narrow_stage(a, t->n, m, 2, t->w, t->w_shoup52, c, 1, 0);
  narrow_stage(a, t->n, 2 * m, 1, t->w, t->w_shoup52, c, 1, 0);
  narrow_stage(a, t->n, 4 * m, 0, t->w, t->w_shoup52, c, 1, 1);
}

/* The inverse's last stage (one group, half = N/2) with N^-1 folded in: x' = (u + v) N^-1, y' = (u - v) w N^-1,
 * both reduced to [0, p); saves the separate pass over the array. */
INLINE void last_inverse_stage(uint64_t *a, const fsn_ntt_table *t, consts c) {
  const size_t half = t->n / 2;
  const vec n_inv = set1(t->n_inv), n_inv52 = set1(t->n_inv_shoup52);
  const vec w = set1(t->iw1_n_inv), w52 = set1(t->iw1_n_inv_shoup52);
  for (size_t j = 0; j < half; j += LANES) {
    const vec u = load(a + j), v = load(a + half + j);
    const vec x = mul_shoup52_lazy(_mm512_add_epi64(u, v), n_inv, n_inv52, c);
    const vec y = mul_shoup52_lazy(_mm512_add_epi64(_mm512_sub_epi64(u, v), c.two_p), w, w52, c);
    store(a + j, sub_if_ge(x, c.p)), store(a + half + j, sub_if_ge(y, c.p));
  }
}

void fsn_ntt_inverse__avx512_ifma(uint64_t *a, const fsn_ntt_table *t) {
  if (t->n < 2 * LANES) {
    fsn_ntt_inverse__avx2(a, t);
    return;
  }
  const consts c = consts_for(t->p);
  size_t m = t->n / 2;
  for (unsigned log_half = 0; log_half < 3; log_half++, m /= 2)
    narrow_stage(a, t->n, m, log_half, t->iw, t->iw_shoup52, c, 0, 0);
  for (size_t half = LANES; m > 1; m /= 2, half *= 2) wide_stage(a, m, half, t->iw, t->iw_shoup52, c, 0);
  last_inverse_stage(a, t, c);
}

/* a b mod p by Barrett on 52-bit limbs (as fsn_ntt_mul_barrett): x = a b = hi 2^52 + lo, xs = x >> (bits - 1),
 * q = (xs barrett) >> (bits + 1), r = x - q p in [0, 3p) computed mod 2^52. */
INLINE vec mul_barrett(vec a, vec b, vec barrett, __m128i sh_hi_x, __m128i sh_lo_x, __m128i sh_hi_q, __m128i sh_lo_q,
                       consts c) {
  const vec zero = _mm512_setzero_si512();
  vec lo = _mm512_madd52lo_epu64(zero, a, b), hi = _mm512_madd52hi_epu64(zero, a, b);
  vec xs = _mm512_or_si512(_mm512_sll_epi64(hi, sh_hi_x), _mm512_srl_epi64(lo, sh_lo_x));
  vec qlo = _mm512_madd52lo_epu64(zero, xs, barrett), qhi = _mm512_madd52hi_epu64(zero, xs, barrett);
  vec q = _mm512_or_si512(_mm512_sll_epi64(qhi, sh_hi_q), _mm512_srl_epi64(qlo, sh_lo_q));
  vec r = _mm512_and_si512(_mm512_madd52lo_epu64(lo, q, c.neg_p), c.mask52);
  return sub_if_ge(sub_if_ge(r, c.p), c.p);
}

INLINE void pointwise_mul(uint64_t *out, const uint64_t *acc, const uint64_t *a, const uint64_t *b, size_t n,
                          const fsn_ntt_table *t) {
  const consts c = consts_for(t->p);
  const vec barrett = set1(t->barrett);
  const __m128i sh_hi_x = _mm_cvtsi32_si128((int)(53 - t->bits)), sh_lo_x = _mm_cvtsi32_si128((int)(t->bits - 1));
  const __m128i sh_hi_q = _mm_cvtsi32_si128((int)(51 - t->bits)), sh_lo_q = _mm_cvtsi32_si128((int)(t->bits + 1));
  for (size_t i = 0; i < n; i += LANES) {
    const __mmask8 live = fsn_live_lanes8(i, n);
    vec r = mul_barrett(_mm512_maskz_loadu_epi64(live, a + i), _mm512_maskz_loadu_epi64(live, b + i), barrett, sh_hi_x,
                        sh_lo_x, sh_hi_q, sh_lo_q, c);
    if (acc) r = sub_if_ge(_mm512_add_epi64(r, _mm512_maskz_loadu_epi64(live, acc + i)), c.p);
    _mm512_mask_storeu_epi64(out + i, live, r);
  }
}

void fsn_ntt_mul__avx512_ifma(uint64_t *c, const uint64_t *a, const uint64_t *b, size_t n, const fsn_ntt_table *t) {
  pointwise_mul(c, NULL, a, b, n, t);
}

void fsn_ntt_mul_acc__avx512_ifma(uint64_t *acc, const uint64_t *a, const uint64_t *b, size_t n,
                                  const fsn_ntt_table *t) {
  pointwise_mul(acc, acc, a, b, n, t);
}

/* Not lazy yet at this level: one reduced multiply-accumulate per term. */
void fsn_ntt_mul_acc_sum__avx512_ifma(uint64_t *acc, const uint64_t *const *a, const uint64_t *const *b, size_t count,
                                      size_t n, const fsn_ntt_table *t) {
  for (size_t k = 0; k < count; k++) pointwise_mul(acc, acc, a[k], b[k], n, t);
}

void fsn_ntt_add__avx512_ifma(uint64_t *c, const uint64_t *a, const uint64_t *b, size_t n, const fsn_ntt_table *t) {
  const vec p = set1(t->p);
  for (size_t i = 0; i < n; i += LANES) {
    const __mmask8 live = fsn_live_lanes8(i, n);
    vec s = _mm512_add_epi64(_mm512_maskz_loadu_epi64(live, a + i), _mm512_maskz_loadu_epi64(live, b + i));
    _mm512_mask_storeu_epi64(c + i, live, sub_if_ge(s, p));
  }
}

void fsn_ntt_sub__avx512_ifma(uint64_t *c, const uint64_t *a, const uint64_t *b, size_t n, const fsn_ntt_table *t) {
  const vec p = set1(t->p);
  for (size_t i = 0; i < n; i += LANES) {
    const __mmask8 live = fsn_live_lanes8(i, n);
    vec d = _mm512_sub_epi64(_mm512_maskz_loadu_epi64(live, a + i), _mm512_maskz_loadu_epi64(live, b + i));
    _mm512_mask_storeu_epi64(c + i, live, sub_if_ge(_mm512_add_epi64(d, p), p));
  }
}

/* round(x / p2) mod p1 = (x1 - [x2]_p2) p2^-1 mod p1 (see ntt_ops.h): d = x1 - [x2] made non-negative by adding p2
 * (x2 above p2 / 2) or a multiple of p1 above p2 / 2 (otherwise), d < 2^52, then one Shoup product. */
void fsn_ntt_modswitch_prime__avx512_ifma(uint64_t *out, const uint64_t *x1, const uint64_t *x2, size_t n, uint64_t p1,
                                          uint64_t p2) {
  const uint64_t inv = fsn_ntt_inv_mod(p2 % p1, p1);
  const consts c = consts_for(p1);
  const vec inv_v = set1(inv), inv52 = set1((uint64_t)(((unsigned __int128)inv << 52) / p1));
  const vec half_p2 = set1(p2 / 2), p2_v = set1(p2), lift = set1(p1 * (p2 / 2 / p1 + 1));
  for (size_t i = 0; i < n; i += LANES) {
    const __mmask8 live = fsn_live_lanes8(i, n);
    const vec a = _mm512_maskz_loadu_epi64(live, x1 + i), b = _mm512_maskz_loadu_epi64(live, x2 + i);
    const vec add = _mm512_mask_blend_epi64(_mm512_cmpgt_epu64_mask(b, half_p2), lift, p2_v);
    const vec d = _mm512_sub_epi64(_mm512_add_epi64(a, add), b);
    _mm512_mask_storeu_epi64(out + i, live, sub_if_ge(mul_shoup52_lazy(d, inv_v, inv52, c), c.p));
  }
}

void fsn_ntt_modswitch_pow2__avx512_ifma(uint64_t *out, const uint64_t *x1, const uint64_t *x2, size_t n, uint64_t p1,
                                         uint64_t p2, unsigned k) {
  fsn_ntt_modswitch_pow2__avx2(out, x1, x2, n, p1, p2, k);
}
