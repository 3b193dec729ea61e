/* The one list of dispatched NTT ops (see kernels/dispatch.h) and the table layout the kernels read. */
#ifndef FSN_KERNELS_NTT_OPS_H
#define FSN_KERNELS_NTT_OPS_H

#include <fusion/ntt.h>

#include "kernels/dispatch.h"

/* Twiddles in the order the butterflies use them: stage with m groups (m = 1, 2, 4, ..., N/2) uses entries
 * [m, 2m), group i entry m + i. Forward: w[j] = psi^bitrev(j) (log2 N bits); inverse: iw[j] = w[j]^-1, used by the
 * Gentleman-Sande stages in reverse order, so each inverse butterfly undoes one forward butterfly (up to a factor 2
 * that N^-1 collects at the end). Entry 0 is unused. Each twiddle has two Shoup companions:
 * floor(w 2^64 / p) for 64-bit multiply-high (ref, avx2) and floor(w 2^52 / p) for IFMA's 52-bit one. */
struct fsn_ntt_table {
  uint64_t p, psi;
  size_t n;
  unsigned log_n;
  uint64_t *w, *w_shoup, *w_shoup52;
  uint64_t *iw, *iw_shoup, *iw_shoup52;
  uint64_t n_inv, n_inv_shoup, n_inv_shoup52;
  uint64_t iw1_n_inv, iw1_n_inv_shoup52; /* iw[1] N^-1: the inverse's last stage with N^-1 folded in (IFMA) */
  /* The avx2 level computes in doubles (exact below 2^53): the twiddles as doubles and w / p rounded, with 1 / p and
   * N^-1 / p (see ntt_avx2.c). */
  double *w_fp, *w_over_p, *iw_fp, *iw_over_p;
  double p_fp, p_inv, n_inv_over_p, iw1_n_inv_over_p;
  /* Barrett for arbitrary products a b < p^2: bits = bit length of p, barrett = floor(2^(2 bits) / p) < 2^(bits+1). */
  unsigned bits;
  uint64_t barrett;
  void *block; /* the one allocation holding the arrays */
};

#define FSN_NTT_OPS(X, isa)                                                                                            \
  X(ntt, isa, forward, (uint64_t * a, const fsn_ntt_table *t), (a, t))                                                 \
  X(ntt, isa, forward_low, (uint64_t * a, size_t len, const fsn_ntt_table *t), (a, len, t))                            \
  X(ntt, isa, inverse, (uint64_t * a, const fsn_ntt_table *t), (a, t))                                                 \
  X(ntt, isa, mul, (uint64_t * c, const uint64_t *a, const uint64_t *b, size_t n, const fsn_ntt_table *t),             \
    (c, a, b, n, t))                                                                                                   \
  X(ntt, isa, mul_acc, (uint64_t * acc, const uint64_t *a, const uint64_t *b, size_t n, const fsn_ntt_table *t),       \
    (acc, a, b, n, t))                                                                                                 \
  X(ntt, isa, mul_acc_sum,                                                                                             \
    (uint64_t * acc, const uint64_t *const *a, const uint64_t *const *b, size_t count, size_t n,                       \
     const fsn_ntt_table *t),                                                                                          \
    (acc, a, b, count, n, t))                                                                                          \
  X(ntt, isa, add, (uint64_t * c, const uint64_t *a, const uint64_t *b, size_t n, const fsn_ntt_table *t),             \
    (c, a, b, n, t))                                                                                                   \
  X(ntt, isa, sub, (uint64_t * c, const uint64_t *a, const uint64_t *b, size_t n, const fsn_ntt_table *t),             \
    (c, a, b, n, t))                                                                                                   \
  X(ntt, isa, modswitch_prime,                                                                                         \
    (uint64_t * out, const uint64_t *x1, const uint64_t *x2, size_t n, uint64_t p1, uint64_t p2),                      \
    (out, x1, x2, n, p1, p2))                                                                                          \
  X(ntt, isa, modswitch_pow2,                                                                                          \
    (uint64_t * out, const uint64_t *x1, const uint64_t *x2, size_t n, uint64_t p1, uint64_t p2, unsigned k),          \
    (out, x1, x2, n, p1, p2, k))

/* No plain avx512 variant: without IFMA an AVX-512 CPU runs the avx2 bodies (doubles), which 64-bit lanes of
 * 32-bit pieces would not beat. */
#define FSN_NTT_VARIANTS(V, a) V(a, ref) V(a, avx2) V(a, avx512_ifma)

FSN_FAMILY_DECLARE(ntt, FSN_NTT_OPS, FSN_NTT_VARIANTS)

/* Scalar building blocks shared by the ref file and the SIMD files' tails. */
static inline uint64_t fsn_ntt_mulhi64(uint64_t a, uint64_t b) { return (uint64_t)(((unsigned __int128)a * b) >> 64); }

/* w y mod p up to one p: w < p, w_shoup = floor(w 2^64 / p), y < 2^64; result in [0, 2p). */
static inline uint64_t fsn_ntt_mul_shoup_lazy(uint64_t y, uint64_t w, uint64_t w_shoup, uint64_t p) {
  return w * y - fsn_ntt_mulhi64(w_shoup, y) * p;
}

/* a b mod p by Barrett, a, b < p (t->bits, t->barrett): result in [0, p). */
static inline uint64_t fsn_ntt_mul_barrett(uint64_t a, uint64_t b, uint64_t p, unsigned bits, uint64_t barrett) {
  unsigned __int128 x = (unsigned __int128)a * b;
  uint64_t xs = (uint64_t)(x >> (bits - 1));                                /* < 2^(bits+1) */
  uint64_t q = (uint64_t)(((unsigned __int128)xs * barrett) >> (bits + 1)); /* q <= x / p, off by at most 2 */
  uint64_t r = (uint64_t)x - q * p;
  r -= r >= p ? p : 0;
  r -= r >= p ? p : 0;
  return r;
}

/* Modulus switching to p1 rests on round(x / p2) = (x - [x]_p2) / p2 with [x]_p2 the centred residue of x mod p2,
 * so round(x / p2) mod p1 = (x1 - [x2]_p2) p2^-1 mod p1 (fsn_ntt_inv_mod, <fusion/ntt.h>). */

/* Modulus switching without the ref's bit-by-bit long division, for the SIMD levels (same results, checked against
 * ref in the tests): prime by the centred-residue formula above with a Shoup product, pow2 by the centred residue of
 * x 2^k mod q times q^-1 mod 2^k (see ntt.c). */
void fsn_ntt_modswitch_prime_fast(uint64_t *out, const uint64_t *x1, const uint64_t *x2, size_t n, uint64_t p1,
                                  uint64_t p2);
void fsn_ntt_modswitch_pow2_fast(uint64_t *out, const uint64_t *x1, const uint64_t *x2, size_t n, uint64_t p1,
                                 uint64_t p2, unsigned k);

#endif
