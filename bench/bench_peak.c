/* Roofs for the kernels, family `peak`.
 * peak/memcpy/<bytes>: libc memcpy of `bytes` bytes, the roof for streaming ops; compare bytes moved per second (reads
 * + writes), so a copy of B bytes counts 2 B. At 64 MiB glibc copies with non-temporal stores, so this is the read +
 * write bandwidth of DRAM without write-allocate traffic.
 *
 * peak/mul_add_l1/<variant>: the L1/register-resident 64-bit multiply-add loop every GEMM and conv figure is
 * divided by (same binary, same run). Items are multiply-adds. mul_add_l1 runs on one thread; mul_add_l1_threads runs
 * it on every OpenMP thread at once (wall clock), the ceiling for the GEMM and conv rows, which use every thread too.
 */
#ifdef _OPENMP
#include <omp.h>
#endif
#include <stdlib.h>
#include <string.h>

#include "bench/bench.h"
#include "kernels/omp.h"
#include "kernels/peak/peak_ops.h"

enum { PEAK_ITERS = 4096 };

static void peak_mul_add(fsn_bench_state *st, const fsn_bench_args *a) {
  uint64_t acc[FSN_PEAK_LANES] = {0}, x[FSN_PEAK_LANES];
  for (size_t i = 0; i < FSN_PEAK_LANES; i++) x[i] = 0x9e3779b97f4a7c15ull * (i + 1);
  void (*loop)(uint64_t *, const uint64_t *, size_t) = FSN_BENCH_IMPL(peak, a)->mul_add_l1;
  while (fsn_bench_running(st)) loop(acc, x, PEAK_ITERS);
  fsn_bench_items_per_iter(st, (double)FSN_PEAK_LANES * PEAK_ITERS);
  fsn_bench_counter(st, "checksum_low_bit", (double)(acc[0] & 1)); /* keeps acc observable */
}

static int thread_count(void) {
#ifdef _OPENMP
  return omp_get_max_threads();
#else
  return 1;
#endif
}

/* Long enough per region (about 1 ms) that starting the threads costs nothing measurable. */
enum { PEAK_THREAD_ITERS = 64 * PEAK_ITERS };

static void peak_mul_add_threads(fsn_bench_state *st, const fsn_bench_args *a) {
  void (*loop)(uint64_t *, const uint64_t *, size_t) = FSN_BENCH_IMPL(peak, a)->mul_add_l1;
  const int threads = thread_count();
  uint64_t checksum = 0;
  while (fsn_bench_running(st)) {
    FSN_OMP("omp parallel reduction(^ : checksum)") {
      uint64_t acc[FSN_PEAK_LANES] = {0}, x[FSN_PEAK_LANES];
      for (size_t i = 0; i < FSN_PEAK_LANES; i++) x[i] = 0x9e3779b97f4a7c15ull * (i + 1);
      loop(acc, x, PEAK_THREAD_ITERS);
      checksum ^= acc[0];
    }
  }
  fsn_bench_items_per_iter(st, (double)threads * FSN_PEAK_LANES * PEAK_THREAD_ITERS);
  fsn_bench_counter(st, "threads", threads);
  fsn_bench_counter(st, "checksum_low_bit", (double)(checksum & 1));
}

static void register_compute(void) {
  FSN_BENCH_ADD_VARIANTS(peak, "peak/mul_add_l1", peak_mul_add, (fsn_bench_args){0}, 0, NULL);
  FSN_BENCH_ADD_VARIANTS(peak, "peak/mul_add_l1_threads", peak_mul_add_threads, (fsn_bench_args){0},
                         FSN_BENCH_REAL_TIME, NULL);
}

static void peak_memcpy(fsn_bench_state *st, const fsn_bench_args *a) {
  size_t bytes = (size_t)a->n;
  unsigned char *src = aligned_alloc(64, bytes), *dst = aligned_alloc(64, bytes);
  if (!src || !dst) {
    free(src), free(dst);
    fsn_bench_skip(st, "out of memory");
    return;
  }
  memset(src, 1, bytes), memset(dst, 2, bytes); /* first touch outside timing */
  while (fsn_bench_running(st)) {
    memcpy(dst, src, bytes);
    __asm__ volatile("" : : "r"(dst) : "memory"); /* the copy is observable */
  }
  fsn_bench_bytes_per_iter(st, 2.0 * (double)bytes);
  free(src), free(dst);
}

void fsn_bench_register_peak(void) {
  register_compute();
  fsn_bench_add("peak/memcpy/131072", peak_memcpy, (fsn_bench_args){.n = 131072}, 0);
  fsn_bench_add("peak/memcpy/67108864", peak_memcpy, (fsn_bench_args){.n = 67108864}, 0);
}
