/* conv2d and pooling at each level on ResNet-50 shapes. conv2d items are multiply-adds (compare with the GEMM of the
 * same count, gemm/u64/<isa>/64x3136x576); pooling and im2col items are output values. */
#include <stdlib.h>

#include "bench/bench.h"
#include "kernels/conv/conv_ops.h"

static uint64_t *random_words(size_t n, uint64_t seed, uint64_t mask) {
  uint64_t *p = aligned_alloc(64, (n * sizeof *p + 64) / 64 * 64);
  for (size_t i = 0; i < n; i++) p[i] = ((seed += 0x9e3779b97f4a7c15ull) * 0xbf58476d1ce4e5b9ull) & mask;
  return p;
}

/* n = in/out channels, m = image side, k = kernel side (stride 1, "same" padding). */
static fsn_conv2d_shape conv_shape(const fsn_bench_args *a) {
  return (fsn_conv2d_shape){.batch = 1,
                            .in_c = (size_t)a->n,
                            .in_h = (size_t)a->m,
                            .in_w = (size_t)a->m,
                            .out_c = (size_t)a->n,
                            .k_h = (size_t)a->k,
                            .k_w = (size_t)a->k,
                            .stride_h = 1,
                            .stride_w = 1,
                            .pad_h = (size_t)a->k / 2,
                            .pad_w = (size_t)a->k / 2};
}

static void conv2d(fsn_bench_state *st, const fsn_bench_args *a) {
  const fsn_conv2d_shape s = conv_shape(a);
  const size_t out_n = s.out_c * fsn_conv2d_out_h(&s) * fsn_conv2d_out_w(&s), filter = s.in_c * s.k_h * s.k_w;
  uint64_t *in = random_words(s.in_c * s.in_h * s.in_w, 1, ~0ull), *w = random_words(s.out_c * filter, 2, ~0ull);
  uint64_t *bias = random_words(s.out_c, 3, ~0ull), *out = random_words(out_n, 4, ~0ull);
  void *scratch = random_words(fsn_conv2d_scratch_bytes(&s) / 8 + 1, 5, ~0ull);
  const fsn_conv_impl *impl = FSN_BENCH_IMPL(conv, a);
  while (fsn_bench_running(st)) impl->conv2d(out, in, w, bias, &s, scratch);
  fsn_bench_items_per_iter(st, (double)out_n * (double)filter);
  free(in), free(w), free(bias), free(out), free(scratch);
}

static void im2col(fsn_bench_state *st, const fsn_bench_args *a) {
  const fsn_conv2d_shape s = conv_shape(a);
  const size_t cols_n = fsn_conv2d_scratch_bytes(&s) / 8;
  uint64_t *in = random_words(s.in_c * s.in_h * s.in_w, 1, ~0ull), *cols = random_words(cols_n + 1, 2, ~0ull);
  const fsn_conv_impl *impl = FSN_BENCH_IMPL(conv, a);
  while (fsn_bench_running(st)) impl->im2col(cols, in, &s);
  fsn_bench_items_per_iter(st, (double)cols_n);
  fsn_bench_bytes_per_iter(st, 8.0 * (double)cols_n);
  free(in), free(cols);
}

/* ResNet-50's stem pooling: 64 x 112 x 112, 3 x 3 window, stride 2, padding 1, ell = 37. */
static const fsn_pool_shape stem_pool = {.batch = 1,
                                         .channels = 64,
                                         .in_h = 112,
                                         .in_w = 112,
                                         .k_h = 3,
                                         .k_w = 3,
                                         .stride_h = 2,
                                         .stride_w = 2,
                                         .pad_h = 1,
                                         .pad_w = 1};

static void pool(fsn_bench_state *st, const fsn_bench_args *a, int is_max) {
  const fsn_pool_shape *s = &stem_pool;
  const size_t out_n = s->batch * s->channels * fsn_pool_out_h(s) * fsn_pool_out_w(s);
  uint64_t *in = random_words(s->batch * s->channels * s->in_h * s->in_w, 1, (1ull << 37) - 1);
  uint64_t *out = random_words(out_n, 2, ~0ull);
  const fsn_conv_impl *impl = FSN_BENCH_IMPL(conv, a);
  while (fsn_bench_running(st)) (is_max ? impl->maxpool2d : impl->sumpool2d)(out, in, s, 37);
  fsn_bench_items_per_iter(st, (double)out_n);
  free(in), free(out);
}
static void maxpool2d(fsn_bench_state *st, const fsn_bench_args *a) { pool(st, a, 1); }
static void sumpool2d(fsn_bench_state *st, const fsn_bench_args *a) { pool(st, a, 0); }

/* ResNet-50's head: 2048 planes of 7 x 7. */
static void global_sumpool(fsn_bench_state *st, const fsn_bench_args *a) {
  const size_t planes = 2048, hw = 49;
  uint64_t *in = random_words(planes * hw, 1, (1ull << 37) - 1), *out = random_words(planes, 2, ~0ull);
  const fsn_conv_impl *impl = FSN_BENCH_IMPL(conv, a);
  while (fsn_bench_running(st)) impl->global_sumpool(out, in, planes, hw, 37);
  fsn_bench_items_per_iter(st, (double)planes * hw);
  free(in), free(out);
}

void fsn_bench_register_conv(void) {
  FSN_BENCH_ADD_VARIANTS(conv, "conv/conv2d", conv2d, (fsn_bench_args){.n = 64, .m = 56, .k = 3}, FSN_BENCH_REAL_TIME,
                         "3x3_64x56x56");
  FSN_BENCH_ADD_VARIANTS(conv, "conv/conv2d", conv2d, (fsn_bench_args){.n = 256, .m = 14, .k = 1}, FSN_BENCH_REAL_TIME,
                         "1x1_256x14x14");
  FSN_BENCH_ADD_VARIANTS(conv, "conv/im2col", im2col, (fsn_bench_args){.n = 64, .m = 56, .k = 3}, 0, "3x3_64x56x56");
  FSN_BENCH_ADD_VARIANTS(conv, "conv/maxpool2d", maxpool2d, (fsn_bench_args){0}, 0, "3x3s2_64x112x112");
  FSN_BENCH_ADD_VARIANTS(conv, "conv/sumpool2d", sumpool2d, (fsn_bench_args){0}, 0, "3x3s2_64x112x112");
  FSN_BENCH_ADD_VARIANTS(conv, "conv/global_sumpool", global_sumpool, (fsn_bench_args){0}, 0, "2048x49");
}
