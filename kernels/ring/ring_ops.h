/* The one list of dispatched ring ops (see kernels/dispatch.h). */
#ifndef FSN_KERNELS_RING_OPS_H
#define FSN_KERNELS_RING_OPS_H

#include <fusion/ring.h>

#include "kernels/dispatch.h"

#define FSN_RING_OPS(X, isa)                                                                                           \
  X(ring, isa, add, (uint64_t * z, const uint64_t *x, const uint64_t *y, size_t n, unsigned ell), (z, x, y, n, ell))

FSN_FAMILY_DECLARE(ring, FSN_RING_OPS)

#endif
