/* protocol/nn: the model graph (shape inference and its errors), quantisation, the model hash, the float engine
 * against plain loops, built-in architectures, the fixed-point engine bit for bit against an independent naive
 * oracle written here (nested loops, no kernels), and the execution plan the engines walk (steps, fusions, tensor
 * lifetimes, peak). */
#include <fusion/nn.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tests/common/fsn_test.h"
#include "tests/common/fsn_test_models.h"

/* ---- helpers ---- */

static size_t shape_size(fsn_shape s) { return s.c * s.h * s.w; }

static size_t add_ok(fsn_model *m, fsn_layer_desc d) {
  size_t t = 0;
  fsn_status st = fsn_model_add(m, &d, &t);
  ck_assert_msg(st == FSN_OK, "add %s: %s", fsn_layer_kind_name(d.kind), fsn_last_error());
  return t;
}

static size_t add_conv(fsn_model *m, size_t in, size_t oc, size_t k, size_t stride, size_t pad, double range) {
  size_t ic = fsn_model_tensor_shape(m, in).c;
  float *w = fsn_test_random_floats(oc * ic * k * k, range), *b = fsn_test_random_floats(oc, range);
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
  float *w = fsn_test_random_floats(out * f, range), *b = fsn_test_random_floats(out, range);
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
  fsn_model_destroy(m);
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
  /* SqueezeNet v1.1: torchvision's squeezenet1_1 has 1,235,496 parameters, 3,944 of them biases */
  ck_assert_int_eq(fsn_model_builtin(&m, "squeezenet", 1), FSN_OK);
  ck_assert_uint_eq(count_kind(m, FSN_LAYER_CONV), 26);
  ck_assert_uint_eq(count_kind(m, FSN_LAYER_CONCAT), 8);
  ck_assert_uint_eq(count_kind(m, FSN_LAYER_MAXPOOL), 3);
  ck_assert_uint_eq(total_weights(m), 1235496 - 3944);
  in = fsn_model_input_shape(m);
  ck_assert(in.c == 3 && in.h == 227 && in.w == 227);
  const fsn_shape out = fsn_model_output_shape(m);
  ck_assert(out.c == 1000 && out.h == 1 && out.w == 1);
  ck_assert_uint_eq(fsn_model_tensor_shape(m, 4).h, 56); /* 227 -> 113 (stem) -> 56 (pool) */
  fsn_model_destroy(m);
  ck_assert_int_eq(fsn_model_builtin(&m, "vgg16", 1), FSN_E_INVALID);
  ck_assert_ptr_nonnull(strstr(fsn_last_error(), "resnet50"));
}
END_TEST

/* ---- fixed-point engine against an independent naive oracle ---- */

static int64_t sval(uint64_t v, unsigned ell) {
  uint64_t mask = fsn_ring_mask(ell);
  v &= mask;
  if (ell < 64 && (v >> (ell - 1)) & 1) return (int64_t)(v | ~mask);
  return (int64_t)v;
}

static uint64_t wrap(int64_t v, unsigned ell) { return (uint64_t)v & fsn_ring_mask(ell); }

/* floor(v / d) with integer arithmetic only. */
static int64_t floor_div(int64_t v, int64_t d) {
  int64_t q = v / d;
  return (v % d != 0 && v < 0) ? q - 1 : q;
}

static uint64_t trunc_ref(uint64_t acc, unsigned ell, unsigned s) {
  return wrap(floor_div(sval(acc, ell), (int64_t)1 << s), ell);
}

/* Average of a window sum over k values: times round(2^s / k), then the floor truncation of a product. */
static uint64_t avg_ref(uint64_t sum, uint64_t k, unsigned ell, unsigned s) {
  uint64_t f = (((uint64_t)1 << s) + k / 2) / k;
  return trunc_ref(sum * f & fsn_ring_mask(ell), ell, s);
}

/* The oracle: one layer, one sample, straight from the documented convention. */
static void oracle_layer(uint64_t *out, uint64_t *const *t, const fsn_layer *l, unsigned ell, unsigned s) {
  const fsn_layer_desc *d = &l->desc;
  const fsn_shape is = l->in_shape, os = l->out_shape;
  const uint64_t *in = t[d->in];
  size_t osz = os.c * os.h * os.w;
  const size_t gin = is.c / d->groups, gout = d->out_c ? d->out_c / d->groups : 1; /* channels of a conv group */
  switch (d->kind) {
  case FSN_LAYER_CONV:
    for (size_t o = 0; o < os.c; o++)
      for (size_t oy = 0; oy < os.h; oy++)
        for (size_t ox = 0; ox < os.w; ox++) {
          uint64_t acc = l->qbias[o];
          for (size_t gc = 0; gc < gin; gc++)
            for (size_t ky = 0; ky < d->k_h; ky++)
              for (size_t kx = 0; kx < d->k_w; kx++) {
                long y = (long)(oy * d->stride_h + ky) - (long)d->pad_h;
                long x = (long)(ox * d->stride_w + kx) - (long)d->pad_w;
                if (y < 0 || x < 0 || y >= (long)is.h || x >= (long)is.w) continue;
                const size_t c = o / gout * gin + gc;
                acc += l->qweight[((o * gin + gc) * d->k_h + ky) * d->k_w + kx] *
                       in[(c * is.h + (size_t)y) * is.w + (size_t)x];
              }
          out[(o * os.h + oy) * os.w + ox] = trunc_ref(acc, ell, s);
        }
    break;
  case FSN_LAYER_FC: {
    size_t f = is.c * is.h * is.w;
    for (size_t o = 0; o < d->out_c; o++) {
      uint64_t acc = l->qbias[o];
      for (size_t k = 0; k < f; k++) acc += l->qweight[o * f + k] * in[k];
      out[o] = trunc_ref(acc, ell, s);
    }
    break;
  }
  case FSN_LAYER_RELU:
    for (size_t i = 0; i < osz; i++) out[i] = sval(in[i], ell) > 0 ? in[i] : 0;
    break;
  case FSN_LAYER_MAXPOOL:
  case FSN_LAYER_AVGPOOL:
    for (size_t c = 0; c < os.c; c++)
      for (size_t oy = 0; oy < os.h; oy++)
        for (size_t ox = 0; ox < os.w; ox++) {
          int64_t best = INT64_MIN;
          uint64_t sum = 0, counted = 0;
          for (size_t ky = 0; ky < d->k_h; ky++)
            for (size_t kx = 0; kx < d->k_w; kx++) {
              long y = (long)(oy * d->stride_h + ky) - (long)d->pad_h;
              long x = (long)(ox * d->stride_w + kx) - (long)d->pad_w;
              const long lo_y = d->exclude_pad ? 0 : -(long)d->pad_h, lo_x = d->exclude_pad ? 0 : -(long)d->pad_w;
              counted += y >= lo_y && x >= lo_x && y < (long)is.h - lo_y && x < (long)is.w - lo_x;
              if (y < 0 || x < 0 || y >= (long)is.h || x >= (long)is.w) continue;
              uint64_t v = in[(c * is.h + (size_t)y) * is.w + (size_t)x];
              sum += v;
              if (sval(v, ell) > best) best = sval(v, ell);
            }
          out[(c * os.h + oy) * os.w + ox] =
              d->kind == FSN_LAYER_MAXPOOL ? wrap(best, ell) : avg_ref(sum, counted, ell, s);
        }
    break;
  case FSN_LAYER_GLOBAL_AVGPOOL:
    for (size_t c = 0; c < is.c; c++) {
      uint64_t sum = 0;
      for (size_t k = 0; k < is.h * is.w; k++) sum += in[c * is.h * is.w + k];
      out[c] = avg_ref(sum, is.h * is.w, ell, s);
    }
    break;
  case FSN_LAYER_ADD:
    for (size_t i = 0; i < osz; i++) out[i] = (in[i] + t[d->in2][i]) & fsn_ring_mask(ell);
    break;
  case FSN_LAYER_FLATTEN: memcpy(out, in, osz * sizeof *out); break;
  case FSN_LAYER_CONCAT:
    memcpy(out, in, shape_size(is) * sizeof *out);
    memcpy(out + shape_size(is), t[d->in2], (osz - shape_size(is)) * sizeof *out);
    break;
  case FSN_LAYER_PAD:
    for (size_t c = 0; c < os.c; c++)
      for (size_t y = 0; y < os.h; y++)
        for (size_t x = 0; x < os.w; x++) {
          const long iy = (long)y - (long)d->pad_h, ix = (long)x - (long)d->pad_w;
          const bool inside = iy >= 0 && ix >= 0 && iy < (long)is.h && ix < (long)is.w;
          out[(c * os.h + y) * os.w + x] = inside ? in[(c * is.h + (size_t)iy) * is.w + (size_t)ix] : 0;
        }
    break;
  case FSN_LAYER_CLIP: { /* the documented formulas, wrap-around included; an infinite bound is none */
    const bool lo = isfinite(d->clip_lo), hi = isfinite(d->clip_hi);
    const int64_t L = lo ? (int64_t)llround(ldexp(d->clip_lo, (int)s)) : 0;
    const int64_t H = hi ? (int64_t)llround(ldexp(d->clip_hi, (int)s)) : 0;
    for (size_t i = 0; i < osz; i++) {
      const int64_t a = sval(in[i] - (uint64_t)L, ell), b = sval(in[i] - (uint64_t)H, ell);
      const int64_t c = sval((uint64_t)H - in[i], ell);
      const uint64_t ra = (uint64_t)(a > 0 ? a : 0), rb = (uint64_t)(b > 0 ? b : 0), rc = (uint64_t)(c > 0 ? c : 0);
      out[i] = lo && hi ? wrap((int64_t)((uint64_t)L + ra - rb), ell)
               : lo     ? wrap((int64_t)((uint64_t)L + ra), ell)
               : hi     ? wrap((int64_t)((uint64_t)H - rc), ell)
                        : in[i];
    }
    break;
  }
  }
}

/* Run the oracle over a batch, sample by sample. */
static void oracle_run(const fsn_model *m, uint64_t *out, const uint64_t *in, size_t batch) {
  size_t n = fsn_model_num_layers(m), isz = shape_size(fsn_model_input_shape(m));
  size_t osz = shape_size(fsn_model_output_shape(m));
  uint64_t **t = calloc(n + 1, sizeof *t);
  for (size_t i = 0; i < n; i++) t[i + 1] = malloc(shape_size(fsn_model_layer(m, i)->out_shape) * 8);
  for (size_t b = 0; b < batch; b++) {
    t[0] = (uint64_t *)in + b * isz;
    for (size_t i = 0; i < n; i++)
      oracle_layer(t[i + 1], t, fsn_model_layer(m, i), fsn_model_ell(m), fsn_model_scale(m));
    memcpy(out + b * osz, t[n], osz * 8);
  }
  for (size_t i = 1; i <= n; i++) free(t[i]);
  free(t);
}

/* A random small graph using every layer kind: conv (random window, stride, pad), relu, maxpool, avgpool with a
 * window that is not a power of two, a residual add around a conv, global average pooling, flatten, fc. */
static fsn_model *random_model(double range) {
  fsn_model *m;
  size_t c = 1 + fsn_test_rand() % 3, h = 6 + fsn_test_rand() % 5, w = 6 + fsn_test_rand() % 5;
  ck_assert_int_eq(fsn_model_create(&m, c, h, w), FSN_OK);
  size_t k = 1 + fsn_test_rand() % 3, stride = 1 + fsn_test_rand() % 2, pad = fsn_test_rand() % 2;
  size_t t = add_conv(m, 0, 2 + fsn_test_rand() % 3, k, stride, pad, range);
  t = add_ok(m, (fsn_layer_desc){.kind = FSN_LAYER_RELU, .in = t});
  size_t branch = add_conv(m, t, fsn_model_tensor_shape(m, t).c, 3, 1, 1, range);
  t = add_ok(m, (fsn_layer_desc){.kind = FSN_LAYER_ADD, .in = branch, .in2 = t});
  if (fsn_model_tensor_shape(m, t).h >= 3 && fsn_model_tensor_shape(m, t).w >= 3)
    t = add_ok(m, (fsn_layer_desc){.kind = FSN_LAYER_MAXPOOL,
                                   .in = t,
                                   .k_h = 2,
                                   .k_w = 3,
                                   .stride_h = 1,
                                   .stride_w = 2,
                                   .pad_h = 1,
                                   .pad_w = 1});
  size_t pooled = t;
  if (fsn_model_tensor_shape(m, t).h >= 3 && fsn_model_tensor_shape(m, t).w >= 3)
    pooled = add_ok(m, (fsn_layer_desc){.kind = FSN_LAYER_AVGPOOL,
                                        .in = t,
                                        .k_h = 3,
                                        .k_w = 3,
                                        .stride_h = 1,
                                        .stride_w = 1,
                                        .pad_h = 1,
                                        .pad_w = 1});
  size_t g = add_ok(m, (fsn_layer_desc){.kind = FSN_LAYER_GLOBAL_AVGPOOL, .in = pooled});
  (void)g;
  size_t f = add_ok(m, (fsn_layer_desc){.kind = FSN_LAYER_FLATTEN, .in = pooled});
  f = add_fc(m, f, 7, range);
  f = add_ok(m, (fsn_layer_desc){.kind = FSN_LAYER_RELU, .in = f});
  add_fc(m, f, 3, range);
  return m;
}

START_TEST(fixed_engine_matches_naive_oracle) {
  static const unsigned ells[] = {16, 24, 37, 64}, scales[] = {4, 6, 12, 16};
  for (int trial = 0; trial < 24; trial++) {
    unsigned ell = ells[trial % 4], s = scales[trial % 4];
    fsn_model *m = random_model(trial < 12 ? 1.0 : 0.001); /* wrapping weights, then in-range ones */
    if (fsn_model_quantize(m, ell, s) != FSN_OK) {
      fsn_model_destroy(m);
      continue;
    }
    size_t batch = 1 + (size_t)trial % 3, isz = shape_size(fsn_model_input_shape(m));
    size_t osz = shape_size(fsn_model_output_shape(m)), n = fsn_model_num_layers(m);
    uint64_t *in = malloc(batch * isz * 8), *got = malloc(batch * osz * 8), *want = malloc(batch * osz * 8);
    fsn_test_fill_ring(in, batch * isz, ell); /* the whole ring, edges included: wrap-around is part of the contract */
    fsn_layer_stats *stats = calloc(n, sizeof *stats);
    ck_assert_int_eq(fsn_model_run_fixed(m, got, in, batch, stats), FSN_OK);
    oracle_run(m, want, in, batch);
    for (size_t i = 0; i < batch * osz; i++)
      ck_assert_msg(got[i] == want[i], "trial %d ell %u s %u batch %zu: output %zu is %llu, oracle %llu", trial, ell, s,
                    batch, i, (unsigned long long)got[i], (unsigned long long)want[i]);
    for (size_t i = 0; i < n; i++) ck_assert_uint_le(stats[i].fixed_max_out, (uint64_t)1 << (ell - 1));
    free(stats);
    free(in);
    free(got);
    free(want);
    fsn_model_destroy(m);
  }
}
END_TEST

/* The CNN-family operators (pad, depthwise and grouped conv, clip, concat, ceil_mode pools, count_include_pad = 0)
 * against the oracle on the whole ring, and the float engine within the quantisation error in range. */
START_TEST(cnn_ops_match_oracle_and_float) {
  static const unsigned ells[] = {24, 37, 64}, scales[] = {6, 12, 16};
  for (int trial = 0; trial < 6; trial++) {
    const unsigned ell = ells[trial % 3], s = scales[trial % 3];
    fsn_model *m = fsn_test_model_cnn_ops(2 + (size_t)trial % 2, 9 + (size_t)trial % 3, 6 + (size_t)trial, 3, 0.5);
    ck_assert_int_eq(fsn_model_quantize(m, ell, s), FSN_OK);
    const size_t batch = 1 + (size_t)trial % 2, isz = shape_size(fsn_model_input_shape(m));
    const size_t osz = shape_size(fsn_model_output_shape(m));
    uint64_t *in = malloc(batch * isz * 8), *got = malloc(batch * osz * 8), *want = malloc(batch * osz * 8);
    fsn_test_fill_ring(in, batch * isz, ell);
    ck_assert_int_eq(fsn_model_run_fixed(m, got, in, batch, NULL), FSN_OK);
    oracle_run(m, want, in, batch);
    for (size_t i = 0; i < batch * osz; i++)
      ck_assert_msg(got[i] == want[i], "trial %d: output %zu is %llu, oracle %llu", trial, i,
                    (unsigned long long)got[i], (unsigned long long)want[i]);
    if (s < 12) { /* too coarse a scale to compare with the float engine */
      free(in), free(got), free(want);
      fsn_model_destroy(m);
      continue;
    }
    /* in range: inputs in [0, 1), the float engine within the quantisation error of the fixed one */
    double *x = malloc(batch * isz * sizeof *x), *y = malloc(batch * osz * sizeof *y);
    for (size_t i = 0; i < batch * isz; i++) x[i] = (double)(fsn_test_rand() % 1000) / 1000.0;
    fsn_nn_encode(in, x, batch * isz, ell, s);
    ck_assert_int_eq(fsn_model_run_fixed(m, got, in, batch, NULL), FSN_OK);
    ck_assert_int_eq(fsn_model_run_float(m, y, x, batch, NULL), FSN_OK);
    for (size_t i = 0; i < batch * osz; i++)
      ck_assert_msg(fabs(fsn_nn_decode(got[i], ell, s) - y[i]) < 0.01, "trial %d: output %zu fixed %g, float %g", trial,
                    i, fsn_nn_decode(got[i], ell, s), y[i]);
    free(x), free(y), free(in), free(got), free(want);
    fsn_model_destroy(m);
  }
}
END_TEST

/* Shapes of the new operators, and their refusals. */
START_TEST(cnn_ops_shapes) {
  fsn_model *m;
  ck_assert_int_eq(fsn_model_create(&m, 4, 7, 7), FSN_OK);
  size_t p = add_ok(m, (fsn_layer_desc){.kind = FSN_LAYER_PAD, .in = 0, .pad_h = 1, .pad_w = 2});
  fsn_shape s = fsn_model_tensor_shape(m, p);
  ck_assert(s.c == 4 && s.h == 9 && s.w == 11);
  size_t c = add_ok(m, (fsn_layer_desc){.kind = FSN_LAYER_CONCAT, .in = 0, .in2 = 0});
  ck_assert_uint_eq(fsn_model_tensor_shape(m, c).c, 8);
  /* ceil_mode, window 2 stride 2: 9 x 11 -> 5 x 6 (4 x 5 without it) */
  size_t mp = add_ok(
      m, (fsn_layer_desc){
             .kind = FSN_LAYER_MAXPOOL, .in = p, .k_h = 2, .k_w = 2, .stride_h = 2, .stride_w = 2, .ceil_mode = true});
  s = fsn_model_tensor_shape(m, mp);
  ck_assert(s.h == 5 && s.w == 6);
  /* the last window must start inside the input or its leading padding: 5, k 2, stride 2, pad 1 -> 3, not 4 */
  fsn_model *m2;
  ck_assert_int_eq(fsn_model_create(&m2, 1, 5, 5), FSN_OK);
  size_t ap = add_ok(m2, (fsn_layer_desc){.kind = FSN_LAYER_AVGPOOL,
                                          .in = 0,
                                          .k_h = 2,
                                          .k_w = 2,
                                          .stride_h = 2,
                                          .stride_w = 2,
                                          .pad_h = 1,
                                          .pad_w = 1,
                                          .ceil_mode = true});
  ck_assert_uint_eq(fsn_model_tensor_shape(m2, ap).h, 3);
  fsn_model_destroy(m2);
  float w[4 * 2 * 9] = {0};
  expect_add_error(
      m,
      (fsn_layer_desc){
          .kind = FSN_LAYER_CONV, .name = "g3", .in = 0, .out_c = 6, .k_h = 3, .k_w = 3, .groups = 3, .weight = w},
      FSN_E_INVALID, "groups");
  size_t g = add_ok(
      m, (fsn_layer_desc){.kind = FSN_LAYER_CONV, .in = 0, .out_c = 4, .k_h = 3, .k_w = 3, .groups = 2, .weight = w});
  ck_assert_uint_eq(fsn_model_layer(m, g - 1)->weight_count, 4 * 2 * 9);
  expect_add_error(m, (fsn_layer_desc){.kind = FSN_LAYER_CLIP, .name = "c", .in = 0, .clip_lo = 1, .clip_hi = 0},
                   FSN_E_INVALID, "clip bounds");
  add_ok(m, (fsn_layer_desc){.kind = FSN_LAYER_CLIP, .in = 0, .clip_lo = -INFINITY, .clip_hi = 6});
  expect_add_error(m, (fsn_layer_desc){.kind = FSN_LAYER_CONCAT, .name = "cat", .in = 0, .in2 = p}, FSN_E_INVALID,
                   "H and W");
  fsn_model_destroy(m);
}
END_TEST

START_TEST(fixed_engine_truncates_by_floor) {
  fsn_model *m;
  ck_assert_int_eq(fsn_model_create(&m, 1, 1, 1), FSN_OK);
  const float w[1] = {0.5f};
  add_ok(m, (fsn_layer_desc){.kind = FSN_LAYER_FC, .in = 0, .out_c = 1, .weight = w});
  ck_assert_int_eq(fsn_model_quantize(m, 16, 4), FSN_OK);
  uint64_t in[1] = {(uint64_t)-3 & 0xffff}, out[1];
  fsn_layer_stats st[1] = {0};
  ck_assert_int_eq(fsn_model_run_fixed(m, out, in, 1, st), FSN_OK);
  ck_assert_uint_eq(out[0], (uint64_t)-2 & 0xffff); /* -3 * 8 = -24 at scale 2s; floor(-24 / 16) = -2 */
  ck_assert_uint_eq(st[0].fixed_max_acc, 24);
  ck_assert_uint_eq(st[0].fixed_max_out, 2);
  fsn_model_destroy(m);
}
END_TEST

/* The float and fixed engines agree to within the quantisation error on a built-in model at ell = 37, s = 12. */
START_TEST(engines_agree_on_4layer) {
  fsn_model *m;
  ck_assert_int_eq(fsn_model_builtin(&m, "4layer", 3), FSN_OK);
  ck_assert_int_eq(fsn_model_quantize(m, 37, 12), FSN_OK);
  size_t batch = 4, isz = 28 * 28, n = fsn_model_num_layers(m);
  uint8_t *px = malloc(batch * isz);
  fsn_test_fill(px, batch * isz);
  double *x = malloc(batch * isz * sizeof *x), yf[40];
  uint64_t *q = malloc(batch * isz * 8), yq[40];
  fsn_nn_pixels_to_float(x, px, batch * isz);
  fsn_nn_pixels_to_fixed(q, px, batch * isz, 37, 12);
  fsn_layer_stats *stats = calloc(n, sizeof *stats);
  ck_assert_int_eq(fsn_model_run_float(m, yf, x, batch, stats), FSN_OK);
  ck_assert_int_eq(fsn_model_run_fixed(m, yq, q, batch, stats), FSN_OK);
  for (size_t i = 0; i < 40; i++)
    ck_assert_msg(fabs(fsn_nn_decode(yq[i], 37, 12) - yf[i]) < 0.05, "logit %zu: fixed %g float %g", i,
                  fsn_nn_decode(yq[i], 37, 12), yf[i]);
  for (size_t i = 0; i < n; i++) {
    ck_assert(fsn_nn_headroom_bits((double)stats[i].fixed_max_acc, 37) > 4);
    double scale = ldexp(1.0, fsn_model_layer(m, i)->desc.kind <= FSN_LAYER_FC ? 24 : 12);
    ck_assert(fabs((double)stats[i].fixed_max_acc - stats[i].float_max_acc * scale) <= 0.01 * scale + 64);
  }
  free(stats);
  free(px);
  free(x);
  free(q);
  fsn_model_destroy(m);
}
END_TEST

/* Average pooling's reciprocal: exact floor division for powers of two, round(2^s / k) otherwise. */
START_TEST(average_factor_known_answers) {
  ck_assert_uint_eq(fsn_nn_avg_factor(4, 12), 1024);
  ck_assert_uint_eq(fsn_nn_avg_factor(49, 12), 84); /* 4096 / 49 = 83.59 */
  ck_assert_uint_eq(fsn_nn_avg_factor(3, 12), 1365);
  for (int64_t sum = -40; sum <= 40; sum++) /* k = 4: floor(sum * 1024 / 4096) = floor(sum / 4) */
    ck_assert_uint_eq(avg_ref((uint64_t)sum & fsn_ring_mask(37), 4, 37, 12), wrap(floor_div(sum, 4), 37));
}
END_TEST

/* ---- the execution plan ---- */

typedef struct want_step {
  size_t layer, in, in2, out; /* in2: SIZE_MAX unless an add */
  bool fused;
  size_t n_dead, dead[3];
} want_step;

/* The plan of m against the expected steps, per-sample tensor values (0 = never materialised) and peak; every
 * tensor's death must agree with the dead lists, and the model output must never die. */
static void check_plan(const fsn_model *m, const want_step *want, size_t n_steps, const size_t *values, size_t peak) {
  fsn_nn_plan *p;
  ck_assert_int_eq(fsn_nn_plan_create(&p, m), FSN_OK);
  const size_t T = fsn_model_num_layers(m) + 1;
  ck_assert_uint_eq(fsn_nn_plan_num_steps(p), n_steps);
  ck_assert_uint_eq(fsn_nn_plan_num_tensors(p), T);
  for (size_t s = 0; s < n_steps; s++) {
    const fsn_nn_step *got = fsn_nn_plan_step(p, s);
    const want_step *w = &want[s];
    ck_assert_msg(got->layer == w->layer && got->in == w->in && got->in2 == w->in2 && got->out == w->out &&
                      got->fused_relu == w->fused,
                  "step %zu: layer %zu in %zu in2 %zu out %zu fused %d", s, got->layer, got->in, got->in2, got->out,
                  got->fused_relu);
    ck_assert_int_eq(got->kind, fsn_model_layer(m, w->layer)->desc.kind);
    ck_assert_uint_eq(got->n_dead, w->n_dead);
    for (size_t k = 0; k < w->n_dead; k++) {
      ck_assert_uint_eq(got->dead[k], w->dead[k]);
      ck_assert_uint_eq(fsn_nn_plan_tensor_death(p, got->dead[k]), s);
    }
  }
  size_t dying = 0;
  for (size_t t = 0; t < T; t++) {
    ck_assert_msg(fsn_nn_plan_tensor_values(p, t) == values[t], "tensor %zu: %zu values, want %zu", t,
                  fsn_nn_plan_tensor_values(p, t), values[t]);
    dying += fsn_nn_plan_tensor_death(p, t) != SIZE_MAX;
  }
  size_t listed = 0;
  for (size_t s = 0; s < n_steps; s++) listed += fsn_nn_plan_step(p, s)->n_dead;
  ck_assert_uint_eq(dying, listed);
  ck_assert_uint_eq(fsn_nn_plan_tensor_death(p, T - 1), SIZE_MAX);
  ck_assert_uint_eq(fsn_nn_plan_peak_values(p), peak);
  fsn_nn_plan_destroy(p);
}

START_TEST(plan_of_4layer) {
  fsn_model *m;
  ck_assert_int_eq(fsn_model_builtin(&m, "4layer", 1), FSN_OK);
  /* conv0+relu1, maxpool2, conv3+relu4, maxpool5, flatten6, fc7+relu8, fc9 */
  const want_step want[] = {
      {0, 0, SIZE_MAX, 2, true, 1, {0}},   {2, 2, SIZE_MAX, 3, false, 1, {2}}, {3, 3, SIZE_MAX, 5, true, 1, {3}},
      {5, 5, SIZE_MAX, 6, false, 1, {5}},  {6, 6, SIZE_MAX, 7, false, 1, {6}}, {7, 7, SIZE_MAX, 9, true, 1, {7}},
      {9, 9, SIZE_MAX, 10, false, 1, {9}},
  };
  const size_t values[] = {784, 0, 16 * 24 * 24, 16 * 12 * 12, 0, 16 * 8 * 8, 256, 256, 0, 100, 10};
  /* the largest pair alive at once: the first ReLU's output and the first max pool's */
  check_plan(m, want, 7, values, 16 * 24 * 24 + 16 * 12 * 12);
  fsn_model_destroy(m);
}
END_TEST

/* A residual model: an add that keeps an early tensor alive across steps, a conv whose output a ReLU and an add both
 * read (so it is not fused), and a final fc that is the model output. */
static fsn_model *residual_model(void) {
  fsn_model *m;
  ck_assert_int_eq(fsn_model_create(&m, 2, 6, 6), FSN_OK);
  size_t a = add_ok(m, (fsn_layer_desc){.kind = FSN_LAYER_RELU, .in = add_conv(m, 0, 4, 3, 1, 1, 0.5)}); /* t2 */
  size_t b = add_ok(m, (fsn_layer_desc){.kind = FSN_LAYER_RELU, .in = add_conv(m, a, 4, 3, 1, 1, 0.5)}); /* t4 */
  size_t r = add_ok(m, (fsn_layer_desc){.kind = FSN_LAYER_ADD, .in = b, .in2 = a});                      /* t5 */
  size_t c = add_conv(m, r, 4, 1, 1, 0, 0.5);                                                            /* t6 */
  size_t d = add_ok(m, (fsn_layer_desc){.kind = FSN_LAYER_RELU, .in = c});                               /* t7 */
  r = add_ok(m, (fsn_layer_desc){.kind = FSN_LAYER_ADD, .in = d, .in2 = c});                             /* t8 */
  r = add_ok(m, (fsn_layer_desc){.kind = FSN_LAYER_FLATTEN, .in = r});                                   /* t9 */
  add_fc(m, r, 3, 0.5);                                                                                  /* t10 */
  return m;
}

START_TEST(plan_of_residual_model) {
  fsn_model *m = residual_model();
  const want_step want[] = {
      {0, 0, SIZE_MAX, 2, true, 1, {0}},  {2, 2, SIZE_MAX, 4, true, 0, {0}},   {4, 4, 2, 5, false, 2, {2, 4}},
      {5, 5, SIZE_MAX, 6, false, 1, {5}}, {6, 6, SIZE_MAX, 7, false, 0, {0}},  {7, 7, 6, 8, false, 2, {6, 7}},
      {8, 8, SIZE_MAX, 9, false, 1, {8}}, {9, 9, SIZE_MAX, 10, false, 1, {9}},
  };
  const size_t values[] = {72, 0, 144, 0, 144, 144, 144, 144, 144, 144, 3};
  check_plan(m, want, 8, values, 3 * 144); /* the adds: both operands and the sum */
  /* the engines walk it: fixed = the naive layer-by-layer oracle, bit for bit */
  ck_assert_int_eq(fsn_model_quantize(m, 37, 12), FSN_OK);
  uint64_t in[2 * 72], got[2 * 3], want_out[2 * 3];
  fsn_test_fill_ring(in, 2 * 72, 37);
  ck_assert_int_eq(fsn_model_run_fixed(m, got, in, 2, NULL), FSN_OK);
  oracle_run(m, want_out, in, 2);
  ck_assert(!memcmp(got, want_out, sizeof got));
  fsn_model_destroy(m);
}
END_TEST

/* A tensor nobody reads dies after the step that writes it; a model without layers is its input. */
START_TEST(plan_edge_cases) {
  fsn_model *m;
  ck_assert_int_eq(fsn_model_create(&m, 1, 4, 4), FSN_OK);
  const size_t in_values[] = {16};
  check_plan(m, NULL, 0, in_values, 16);
  double x[32], y[32];
  for (int i = 0; i < 32; i++) x[i] = i - 7.5;
  ck_assert_int_eq(fsn_model_run_float(m, y, x, 2, NULL), FSN_OK);
  ck_assert(!memcmp(x, y, sizeof x));
  add_ok(m, (fsn_layer_desc){.kind = FSN_LAYER_MAXPOOL, .in = 0, .k_h = 2, .k_w = 2, .stride_h = 2, .stride_w = 2});
  add_ok(m, (fsn_layer_desc){.kind = FSN_LAYER_RELU, .in = 0});
  const want_step want[] = {{0, 0, SIZE_MAX, 1, false, 1, {1}}, {1, 0, SIZE_MAX, 2, false, 1, {0}}};
  const size_t values[] = {16, 4, 16};
  check_plan(m, want, 2, values, 32);
  ck_assert_int_eq(fsn_model_run_float(m, y, x, 2, NULL), FSN_OK);
  for (int i = 0; i < 32; i++) ck_assert(y[i] == (x[i] > 0 ? x[i] : 0.0));
  fsn_model_destroy(m);
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
  tcase_add_test(tc, fixed_engine_matches_naive_oracle);
  tcase_add_test(tc, cnn_ops_match_oracle_and_float);
  tcase_add_test(tc, cnn_ops_shapes);
  tcase_add_test(tc, fixed_engine_truncates_by_floor);
  tcase_add_test(tc, engines_agree_on_4layer);
  tcase_add_test(tc, average_factor_known_answers);
  tcase_add_test(tc, plan_of_4layer);
  tcase_add_test(tc, plan_of_residual_model);
  tcase_add_test(tc, plan_edge_cases);
  suite_add_tcase(s, tc);
  return fsn_test_main(s);
}
