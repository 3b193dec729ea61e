/* Division by a public d >= 2 as a multiply-high (Granlund and Montgomery, 1994): for numerators below 2^63,
 * floor(a / d) = floor(a m / 2^(63 + l)) = hi64(a m) >> (l - 1) with l = ceil(log2 d) >= 1 and
 * m = ceil(2^(63 + l) / d) < 2^64. The SIMD levels use it in place of a hardware divide (tens of cycles each); the ref
 * kernel divides, so the tests compare the two. Numerators here are a = |v| for v >= 0 and a = |v| - 1 for v < 0,
 * v a signed ell-bit value, so a <= 2^63 - 1. d = 1 is the identity and is left to the caller. */
#ifndef FSN_KERNELS_TRUNC_DIVMAGIC_H
#define FSN_KERNELS_TRUNC_DIVMAGIC_H

#include <stdint.h>

__extension__ typedef unsigned __int128 fsn_u128;

typedef struct {
  uint64_t m;
  unsigned post_shift; /* l - 1, 0 .. 63 */
} fsn_divmagic;

static inline fsn_divmagic fsn_divmagic_for(uint64_t d) {
  unsigned l = 64 - (unsigned)__builtin_clzll(d - 1);
  fsn_divmagic g = {(uint64_t)((((fsn_u128)1 << (63 + l)) - 1) / d + 1), l - 1};
  return g;
}

/* floor(a / d) for a < 2^63. */
static inline uint64_t fsn_divmagic_apply(fsn_divmagic g, uint64_t a) {
  return (uint64_t)(((fsn_u128)a * g.m) >> 64) >> g.post_shift;
}

/* floor(v / d) mod 2^ell for the signed ell-bit value v of a reduced x, without a branch on the sign (random signs
 * would mispredict half the time): for v < 0, floor(v / d) = ~floor(~v / d) and ~v = ~x mod 2^ell = |v| - 1 >= 0. */
static inline uint64_t fsn_divmagic_floor(fsn_divmagic g, uint64_t x, unsigned ell) {
  const uint64_t mask = ell >= 64 ? ~(uint64_t)0 : ((uint64_t)1 << ell) - 1;
  const uint64_t negative = 0 - ((x >> (ell - 1)) & 1);
  return (fsn_divmagic_apply(g, (x ^ negative) & mask) ^ negative) & mask;
}

#endif
