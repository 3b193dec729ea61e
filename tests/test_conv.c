/* conv2d and pooling: the oracle and every runnable variant against a naive 7-loop convolution, each variant
 * against the oracle bit for bit (guarded, misaligned buffers), ResNet-like shapes, and signed-max semantics. */
#include <stdlib.h>
#include <string.h>

#include "kernels/conv/conv_ops.h"
#include "tests/common/fsn_kernel_shapes.h"

/* fsn_test_buf_check asserts once per canary byte, and each assert costs Check a pipe write; scan first and let it
 * report only when a canary really changed. */
static void check_guards(const fsn_test_buf *b) {
  int intact = 1;
  for (const unsigned char *p = b->base; p < b->data; p++) intact &= *p == 0xa5;
  for (const unsigned char *p = b->data + b->size; p < b->base + b->total; p++) intact &= *p == 0xa5;
  if (!intact) fsn_test_buf_check(b);
}

typedef void (*conv_fn)(uint64_t *, const uint64_t *, const uint64_t *, const uint64_t *, const fsn_conv2d_shape *,
                        void *);
typedef void (*pool_fn)(uint64_t *, const uint64_t *, const fsn_pool_shape *, unsigned);

/* The definition, loop for loop: batch, out channel, out row, out column, in channel, kernel row, kernel column. */
static void naive_conv(uint64_t *out, const uint64_t *in, const uint64_t *w, const uint64_t *bias,
                       const fsn_conv2d_shape *s) {
  const size_t oh_n = fsn_conv2d_out_h(s), ow_n = fsn_conv2d_out_w(s);
  for (size_t b = 0; b < s->batch; b++)
    for (size_t o = 0; o < s->out_c; o++)
      for (size_t oh = 0; oh < oh_n; oh++)
        for (size_t ow = 0; ow < ow_n; ow++) {
          uint64_t acc = bias ? bias[o] : 0;
          for (size_t c = 0; c < s->in_c; c++)
            for (size_t kh = 0; kh < s->k_h; kh++)
              for (size_t kw = 0; kw < s->k_w; kw++) {
                long ih = (long)(oh * s->stride_h + kh) - (long)s->pad_h;
                long iw = (long)(ow * s->stride_w + kw) - (long)s->pad_w;
                if (ih < 0 || iw < 0 || ih >= (long)s->in_h || iw >= (long)s->in_w) continue;
                acc += w[((o * s->in_c + c) * s->k_h + kh) * s->k_w + kw] *
                       in[((b * s->in_c + c) * s->in_h + (size_t)ih) * s->in_w + (size_t)iw];
              }
          out[((b * s->out_c + o) * oh_n + oh) * ow_n + ow] = acc;
        }
}

/* Run `fn` on guarded, misaligned buffers (scratch 64-byte aligned as documented) and compare with the naive loop. */
static void check_conv(conv_fn fn, const fsn_conv2d_shape *s, int with_bias, size_t off) {
  const size_t in_n = s->batch * s->in_c * s->in_h * s->in_w, w_n = s->out_c * s->in_c * s->k_h * s->k_w;
  const size_t out_n = s->batch * s->out_c * fsn_conv2d_out_h(s) * fsn_conv2d_out_w(s);
  const size_t scratch_n = fsn_conv2d_scratch_bytes(s);
  fsn_test_buf bi, bw, bb, bo, bs;
  uint64_t *in = fsn_test_buf_alloc(&bi, in_n * 8, off), *w = fsn_test_buf_alloc(&bw, w_n * 8, off + 8);
  uint64_t *bias = fsn_test_buf_alloc(&bb, s->out_c * 8, off + 16), *out = fsn_test_buf_alloc(&bo, out_n * 8, off + 24);
  void *scratch = fsn_test_buf_alloc(&bs, scratch_n, 0);
  uint64_t *want = malloc(out_n * 8 + 8);
  fsn_test_fill_ring(in, in_n, 64);
  fsn_test_fill_ring(w, w_n, 64);
  fsn_test_fill_ring(bias, s->out_c, 64);
  fsn_test_fill(out, out_n * 8); /* overwritten, never accumulated */
  fsn_test_fill(scratch, scratch_n);
  naive_conv(want, in, w, with_bias ? bias : NULL, s);
  fn(out, in, w, with_bias ? bias : NULL, s, scratch);
  size_t i = 0; /* find the first mismatch, then assert once: every ck_assert costs Check a pipe write */
  while (i < out_n && out[i] == want[i]) i++;
  if (i < out_n)
    ck_abort_msg("conv %zux%zux%zux%zu -> %zu, k %zux%zu, stride %zu,%zu, pad %zu,%zu, bias %d: out[%zu] = %#llx, "
                 "want %#llx",
                 s->batch, s->in_c, s->in_h, s->in_w, s->out_c, s->k_h, s->k_w, s->stride_h, s->stride_w, s->pad_h,
                 s->pad_w, with_bias, i, (unsigned long long)out[i], (unsigned long long)want[i]);
  check_guards(&bi);
  check_guards(&bw);
  check_guards(&bb);
  check_guards(&bo);
  check_guards(&bs);
  fsn_test_buf_free(&bi);
  fsn_test_buf_free(&bw);
  fsn_test_buf_free(&bb);
  fsn_test_buf_free(&bo);
  fsn_test_buf_free(&bs);
  free(want);
}

static conv_fn ref_conv(void) { return fsn_conv_impl_for(FSN_ISA_REF)->conv2d; }
static conv_fn active_conv(void) { return FSN_TEST_IMPL(conv)->conv2d; }

/* Small random shapes: every kernel size 1..3 (and 5), stride 1..2, padding 0..2, widths that leave every tail. */
FSN_VARIANT_TEST(small_shapes_match_naive, conv) {
  for (int trial = 0; trial < 300; trial++) {
    uint64_t r = fsn_test_rand();
    fsn_conv2d_shape s = {.batch = 1 + r % 2,
                          .in_c = 1 + (r >> 2) % 3,
                          .in_h = 1 + (r >> 4) % 9,
                          .in_w = 1 + (r >> 8) % 19,
                          .out_c = 1 + (r >> 13) % 9,
                          .k_h = 1 + (r >> 17) % 3,
                          .k_w = (r >> 19) % 5 == 4 ? 5 : 1 + (r >> 19) % 3,
                          .stride_h = 1 + (r >> 22) % 2,
                          .stride_w = 1 + (r >> 23) % 2,
                          .pad_h = (r >> 24) % 3,
                          .pad_w = (r >> 26) % 3};
    if (s.pad_h >= s.k_h) s.pad_h = s.k_h - 1;
    if (s.pad_w >= s.k_w) s.pad_w = s.k_w - 1;
    if (trial % 5 == 0) s.k_h = s.k_w = s.stride_h = s.stride_w = 1, s.pad_h = s.pad_w = 0; /* pointwise path */
    check_conv(ref_conv(), &s, (int)(r >> 30) & 1, 0);
    check_conv(active_conv(), &s, (int)(r >> 31) & 1, 8 * (size_t)(trial % 8));
  }
}
END_TEST

/* ResNet-like layers at reduced size: 3x3 stride 1 and 2, 1x1 projections (stride 1 and 2), the 7x7 stem. */
FSN_VARIANT_TEST(resnet_shapes_match_naive, conv) {
  const fsn_conv2d_shape shapes[] = {
      {.batch = 1,
       .in_c = 64,
       .in_h = 14,
       .in_w = 14,
       .out_c = 64,
       .k_h = 3,
       .k_w = 3,
       .stride_h = 1,
       .stride_w = 1,
       .pad_h = 1,
       .pad_w = 1},
      {.batch = 1,
       .in_c = 64,
       .in_h = 14,
       .in_w = 14,
       .out_c = 32,
       .k_h = 3,
       .k_w = 3,
       .stride_h = 2,
       .stride_w = 2,
       .pad_h = 1,
       .pad_w = 1},
      {.batch = 2, .in_c = 64, .in_h = 14, .in_w = 14, .out_c = 72, .k_h = 1, .k_w = 1, .stride_h = 1, .stride_w = 1},
      {.batch = 1, .in_c = 64, .in_h = 14, .in_w = 14, .out_c = 40, .k_h = 1, .k_w = 1, .stride_h = 2, .stride_w = 2},
      {.batch = 2,
       .in_c = 3,
       .in_h = 30,
       .in_w = 30,
       .out_c = 16,
       .k_h = 7,
       .k_w = 7,
       .stride_h = 2,
       .stride_w = 2,
       .pad_h = 3,
       .pad_w = 3},
      {.batch = 2,
       .in_c = 16,
       .in_h = 7,
       .in_w = 7,
       .out_c = 24,
       .k_h = 3,
       .k_w = 3,
       .stride_h = 1,
       .stride_w = 1,
       .pad_h = 1,
       .pad_w = 1},
  };
  for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
    check_conv(active_conv(), &shapes[i], (int)i & 1, 8);
    check_conv(active_conv(), &shapes[i], !((int)i & 1), 0);
  }
  check_conv(ref_conv(), &shapes[0], 1, 0);
  check_conv(ref_conv(), &shapes[4], 1, 0);
}
END_TEST

START_TEST(shape_helpers) {
  fsn_conv2d_shape s = {.batch = 1,
                        .in_c = 3,
                        .in_h = 224,
                        .in_w = 224,
                        .out_c = 64,
                        .k_h = 7,
                        .k_w = 7,
                        .stride_h = 2,
                        .stride_w = 2,
                        .pad_h = 3,
                        .pad_w = 3};
  ck_assert_uint_eq(fsn_conv2d_out_h(&s), 112);
  ck_assert_uint_eq(fsn_conv2d_out_w(&s), 112);
  ck_assert_uint_eq(fsn_conv2d_scratch_bytes(&s), 3 * 49 * 112 * 112 * 8);
  s = (fsn_conv2d_shape){
      .batch = 1, .in_c = 8, .in_h = 5, .in_w = 5, .out_c = 8, .k_h = 1, .k_w = 1, .stride_h = 1, .stride_w = 1};
  ck_assert_uint_eq(fsn_conv2d_scratch_bytes(&s), 0);
  fsn_pool_shape p = {.batch = 1,
                      .channels = 64,
                      .in_h = 112,
                      .in_w = 112,
                      .k_h = 3,
                      .k_w = 3,
                      .stride_h = 2,
                      .stride_w = 2,
                      .pad_h = 1,
                      .pad_w = 1};
  ck_assert_uint_eq(fsn_pool_out_h(&p), 56);
  ck_assert_uint_eq(fsn_pool_out_w(&p), 56);
  p.in_h = 2, p.pad_h = 0;
  ck_assert_uint_eq(fsn_pool_out_h(&p), 0); /* window larger than the input */
}
END_TEST

FSN_VARIANT_TEST(im2col_matches_ref, conv) {
  for (int trial = 0; trial < 100; trial++) {
    uint64_t r = fsn_test_rand();
    fsn_conv2d_shape s = {.batch = 1,
                          .in_c = 1 + r % 3,
                          .in_h = 1 + (r >> 3) % 9,
                          .in_w = 1 + (r >> 7) % 19,
                          .out_c = 1,
                          .k_h = 1 + (r >> 12) % 3,
                          .k_w = 1 + (r >> 14) % 3,
                          .stride_h = 1 + (r >> 16) % 2,
                          .stride_w = 1 + (r >> 17) % 3,
                          .pad_h = (r >> 19) % 3,
                          .pad_w = (r >> 21) % 3};
    const size_t in_n = s.in_c * s.in_h * s.in_w;
    const size_t cols_n = s.in_c * s.k_h * s.k_w * fsn_conv2d_out_h(&s) * fsn_conv2d_out_w(&s);
    fsn_test_buf bi, bc;
    uint64_t *in = fsn_test_buf_alloc(&bi, in_n * 8, 8), *cols = fsn_test_buf_alloc(&bc, cols_n * 8, 16);
    uint64_t *want = malloc(cols_n * 8 + 8);
    fsn_test_fill(in, in_n * 8);
    fsn_conv_impl_for(FSN_ISA_REF)->im2col(want, in, &s);
    FSN_TEST_IMPL(conv)->im2col(cols, in, &s);
    ck_assert_msg(cols_n == 0 || !memcmp(cols, want, cols_n * 8), "im2col trial %d", trial);
    check_guards(&bi);
    check_guards(&bc);
    fsn_test_buf_free(&bi);
    fsn_test_buf_free(&bc);
    free(want);
  }
}
END_TEST

/* Pooling: every ell, widths that leave every tail, window/stride/padding mixes including ResNet's 3x3/2 pad 1. */
static void check_pool(pool_fn ref, pool_fn simd, const char *name) {
  for (size_t e = 0; e < FSN_TEST_NELLS; e++) {
    const unsigned ell = fsn_test_ells[e];
    for (int trial = 0; trial < 60; trial++) {
      uint64_t r = fsn_test_rand();
      fsn_pool_shape s = {.batch = 1 + r % 2,
                          .channels = 1 + (r >> 1) % 3,
                          .in_h = 1 + (r >> 3) % 8,
                          .in_w = 1 + (r >> 6) % (fsn_test_tail_max(8) * 2 + 3),
                          .k_h = 1 + (r >> 12) % 3,
                          .k_w = 1 + (r >> 14) % 3,
                          .stride_h = 1 + (r >> 16) % 2,
                          .stride_w = 1 + (r >> 17) % 3,
                          .pad_h = (r >> 19) % 2,
                          .pad_w = (r >> 20) % 2};
      if (trial % 4 == 0) s.k_h = s.k_w = 3, s.stride_h = s.stride_w = 2, s.pad_h = s.pad_w = 1;
      if (s.pad_h >= s.k_h) s.pad_h = 0;
      if (s.pad_w >= s.k_w) s.pad_w = 0;
      const size_t in_n = s.batch * s.channels * s.in_h * s.in_w;
      const size_t out_n = s.batch * s.channels * fsn_pool_out_h(&s) * fsn_pool_out_w(&s);
      fsn_test_buf bi, bo;
      uint64_t *in = fsn_test_buf_alloc(&bi, in_n * 8, 8 * (size_t)(trial % 8));
      uint64_t *out = fsn_test_buf_alloc(&bo, out_n * 8, 24);
      uint64_t *want = malloc(out_n * 8 + 8);
      fsn_test_fill_ring(in, in_n, ell);
      ref(want, in, &s, ell);
      simd(out, in, &s, ell);
      ck_assert_msg(out_n == 0 || !memcmp(out, want, out_n * 8),
                    "%s ell=%u %zux%zux%zux%zu k %zux%zu stride %zu,%zu pad %zu,%zu", name, ell, s.batch, s.channels,
                    s.in_h, s.in_w, s.k_h, s.k_w, s.stride_h, s.stride_w, s.pad_h, s.pad_w);
      check_guards(&bi);
      check_guards(&bo);
      fsn_test_buf_free(&bi);
      fsn_test_buf_free(&bo);
      free(want);
    }
  }
}

FSN_VARIANT_TEST(maxpool_matches_ref, conv) {
  check_pool(fsn_conv_impl_for(FSN_ISA_REF)->maxpool2d, FSN_TEST_IMPL(conv)->maxpool2d, "maxpool");
}
END_TEST

FSN_VARIANT_TEST(sumpool_matches_ref, conv) {
  check_pool(fsn_conv_impl_for(FSN_ISA_REF)->sumpool2d, FSN_TEST_IMPL(conv)->sumpool2d, "sumpool");
}
END_TEST

FSN_VARIANT_TEST(global_sumpool_matches_ref, conv) {
  const fsn_conv_impl *ref = fsn_conv_impl_for(FSN_ISA_REF), *simd = FSN_TEST_IMPL(conv);
  for (size_t e = 0; e < FSN_TEST_NELLS; e++)
    for (size_t hw = 0; hw <= 4 * fsn_test_tail_max(8) + 3; hw++)
      for (size_t planes = 1; planes <= 3; planes++) {
        fsn_test_buf bi, bo;
        uint64_t *in = fsn_test_buf_alloc(&bi, planes * hw * 8, 8 * (hw % 8));
        uint64_t *out = fsn_test_buf_alloc(&bo, planes * 8, 16), want[3];
        fsn_test_fill_ring(in, planes * hw, fsn_test_ells[e]);
        ref->global_sumpool(want, in, planes, hw, fsn_test_ells[e]);
        simd->global_sumpool(out, in, planes, hw, fsn_test_ells[e]);
        ck_assert_msg(!memcmp(out, want, planes * 8), "global_sumpool ell=%u hw=%zu planes=%zu", fsn_test_ells[e], hw,
                      planes);
        check_guards(&bi);
        check_guards(&bo);
        fsn_test_buf_free(&bi);
        fsn_test_buf_free(&bo);
      }
}
END_TEST

START_TEST(pool_known_answers) {
  /* ell = 8: 0xff is -1 and 0x80 is -128, so the max of {0xff, 0x80, 0x01, 0x7e} is 0x7e, and of {0xff, 0x80} 0xff. */
  const uint64_t in[4] = {0xff, 0x80, 0x01, 0x7e};
  uint64_t out[4];
  fsn_pool_shape s = {
      .batch = 1, .channels = 1, .in_h = 2, .in_w = 2, .k_h = 2, .k_w = 2, .stride_h = 2, .stride_w = 2};
  fsn_maxpool2d(out, in, &s, 8);
  ck_assert_uint_eq(out[0], 0x7e);
  s.k_h = 1, s.in_h = 1;
  fsn_maxpool2d(out, in, &s, 8);
  ck_assert_uint_eq(out[0], 0xff);
  /* Padding is skipped, not read as 0: a window of negatives and padding keeps its negative max. */
  const uint64_t neg[1] = {0xf0};
  fsn_pool_shape p = {.batch = 1,
                      .channels = 1,
                      .in_h = 1,
                      .in_w = 1,
                      .k_h = 3,
                      .k_w = 3,
                      .stride_h = 1,
                      .stride_w = 1,
                      .pad_h = 1,
                      .pad_w = 1};
  fsn_maxpool2d(out, neg, &p, 8);
  ck_assert_uint_eq(out[0], 0xf0);
  fsn_sumpool2d(out, in,
                &(fsn_pool_shape){
                    .batch = 1, .channels = 1, .in_h = 2, .in_w = 2, .k_h = 2, .k_w = 2, .stride_h = 1, .stride_w = 1},
                8);
  ck_assert_uint_eq(out[0], (0xff + 0x80 + 0x01 + 0x7e) & 0xff);
  fsn_global_sumpool(out, in, 2, 2, 64);
  ck_assert_uint_eq(out[0], 0x17f);
  ck_assert_uint_eq(out[1], 0x7f);
}
END_TEST

/* Planes whose sum leaves the signed 64-bit range wrap mod 2^64 without signed overflow (see test_ring.c). */
START_TEST(global_sumpool_wraps_without_signed_overflow) {
  uint64_t in[2 * 24], out[2];
  for (size_t i = 0; i < 2 * 24; i++) in[i] = i < 24 ? (uint64_t)1 << 62 : UINT64_MAX;
  fsn_global_sumpool(out, in, 2, 24, 64);
  ck_assert_uint_eq(out[0], 0);
  ck_assert_uint_eq(out[1], (uint64_t)0 - 24);
}
END_TEST

int main(void) {
  Suite *s = suite_create("conv");
  TCase *tc = tcase_create("conv");
  FSN_ADD_VARIANT_TEST(tc, small_shapes_match_naive, conv);
  FSN_ADD_VARIANT_TEST(tc, resnet_shapes_match_naive, conv);
  tcase_add_test(tc, shape_helpers);
  FSN_ADD_VARIANT_TEST(tc, im2col_matches_ref, conv);
  FSN_ADD_VARIANT_TEST(tc, maxpool_matches_ref, conv);
  FSN_ADD_VARIANT_TEST(tc, sumpool_matches_ref, conv);
  FSN_ADD_VARIANT_TEST(tc, global_sumpool_matches_ref, conv);
  tcase_add_test(tc, pool_known_answers);
  tcase_add_test(tc, global_sumpool_wraps_without_signed_overflow);
  suite_add_tcase(s, tc);
  return fsn_test_main(s);
}
