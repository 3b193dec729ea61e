/* GEMM over Z_2^64 at each level: the square 256^3 shape and the im2col shapes of ResNet-50's 3x3 convolutions
 * (m = out channels, n = out pixels, k = 9 x in channels; all four are 115.6 M multiply-adds). Items are
 * multiply-adds. Wall-clock time: OpenMP runs inside on every thread, so items/s divides by peak/mul_add_l1_threads
 * (the peak loop on the same threads), or by peak/mul_add_l1 after dividing by the `threads` counter. */
#ifdef _OPENMP
#include <omp.h>
#endif
#include <stdio.h>
#include <stdlib.h>

#include "bench/bench.h"
#include "kernels/gemm/gemm_ops.h"

static uint64_t *random_words(size_t n, uint64_t seed) {
  uint64_t *p = malloc(n * sizeof *p + 64);
  for (size_t i = 0; i < n; i++) p[i] = (seed += 0x9e3779b97f4a7c15ull) * 0xbf58476d1ce4e5b9ull;
  return p;
}

static void gemm_u64(fsn_bench_state *st, const fsn_bench_args *a) {
  const size_t m = (size_t)a->m, n = (size_t)a->n, k = (size_t)a->k;
  uint64_t *x = random_words(m * k, 1), *y = random_words(k * n, 2), *z = random_words(m * n, 3);
  void (*gemm)(uint64_t *, const uint64_t *, const uint64_t *, size_t, size_t, size_t) = FSN_BENCH_IMPL(gemm, a)->u64;
  while (fsn_bench_running(st)) gemm(z, x, y, m, n, k);
  fsn_bench_items_per_iter(st, (double)m * (double)n * (double)k);
#ifdef _OPENMP
  fsn_bench_counter(st, "threads", omp_get_max_threads());
#else
  fsn_bench_counter(st, "threads", 1);
#endif
  free(x), free(y), free(z);
}

static void add_shape(int64_t m, int64_t n, int64_t k) {
  char size[64];
  snprintf(size, sizeof size, "%lldx%lldx%lld", (long long)m, (long long)n, (long long)k);
  FSN_BENCH_ADD_VARIANTS(gemm, "gemm/u64", gemm_u64, (fsn_bench_args){.m = m, .n = n, .k = k}, FSN_BENCH_REAL_TIME,
                         size);
}

void fsn_bench_register_gemm(void) {
  add_shape(256, 256, 256);
  add_shape(64, 3136, 576);  /* conv2_x: 64 -> 64 at 56 x 56 */
  add_shape(128, 784, 1152); /* conv3_x: 128 -> 128 at 28 x 28 */
  add_shape(256, 196, 2304); /* conv4_x: 256 -> 256 at 14 x 14 */
  add_shape(512, 49, 4608);  /* conv5_x: 512 -> 512 at 7 x 7 */
}
