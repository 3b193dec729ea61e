/* Ring kernels: every op at each level on an L1/L2-sized array (16 Ki elements) and on 64 MiB arrays (8 Mi
 * elements, DRAM). Throughput is bytes moved (reads + writes) per second, to compare with peak/memcpy. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/bench.h"
#include "kernels/ring/ring_ops.h"

enum { ADD, SUB, NEG, MUL, SCALE, AXPY, REDUCE, SUM, ENCODE, DECODE, NOPS };
static const char *const op_names[NOPS] = {"add",  "sub",    "neg", "mul",    "scale",
                                           "axpy", "reduce", "sum", "encode", "decode"};
/* Bytes read + written per element. */
static const double op_bytes[NOPS] = {24, 24, 16, 24, 16, 24, 16, 8, 16, 16};

#define ELL 37
#define S   12

/* Inputs are allocated, filled and touched once, outside timing (first-touch page faults would dominate the 64 MiB
 * case), and shared by every benchmark; arrays of the largest size registered, smaller runs use a prefix. */
static struct {
  uint64_t *x, *y, *z;
  double *d;
  size_t cap;
} pool;

static int pool_reserve(size_t n) {
  if (n <= pool.cap) return 1;
  free(pool.x), free(pool.y), free(pool.z), free(pool.d);
  pool.x = aligned_alloc(64, n * 8), pool.y = aligned_alloc(64, n * 8), pool.z = aligned_alloc(64, n * 8);
  pool.d = aligned_alloc(64, n * 8);
  if (!pool.x || !pool.y || !pool.z || !pool.d) return pool.cap = 0, 0;
  const uint64_t mask = fsn_ring_mask(ELL);
  for (size_t i = 0; i < n; i++) {
    pool.x[i] = (i * 0x9e3779b97f4a7c15ull) & mask, pool.y[i] = ~i & mask, pool.z[i] = 0;
    pool.d[i] = sin((double)i) * 1000.0;
  }
  pool.cap = n;
  return 1;
}

static void ring_op(fsn_bench_state *st, const fsn_bench_args *a) {
  size_t n = (size_t)a->n;
  if (!pool_reserve(n)) {
    fsn_bench_skip(st, "out of memory");
    return;
  }
  const fsn_ring_impl *k = FSN_BENCH_IMPL(ring, a);
  uint64_t *x = pool.x, *y = pool.y, *z = pool.z, out;
  double *d = pool.d;
  while (fsn_bench_running(st)) {
    switch ((int)a->m) {
    case ADD: k->add(z, x, y, n, ELL); break;
    case SUB: k->sub(z, x, y, n, ELL); break;
    case NEG: k->neg(z, x, n, ELL); break;
    case MUL: k->mul(z, x, y, n, ELL); break;
    case SCALE: k->scale(z, x, 0x123456789ull, n, ELL); break;
    case AXPY: k->axpy(z, x, 0x123456789ull, n, ELL); break;
    case REDUCE: k->reduce(z, x, n, ELL); break;
    case SUM: k->sum(&out, x, n, ELL), z[0] = out; break;
    case ENCODE: k->encode(z, d, n, ELL, S); break;
    case DECODE: k->decode(d, x, n, ELL, S); break;
    }
  }
  fsn_bench_bytes_per_iter(st, op_bytes[a->m] * (double)n);
  fsn_bench_items_per_iter(st, (double)n);
}

void fsn_bench_register_ring(void) {
  static const struct {
    int64_t n;
    const char *label;
  } sizes[] = {{1 << 14, "16384"}, {1 << 23, "8388608"}};
  char name[64];
  for (int op = 0; op < NOPS; op++) {
    snprintf(name, sizeof name, "ring/%s", op_names[op]);
    for (int s = 0; s < 2; s++)
      FSN_BENCH_ADD_VARIANTS(ring, name, ring_op, (fsn_bench_args){.n = sizes[s].n, .m = op}, 0, sizes[s].label);
  }
}
