/* protocol/nn: the model graph (shape inference and its errors), quantisation, the model hash, the float engine
 * against plain loops, built-in architectures, and the fixed-point engine bit for bit against an independent naive
 * oracle written here (nested loops, no kernels). */
#include <fusion/nn.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tests/common/fsn_test.h"

/* ---- helpers ---- */

static float *random_floats(size_t n, double range) {
  float *v = malloc((n ? n : 1) * sizeof *v);
  for (size_t i = 0; i < n; i++) v[i] = (float)(range * (2.0 * (double)(fsn_test_rand() >> 11) * 0x1p-53 - 1.0));
  return v;
}

static size_t add_ok(fsn_model *m, fsn_layer_desc d) {
  size_t t = 0;
  fsn_status st = fsn_model_add(m, &d, &t);
  ck_assert_msg(st == FSN_OK, "add %s: %s", fsn_layer_kind_name(d.kind), fsn_last_error());
  return t;
}

static size_t add_conv(fsn_model *m, size_t in, size_t oc, size_t k, size_t stride, size_t pad, double range) {
  size_t ic = fsn_model_tensor_shape(m, in).c;
  float *w = random_floats(oc * ic * k * k, range), *b = random_floats(oc, range);
  size_t t = add_ok(m, (fsn_layer_desc){.kind = FSN_LAYER_CONV,
                                        .in = in,
                                        .out_c = oc,
                                        .k_h = k,
                                        .k_w = k,
                                        .stride_h = stride,
                                        .stride_w = stride,
                                        .pad_h = pad,
                                        .pad_w = pad,
                                        .weight = w,
                                        .bias = b});
  free(w);
  free(b);
  return t;
}

static size_t add_fc(fsn_model *m, size_t in, size_t out, double range) {
  fsn_shape s = fsn_model_tensor_shape(m, in);
  size_t f = s.c * s.h * s.w;
  float *w = random_floats(out * f, range), *b = random_floats(out, range);
  size_t t = add_ok(m, (fsn_layer_desc){.kind = FSN_LAYER_FC, .in = in, .out_c = out, .weight = w, .bias = b});
  free(w);
  free(b);
  return t;
}

static void expect_add_error(fsn_model *m, fsn_layer_desc d, fsn_status want, const char *fragment) {
  size_t before = fsn_model_num_layers(m);
  fsn_status st = fsn_model_add(m, &d, NULL);
  ck_assert_msg(st == want, "expected %d, got %d (%s)", want, st, fsn_last_error());
  ck_assert_msg(strstr(fsn_last_error(), fragment), "message '%s' lacks '%s'", fsn_last_error(), fragment);
  ck_assert_uint_eq(fsn_model_num_layers(m), before);
}

/* ---- graph and shapes ---- */

START_TEST(shapes_are_inferred) {
  fsn_model *m;
  ck_assert_int_eq(fsn_model_create(&m, 3, 17, 15), FSN_OK);
  size_t t = add_conv(m, 0, 8, 3, 2, 1, 0.5); /* (17 + 2 - 3) / 2 + 1 = 9, (15 + 2 - 3) / 2 + 1 = 8 */
  fsn_shape s = fsn_model_tensor_shape(m, t);
  ck_assert_uint_eq(s.c, 8);
  ck_assert_uint_eq(s.h, 9);
  ck_assert_uint_eq(s.w, 8);
  size_t r = add_ok(m, (fsn_layer_desc){.kind = FSN_LAYER_RELU, .in = t});
  size_t p =
      add_ok(m, (fsn_layer_desc){
                    .kind = FSN_LAYER_MAXPOOL, .in = r, .k_h = 3, .k_w = 2, .stride_h = 2, .stride_w = 2, .pad_h = 1});
  s = fsn_model_tensor_shape(m, p); /* (9 + 2 - 3) / 2 + 1 = 5, (8 - 2) / 2 + 1 = 4 */
  ck_assert_uint_eq(s.h, 5);
  ck_assert_uint_eq(s.w, 4);
  size_t a = add_ok(m, (fsn_layer_desc){.kind = FSN_LAYER_AVGPOOL, .in = p, .k_h = 2, .k_w = 2});
  size_t res = add_ok(m, (fsn_layer_desc){.kind = FSN_LAYER_ADD, .in = a, .in2 = a});
  size_t g = add_ok(m, (fsn_layer_desc){.kind = FSN_LAYER_GLOBAL_AVGPOOL, .in = res});
  s = fsn_model_tensor_shape(m, g);
  ck_assert(s.c == 8 && s.h == 1 && s.w == 1);
  size_t f = add_ok(m, (fsn_layer_desc){.kind = FSN_LAYER_FLATTEN, .in = a});
  ck_assert_uint_eq(fsn_model_tensor_shape(m, f).c, 8 * 4 * 3);
  size_t o = add_fc(m, f, 5, 0.1);
  s = fsn_model_output_shape(m);
  ck_assert(s.c == 5 && s.h == 1 && s.w == 1 && o == fsn_model_num_layers(m));
  ck_assert_str_eq(fsn_model_layer(m, 0)->desc.name, "conv0");
  ck_assert_uint_eq(fsn_model_layer(m, 0)->weight_count, 8 * 3 * 9);
  fsn_model_destroy(m);
}
END_TEST

START_TEST(inconsistent_shapes_are_clear_errors) {
  fsn_model *m;
  ck_assert_int_eq(fsn_model_create(&m, 2, 6, 6), FSN_OK);
  float w[4 * 2 * 7 * 7] = {0};
  expect_add_error(
      m, (fsn_layer_desc){.kind = FSN_LAYER_CONV, .name = "big", .in = 0, .out_c = 4, .k_h = 7, .k_w = 7, .weight = w},
      FSN_E_INVALID, "big");
  expect_add_error(m, (fsn_layer_desc){.kind = FSN_LAYER_CONV, .in = 0, .out_c = 4, .k_h = 3, .k_w = 3}, FSN_E_INVALID,
                   "without weights");
  expect_add_error(m, (fsn_layer_desc){.kind = FSN_LAYER_RELU, .in = 3}, FSN_E_INVALID, "tensor 3");
  size_t c = add_conv(m, 0, 4, 3, 1, 0, 1.0); /* 4 x 4 x 4 */
  expect_add_error(m, (fsn_layer_desc){.kind = FSN_LAYER_ADD, .name = "res", .in = 0, .in2 = c}, FSN_E_INVALID,
                   "2x6x6 and 4x4x4");
  expect_add_error(m, (fsn_layer_desc){.kind = FSN_LAYER_MAXPOOL, .in = c, .k_h = 2, .k_w = 2, .pad_h = 2},
                   FSN_E_INVALID, "pad");
  float bad[2] = {1.0f, NAN};
  ck_assert_int_eq(fsn_model_create(&m, 1, 1, 1) == FSN_OK, 1);
  expect_add_error(m, (fsn_layer_desc){.kind = FSN_LAYER_FC, .in = 0, .out_c = 2, .weight = bad}, FSN_E_INVALID,
                   "not finite");
  fsn_model_destroy(m);
  fsn_model *m2;
  ck_assert_int_eq(fsn_model_create(&m2, 0, 5, 5), FSN_E_INVALID);
  ck_assert_ptr_null(m2);
}
END_TEST

/* ---- quantisation and hash ---- */

START_TEST(quantisation_follows_the_convention) {
  fsn_model *m;
  ck_assert_int_eq(fsn_model_create(&m, 1, 1, 2), FSN_OK);
  const float w[4] = {0.5f, -0.25f, 1.0f / 3, -0.0001f}, b[2] = {0.125f, -1.5f};
  add_ok(m, (fsn_layer_desc){.kind = FSN_LAYER_FC, .in = 0, .out_c = 2, .weight = w, .bias = b});
  ck_assert_ptr_null(fsn_model_layer(m, 0)->qweight);
  ck_assert_int_eq(fsn_model_quantize(m, 16, 4), FSN_OK);
  const fsn_layer *l = fsn_model_layer(m, 0);
  const uint64_t mask = 0xffff;
  ck_assert_uint_eq(l->qweight[0], 8);                   /* 0.5 * 16 */
  ck_assert_uint_eq(l->qweight[1], (uint64_t)-4 & mask); /* -0.25 * 16 */
  ck_assert_uint_eq(l->qweight[2], 5);                   /* round(5.33) */
  ck_assert_uint_eq(l->qweight[3], 0);
  ck_assert_uint_eq(l->qbias[0], 32);                    /* 0.125 * 256: scale 2s */
  ck_assert_uint_eq(l->qbias[1], (uint64_t)-384 & mask); /* -1.5 * 256 */
  ck_assert_uint_eq(fsn_model_ell(m), 16);
  ck_assert_uint_eq(fsn_model_scale(m), 4);
  ck_assert_int_eq(fsn_model_quantize(m, 16, 8), FSN_E_INVALID); /* 2s > ell - 2 */
  ck_assert_int_eq(fsn_model_quantize(m, 65, 4), FSN_E_INVALID);
  fsn_model_destroy(m);

  ck_assert_int_eq(fsn_model_create(&m, 1, 1, 1), FSN_OK);
  const float big[1] = {3000.0f};
  add_ok(m, (fsn_layer_desc){.kind = FSN_LAYER_FC, .name = "huge", .in = 0, .out_c = 1, .weight = big});
  ck_assert_int_eq(fsn_model_quantize(m, 16, 4), FSN_E_INVALID); /* 3000 * 16 >= 2^15 */
  ck_assert_ptr_nonnull(strstr(fsn_last_error(), "huge"));
  ck_assert_int_eq(fsn_model_quantize(m, 37, 12), FSN_OK);
  fsn_model_destroy(m);
}
END_TEST

START_TEST(encode_decode_round_trip) {
  const double x[5] = {0.0, 1.0, -1.0, 0.5 / 4096, -3.14159};
  uint64_t v[5];
  fsn_nn_encode(v, x, 5, 37, 12);
  ck_assert_uint_eq(v[1], 4096);
  ck_assert_uint_eq(v[2], (uint64_t)-4096 & fsn_ring_mask(37));
  ck_assert_uint_eq(v[3], 1); /* 0.5 rounds away from zero */
  ck_assert(fabs(fsn_nn_decode(v[4], 37, 12) + 3.14159) < 1.0 / 4096);
  uint8_t px[2] = {255, 0};
  fsn_nn_pixels_to_fixed(v, px, 2, 37, 12);
  ck_assert_uint_eq(v[0], 4096);
  ck_assert_uint_eq(v[1], 0);
  ck_assert_uint_eq(fsn_nn_argmax_fixed((uint64_t[]){fsn_ring_mask(37), 3, 7, 7}, 4, 37), 2);
}
END_TEST

START_TEST(model_hash_identifies_the_quantised_model) {
  uint8_t h1[32], h2[32], h3[32];
  fsn_model *a, *b;
  ck_assert_int_eq(fsn_model_builtin(&a, "4layer", 7), FSN_OK);
  ck_assert_int_eq(fsn_model_hash(a, h1), FSN_E_INVALID); /* not quantised */
  ck_assert_int_eq(fsn_model_quantize(a, 37, 12), FSN_OK);
  ck_assert_int_eq(fsn_model_hash(a, h1), FSN_OK);
  ck_assert_int_eq(fsn_model_builtin(&b, "4layer", 7), FSN_OK);
  ck_assert_int_eq(fsn_model_quantize(b, 37, 12), FSN_OK);
  ck_assert_int_eq(fsn_model_hash(b, h2), FSN_OK);
  ck_assert_mem_eq(h1, h2, 32); /* same seed, same model */
  ck_assert_int_eq(fsn_model_quantize(b, 37, 11), FSN_OK);
  ck_assert_int_eq(fsn_model_hash(b, h3), FSN_OK);
  ck_assert(memcmp(h1, h3, 32) != 0); /* the scale is part of the identity */
  fsn_model_destroy(b);
  ck_assert_int_eq(fsn_model_builtin(&b, "4layer", 8), FSN_OK);
  ck_assert_int_eq(fsn_model_quantize(b, 37, 12), FSN_OK);
  ck_assert_int_eq(fsn_model_hash(b, h3), FSN_OK);
  ck_assert(memcmp(h1, h3, 32) != 0); /* other weights */
  fsn_model_destroy(a);
  fsn_model_destroy(b);
}
END_TEST

/* ---- float engine ---- */

START_TEST(float_engine_known_answers) {
  fsn_model *m;
  ck_assert_int_eq(fsn_model_create(&m, 1, 3, 3), FSN_OK);
  const float w[4] = {1, 0, 0, -1}, b[1] = {0.5f};
  size_t c = add_ok(
      m, (fsn_layer_desc){.kind = FSN_LAYER_CONV, .in = 0, .out_c = 1, .k_h = 2, .k_w = 2, .weight = w, .bias = b});
  size_t r = add_ok(m, (fsn_layer_desc){.kind = FSN_LAYER_RELU, .in = c});
  size_t p = add_ok(m, (fsn_layer_desc){.kind = FSN_LAYER_AVGPOOL, .in = r, .k_h = 2, .k_w = 2});
  (void)p;
  const double x[9] = {1, 2, 3, 4, 5, 6, 7, 8, 10};
  /* conv: x[i][j] - x[i+1][j+1] + 0.5 = {-3.5, -3.5, -3.5, -4.5}; relu zeroes all; mean 0 */
  double out[1];
  fsn_layer_stats stats[3] = {0};
  ck_assert_int_eq(fsn_model_run_float(m, out, x, 1, stats), FSN_OK);
  ck_assert(out[0] == 0.0);
  ck_assert(stats[0].float_max_out == 4.5);
  const double y[9] = {9, 1, 1, 1, 2, 1, 1, 1, 1};
  /* conv: {9 - 2 + .5, 1 - 1 + .5, 1 - 1 + .5, 2 - 1 + .5} = {7.5, .5, .5, 1.5}; mean 2.5 */
  ck_assert_int_eq(fsn_model_run_float(m, out, y, 1, NULL), FSN_OK);
  ck_assert(out[0] == 2.5);
  fsn_model_destroy(m);
}
END_TEST

/* ---- built-in architectures ---- */

static size_t count_kind(const fsn_model *m, fsn_layer_kind k) {
  size_t n = 0;
  for (size_t i = 0; i < fsn_model_num_layers(m); i++) n += fsn_model_layer(m, i)->desc.kind == k;
  return n;
}

static size_t total_weights(const fsn_model *m) {
  size_t n = 0;
  for (size_t i = 0; i < fsn_model_num_layers(m); i++) n += fsn_model_layer(m, i)->weight_count;
  return n;
}

START_TEST(builtin_architectures) {
  fsn_model *m;
  ck_assert_int_eq(fsn_model_builtin(&m, "4layer", 1), FSN_OK);
  ck_assert_uint_eq(count_kind(m, FSN_LAYER_CONV), 2);
  ck_assert_uint_eq(count_kind(m, FSN_LAYER_FC), 2);
  ck_assert_uint_eq(count_kind(m, FSN_LAYER_RELU), 3);
  ck_assert_uint_eq(count_kind(m, FSN_LAYER_MAXPOOL), 2);
  const fsn_layer *fc1 = fsn_model_layer(m, 7);
  ck_assert_int_eq(fc1->desc.kind, FSN_LAYER_FC);
  ck_assert_uint_eq(fc1->weight_count, 256 * 100);
  ck_assert_uint_eq(fsn_model_output_shape(m).c, 10);
  fsn_model_destroy(m);
  /* Conv weights of torchvision's ResNet-18/50 (11,689,512 / 25,557,032 parameters minus BatchNorm's 2 per channel
   * and the fc bias) plus the fc weights. */
  ck_assert_int_eq(fsn_model_builtin(&m, "resnet18", 1), FSN_OK);
  ck_assert_uint_eq(count_kind(m, FSN_LAYER_CONV), 20);
  ck_assert_uint_eq(count_kind(m, FSN_LAYER_ADD), 8);
  ck_assert_uint_eq(total_weights(m), 11678912);
  ck_assert_uint_eq(fsn_model_output_shape(m).c, 1000);
  fsn_model_destroy(m);
  ck_assert_int_eq(fsn_model_builtin(&m, "resnet50", 1), FSN_OK);
  ck_assert_uint_eq(count_kind(m, FSN_LAYER_CONV), 53);
  ck_assert_uint_eq(count_kind(m, FSN_LAYER_ADD), 16);
  ck_assert_uint_eq(total_weights(m), 25502912);
  fsn_shape in = fsn_model_input_shape(m);
  ck_assert(in.c == 3 && in.h == 224 && in.w == 224);
  ck_assert_int_eq(fsn_model_quantize(m, 37, 12), FSN_OK);
  fsn_model_destroy(m);
  ck_assert_int_eq(fsn_model_builtin(&m, "vgg16", 1), FSN_E_INVALID);
  ck_assert_ptr_nonnull(strstr(fsn_last_error(), "resnet50"));
}
END_TEST

int main(void) {
  Suite *s = suite_create("nn");
  TCase *tc = tcase_create("nn");
  tcase_set_timeout(tc, 300);
  tcase_add_test(tc, shapes_are_inferred);
  tcase_add_test(tc, inconsistent_shapes_are_clear_errors);
  tcase_add_test(tc, quantisation_follows_the_convention);
  tcase_add_test(tc, encode_decode_round_trip);
  tcase_add_test(tc, model_hash_identifies_the_quantised_model);
  tcase_add_test(tc, float_engine_known_answers);
  tcase_add_test(tc, builtin_architectures);
  suite_add_tcase(s, tc);
  return fsn_test_main(s);
}
