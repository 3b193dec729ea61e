/* AVX-512 ring kernels: the AVX2 algorithms on 8 lanes of 64 bits (kept parallel for review, see ring_avx2.c);
 * tails through a lane mask instead of the ref kernel, and the 64-bit product is one vpmullq (AVX-512DQ).
 * Outputs of DRAM-sized arrays are written with non-temporal stores (see FSN_RING_STREAM_MIN). */
#include <immintrin.h>
#include <math.h>
#include <stdint.h>

#include "kernels/ring/ring_ops.h"
#include "kernels/simd_avx512.h"

#define LANES  8
#define INLINE static inline __attribute__((always_inline))

enum ring_op { OP_ADD, OP_SUB, OP_MUL, OP_NEG, OP_REDUCE, OP_SCALE };

INLINE __m512i apply(enum ring_op op, __m512i x, __m512i y) {
  switch (op) {
  case OP_ADD: return _mm512_add_epi64(x, y);
  case OP_SUB: return _mm512_sub_epi64(x, y);
  case OP_MUL: return _mm512_mullo_epi64(x, y);
  case OP_NEG: return _mm512_sub_epi64(_mm512_setzero_si512(), x);
  case OP_REDUCE: return x;
  case OP_SCALE: return _mm512_mullo_epi64(x, y);
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

/* Whole vectors from i (streamed or not), then the masked tail; y is read only by binary ops. */
INLINE void run_vectors(enum ring_op op, uint64_t *z, const uint64_t *x, const uint64_t *y, uint64_t a, size_t i,
                        size_t n, unsigned ell, int stream) {
  const __m512i mask = _mm512_set1_epi64((long long)fsn_ring_mask(ell)), av = _mm512_set1_epi64((long long)a);
  const int binary = op == OP_ADD || op == OP_SUB || op == OP_MUL;
  for (; i + LANES <= n; i += LANES) {
    __m512i xv = _mm512_loadu_si512(x + i), yv = binary ? _mm512_loadu_si512(y + i) : av;
    __m512i zv = _mm512_and_si512(apply(op, xv, yv), mask);
    if (stream)
      _mm512_stream_si512((void *)(z + i), zv);
    else
      _mm512_storeu_si512(z + i, zv);
  }
  if (i < n) {
    __mmask8 live = fsn_live_lanes8(i, n);
    __m512i xv = _mm512_maskz_loadu_epi64(live, x + i), yv = binary ? _mm512_maskz_loadu_epi64(live, y + i) : av;
    _mm512_mask_storeu_epi64(z + i, live, _mm512_and_si512(apply(op, xv, yv), mask));
  }
}

/* Elementwise driver: as in ring_avx2.c, streaming from FSN_RING_STREAM_MIN elements on, after peeling with ref
 * until z is 64-byte aligned. */
INLINE void run(enum ring_op op, uint64_t *z, const uint64_t *x, const uint64_t *y, uint64_t a, size_t n,
                unsigned ell) {
  const uintptr_t addr = (uintptr_t)z;
  if (n >= FSN_RING_STREAM_MIN && addr % 8 == 0) {
    size_t head = (64 - addr % 64) % 64 / 8;
    apply_ref(op, z, x, y, a, head, ell);
    run_vectors(op, z, x, y, a, head, n, ell, 1);
    _mm_sfence(); /* streaming stores are weakly ordered: make them visible before returning */
  } else {
    run_vectors(op, z, x, y, a, 0, n, ell, 0);
  }
}

void fsn_ring_add__avx512(uint64_t *z, const uint64_t *x, const uint64_t *y, size_t n, unsigned ell) {
  run(OP_ADD, z, x, y, 0, n, ell);
}
void fsn_ring_sub__avx512(uint64_t *z, const uint64_t *x, const uint64_t *y, size_t n, unsigned ell) {
  run(OP_SUB, z, x, y, 0, n, ell);
}
void fsn_ring_mul__avx512(uint64_t *z, const uint64_t *x, const uint64_t *y, size_t n, unsigned ell) {
  run(OP_MUL, z, x, y, 0, n, ell);
}
void fsn_ring_neg__avx512(uint64_t *z, const uint64_t *x, size_t n, unsigned ell) {
  run(OP_NEG, z, x, NULL, 0, n, ell);
}
void fsn_ring_reduce__avx512(uint64_t *z, const uint64_t *x, size_t n, unsigned ell) {
  run(OP_REDUCE, z, x, NULL, 0, n, ell);
}
void fsn_ring_scale__avx512(uint64_t *z, const uint64_t *x, uint64_t a, size_t n, unsigned ell) {
  run(OP_SCALE, z, x, NULL, a, n, ell);
}

void fsn_ring_axpy__avx512(uint64_t *y, const uint64_t *x, uint64_t a, size_t n, unsigned ell) {
  const __m512i mask = _mm512_set1_epi64((long long)fsn_ring_mask(ell)), av = _mm512_set1_epi64((long long)a);
  for (size_t i = 0; i < n; i += LANES) {
    __mmask8 live = fsn_live_lanes8(i, n);
    __m512i ax = _mm512_mullo_epi64(_mm512_maskz_loadu_epi64(live, x + i), av);
    __m512i yv = _mm512_maskz_loadu_epi64(live, y + i);
    _mm512_mask_storeu_epi64(y + i, live, _mm512_and_si512(_mm512_add_epi64(yv, ax), mask));
  }
}

void fsn_ring_sum__avx512(uint64_t *out, const uint64_t *x, size_t n, unsigned ell) {
  __m512i acc0 = _mm512_setzero_si512(), acc1 = _mm512_setzero_si512();
  size_t i = 0;
  for (; i + 2 * LANES <= n; i += 2 * LANES) {
    acc0 = _mm512_add_epi64(acc0, _mm512_loadu_si512(x + i));
    acc1 = _mm512_add_epi64(acc1, _mm512_loadu_si512(x + i + LANES));
  }
  for (; i < n; i += LANES) acc0 = _mm512_add_epi64(acc0, _mm512_maskz_loadu_epi64(fsn_live_lanes8(i, n), x + i));
  *out = fsn_sum_u64x8(_mm512_add_epi64(acc0, acc1)) & fsn_ring_mask(ell);
}

/* Encode: the algorithm of ring_avx2.c (trunc, +-1 where the fraction is >= 1/2, bits of r + 1.5 * 2^52, exact while
 * |v| < 2^50); a block with a live lane outside that range goes through the scalar oracle. */
void fsn_ring_encode__avx512(uint64_t *z, const double *x, size_t n, unsigned ell, unsigned s) {
  const double scale_d = ldexp(1.0, (int)s);
  const __m512d scale = _mm512_set1_pd(scale_d), limit = _mm512_set1_pd(0x1p50), half = _mm512_set1_pd(0.5);
  const __m512d one = _mm512_set1_pd(1.0), sign = _mm512_set1_pd(-0.0), magic = _mm512_set1_pd(0x1.8p52);
  const __m512i mask = _mm512_set1_epi64((long long)fsn_ring_mask(ell));
  for (size_t i = 0; i < n; i += LANES) {
    __mmask8 live = fsn_live_lanes8(i, n);
    __m512d v = _mm512_mul_pd(_mm512_maskz_loadu_pd(live, x + i), scale);
    __mmask8 in_range = _mm512_cmp_pd_mask(_mm512_abs_pd(v), limit, _CMP_LT_OQ);
    if ((in_range & live) != live) {
      for (size_t j = i; j < n && j < i + LANES; j++) z[j] = fsn_ring_encode1(x[j], scale_d, ell);
      continue;
    }
    __m512d t = _mm512_roundscale_pd(v, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
    __mmask8 away = _mm512_cmp_pd_mask(_mm512_abs_pd(_mm512_sub_pd(v, t)), half, _CMP_GE_OQ);
    __m512d step = _mm512_maskz_mov_pd(away, _mm512_or_pd(one, _mm512_and_pd(sign, v)));
    __m512d biased = _mm512_add_pd(_mm512_add_pd(t, step), magic);
    __m512i r = _mm512_sub_epi64(_mm512_castpd_si512(biased), _mm512_castpd_si512(magic));
    _mm512_mask_storeu_epi64(z + i, live, _mm512_and_si512(r, mask));
  }
}

/* Decode: the algorithm of ring_avx2.c (sign-extend, then hi * 2^32 + lo with both halves exact, one rounding). */
void fsn_ring_decode__avx512(double *z, const uint64_t *x, size_t n, unsigned ell, unsigned s) {
  const __m512i mask = _mm512_set1_epi64((long long)fsn_ring_mask(ell));
  const __m512i half = _mm512_set1_epi64((long long)((uint64_t)1 << (ell - 1)));
  const __m512i lo_exp = _mm512_set1_epi64(0x4330000000000000ll), hi_exp = _mm512_set1_epi64(0x4530000080000000ll);
  const __m512d lo_bias = _mm512_set1_pd(0x1p52), hi_bias = _mm512_set1_pd(0x1p84 + 0x1p63);
  const __m512d inv_scale = _mm512_set1_pd(ldexp(1.0, -(int)s));
  for (size_t i = 0; i < n; i += LANES) {
    __mmask8 live = fsn_live_lanes8(i, n);
    __m512i u = _mm512_and_si512(_mm512_maskz_loadu_epi64(live, x + i), mask);
    __m512i v = _mm512_sub_epi64(_mm512_xor_si512(u, half), half);
    __m512d lo = _mm512_sub_pd(_mm512_castsi512_pd(_mm512_mask_blend_epi32(0xaaaa, v, lo_exp)), lo_bias);
    __m512d hi = _mm512_castsi512_pd(_mm512_xor_si512(_mm512_srli_epi64(v, 32), hi_exp));
    __m512d value = _mm512_add_pd(_mm512_sub_pd(hi, hi_bias), lo);
    _mm512_mask_storeu_pd(z + i, live, _mm512_mul_pd(value, inv_scale));
  }
}
