/* The one list of dispatched trunc ops (see kernels/dispatch.h). */
#ifndef FSN_KERNELS_TRUNC_OPS_H
#define FSN_KERNELS_TRUNC_OPS_H

#include <fusion/ring.h>
#include <fusion/trunc.h>

#include "kernels/dispatch.h"

#define FSN_TRUNC_OPS(X, isa)                                                                                          \
  X(trunc, isa, sar, (uint64_t * z, const uint64_t *x, size_t n, unsigned ell, unsigned s), (z, x, n, ell, s))         \
  X(trunc, isa, shr, (uint64_t * z, const uint64_t *x, size_t n, unsigned ell, unsigned s), (z, x, n, ell, s))         \
  X(trunc, isa, msb, (uint8_t * bits, const uint64_t *x, size_t n, unsigned ell), (bits, x, n, ell))                   \
  X(trunc, isa, div, (uint64_t * z, const uint64_t *x, uint64_t d, size_t n, unsigned ell), (z, x, d, n, ell))         \
  X(trunc, isa, sext, (uint64_t * z, const uint64_t *x, size_t n, unsigned ell), (z, x, n, ell))

FSN_FAMILY_DECLARE(trunc, FSN_TRUNC_OPS)

#endif
