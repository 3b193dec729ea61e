/* AVX-512 GEMM over Z_2^64: the AVX2 kernel's structure (same driver, same 6-row tile, same panels) with 8 lanes
 * and AVX512DQ's native 64-bit low multiply (vpmullq), so a panel holds just the 8 values of B per k. */
#include <immintrin.h>

#include "kernels/gemm/gemm_blocked.h"

enum { AVX512_WIDTH = 8, AVX512_PANEL_WORDS = 8 };

static void pack_avx512(uint64_t *panel, const uint64_t *b, size_t ldb, size_t kc, size_t cols) {
  const __mmask8 live = (__mmask8)((1u << cols) - 1); /* cols <= 8; masked-off lanes load as 0 */
  for (size_t p = 0; p < kc; p++)
    _mm512_store_si512(panel + p * AVX512_PANEL_WORDS, _mm512_maskz_loadu_epi64(live, b + p * ldb));
}

#define AVX512_STEP(r)                                                                                                 \
  do {                                                                                                                 \
    const __m512i a##r = _mm512_set1_epi64((long long)a_rows[r][p]);                                                   \
    lo##r = _mm512_add_epi64(lo##r, _mm512_mullo_epi64(a##r, b));                                                      \
  } while (0)

static void tile_avx512(uint64_t *c, size_t ldc, const uint64_t *const *a_rows, const uint64_t *panel, size_t kc,
                        size_t rows, size_t cols) {
  __m512i lo0 = _mm512_setzero_si512(), lo1 = lo0, lo2 = lo0, lo3 = lo0, lo4 = lo0, lo5 = lo0;
  for (size_t p = 0; p < kc; p++) {
    const __m512i b = _mm512_load_si512(panel + p * AVX512_PANEL_WORDS);
    AVX512_STEP(0);
    AVX512_STEP(1);
    AVX512_STEP(2);
    AVX512_STEP(3);
    AVX512_STEP(4);
    AVX512_STEP(5);
  }
  const __m512i sums[GEMM_MR] = {lo0, lo1, lo2, lo3, lo4, lo5};
  const __mmask8 live = (__mmask8)((1u << cols) - 1);
  for (size_t r = 0; r < rows; r++) {
    uint64_t *row = c + r * ldc;
    _mm512_mask_storeu_epi64(row, live, _mm512_add_epi64(_mm512_maskz_loadu_epi64(live, row), sums[r]));
  }
}

void fsn_gemm_u64__avx512(uint64_t *c, const uint64_t *a, const uint64_t *b, size_t m, size_t n, size_t k) {
  gemm_blocked(c, a, b, m, n, k, AVX512_WIDTH, AVX512_PANEL_WORDS, tile_avx512, pack_avx512);
}
