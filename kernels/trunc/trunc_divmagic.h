/* Division by a public d >= 1 as a multiply-high (Granlund and Montgomery, 1994): for numerators below 2^63,
 * floor(a / d) = floor(a m / 2^(63 + l)) with l = ceil(log2 d) and m = ceil(2^(63 + l) / d) < 2^64. The SIMD levels
 * use it in place of a hardware divide (tens of cycles each); the ref kernel divides, so the tests compare the two.
 * Numerators here are magnitudes of signed ell-bit values (a <= 2^63 - 1 for v >= 0, a - 1 <= 2^63 - 1 for v < 0). */
#ifndef FSN_KERNELS_TRUNC_DIVMAGIC_H
#define FSN_KERNELS_TRUNC_DIVMAGIC_H

#include <stdint.h>

__extension__ typedef unsigned __int128 fsn_u128;

typedef struct {
  uint64_t m;
  unsigned shift; /* 63 + l, at most 127 */
} fsn_divmagic;

static inline fsn_divmagic fsn_divmagic_for(uint64_t d) {
  unsigned l = d == 1 ? 0 : 64 - (unsigned)__builtin_clzll(d - 1);
  fsn_divmagic g = {(uint64_t)((((fsn_u128)1 << (63 + l)) - 1) / d + 1), 63 + l};
  return g;
}

/* floor(a / d) for a < 2^63. */
static inline uint64_t fsn_divmagic_apply(fsn_divmagic g, uint64_t a) {
  return (uint64_t)(((fsn_u128)a * g.m) >> g.shift);
}

/* floor(v / d) mod 2^ell for the signed ell-bit value v of a reduced x. */
static inline uint64_t fsn_divmagic_floor(fsn_divmagic g, uint64_t x, unsigned ell) {
  const uint64_t mask = ell >= 64 ? ~(uint64_t)0 : ((uint64_t)1 << ell) - 1;
  if (!((x >> (ell - 1)) & 1)) return fsn_divmagic_apply(g, x);
  uint64_t magnitude = (0 - x) & mask;
  return (0 - (fsn_divmagic_apply(g, magnitude - 1) + 1)) & mask;
}

#endif
