/* AVX2 NTT kernels. AVX2 has no 64 x 64-bit multiply: Shoup products built from 32 x 32 vpmuludq pieces took ten
 * multiplies per four butterflies and ran no faster than the scalar ref (mulx). The transforms therefore compute in
 * doubles, which hold every value below 2^53 exactly: the array is converted in place (same 8 bytes per value) and
 * back at the end, and a product w y mod p is
 *   h = fl(w y), l = w y - h (exact, one FMA), q = round(y fl(w / p)), r = (h - q p) + l,
 * where h - q p is an integer below 2^53 so the FMA computing it is exact, and r = w y - q p exactly. fl(y w / p) is
 * within |y| 2^-52 of y w / p, so |r| <= p (1/2 + |y| 2^-52) <= 1.35 p for |y| < 3.4 p (p < 2^50). Values are kept
 * signed: a Cooley-Tukey butterfly reduces its x to |x| <= p / 2 (+ slack) by x - p round(x / p) and adds and
 * subtracts |wy| < 0.93 p; a Gentleman-Sande one reduces x + y and multiplies x - y (< 3.4 p): every stage maps
 * |values| < 1.7 p to |values| < 1.7 p.
 * Stages with butterflies closer than a vector (half = 2, 1) regroup two vectors into an x vector and a y vector whose
 * lane k is butterfly k of the pair. */
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

typedef __m256d dvec;

#define ROUND_NEAREST (_MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)

INLINE dvec dload(const double *p) { return _mm256_loadu_pd(p); }
INLINE void dstore(double *p, dvec v) { _mm256_storeu_pd(p, v); }

typedef struct {
  dvec p, p_inv;
} consts;

/* w y mod p, signed, |result| <= p (1/2 + |y| 2^-52) (see the top of the file). */
INLINE dvec mul_mod_lazy(dvec y, dvec w, dvec w_over_p, consts c) {
  dvec h = _mm256_mul_pd(y, w), l = _mm256_fmsub_pd(y, w, h);
  dvec q = _mm256_round_pd(_mm256_mul_pd(y, w_over_p), ROUND_NEAREST);
  return _mm256_add_pd(_mm256_fnmadd_pd(q, c.p, h), l);
}
/* x - p round(x / p): |result| <= p / 2 plus rounding slack (exact arithmetic, q may be off by one at the edges). */
INLINE dvec reduce(dvec x, consts c) {
  return _mm256_fnmadd_pd(_mm256_round_pd(_mm256_mul_pd(x, c.p_inv), ROUND_NEAREST), c.p, x);
}

/* Cooley-Tukey and Gentleman-Sande butterflies on signed values, |values| < 1.7 p in and out. */
INLINE void ct(dvec *x, dvec *y, dvec w, dvec wp, consts c) {
  dvec u = reduce(*x, c), v = mul_mod_lazy(*y, w, wp, c);
  *x = _mm256_add_pd(u, v);
  *y = _mm256_sub_pd(u, v);
}
INLINE void gs(dvec *x, dvec *y, dvec w, dvec wp, consts c) {
  dvec u = *x, v = *y;
  *x = reduce(_mm256_add_pd(u, v), c);
  *y = mul_mod_lazy(_mm256_sub_pd(u, v), w, wp, c);
}

/* Integers below 2^52 <-> doubles: or the bits into 2^52's mantissa and subtract 2^52, and back. */
#define TWO_52 4503599627370496.0
INLINE dvec u52_to_double(vec v) {
  return _mm256_sub_pd(_mm256_castsi256_pd(_mm256_or_si256(v, set1(0x4330000000000000ull))), _mm256_set1_pd(TWO_52));
}
INLINE vec double_to_u52(dvec d) {
  return _mm256_xor_si256(_mm256_castpd_si256(_mm256_add_pd(d, _mm256_set1_pd(TWO_52))), set1(0x4330000000000000ull));
}
INLINE dvec add_p_if_negative(dvec x, dvec p) {
  return _mm256_add_pd(x, _mm256_and_pd(_mm256_cmp_pd(x, _mm256_setzero_pd(), _CMP_LT_OQ), p));
}
/* Signed |x| < p (integers in doubles) to residues in [0, p), stored as integers. */
INLINE void store_residues(uint64_t *a, dvec x, consts c) { store(a, double_to_u52(add_p_if_negative(x, c.p))); }

/* A stage's loads and stores: plain, or converting the integers in on the first stage (IO_IN), or reducing and
 * converting the residues out on the last (IO_OUT), which saves a pass over the array each. */
enum { IO_NONE, IO_IN, IO_OUT };
INLINE dvec load_io(const double *p, int io) {
  return io == IO_IN ? u52_to_double(load((const uint64_t *)p)) : dload(p);
}
INLINE void store_io(double *p, dvec v, int io, consts c) {
  if (io == IO_OUT)
    store_residues((uint64_t *)p, reduce(v, c), c);
  else
    dstore(p, v);
}

/* Stages with half >= 4: lanes run along j, one twiddle per group. */
INLINE void wide_stage(double *a, size_t m, size_t half, const double *tw, const double *twp, consts c, int forward,
                       int io) {
  for (size_t i = 0; i < m; i++) {
    const dvec w = _mm256_set1_pd(tw[m + i]), wp = _mm256_set1_pd(twp[m + i]);
    double *x = a + 2 * i * half, *y = x + half;
    for (size_t j = 0; j < half; j += LANES) {
      dvec xv = load_io(x + j, io), yv = load_io(y + j, io);
      if (forward)
        ct(&xv, &yv, w, wp, c);
      else
        gs(&xv, &yv, w, wp, c);
      store_io(x + j, xv, io, c), store_io(y + j, yv, io, c);
    }
  }
}

/* Stages with half = 2 or 1: 8 values (4 butterflies) per step, lane k = butterfly k, twiddle index m + i + k / half.
 */
INLINE dvec twiddles(const double *tw, size_t half) {
  if (half == 2) return _mm256_permute4x64_pd(_mm256_castpd128_pd256(_mm_loadu_pd(tw)), 0x50);
  return dload(tw);
}
INLINE void narrow_stage(double *a, size_t n, size_t m, size_t half, const double *tw, const double *twp, consts c,
                         int forward, int io) {
  for (size_t b = 0; b < n / 2; b += LANES) { /* b: first butterfly of the step */
    double *base = a + 2 * b;
    const dvec v0 = load_io(base, io), v1 = load_io(base + LANES, io);
    const size_t i = m + b / half;
    dvec x, y, w = twiddles(tw + i, half), wp = twiddles(twp + i, half);
    if (half == 2) {
      x = _mm256_permute2f128_pd(v0, v1, 0x20), y = _mm256_permute2f128_pd(v0, v1, 0x31);
    } else { /* unpack gives butterflies in lane order 0, 2, 1, 3: permute the twiddles to match */
      x = _mm256_unpacklo_pd(v0, v1), y = _mm256_unpackhi_pd(v0, v1);
      w = _mm256_permute4x64_pd(w, 0xd8), wp = _mm256_permute4x64_pd(wp, 0xd8);
    }
    if (forward)
      ct(&x, &y, w, wp, c);
    else
      gs(&x, &y, w, wp, c);
    if (half == 2) {
      store_io(base, _mm256_permute2f128_pd(x, y, 0x20), io, c);
      store_io(base + LANES, _mm256_permute2f128_pd(x, y, 0x31), io, c);
    } else {
      store_io(base, _mm256_unpacklo_pd(x, y), io, c), store_io(base + LANES, _mm256_unpackhi_pd(x, y), io, c);
    }
  }
}

void fsn_ntt_forward__avx2(uint64_t *a, const fsn_ntt_table *t) {
  if (t->n < 2 * LANES) {
    fsn_ntt_forward__ref(a, t);
    return;
  }
  const consts c = {_mm256_set1_pd(t->p_fp), _mm256_set1_pd(t->p_inv)};
  double *d = (double *)a; /* the same 8 bytes per value, read and written only through intrinsics */
  size_t m = 1, half = t->n / 2;
  for (; half >= LANES; m *= 2, half /= 2) wide_stage(d, m, half, t->w_fp, t->w_over_p, c, 1, m == 1 ? IO_IN : IO_NONE);
  narrow_stage(d, t->n, m, 2, t->w_fp, t->w_over_p, c, 1, IO_NONE);
  narrow_stage(d, t->n, 2 * m, 1, t->w_fp, t->w_over_p, c, 1, IO_OUT);
}

/* a[0, len) copied into every block of len and converted to doubles on the way (the skipped stages only copy, see
 * ref), then the last log2(len) stages. */
void fsn_ntt_forward_low__avx2(uint64_t *a, size_t len, const fsn_ntt_table *t) {
  if (t->n < 2 * LANES || len < 2) {
    fsn_ntt_forward_low__ref(a, len, t);
    return;
  }
  const consts c = {_mm256_set1_pd(t->p_fp), _mm256_set1_pd(t->p_inv)};
  double *d = (double *)a;
  if (len < LANES) { /* len = 2: one vector holds two copies */
    const vec v = _mm256_permute4x64_epi64(load(a), 0x44);
    for (size_t j = 0; j < t->n; j += LANES) store(a + j, _mm256_castpd_si256(u52_to_double(v)));
  } else {
    for (size_t k = 0; k < len; k += LANES) dstore(d + k, u52_to_double(load(a + k)));
    for (size_t j = len; j < t->n; j += LANES) dstore(d + j, dload(d + j - len));
  }
  size_t m = t->n / len, half = len / 2;
  for (; half >= LANES; m *= 2, half /= 2) wide_stage(d, m, half, t->w_fp, t->w_over_p, c, 1, IO_NONE);
  if (half == 2) narrow_stage(d, t->n, m, 2, t->w_fp, t->w_over_p, c, 1, IO_NONE), m *= 2;
  narrow_stage(d, t->n, m, 1, t->w_fp, t->w_over_p, c, 1, IO_OUT);
}

void fsn_ntt_inverse__avx2(uint64_t *a, const fsn_ntt_table *t) {
  if (t->n < 2 * LANES) {
    fsn_ntt_inverse__ref(a, t);
    return;
  }
  const consts c = {_mm256_set1_pd(t->p_fp), _mm256_set1_pd(t->p_inv)};
  double *d = (double *)a;
  narrow_stage(d, t->n, t->n / 2, 1, t->iw_fp, t->iw_over_p, c, 0, IO_IN);
  narrow_stage(d, t->n, t->n / 4, 2, t->iw_fp, t->iw_over_p, c, 0, IO_NONE);
  size_t m = t->n / 8, half = 4;
  for (; m > 1; m /= 2, half *= 2) wide_stage(d, m, half, t->iw_fp, t->iw_over_p, c, 0, IO_NONE);
  /* the last stage (one group) with N^-1 folded in: x' = (u + v) N^-1, y' = (u - v) w N^-1 */
  const dvec n_inv = _mm256_set1_pd((double)t->n_inv), n_inv_over_p = _mm256_set1_pd(t->n_inv_over_p);
  const dvec w = _mm256_set1_pd((double)t->iw1_n_inv), wp = _mm256_set1_pd(t->iw1_n_inv_over_p);
  for (size_t j = 0; j < half; j += LANES) {
    const dvec u = dload(d + j), v = dload(d + half + j);
    store_io(d + j, mul_mod_lazy(_mm256_add_pd(u, v), n_inv, n_inv_over_p, c), IO_OUT, c);
    store_io(d + half + j, mul_mod_lazy(_mm256_sub_pd(u, v), w, wp, c), IO_OUT, c);
  }
}

/* Pointwise products in doubles as well: a, b < p, h = fl(a b), l = a b - h, q = round(h / p) within one of a b / p,
 * r = (h - q p) + l = a b - q p exactly, |r| < p; then r + p if negative (and + acc, - p if >= p for mul_acc). */
INLINE dvec mul_mod(vec a, vec b, consts c) {
  dvec x = u52_to_double(a), y = u52_to_double(b);
  dvec h = _mm256_mul_pd(x, y), l = _mm256_fmsub_pd(x, y, h);
  dvec q = _mm256_round_pd(_mm256_mul_pd(h, c.p_inv), ROUND_NEAREST);
  return add_p_if_negative(_mm256_add_pd(_mm256_fnmadd_pd(q, c.p, h), l), c.p);
}

void fsn_ntt_mul__avx2(uint64_t *c, const uint64_t *a, const uint64_t *b, size_t n, const fsn_ntt_table *t) {
  const consts k = {_mm256_set1_pd(t->p_fp), _mm256_set1_pd(t->p_inv)};
  size_t i = 0;
  for (; i + LANES <= n; i += LANES) store(c + i, double_to_u52(mul_mod(load(a + i), load(b + i), k)));
  fsn_ntt_mul__ref(c + i, a + i, b + i, n - i, t);
}

void fsn_ntt_mul_acc__avx2(uint64_t *acc, const uint64_t *a, const uint64_t *b, size_t n, const fsn_ntt_table *t) {
  const consts k = {_mm256_set1_pd(t->p_fp), _mm256_set1_pd(t->p_inv)};
  size_t i = 0;
  for (; i + LANES <= n; i += LANES) {
    vec s = _mm256_add_epi64(double_to_u52(mul_mod(load(a + i), load(b + i), k)), load(acc + i));
    store(acc + i, sub_if_ge(s, set1(t->p)));
  }
  fsn_ntt_mul_acc__ref(acc + i, a + i, b + i, n - i, t);
}

/* The sum stays in doubles over a block of BLOCK values: each product adds |a b - q p| < 0.75 p (q = round(fl(a b) / p)
 * is within 0.75 of a b / p for a b < 2^100), a reduce every REDUCE_EVERY terms brings the sum back to |x| <= p / 2
 * (+ slack), so it stays below 0.5 p + 8 x 0.75 p < 2^53 and exact. The block walks each a[k], b[k] contiguously;
 * terms go UNROLL at a time so the block's sum is loaded and stored once per UNROLL products. */
enum { BLOCK = 512, REDUCE_EVERY = 8, UNROLL = 4 };

/* a b - q p, exact, |result| < 0.75 p (as mul_mod, before the sign fix). */
INLINE dvec product(const uint64_t *a, const uint64_t *b, consts c) {
  const dvec u = u52_to_double(load(a)), v = u52_to_double(load(b));
  const dvec h = _mm256_mul_pd(u, v), l = _mm256_fmsub_pd(u, v, h);
  const dvec q = _mm256_round_pd(_mm256_mul_pd(h, c.p_inv), ROUND_NEAREST);
  return _mm256_add_pd(_mm256_fnmadd_pd(q, c.p, h), l);
}

void fsn_ntt_mul_acc_sum__avx2(uint64_t *acc, const uint64_t *const *a, const uint64_t *const *b, size_t count,
                               size_t n, const fsn_ntt_table *t) {
  const consts c = {_mm256_set1_pd(t->p_fp), _mm256_set1_pd(t->p_inv)};
  const vec p = set1(t->p);
  double sum[BLOCK];
  const size_t body = n / LANES * LANES;
  for (size_t i0 = 0; i0 < body; i0 += BLOCK) {
    const size_t len = body - i0 < BLOCK ? body - i0 : BLOCK;
    for (size_t j = 0; j < len; j += LANES) dstore(sum + j, _mm256_setzero_pd());
    size_t k = 0;
    for (; k + UNROLL <= count; k += UNROLL) {
      const uint64_t *x0 = a[k] + i0, *x1 = a[k + 1] + i0, *x2 = a[k + 2] + i0, *x3 = a[k + 3] + i0;
      const uint64_t *y0 = b[k] + i0, *y1 = b[k + 1] + i0, *y2 = b[k + 2] + i0, *y3 = b[k + 3] + i0;
      const int squeeze = (k + UNROLL) % REDUCE_EVERY == 0;
      for (size_t j = 0; j < len; j += LANES) {
        dvec s = _mm256_add_pd(_mm256_add_pd(product(x0 + j, y0 + j, c), product(x1 + j, y1 + j, c)),
                               _mm256_add_pd(product(x2 + j, y2 + j, c), product(x3 + j, y3 + j, c)));
        s = _mm256_add_pd(dload(sum + j), s);
        dstore(sum + j, squeeze ? reduce(s, c) : s);
      }
    }
    for (; k < count; k++) { /* at most UNROLL - 1 more after a multiple of UNROLL: within REDUCE_EVERY */
      const uint64_t *x = a[k] + i0, *y = b[k] + i0;
      for (size_t j = 0; j < len; j += LANES) dstore(sum + j, _mm256_add_pd(dload(sum + j), product(x + j, y + j, c)));
    }
    for (size_t j = 0; j < len; j += LANES) {
      const vec r = double_to_u52(add_p_if_negative(reduce(dload(sum + j), c), c.p));
      store(acc + i0 + j, sub_if_ge(_mm256_add_epi64(r, load(acc + i0 + j)), p));
    }
  }
  for (size_t i = body; i < n; i++) { /* the tail as the oracle computes it */
    unsigned __int128 s = acc[i];
    for (size_t k = 0; k < count; k++) s += (unsigned __int128)a[k][i] * b[k][i];
    acc[i] = (uint64_t)(s % t->p);
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

/* round(x / p2) mod p1 = (x1 - [x2]_p2) p2^-1 mod p1 (see ntt_ops.h) in doubles: |x1 - [x2]| < p1 + p2 / 2 < 2^51,
 * so the lazy product is within p1 (1/2 + 2^-1.4) < p1 of zero and one conditional + p1 finishes it. */
void fsn_ntt_modswitch_prime__avx2(uint64_t *out, const uint64_t *x1, const uint64_t *x2, size_t n, uint64_t p1,
                                   uint64_t p2) {
  const uint64_t inv = fsn_ntt_inv_mod(p2 % p1, p1);
  const consts c = {_mm256_set1_pd((double)p1), _mm256_set1_pd(1.0 / (double)p1)};
  const dvec inv_d = _mm256_set1_pd((double)inv), inv_over_p = _mm256_set1_pd((double)inv / (double)p1);
  const dvec p2_d = _mm256_set1_pd((double)p2), half_p2 = _mm256_set1_pd((double)(p2 / 2));
  size_t i = 0;
  for (; i + LANES <= n; i += LANES) {
    dvec a = u52_to_double(load(x1 + i)), b = u52_to_double(load(x2 + i));
    b = _mm256_sub_pd(b, _mm256_and_pd(_mm256_cmp_pd(b, half_p2, _CMP_GT_OQ), p2_d)); /* the centred residue */
    store(out + i, double_to_u52(add_p_if_negative(mul_mod_lazy(_mm256_sub_pd(a, b), inv_d, inv_over_p, c), c.p)));
  }
  fsn_ntt_modswitch_prime_fast(out + i, x1 + i, x2 + i, n - i, p1, p2);
}

void fsn_ntt_modswitch_pow2__avx2(uint64_t *out, const uint64_t *x1, const uint64_t *x2, size_t n, uint64_t p1,
                                  uint64_t p2, unsigned k) {
  fsn_ntt_modswitch_pow2_fast(out, x1, x2, n, p1, p2, k);
}
