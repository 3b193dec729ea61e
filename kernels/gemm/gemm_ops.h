/* The one list of dispatched GEMM ops over Z_2^64 (family token `u64`, see kernels/dispatch.h). */
#ifndef FSN_KERNELS_GEMM_OPS_H
#define FSN_KERNELS_GEMM_OPS_H

#include <fusion/gemm.h>

#include "kernels/dispatch.h"

#define FSN_U64_OPS(X, isa)                                                                                            \
  X(u64, isa, gemm, (uint64_t * c, const uint64_t *a, const uint64_t *b, size_t m, size_t n, size_t k),                \
    (c, a, b, m, n, k))

FSN_FAMILY_DECLARE(u64, FSN_U64_OPS)

#endif
