/* Portable GEMM over Z_2^64: the oracle. Row-times-row order (C row += a * B row) walks every array with unit
 * stride; blocking over k and n keeps the touched block of B in cache while a chunk of rows of C reuses it.
 * Unsigned arithmetic wraps mod 2^64, which is exactly the ring. */
#include "kernels/gemm/gemm_ops.h"
#include "kernels/omp.h"

enum { REF_KB = 128, REF_NB = 256, REF_MB = 16 };

static void ref_rows(uint64_t *c, const uint64_t *a, const uint64_t *b, size_t i0, size_t i1, size_t n, size_t k) {
  for (size_t j0 = 0; j0 < n; j0 += REF_NB) {
    const size_t j1 = n - j0 < REF_NB ? n : j0 + REF_NB;
    for (size_t p0 = 0; p0 < k; p0 += REF_KB) {
      const size_t p1 = k - p0 < REF_KB ? k : p0 + REF_KB;
      for (size_t i = i0; i < i1; i++) {
        uint64_t *c_row = c + i * n;
        for (size_t p = p0; p < p1; p++) {
          const uint64_t av = a[i * k + p], *b_row = b + p * n;
          for (size_t j = j0; j < j1; j++) c_row[j] += av * b_row[j];
        }
      }
    }
  }
}

void fsn_gemm_u64__ref(uint64_t *c, const uint64_t *a, const uint64_t *b, size_t m, size_t n, size_t k) {
  const size_t chunks = (m + REF_MB - 1) / REF_MB;
  const int parallel = chunks > 1 && m * n * k >= FSN_OMP_MIN_WORK;
  (void)parallel;
  FSN_OMP("omp parallel for schedule(dynamic) if (parallel)")
  for (size_t t = 0; t < chunks; t++)
    ref_rows(c, a, b, t * REF_MB, m - t * REF_MB < REF_MB ? m : (t + 1) * REF_MB, n, k);
}
