/* Matrix product over Z_2^64 (wrapping): the workhorse of linear layers and of the plaintext engine.
 * Results mod 2^ell for any ell <= 64 follow by masking. */
#ifndef FUSION_GEMM_H
#define FUSION_GEMM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* C[m x n] += A[m x k] * B[k x n] mod 2^64; all row-major and densely packed. C must not overlap A or B.
 * Large shapes run over OpenMP threads (blocks of C); the result does not depend on the thread count.
 * Never allocates: the SIMD levels pack B into a 256 KiB buffer on each calling/worker thread's stack. */
void fsn_gemm_u64(uint64_t *c, const uint64_t *a, const uint64_t *b, size_t m, size_t n, size_t k);

#ifdef __cplusplus
}
#endif
#endif
