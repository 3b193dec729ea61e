/* Bit-matrix kernels at each level: the 128 x 128 transpose, the bulk IKNP shapes (128 x m and m x 128), pack,
 * unpack and the bytewise XOR/AND, on L2-sized operands. */
#include <stdlib.h>
#include <string.h>

#include "bench/bench.h"
#include "kernels/bits/bits_ops.h"

static uint8_t *filled(size_t bytes) {
  uint8_t *p = malloc(bytes ? bytes : 1);
  for (size_t i = 0; i < bytes; i++) p[i] = (uint8_t)(i * 0x9e + (i >> 8));
  return p;
}

static void transpose128(fsn_bench_state *st, const fsn_bench_args *a) {
  uint8_t *in = filled(2048), *out = filled(2048);
  void (*op)(uint8_t *, const uint8_t *) = FSN_BENCH_IMPL(bits, a)->transpose128;
  while (fsn_bench_running(st)) op(out, in);
  fsn_bench_bytes_per_iter(st, 2048);
  free(in), free(out);
}

/* args.n x args.m bits. */
static void transpose(fsn_bench_state *st, const fsn_bench_args *a) {
  size_t rows = (size_t)a->n, cols = (size_t)a->m, bytes = rows * cols / 8;
  uint8_t *in = filled(bytes), *out = filled(bytes);
  void (*op)(uint8_t *, const uint8_t *, size_t, size_t) = FSN_BENCH_IMPL(bits, a)->transpose;
  while (fsn_bench_running(st)) op(out, in, rows, cols);
  fsn_bench_bytes_per_iter(st, (double)bytes);
  free(in), free(out);
}

static void pack(fsn_bench_state *st, const fsn_bench_args *a) {
  size_t n = (size_t)a->n;
  uint8_t *bits = filled(n), *packed = filled(n / 8);
  for (size_t i = 0; i < n; i++) bits[i] &= 1;
  void (*op)(uint8_t *, const uint8_t *, size_t) = FSN_BENCH_IMPL(bits, a)->pack;
  while (fsn_bench_running(st)) op(packed, bits, n);
  fsn_bench_items_per_iter(st, (double)n); /* bits */
  fsn_bench_bytes_per_iter(st, (double)n + (double)n / 8);
  free(bits), free(packed);
}

static void unpack(fsn_bench_state *st, const fsn_bench_args *a) {
  size_t n = (size_t)a->n;
  uint8_t *bits = filled(n), *packed = filled(n / 8);
  void (*op)(uint8_t *, const uint8_t *, size_t) = FSN_BENCH_IMPL(bits, a)->unpack;
  while (fsn_bench_running(st)) op(bits, packed, n);
  fsn_bench_items_per_iter(st, (double)n);
  fsn_bench_bytes_per_iter(st, (double)n + (double)n / 8);
  free(bits), free(packed);
}

static void bytewise(fsn_bench_state *st, const fsn_bench_args *a, int is_and) {
  size_t n = (size_t)a->n;
  uint8_t *x = filled(n), *y = filled(n), *z = filled(n);
  const fsn_bits_impl *impl = FSN_BENCH_IMPL(bits, a);
  void (*op)(uint8_t *, const uint8_t *, const uint8_t *, size_t) = is_and ? impl->and : impl->xor ;
  while (fsn_bench_running(st)) op(z, x, y, n);
  fsn_bench_bytes_per_iter(st, 3.0 * (double)n);
  free(x), free(y), free(z);
}

static void xor_bytes(fsn_bench_state *st, const fsn_bench_args *a) { bytewise(st, a, 0); }
static void and_bytes(fsn_bench_state *st, const fsn_bench_args *a) { bytewise(st, a, 1); }

void fsn_bench_register_bits(void) {
  FSN_BENCH_ADD_VARIANTS(bits, "bits/transpose128", transpose128, (fsn_bench_args){0}, 0, NULL);
  FSN_BENCH_ADD_VARIANTS(bits, "bits/transpose", transpose, (fsn_bench_args){.n = 128, .m = 65536}, 0, "128x65536");
  FSN_BENCH_ADD_VARIANTS(bits, "bits/transpose", transpose, (fsn_bench_args){.n = 65536, .m = 128}, 0, "65536x128");
  FSN_BENCH_ADD_VARIANTS(bits, "bits/pack", pack, (fsn_bench_args){.n = 1 << 16}, 0, "65536");
  FSN_BENCH_ADD_VARIANTS(bits, "bits/unpack", unpack, (fsn_bench_args){.n = 1 << 16}, 0, "65536");
  FSN_BENCH_ADD_VARIANTS(bits, "bits/xor", xor_bytes, (fsn_bench_args){.n = 1 << 16}, 0, "65536");
  FSN_BENCH_ADD_VARIANTS(bits, "bits/and", and_bytes, (fsn_bench_args){.n = 1 << 16}, 0, "65536");
}
