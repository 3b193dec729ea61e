/* AVX2 GEMM over Z_2^64 (placeholder until the blocked kernel lands: delegates to the oracle). */
#include "kernels/gemm/gemm_ops.h"

void fsn_u64_gemm__avx2(uint64_t *c, const uint64_t *a, const uint64_t *b, size_t m, size_t n, size_t k) {
  fsn_u64_gemm__ref(c, a, b, m, n, k);
}
