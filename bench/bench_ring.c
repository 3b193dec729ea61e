/* Ring kernels: every op at each level on an L2-sized and a DRAM-sized array. */
#include <stdlib.h>

#include "bench/bench.h"
#include "kernels/ring/ring_ops.h"

static void ring_add(fsn_bench_state *st, const fsn_bench_args *a) {
  size_t n = (size_t)a->n;
  uint64_t *x = malloc(n * 8), *y = malloc(n * 8), *z = malloc(n * 8);
  for (size_t i = 0; i < n; i++) x[i] = i * 0x9e3779b97f4a7c15ull, y[i] = ~i, z[i] = 0;
  void (*add)(uint64_t *, const uint64_t *, const uint64_t *, size_t, unsigned) = fsn_ring_impl_for(a->isa)->add;
  while (fsn_bench_running(st)) add(z, x, y, n, 37);
  fsn_bench_bytes_per_iter(st, 3.0 * 8 * (double)n); /* two reads, one write */
  fsn_bench_items_per_iter(st, (double)n);
  free(x), free(y), free(z);
}

void fsn_bench_register_ring(void) {
  fsn_bench_add_per_isa("ring/add", ring_add, (fsn_bench_args){.n = 1 << 14}, 0, "16384");
  fsn_bench_add_per_isa("ring/add", ring_add, (fsn_bench_args){.n = 1 << 23}, 0, "8388608");
}
