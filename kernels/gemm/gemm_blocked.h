/* The cache-blocked GEMM driver shared by the SIMD levels (included by gemm_avx2.c and gemm_avx512.c, compiled with
 * each level's flags). Only the register tile and the panel packing differ per level, so the AVX-512 path, which
 * cannot run on every test machine, shares all of its loop structure with the AVX2 path that does.
 *
 * Blocking (BLIS-style, with A read in place): C is split into work items of up to GEMM_MC rows x GEMM_NC columns,
 * the unit of OpenMP parallelism. Per item and per slice of GEMM_KC values of k, the GEMM_KC x GEMM_NC block of B is
 * packed into panels of `width` columns (one L2-resident buffer on the thread's stack); then each GEMM_MR-row
 * sliver of A (L1-resident, reused across the panels) meets each panel in the register tile. */
#ifndef FSN_KERNELS_GEMM_BLOCKED_H
#define FSN_KERNELS_GEMM_BLOCKED_H

#include "kernels/gemm/gemm_ops.h"
#include "kernels/omp.h"

enum { GEMM_MR = 6, GEMM_KC = 256, GEMM_NC = 64, GEMM_MC = 96 };

/* c[r * ldc + j] += sum_p a_rows[r][p] * panel(p, j) for r < rows, j < cols; a_rows has GEMM_MR valid pointers. */
typedef void (*gemm_tile_fn)(uint64_t *c, size_t ldc, const uint64_t *const *a_rows, const uint64_t *panel, size_t kc,
                             size_t rows, size_t cols);
/* Pack b (kc rows of `cols` <= width values, row stride ldb) into one panel, zero-filling columns >= cols. */
typedef void (*gemm_pack_fn)(uint64_t *panel, const uint64_t *b, size_t ldb, size_t kc, size_t cols);

static inline size_t gemm_min(size_t x, size_t y) { return x < y ? x : y; }

/* One work item: rows [i0, i1) x columns [j0, j1) of C, all of k. `panel_words` words per k step of a panel. */
static inline void gemm_item(uint64_t *c, const uint64_t *a, const uint64_t *b, size_t n, size_t k, size_t i0,
                             size_t i1, size_t j0, size_t j1, size_t width, size_t panel_words, uint64_t *packed,
                             gemm_tile_fn tile, gemm_pack_fn pack) {
  const size_t panels = (j1 - j0 + width - 1) / width;
  for (size_t p0 = 0; p0 < k; p0 += GEMM_KC) {
    const size_t kc = gemm_min(GEMM_KC, k - p0);
    for (size_t q = 0; q < panels; q++) {
      const size_t jq = j0 + q * width;
      pack(packed + q * kc * panel_words, b + p0 * n + jq, n, kc, gemm_min(width, j1 - jq));
    }
    for (size_t i = i0; i < i1; i += GEMM_MR) {
      const size_t rows = gemm_min(GEMM_MR, i1 - i);
      const uint64_t *a_rows[GEMM_MR];
      /* Rows past the edge re-read row i (always valid); the tile discards their results. */
      for (size_t r = 0; r < GEMM_MR; r++) a_rows[r] = a + (i + (r < rows ? r : 0)) * k + p0;
      for (size_t q = 0; q < panels; q++) {
        const size_t jq = j0 + q * width;
        tile(c + i * n + jq, n, a_rows, packed + q * kc * panel_words, kc, rows, gemm_min(width, j1 - jq));
      }
    }
  }
}

static inline void gemm_blocked(uint64_t *c, const uint64_t *a, const uint64_t *b, size_t m, size_t n, size_t k,
                                size_t width, size_t panel_words, gemm_tile_fn tile, gemm_pack_fn pack) {
  if (m == 0 || n == 0 || k == 0) return;
  const size_t row_items = (m + GEMM_MC - 1) / GEMM_MC, col_items = (n + GEMM_NC - 1) / GEMM_NC;
  const size_t items = row_items * col_items;
  const int parallel = items > 1 && m * n * k >= FSN_OMP_MIN_WORK;
  (void)parallel;
  FSN_OMP("omp parallel if (parallel)") {
    /* GEMM_NC is a multiple of every width, so a block is exactly GEMM_NC / width panels. */
    _Alignas(64) uint64_t packed[GEMM_KC * GEMM_NC * 2];
    FSN_OMP("omp for schedule(dynamic)")
    for (size_t t = 0; t < items; t++) {
      const size_t i0 = (t / col_items) * GEMM_MC, j0 = (t % col_items) * GEMM_NC;
      gemm_item(c, a, b, n, k, i0, gemm_min(m, i0 + GEMM_MC), j0, gemm_min(n, j0 + GEMM_NC), width, panel_words, packed,
                tile, pack);
    }
  }
}

#endif
