/* The one list of dispatched GEMM ops over Z_2^64 (family token `gemm`, see kernels/dispatch.h). */
#ifndef FSN_KERNELS_GEMM_OPS_H
#define FSN_KERNELS_GEMM_OPS_H

#include <fusion/gemm.h>

#include "kernels/dispatch.h"

#define FSN_GEMM_OPS(X, isa)                                                                                           \
  X(gemm, isa, u64, (uint64_t * c, const uint64_t *a, const uint64_t *b, size_t m, size_t n, size_t k),                \
    (c, a, b, m, n, k))

FSN_FAMILY_DECLARE(gemm, FSN_GEMM_OPS)

#endif
