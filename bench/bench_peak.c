/* Roofs for the kernels, family `peak`. peak/memcpy/<bytes>: libc memcpy of `bytes` bytes, the roof for streaming
 * ops; compare bytes moved per second (reads + writes), so a copy of B bytes counts 2 B. At 64 MiB glibc copies with
 * non-temporal stores, so this is the read + write bandwidth of DRAM without write-allocate traffic. */
#include <stdlib.h>
#include <string.h>

#include "bench/bench.h"

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
  fsn_bench_add("peak/memcpy/131072", peak_memcpy, (fsn_bench_args){.n = 131072}, 0);
  fsn_bench_add("peak/memcpy/67108864", peak_memcpy, (fsn_bench_args){.n = 67108864}, 0);
}
