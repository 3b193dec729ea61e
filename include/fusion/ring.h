/* Ring arithmetic over Z_2^ell, 1 <= ell <= 64. Values live in uint64_t; inputs are expected reduced
 * (bits above ell clear) and outputs are always reduced. Arrays of n elements, any alignment; outputs may alias
 * inputs exactly (z == x), never partially. Kernels never fail. */
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

#ifdef __cplusplus
}
#endif
#endif
