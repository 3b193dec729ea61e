/* AVX2 ring kernels: 4 lanes of 64 bits; heads and tails through the ref kernel. AVX2 has no 64-bit multiply, so
 * products are built from three 32 x 32 -> 64 products (vpmuludq); for ell <= 32 the low product alone is exact.
 * Outputs of DRAM-sized arrays are written with non-temporal stores (see FSN_RING_STREAM_MIN). */
#include <immintrin.h>
#include <math.h>
#include <stdint.h>

#include "kernels/ring/ring_ops.h"

#define LANES  4
#define INLINE static inline __attribute__((always_inline))

enum ring_op { OP_ADD, OP_SUB, OP_MUL, OP_NEG, OP_REDUCE, OP_SCALE };

INLINE __m256i load(const uint64_t *p) { return _mm256_loadu_si256((const __m256i *)p); }

INLINE void store(uint64_t *p, __m256i v, int stream) {
  if (stream)
    _mm256_stream_si256((__m256i *)p, v);
  else
    _mm256_storeu_si256((__m256i *)p, v);
}

/* Low 64 bits of a * b per lane, b's high half given apart (hoisted for a broadcast scalar):
 * lo(a) lo(b) + ((hi(a) lo(b) + lo(a) hi(b)) << 32). With narrow (ell <= 32) only lo(a) lo(b) matters. */
INLINE __m256i mul64(__m256i a, __m256i b, __m256i b_hi, int narrow) {
  __m256i lo = _mm256_mul_epu32(a, b);
  if (narrow) return lo;
  __m256i cross = _mm256_add_epi64(_mm256_mul_epu32(_mm256_srli_epi64(a, 32), b), _mm256_mul_epu32(a, b_hi));
  return _mm256_add_epi64(lo, _mm256_slli_epi64(cross, 32));
}

/* The op on one vector, before reduction; y is the second operand (or the broadcast scalar for scale). */
INLINE __m256i apply(enum ring_op op, __m256i x, __m256i y, __m256i y_hi, int narrow) {
  switch (op) {
  case OP_ADD: return _mm256_add_epi64(x, y);
  case OP_SUB: return _mm256_sub_epi64(x, y);
  case OP_MUL: return mul64(x, y, _mm256_srli_epi64(y, 32), narrow);
  case OP_NEG: return _mm256_sub_epi64(_mm256_setzero_si256(), x);
  case OP_REDUCE: return x;
  case OP_SCALE: return mul64(x, y, y_hi, narrow);
  }
  return x;
}

INLINE void apply_ref(enum ring_op op, uint64_t *z, const uint64_t *x, const uint64_t *y, uint64_t a, size_t n,
                      unsigned ell) {
  switch (op) {
  case OP_ADD: fsn_ring_add__ref(z, x, y, n, ell); break;
  case OP_SUB: fsn_ring_sub__ref(z, x, y, n, ell); break;
  case OP_MUL: fsn_ring_mul__ref(z, x, y, n, ell); break;
  case OP_NEG: fsn_ring_neg__ref(z, x, n, ell); break;
  case OP_REDUCE: fsn_ring_reduce__ref(z, x, n, ell); break;
  case OP_SCALE: fsn_ring_scale__ref(z, x, a, n, ell); break;
  }
}

/* Whole vectors from i; y is read only by binary ops. Returns where the vectors stopped. */
INLINE size_t run_vectors(enum ring_op op, uint64_t *z, const uint64_t *x, const uint64_t *y, uint64_t a, size_t i,
                          size_t n, unsigned ell, int stream) {
  const __m256i mask = _mm256_set1_epi64x((long long)fsn_ring_mask(ell));
  const __m256i av = _mm256_set1_epi64x((long long)a), a_hi = _mm256_set1_epi64x((long long)(a >> 32));
  const int narrow = ell <= 32, binary = op == OP_ADD || op == OP_SUB || op == OP_MUL;
  for (; i + LANES <= n; i += LANES) {
    __m256i xv = load(x + i), yv = binary ? load(y + i) : av;
    store(z + i, _mm256_and_si256(apply(op, xv, yv, a_hi, narrow), mask), stream);
  }
  return i;
}

/* Elementwise driver: small arrays with ordinary stores; from FSN_RING_STREAM_MIN elements on, peel with ref until z
 * is 32-byte aligned and stream (a z that is not 8-byte aligned cannot be peeled into alignment and does not). */
INLINE void run(enum ring_op op, uint64_t *z, const uint64_t *x, const uint64_t *y, uint64_t a, size_t n,
                unsigned ell) {
  const uintptr_t addr = (uintptr_t)z;
  size_t i;
  if (n >= FSN_RING_STREAM_MIN && addr % 8 == 0) {
    size_t head = (32 - addr % 32) % 32 / 8;
    apply_ref(op, z, x, y, a, head, ell);
    i = run_vectors(op, z, x, y, a, head, n, ell, 1);
    _mm_sfence(); /* streaming stores are weakly ordered: make them visible before returning */
  } else {
    i = run_vectors(op, z, x, y, a, 0, n, ell, 0);
  }
  apply_ref(op, z + i, x + i, y ? y + i : NULL, a, n - i, ell);
}

void fsn_ring_add__avx2(uint64_t *z, const uint64_t *x, const uint64_t *y, size_t n, unsigned ell) {
  run(OP_ADD, z, x, y, 0, n, ell);
}
void fsn_ring_sub__avx2(uint64_t *z, const uint64_t *x, const uint64_t *y, size_t n, unsigned ell) {
  run(OP_SUB, z, x, y, 0, n, ell);
}
void fsn_ring_mul__avx2(uint64_t *z, const uint64_t *x, const uint64_t *y, size_t n, unsigned ell) {
  run(OP_MUL, z, x, y, 0, n, ell);
}
void fsn_ring_neg__avx2(uint64_t *z, const uint64_t *x, size_t n, unsigned ell) { run(OP_NEG, z, x, NULL, 0, n, ell); }
void fsn_ring_reduce__avx2(uint64_t *z, const uint64_t *x, size_t n, unsigned ell) {
  run(OP_REDUCE, z, x, NULL, 0, n, ell);
}
void fsn_ring_scale__avx2(uint64_t *z, const uint64_t *x, uint64_t a, size_t n, unsigned ell) {
  run(OP_SCALE, z, x, NULL, a, n, ell);
}

/* In place on y, which is read anyway, so ordinary stores (streaming would not save the line fill). */
void fsn_ring_axpy__avx2(uint64_t *y, const uint64_t *x, uint64_t a, size_t n, unsigned ell) {
  const __m256i mask = _mm256_set1_epi64x((long long)fsn_ring_mask(ell));
  const __m256i av = _mm256_set1_epi64x((long long)a), a_hi = _mm256_set1_epi64x((long long)(a >> 32));
  const int narrow = ell <= 32;
  size_t i = 0;
  for (; i + LANES <= n; i += LANES) {
    __m256i ax = mul64(load(x + i), av, a_hi, narrow);
    store(y + i, _mm256_and_si256(_mm256_add_epi64(load(y + i), ax), mask), 0);
  }
  fsn_ring_axpy__ref(y + i, x + i, a, n - i, ell);
}

/* Two accumulators hide the add latency; the sum wraps mod 2^64 and is masked once, as in ref. */
void fsn_ring_sum__avx2(uint64_t *out, const uint64_t *x, size_t n, unsigned ell) {
  __m256i acc0 = _mm256_setzero_si256(), acc1 = _mm256_setzero_si256();
  size_t i = 0;
  for (; i + 2 * LANES <= n; i += 2 * LANES) {
    acc0 = _mm256_add_epi64(acc0, load(x + i));
    acc1 = _mm256_add_epi64(acc1, load(x + i + LANES));
  }
  for (; i + LANES <= n; i += LANES) acc0 = _mm256_add_epi64(acc0, load(x + i));
  uint64_t lanes[LANES], tail;
  _mm256_storeu_si256((__m256i *)lanes, _mm256_add_epi64(acc0, acc1));
  fsn_ring_sum__ref(&tail, x + i, n - i, 64);
  *out = (lanes[0] + lanes[1] + lanes[2] + lanes[3] + tail) & fsn_ring_mask(ell);
}

/* Encode: v = x 2^s (exact), t = trunc(v), r = t +- 1 where |v - t| >= 1/2 (half away from zero, as round()), and
 * the integer read off the bits of r + 1.5 * 2^52. That is exact while |v| < 2^50; a vector with any lane outside
 * (large, NaN, infinite) goes through the scalar oracle instead. */
void fsn_ring_encode__avx2(uint64_t *z, const double *x, size_t n, unsigned ell, unsigned s) {
  const double scale_d = ldexp(1.0, (int)s);
  const __m256d scale = _mm256_set1_pd(scale_d), limit = _mm256_set1_pd(0x1p50), half = _mm256_set1_pd(0.5);
  const __m256d one = _mm256_set1_pd(1.0), sign = _mm256_set1_pd(-0.0), magic = _mm256_set1_pd(0x1.8p52);
  const __m256i mask = _mm256_set1_epi64x((long long)fsn_ring_mask(ell));
  size_t i = 0;
  for (; i + LANES <= n; i += LANES) {
    __m256d v = _mm256_mul_pd(_mm256_loadu_pd(x + i), scale);
    __m256d in_range = _mm256_cmp_pd(_mm256_andnot_pd(sign, v), limit, _CMP_LT_OQ);
    if (_mm256_movemask_pd(in_range) != 0xf) {
      for (size_t j = i; j < i + LANES; j++) z[j] = fsn_ring_encode1(x[j], scale_d, ell);
      continue;
    }
    __m256d t = _mm256_round_pd(v, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
    __m256d away = _mm256_cmp_pd(_mm256_andnot_pd(sign, _mm256_sub_pd(v, t)), half, _CMP_GE_OQ);
    __m256d step = _mm256_and_pd(away, _mm256_or_pd(one, _mm256_and_pd(sign, v)));
    __m256d biased = _mm256_add_pd(_mm256_add_pd(t, step), magic);
    __m256i r = _mm256_sub_epi64(_mm256_castpd_si256(biased), _mm256_castpd_si256(magic));
    _mm256_storeu_si256((__m256i *)(z + i), _mm256_and_si256(r, mask));
  }
  fsn_ring_encode__ref(z + i, x + i, n - i, ell, s);
}

/* Decode: sign-extend ((u ^ 2^(ell-1)) - 2^(ell-1)), then int64 -> double as hi * 2^32 + lo with both halves exact
 * (built by putting them under the exponents of 2^84 and 2^52), so the one rounding is in the final add, as in the
 * scalar conversion; scaling by 2^-s is exact. */
void fsn_ring_decode__avx2(double *z, const uint64_t *x, size_t n, unsigned ell, unsigned s) {
  const __m256i mask = _mm256_set1_epi64x((long long)fsn_ring_mask(ell));
  const __m256i half = _mm256_set1_epi64x((long long)((uint64_t)1 << (ell - 1)));
  const __m256i lo_exp = _mm256_set1_epi64x(0x4330000000000000ll), hi_exp = _mm256_set1_epi64x(0x4530000080000000ll);
  const __m256d lo_bias = _mm256_set1_pd(0x1p52), hi_bias = _mm256_set1_pd(0x1p84 + 0x1p63);
  const __m256d inv_scale = _mm256_set1_pd(ldexp(1.0, -(int)s));
  size_t i = 0;
  for (; i + LANES <= n; i += LANES) {
    __m256i u = _mm256_and_si256(load(x + i), mask);
    __m256i v = _mm256_sub_epi64(_mm256_xor_si256(u, half), half);
    __m256d lo = _mm256_sub_pd(_mm256_castsi256_pd(_mm256_blend_epi32(v, lo_exp, 0xaa)), lo_bias);
    __m256d hi = _mm256_castsi256_pd(_mm256_xor_si256(_mm256_srli_epi64(v, 32), hi_exp));
    __m256d value = _mm256_add_pd(_mm256_sub_pd(hi, hi_bias), lo);
    _mm256_storeu_pd(z + i, _mm256_mul_pd(value, inv_scale));
  }
  fsn_ring_decode__ref(z + i, x + i, n - i, ell, s);
}
