/* The one list of dispatched ring ops (see kernels/dispatch.h). */
#ifndef FSN_KERNELS_RING_OPS_H
#define FSN_KERNELS_RING_OPS_H

#include <fusion/ring.h>

#include "kernels/dispatch.h"

#define FSN_RING_OPS(X, isa)                                                                                           \
  X(ring, isa, add, (uint64_t * z, const uint64_t *x, const uint64_t *y, size_t n, unsigned ell), (z, x, y, n, ell))   \
  X(ring, isa, sub, (uint64_t * z, const uint64_t *x, const uint64_t *y, size_t n, unsigned ell), (z, x, y, n, ell))   \
  X(ring, isa, neg, (uint64_t * z, const uint64_t *x, size_t n, unsigned ell), (z, x, n, ell))                         \
  X(ring, isa, mul, (uint64_t * z, const uint64_t *x, const uint64_t *y, size_t n, unsigned ell), (z, x, y, n, ell))   \
  X(ring, isa, scale, (uint64_t * z, const uint64_t *x, uint64_t a, size_t n, unsigned ell), (z, x, a, n, ell))        \
  X(ring, isa, axpy, (uint64_t * y, const uint64_t *x, uint64_t a, size_t n, unsigned ell), (y, x, a, n, ell))         \
  X(ring, isa, reduce, (uint64_t * z, const uint64_t *x, size_t n, unsigned ell), (z, x, n, ell))                      \
  X(ring, isa, sum, (uint64_t * out, const uint64_t *x, size_t n, unsigned ell), (out, x, n, ell))                     \
  X(ring, isa, encode, (uint64_t * z, const double *x, size_t n, unsigned ell, unsigned s), (z, x, n, ell, s))         \
  X(ring, isa, decode, (double *z, const uint64_t *x, size_t n, unsigned ell, unsigned s), (z, x, n, ell, s))

FSN_FAMILY_DECLARE(ring, FSN_RING_OPS)

/* Output-writing streaming ops use non-temporal stores from this many elements (8 MiB per array) on, where the
 * output cannot stay in cache anyway and a normal store would first read the line it overwrites. */
#define FSN_RING_STREAM_MIN ((size_t)1 << 20)

/* Encode one value (the ref loop body; SIMD siblings use it for tails and out-of-fast-range lanes). */
uint64_t fsn_ring_encode1(double x, double scale, unsigned ell);

#endif
