#include "fsn_test_models.h"

#include <check.h>
#include <math.h>
#include <stdlib.h>

#include "fsn_test.h"

float *fsn_test_random_floats(size_t n, double range) {
  float *v = malloc((n ? n : 1) * sizeof *v);
  ck_assert_ptr_nonnull(v);
  for (size_t i = 0; i < n; i++) v[i] = (float)(range * (2.0 * (double)(fsn_test_rand() >> 11) * 0x1p-53 - 1.0));
  return v;
}

static size_t add(fsn_model *m, fsn_layer_desc d) {
  size_t t = 0;
  fsn_status st = fsn_model_add(m, &d, &t);
  ck_assert_msg(st == FSN_OK, "add %s: %s", fsn_layer_kind_name(d.kind), fsn_last_error());
  return t;
}

/* conv or fc with random weights */
static size_t add_linear(fsn_model *m, fsn_layer_desc d, double range) {
  fsn_shape s = fsn_model_tensor_shape(m, d.in);
  const size_t groups = d.groups > 1 ? d.groups : 1;
  size_t count = d.kind == FSN_LAYER_CONV ? d.out_c * (s.c / groups) * d.k_h * d.k_w : d.out_c * s.c * s.h * s.w;
  float *w = fsn_test_random_floats(count, range), *b = fsn_test_random_floats(d.out_c, range);
  d.weight = w, d.bias = b;
  size_t t = add(m, d);
  free(w), free(b);
  return t;
}

fsn_model *fsn_test_model_every_layer(size_t c, size_t h, size_t w, size_t classes, double range) {
  fsn_model *m;
  ck_assert_int_eq(fsn_model_create(&m, c, h, w), FSN_OK);
  const fsn_layer_desc conv3 = {.kind = FSN_LAYER_CONV, .out_c = 4, .k_h = 3, .k_w = 3, .pad_h = 1, .pad_w = 1};
  fsn_layer_desc d = conv3;
  d.in = 0;
  size_t a = add(m, (fsn_layer_desc){.kind = FSN_LAYER_RELU, .in = add_linear(m, d, range)});
  d.in = a;
  size_t r = add(m, (fsn_layer_desc){.kind = FSN_LAYER_ADD, .in = add_linear(m, d, range), .in2 = a});
  r = add(m, (fsn_layer_desc){.kind = FSN_LAYER_RELU, .in = r});
  r = add(m, (fsn_layer_desc){.kind = FSN_LAYER_MAXPOOL, .in = r, .k_h = 2, .k_w = 2, .stride_h = 2, .stride_w = 2});
  r = add_linear(
      m,
      (fsn_layer_desc){.kind = FSN_LAYER_CONV, .in = r, .out_c = 6, .k_h = 1, .k_w = 1, .stride_h = 2, .stride_w = 2},
      range);
  r = add(m, (fsn_layer_desc){.kind = FSN_LAYER_RELU, .in = r});
  r = add(m, (fsn_layer_desc){.kind = FSN_LAYER_AVGPOOL, .in = r, .k_h = 2, .k_w = 2, .pad_h = 1, .pad_w = 1});
  r = add(m, (fsn_layer_desc){.kind = FSN_LAYER_GLOBAL_AVGPOOL, .in = r});
  r = add(m, (fsn_layer_desc){.kind = FSN_LAYER_FLATTEN, .in = r});
  r = add_linear(m, (fsn_layer_desc){.kind = FSN_LAYER_FC, .in = r, .out_c = 8}, range);
  r = add(m, (fsn_layer_desc){.kind = FSN_LAYER_RELU, .in = r});
  add_linear(m, (fsn_layer_desc){.kind = FSN_LAYER_FC, .in = r, .out_c = classes}, range);
  return m;
}

fsn_model *fsn_test_model_cnn_ops(size_t c, size_t h, size_t w, size_t classes, double range) {
  fsn_model *m;
  ck_assert_int_eq(fsn_model_create(&m, c, h, w), FSN_OK);
  size_t t = add(m, (fsn_layer_desc){.kind = FSN_LAYER_PAD, .in = 0, .pad_h = 1, .pad_w = 2});
  t = add_linear(m, (fsn_layer_desc){.kind = FSN_LAYER_CONV, .in = t, .out_c = 2 * c, .k_h = 3, .k_w = 3, .groups = c},
                 range); /* depthwise, two filters per channel */
  t = add(m, (fsn_layer_desc){.kind = FSN_LAYER_CLIP, .in = t, .clip_lo = 0, .clip_hi = 6}); /* ReLU6 */
  t = add(m, (fsn_layer_desc){.kind = FSN_LAYER_MAXPOOL,
                              .in = t,
                              .k_h = 3,
                              .k_w = 2,
                              .stride_h = 2,
                              .stride_w = 2,
                              .pad_h = 1,
                              .ceil_mode = true});
  const size_t ch = fsn_model_tensor_shape(m, t).c;
  size_t a = add_linear(
      m, (fsn_layer_desc){.kind = FSN_LAYER_CONV, .in = t, .out_c = 4, .k_h = 1, .k_w = 1, .groups = 2}, range);
  size_t b = add_linear(
      m, (fsn_layer_desc){.kind = FSN_LAYER_CONV, .in = t, .out_c = ch, .k_h = 3, .k_w = 3, .pad_h = 1, .pad_w = 1},
      range);
  b = add(m, (fsn_layer_desc){.kind = FSN_LAYER_CLIP, .in = b, .clip_lo = -0.75, .clip_hi = 0.5});
  a = add(m, (fsn_layer_desc){.kind = FSN_LAYER_CLIP, .in = a, .clip_lo = -INFINITY, .clip_hi = 1.5});
  a = add(m, (fsn_layer_desc){.kind = FSN_LAYER_CLIP, .in = a, .clip_lo = -0.25, .clip_hi = INFINITY});
  t = add(m, (fsn_layer_desc){.kind = FSN_LAYER_CONCAT, .in = a, .in2 = b});
  t = add(m, (fsn_layer_desc){.kind = FSN_LAYER_AVGPOOL,
                              .in = t,
                              .k_h = 3,
                              .k_w = 3,
                              .stride_h = 2,
                              .stride_w = 2,
                              .pad_h = 1,
                              .pad_w = 1,
                              .ceil_mode = true,
                              .exclude_pad = true});
  t = add(m,
          (fsn_layer_desc){
              .kind = FSN_LAYER_AVGPOOL, .in = t, .k_h = 2, .k_w = 2, .stride_h = 2, .stride_w = 2, .ceil_mode = true});
  t = add(m, (fsn_layer_desc){.kind = FSN_LAYER_FLATTEN, .in = t});
  add_linear(m, (fsn_layer_desc){.kind = FSN_LAYER_FC, .in = t, .out_c = classes}, range);
  return m;
}
