/* Compute-peak loops that benchmarks divide by (family `peak`, see kernels/dispatch.h). Each level runs the same
 * arithmetic as its GEMM register tile, on operands that stay in registers and L1, so "GEMM / peak" measures how
 * much of the reachable multiply-add rate the blocking keeps. Results are defined, so a test can check them. */
#ifndef FSN_KERNELS_PEAK_OPS_H
#define FSN_KERNELS_PEAK_OPS_H

#include <stddef.h>
#include <stdint.h>

#include "kernels/dispatch.h"

/* Lanes of the multiply-add loop: 6 AVX-512 vectors, or 2 passes over 6 AVX2 vectors. */
#define FSN_PEAK_LANES 48

/* for t < iters: y = x[t % 32]; for j < FSN_PEAK_LANES: acc[j] += x[j] * y  (mod 2^64). Items: LANES * iters. */
#define FSN_PEAK_OPS(X, isa)                                                                                           \
  X(peak, isa, mul_add_l1, (uint64_t * acc, const uint64_t *x, size_t iters), (acc, x, iters))

FSN_FAMILY_DECLARE(peak, FSN_PEAK_OPS)

#endif
