/* Trunc kernels: every op at each level on 16 Ki elements (L1/L2) and on 64 MiB arrays (8 Mi elements). */
#include <stdio.h>
#include <stdlib.h>

#include "bench/bench.h"
#include "kernels/trunc/trunc_ops.h"

enum { SAR, SHR, MSB, DIV, SEXT, NOPS };
static const char *const op_names[NOPS] = {"sar", "shr", "msb", "div", "sext"};
static const double op_bytes[NOPS] = {16, 16, 8.125, 16, 16}; /* read + written per element */

#define ELL 37

/* Filled and touched once outside timing, shared by every benchmark (see bench_ring.c). */
static struct {
  uint64_t *x, *z;
  uint8_t *bits;
  size_t cap;
} pool;

static int pool_reserve(size_t n) {
  if (n <= pool.cap) return 1;
  free(pool.x), free(pool.z), free(pool.bits);
  pool.x = aligned_alloc(64, n * 8), pool.z = aligned_alloc(64, n * 8), pool.bits = aligned_alloc(64, n / 8 + 64);
  if (!pool.x || !pool.z || !pool.bits) return pool.cap = 0, 0;
  for (size_t i = 0; i < n; i++) pool.x[i] = (i * 0x9e3779b97f4a7c15ull) & fsn_ring_mask(ELL), pool.z[i] = 0;
  for (size_t i = 0; i < n / 8 + 64; i++) pool.bits[i] = 0;
  pool.cap = n;
  return 1;
}

static void trunc_op(fsn_bench_state *st, const fsn_bench_args *a) {
  size_t n = (size_t)a->n;
  if (!pool_reserve(n)) {
    fsn_bench_skip(st, "out of memory");
    return;
  }
  const fsn_trunc_impl *k = FSN_BENCH_IMPL(trunc, a);
  while (fsn_bench_running(st)) {
    switch ((int)a->m) {
    case SAR: k->sar(pool.z, pool.x, n, ELL, 12); break;
    case SHR: k->shr(pool.z, pool.x, n, ELL, 12); break;
    case MSB: k->msb(pool.bits, pool.x, n, ELL); break;
    case DIV: k->div(pool.z, pool.x, 9, n, ELL); break; /* a 3 x 3 average pool */
    case SEXT: k->sext(pool.z, pool.x, n, ELL); break;
    }
  }
  fsn_bench_bytes_per_iter(st, op_bytes[a->m] * (double)n);
  fsn_bench_items_per_iter(st, (double)n);
}

void fsn_bench_register_trunc(void) {
  static const struct {
    int64_t n;
    const char *label;
  } sizes[] = {{1 << 14, "16384"}, {1 << 23, "8388608"}};
  char name[64];
  for (int op = 0; op < NOPS; op++) {
    snprintf(name, sizeof name, "trunc/%s", op_names[op]);
    for (int s = 0; s < 2; s++)
      FSN_BENCH_ADD_VARIANTS(trunc, name, trunc_op, (fsn_bench_args){.n = sizes[s].n, .m = op}, 0, sizes[s].label);
  }
}
