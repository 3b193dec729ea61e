/* RLWE linear layers (protocol/he): the conv/FC encodings at plaintext level (schoolbook negacyclic products mod
 * 2^ell == fsn_conv2d bit for bit). */
#include <fusion/conv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/he/he_encode.h"
#include "tests/common/fsn_test.h"

static uint64_t mask_of(unsigned ell) { return ell == 64 ? ~0ull : (1ull << ell) - 1; }

/* acc += a * b in Z_2^ell[X] / (X^n + 1), schoolbook over the nonzero coefficients of b (filters are sparse). */
static void negacyclic_mul_acc(uint64_t *acc, const uint64_t *a, const uint64_t *b, size_t n, unsigned ell) {
  for (size_t j = 0; j < n; j++) {
    if (!b[j]) continue;
    for (size_t i = 0; i < n; i++) {
      uint64_t p = a[i] * b[j];
      if (i + j < n)
        acc[i + j] += p;
      else
        acc[i + j - n] -= p;
    }
  }
  for (size_t i = 0; i < n; i++) acc[i] &= mask_of(ell);
}

/* The layer at plaintext level through the encodings: y = decode(sum_b enc(x) enc(w)) for every item. */
static void encoded_layer(const fsn_he_layer *l, uint64_t *y, const uint64_t *x, const uint64_t *w, unsigned ell) {
  const size_t n = l->n, in_size = fsn_he_layer_in_size(l), out_size = fsn_he_layer_out_size(l);
  const size_t nin = fsn_he_layer_in_cts(l);
  uint64_t *in = malloc(nin * n * 8), *f = malloc(n * 8), *acc = malloc(n * 8);
  uint32_t *coeff = malloc(n * 4), *dest = malloc(n * 4);
  uint8_t *seen = calloc(out_size, 1);
  for (size_t item = 0; item < l->s.batch; item++) {
    for (size_t k = 0; k < nin; k++) fsn_he_layer_encode_input(l, in + k * n, x + item * in_size, k);
    memset(seen, 0, out_size);
    for (size_t g = 0; g < l->groups; g++)
      for (size_t u = 0; u < l->per_group; u++) {
        memset(acc, 0, n * 8);
        for (size_t b = 0; b < l->terms; b++) {
          fsn_he_layer_encode_filter(l, f, w, g, b);
          negacyclic_mul_acc(acc, in + (b * l->per_group + u) * n, f, n, ell);
        }
        size_t m = fsn_he_layer_outputs(l, g, u, coeff, dest);
        for (size_t i = 0; i < m; i++) {
          ck_assert_uint_lt(coeff[i], n);
          ck_assert_uint_lt(dest[i], out_size);
          ck_assert_msg(!seen[dest[i]], "output %u decoded twice", dest[i]);
          seen[dest[i]] = 1;
          y[item * out_size + dest[i]] = acc[coeff[i]];
        }
      }
    for (size_t i = 0; i < out_size; i++) ck_assert_msg(seen[i], "output %zu never decoded", i);
  }
  free(in), free(f), free(acc), free(coeff), free(dest), free(seen);
}

static const fsn_he_cost test_cost = {.in_bytes = 100, .out_fixed_bytes = 48, .out_coeff_bytes = 5};

static void check_conv_encoding(fsn_conv2d_shape s, size_t n, unsigned ell) {
  fsn_he_layer l;
  ck_assert_int_eq(fsn_he_layer_conv(&l, &s, n, &test_cost), FSN_OK);
  ck_assert_uint_le(l.cb * l.hb * l.wb, n);
  const size_t nx = s.batch * s.in_c * s.in_h * s.in_w, nw = s.out_c * s.in_c * s.k_h * s.k_w;
  const size_t ny = s.batch * s.out_c * fsn_conv2d_out_h(&s) * fsn_conv2d_out_w(&s);
  uint64_t *x = malloc(nx * 8), *w = malloc(nw * 8), *y = malloc(ny * 8), *want = malloc(ny * 8);
  void *scratch = aligned_alloc(64, (fsn_conv2d_scratch_bytes(&s) + 64) / 64 * 64);
  fsn_test_fill_ring(x, nx, ell);
  fsn_test_fill_ring(w, nw, ell);
  fsn_conv2d(want, x, w, NULL, &s, scratch);
  encoded_layer(&l, y, x, w, ell);
  for (size_t i = 0; i < ny; i++)
    ck_assert_msg(y[i] == (want[i] & mask_of(ell)), "conv C%zu H%zu W%zu O%zu k%zux%zu s%zu p%zu N%zu: y[%zu]", s.in_c,
                  s.in_h, s.in_w, s.out_c, s.k_h, s.k_w, s.stride_h, s.pad_h, n, i);
  free(x), free(w), free(y), free(want), free(scratch);
}

START_TEST(conv_encoding_matches_conv2d) {
  /* {batch, C, H, W, O, kh, kw, sh, sw, ph, pw}: one block; channel blocks; spatial tiles; padding; strides. */
  const fsn_conv2d_shape shapes[] = {
      {1, 1, 5, 5, 1, 3, 3, 1, 1, 0, 0},   {2, 3, 6, 7, 2, 3, 3, 1, 1, 1, 1},   {1, 16, 8, 8, 3, 3, 3, 1, 1, 1, 1},
      {1, 4, 20, 20, 2, 3, 3, 1, 1, 1, 1}, {1, 2, 17, 13, 2, 5, 5, 1, 1, 2, 2}, {1, 3, 16, 16, 2, 7, 7, 2, 2, 3, 3},
      {1, 8, 9, 9, 3, 3, 3, 2, 2, 1, 1},   {1, 6, 10, 11, 4, 1, 1, 1, 1, 0, 0}, {2, 5, 11, 9, 3, 1, 1, 2, 2, 0, 0},
      {1, 3, 8, 8, 2, 1, 1, 2, 3, 1, 1},   {1, 40, 4, 4, 2, 3, 3, 1, 1, 1, 1},  {1, 2, 12, 5, 2, 3, 2, 3, 1, 1, 0},
      {1, 1, 28, 28, 2, 5, 5, 1, 1, 0, 0}, {1, 64, 7, 7, 2, 3, 3, 1, 1, 1, 1},  {1, 9, 14, 14, 2, 3, 3, 2, 2, 1, 1},
  };
  const unsigned ells[] = {37, 20, 40, 64};
  for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
    for (size_t n = 64; n <= 1024; n *= 4) {
      fsn_conv2d_shape s = shapes[i];
      if (s.k_h * s.k_w > n) continue;
      check_conv_encoding(s, n, ells[(i + n) % 4]);
    }
  /* the protocol's ring degree on a few shapes */
  check_conv_encoding((fsn_conv2d_shape){1, 3, 24, 24, 2, 7, 7, 2, 2, 3, 3}, 4096, 37);
  check_conv_encoding((fsn_conv2d_shape){1, 70, 7, 7, 1, 3, 3, 1, 1, 1, 1}, 4096, 37);
}
END_TEST

START_TEST(conv_encoding_rejects_bad_shapes) {
  fsn_he_layer l;
  fsn_conv2d_shape too_big = {1, 1, 9, 9, 1, 9, 9, 1, 1, 0, 0}, no_stride = {1, 1, 5, 5, 1, 3, 3, 0, 1, 0, 0};
  ck_assert_int_eq(fsn_he_layer_conv(&l, &too_big, 64, &test_cost), FSN_E_INVALID);
  ck_assert_int_eq(fsn_he_layer_conv(&l, &no_stride, 64, &test_cost), FSN_E_INVALID);
  ck_assert_int_eq(fsn_he_layer_fc(&l, 1, 0, 3, 64, &test_cost), FSN_E_INVALID);
}
END_TEST

static void check_fc_encoding(size_t batch, size_t in, size_t out, size_t n, unsigned ell) {
  fsn_he_layer l;
  ck_assert_int_eq(fsn_he_layer_fc(&l, batch, in, out, n, &test_cost), FSN_OK);
  ck_assert_uint_le(l.ni * l.no, n);
  uint64_t *x = malloc(batch * in * 8), *w = malloc(in * out * 8), *y = malloc(batch * out * 8);
  fsn_test_fill_ring(x, batch * in, ell);
  fsn_test_fill_ring(w, in * out, ell);
  encoded_layer(&l, y, x, w, ell);
  for (size_t b = 0; b < batch; b++)
    for (size_t o = 0; o < out; o++) {
      uint64_t want = 0;
      for (size_t i = 0; i < in; i++) want += w[o * in + i] * x[b * in + i];
      ck_assert_msg(y[b * out + o] == (want & mask_of(ell)), "fc %zu -> %zu N%zu: y[%zu][%zu]", in, out, n, b, o);
    }
  free(x), free(w), free(y);
}

START_TEST(fc_encoding_matches_matvec) {
  check_fc_encoding(1, 20, 7, 64, 37);
  check_fc_encoding(3, 256, 100, 256, 37);
  check_fc_encoding(2, 100, 10, 64, 40);
  check_fc_encoding(1, 1000, 3, 256, 64);
  check_fc_encoding(1, 5, 300, 64, 20);
  check_fc_encoding(1, 2048, 10, 4096, 37);
}
END_TEST

int main(void) {
  Suite *s = suite_create("he");
  TCase *enc = tcase_create("encoding");
  tcase_set_timeout(enc, 300);
  tcase_add_test(enc, conv_encoding_matches_conv2d);
  tcase_add_test(enc, conv_encoding_rejects_bad_shapes);
  tcase_add_test(enc, fc_encoding_matches_matvec);
  suite_add_tcase(s, enc);
  return fsn_test_main(s);
}
