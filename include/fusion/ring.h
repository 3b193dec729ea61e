/* Ring arithmetic over Z_2^ell, 1 <= ell <= 64. Values live in uint64_t; inputs are expected reduced
 * (bits above ell clear) unless a function says otherwise, and outputs are always reduced. Arrays of n elements,
 * any alignment; outputs may alias inputs exactly (z == x), never partially. Kernels never fail. */
#ifndef FUSION_RING_H
#define FUSION_RING_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* 2^ell - 1, for 1 <= ell <= 64. */
static inline uint64_t fsn_ring_mask(unsigned ell) { return ell >= 64 ? ~(uint64_t)0 : ((uint64_t)1 << ell) - 1; }

/* z[i] = x[i] + y[i] mod 2^ell. */
void fsn_ring_add(uint64_t *z, const uint64_t *x, const uint64_t *y, size_t n, unsigned ell);

/* z[i] = x[i] - y[i] mod 2^ell. */
void fsn_ring_sub(uint64_t *z, const uint64_t *x, const uint64_t *y, size_t n, unsigned ell);

/* z[i] = -x[i] mod 2^ell. */
void fsn_ring_neg(uint64_t *z, const uint64_t *x, size_t n, unsigned ell);

/* z[i] = x[i] * y[i] mod 2^ell (the low ell bits of the product). */
void fsn_ring_mul(uint64_t *z, const uint64_t *x, const uint64_t *y, size_t n, unsigned ell);

/* z[i] = a * x[i] mod 2^ell for a public a (any uint64_t; only a mod 2^ell matters). */
void fsn_ring_scale(uint64_t *z, const uint64_t *x, uint64_t a, size_t n, unsigned ell);

/* y[i] = y[i] + a * x[i] mod 2^ell, in place on y; a is public (any uint64_t). y may equal x. */
void fsn_ring_axpy(uint64_t *y, const uint64_t *x, uint64_t a, size_t n, unsigned ell);

/* z[i] = x[i] mod 2^ell for UNREDUCED x (any 64-bit value), e.g. after a sum of many products in Z_2^64.
 * (Named reduce, not mask, because fsn_ring_mask is the 2^ell - 1 helper above.) */
void fsn_ring_reduce(uint64_t *z, const uint64_t *x, size_t n, unsigned ell);

/* *out = sum of x[0..n) mod 2^ell; *out = 0 for n = 0. x may be unreduced. */
void fsn_ring_sum(uint64_t *out, const uint64_t *x, size_t n, unsigned ell);

/* Fixed-point encode with scale s (0 <= s <= 62): z[i] = round(x[i] * 2^s) mod 2^ell, rounding half away from zero
 * (C's round(): 0.5 -> 1, -0.5 -> -1, 2.5 -> 3), then the integer wrapped mod 2^ell as two's complement, so
 * negative numbers land at the top of the ring. Meaningful for |x[i] * 2^s| < 2^63, which callers must ensure
 * (values beyond 2^(ell-1) already wrap, which the plaintext engine reports as overflow). Outside that range the
 * result is still defined, never undefined behaviour: finite values wrap exactly (the rounded integer mod 2^ell) and
 * NaN and +-infinity encode to 0. */
void fsn_ring_encode(uint64_t *z, const double *x, size_t n, unsigned ell, unsigned s);

/* Fixed-point decode with scale s (0 <= s <= 63): z[i] = v / 2^s, v the signed ell-bit value of x[i]
 * (x[i] >= 2^(ell-1) means x[i] - 2^ell). One rounding to double (round to nearest even) when |v| >= 2^53;
 * exact otherwise. Inverse of encode for |x * 2^s| < 2^(ell-1) up to encode's rounding. */
void fsn_ring_decode(double *z, const uint64_t *x, size_t n, unsigned ell, unsigned s);

#ifdef __cplusplus
}
#endif
#endif
