/* AVX2 GEMM over Z_2^64. AVX2 has no 64-bit multiply, so each product a * b mod 2^64 is built from 32-bit halves:
 *   a * b = lo(a) * lo(b) + ((lo(a) * hi(b) + hi(a) * lo(b)) << 32)   (mod 2^64).
 * vpmuludq gives the full 64-bit lo * lo; one vpmulld against b with its halves swapped gives both cross products
 * (mod 2^32, all the shift keeps) in the two dwords of each lane. The tile accumulates the two parts separately,
 * the cross part with 32-bit adds so no carry crosses the dwords, and folds them once per tile:
 * 2 multiplies + 2 adds per 4 products in the inner loop. Panels hold, per k, 4 values of B then the same 4 with
 * their dwords swapped. */
#include <immintrin.h>

#include "kernels/gemm/gemm_blocked.h"

enum { AVX2_WIDTH = 4, AVX2_PANEL_WORDS = 8 };

static void pack_avx2(uint64_t *panel, const uint64_t *b, size_t ldb, size_t kc, size_t cols) {
  if (cols == AVX2_WIDTH) {
    for (size_t p = 0; p < kc; p++) {
      const __m256i v = _mm256_loadu_si256((const __m256i *)(b + p * ldb));
      _mm256_store_si256((__m256i *)(panel + p * AVX2_PANEL_WORDS), v);
      _mm256_store_si256((__m256i *)(panel + p * AVX2_PANEL_WORDS + 4), _mm256_shuffle_epi32(v, 0xb1));
    }
    return;
  }
  for (size_t p = 0; p < kc; p++)
    for (size_t j = 0; j < AVX2_WIDTH; j++) {
      const uint64_t v = j < cols ? b[p * ldb + j] : 0;
      panel[p * AVX2_PANEL_WORDS + j] = v;
      panel[p * AVX2_PANEL_WORDS + 4 + j] = (v >> 32) | (v << 32);
    }
}

/* lo + (cross_lo + cross_hi) << 32, where cross holds the two 32-bit cross-product sums of each lane. */
static inline __m256i fold(__m256i lo, __m256i cross) {
  const __m256i high_dword = _mm256_set1_epi64x((long long)0xffffffff00000000ull);
  return _mm256_add_epi64(lo, _mm256_add_epi64(_mm256_slli_epi64(cross, 32), _mm256_and_si256(cross, high_dword)));
}

#define AVX2_STEP(r)                                                                                                   \
  do {                                                                                                                 \
    const __m256i a##r = _mm256_set1_epi64x((long long)a_rows[r][p]);                                                  \
    lo##r = _mm256_add_epi64(lo##r, _mm256_mul_epu32(a##r, b));                                                        \
    cr##r = _mm256_add_epi32(cr##r, _mm256_mullo_epi32(a##r, bs));                                                     \
  } while (0)

static void tile_avx2(uint64_t *c, size_t ldc, const uint64_t *const *a_rows, const uint64_t *panel, size_t kc,
                      size_t rows, size_t cols) {
  __m256i lo0 = _mm256_setzero_si256(), lo1 = lo0, lo2 = lo0, lo3 = lo0, lo4 = lo0, lo5 = lo0;
  __m256i cr0 = lo0, cr1 = lo0, cr2 = lo0, cr3 = lo0, cr4 = lo0, cr5 = lo0;
  for (size_t p = 0; p < kc; p++) {
    const __m256i b = _mm256_load_si256((const __m256i *)(panel + p * AVX2_PANEL_WORDS));
    const __m256i bs = _mm256_load_si256((const __m256i *)(panel + p * AVX2_PANEL_WORDS + 4));
    AVX2_STEP(0);
    AVX2_STEP(1);
    AVX2_STEP(2);
    AVX2_STEP(3);
    AVX2_STEP(4);
    AVX2_STEP(5);
  }
  const __m256i sums[GEMM_MR] = {fold(lo0, cr0), fold(lo1, cr1), fold(lo2, cr2),
                                 fold(lo3, cr3), fold(lo4, cr4), fold(lo5, cr5)};
  if (rows == GEMM_MR && cols == AVX2_WIDTH) {
    for (size_t r = 0; r < GEMM_MR; r++) {
      __m256i *row = (__m256i *)(c + r * ldc);
      _mm256_storeu_si256(row, _mm256_add_epi64(_mm256_loadu_si256(row), sums[r]));
    }
    return;
  }
  _Alignas(32) uint64_t part[GEMM_MR][AVX2_WIDTH];
  for (size_t r = 0; r < rows; r++) {
    _mm256_store_si256((__m256i *)part[r], sums[r]);
    for (size_t j = 0; j < cols; j++) c[r * ldc + j] += part[r][j];
  }
}

void fsn_gemm_u64__avx2(uint64_t *c, const uint64_t *a, const uint64_t *b, size_t m, size_t n, size_t k) {
  gemm_blocked(c, a, b, m, n, k, AVX2_WIDTH, AVX2_PANEL_WORDS, tile_avx2, pack_avx2);
}
