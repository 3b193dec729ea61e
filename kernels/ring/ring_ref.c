/* Portable ring kernels: the oracle every SIMD sibling must match bit for bit. */
#include "kernels/ring/ring_ops.h"

void fsn_ring_add__ref(uint64_t *z, const uint64_t *x, const uint64_t *y, size_t n, unsigned ell) {
  const uint64_t mask = fsn_ring_mask(ell);
  for (size_t i = 0; i < n; i++) z[i] = (x[i] + y[i]) & mask;
}
