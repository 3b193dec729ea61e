/* Built-in architectures with deterministic random weights, for timing at scale and for tests. Weights are He
 * uniform (variance 2 / fan_in, so ReLU layers keep their activations' scale); the last conv of each residual branch
 * is damped so that the sum over blocks stays far inside ell = 37, s = 12 (see the headroom report). Not for
 * cryptography: a splitmix64 stream is all the determinism needs. */
#include <fusion/nn.h>

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define RESIDUAL_GAIN 0.3 /* scale of a residual branch's last conv relative to He */
#define BIAS_RANGE    0.05

typedef struct builder {
  fsn_model *m;
  uint64_t rng;
  float *buf;
  size_t buf_len;
  fsn_status st;
  size_t last; /* tensor id of the latest layer */
} builder;

static uint64_t next_u64(builder *b) {
  uint64_t z = (b->rng += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

/* Uniform in [-a, a). */
static float uniform(builder *b, double a) { return (float)(a * (2.0 * (double)(next_u64(b) >> 11) * 0x1p-53 - 1.0)); }

/* n weights of fan-in fan_in (He uniform times gain) followed by out_c biases, in b->buf. */
static float *random_params(builder *b, size_t n, size_t fan_in, size_t out_c, double gain) {
  if (b->buf_len < n + out_c) {
    float *grown = realloc(b->buf, (n + out_c) * sizeof *grown);
    if (!grown) return NULL;
    b->buf = grown;
    b->buf_len = n + out_c;
  }
  double a = gain * sqrt(6.0 / (double)fan_in);
  for (size_t i = 0; i < n; i++) b->buf[i] = uniform(b, a);
  for (size_t i = 0; i < out_c; i++) b->buf[n + i] = uniform(b, BIAS_RANGE);
  return b->buf;
}

static size_t add(builder *b, fsn_layer_desc d) {
  if (b->st != FSN_OK) return 0;
  b->st = fsn_model_add(b->m, &d, &b->last);
  return b->last;
}

/* A conv of `groups` groups (1: dense; the input's channel count: depthwise). */
static size_t grouped_conv(builder *b, size_t in, size_t out_c, size_t k, size_t stride, size_t pad, size_t groups,
                           double gain) {
  if (b->st != FSN_OK) return 0;
  size_t in_c = fsn_model_tensor_shape(b->m, in).c / groups, n = out_c * in_c * k * k;
  float *p = random_params(b, n, in_c * k * k, out_c, gain);
  if (!p) {
    b->st = fsn_fail(FSN_E_NOMEM, "built-in model: out of memory");
    return 0;
  }
  return add(b, (fsn_layer_desc){.kind = FSN_LAYER_CONV,
                                 .in = in,
                                 .out_c = out_c,
                                 .k_h = k,
                                 .k_w = k,
                                 .stride_h = stride,
                                 .stride_w = stride,
                                 .pad_h = pad,
                                 .pad_w = pad,
                                 .groups = groups,
                                 .weight = p,
                                 .bias = p + n});
}

static size_t conv(builder *b, size_t in, size_t out_c, size_t k, size_t stride, size_t pad, double gain) {
  return grouped_conv(b, in, out_c, k, stride, pad, 1, gain);
}

static size_t fc(builder *b, size_t in, size_t out) {
  if (b->st != FSN_OK) return 0;
  fsn_shape s = fsn_model_tensor_shape(b->m, in);
  size_t f = s.c * s.h * s.w;
  float *p = random_params(b, out * f, f, out, 1.0);
  if (!p) {
    b->st = fsn_fail(FSN_E_NOMEM, "built-in model: out of memory");
    return 0;
  }
  return add(b, (fsn_layer_desc){.kind = FSN_LAYER_FC, .in = in, .out_c = out, .weight = p, .bias = p + out * f});
}

static size_t relu(builder *b, size_t in) { return add(b, (fsn_layer_desc){.kind = FSN_LAYER_RELU, .in = in}); }

/* MobileNet v1 (224 x 224, width 1): conv 3x3/2 32, then 13 depthwise-separable blocks (depthwise 3x3 of stride s,
 * pointwise 1x1), each conv followed by a ReLU (ReLU6 in the paper), global average pool, flatten, fc 1000. */
static void mobilenet(builder *b) {
  static const size_t blocks[13][2] = {{1, 64},  {2, 128}, {1, 128}, {2, 256}, {1, 256},  {2, 512}, {1, 512},
                                       {1, 512}, {1, 512}, {1, 512}, {1, 512}, {2, 1024}, {1, 1024}};
  size_t t = relu(b, conv(b, 0, 32, 3, 2, 1, 1.0));
  for (size_t i = 0; i < 13; i++) {
    const size_t c = fsn_model_tensor_shape(b->m, t).c;
    t = relu(b, grouped_conv(b, t, c, 3, blocks[i][0], 1, c, 1.0));
    t = relu(b, conv(b, t, blocks[i][1], 1, 1, 0, 1.0));
  }
  t = add(b, (fsn_layer_desc){.kind = FSN_LAYER_GLOBAL_AVGPOOL, .in = t});
  t = add(b, (fsn_layer_desc){.kind = FSN_LAYER_FLATTEN, .in = t});
  fc(b, t, 1000);
}

static size_t maxpool(builder *b, size_t in, size_t k, size_t stride, size_t pad) {
  return add(b, (fsn_layer_desc){.kind = FSN_LAYER_MAXPOOL,
                                 .in = in,
                                 .k_h = k,
                                 .k_w = k,
                                 .stride_h = stride,
                                 .stride_w = stride,
                                 .pad_h = pad,
                                 .pad_w = pad});
}

static size_t residual(builder *b, size_t branch, size_t shortcut) {
  return add(b, (fsn_layer_desc){.kind = FSN_LAYER_ADD, .in = branch, .in2 = shortcut});
}

static void four_layer(builder *b) {
  size_t t = conv(b, 0, 16, 5, 1, 0, 1.0);
  t = maxpool(b, relu(b, t), 2, 2, 0);
  t = conv(b, t, 16, 5, 1, 0, 1.0);
  t = maxpool(b, relu(b, t), 2, 2, 0);
  t = add(b, (fsn_layer_desc){.kind = FSN_LAYER_FLATTEN, .in = t});
  t = relu(b, fc(b, t, 100));
  fc(b, t, 10);
}

/* Basic block (ResNet-18/34): 3x3 -> relu -> 3x3, plus the shortcut (1x1 conv when the shape changes), relu. */
static size_t basic_block(builder *b, size_t in, size_t width, size_t stride) {
  size_t in_c = fsn_model_tensor_shape(b->m, in).c;
  size_t t = relu(b, conv(b, in, width, 3, stride, 1, 1.0));
  t = conv(b, t, width, 3, 1, 1, RESIDUAL_GAIN);
  size_t shortcut = (stride != 1 || in_c != width) ? conv(b, in, width, 1, stride, 0, 1.0) : in;
  return relu(b, residual(b, t, shortcut));
}

/* Bottleneck block (ResNet-50, stride on the 3x3 as in torchvision): 1x1 -> 3x3 -> 1x1 (x4), shortcut, relu. */
static size_t bottleneck(builder *b, size_t in, size_t width, size_t stride) {
  size_t in_c = fsn_model_tensor_shape(b->m, in).c;
  size_t t = relu(b, conv(b, in, width, 1, 1, 0, 1.0));
  t = relu(b, conv(b, t, width, 3, stride, 1, 1.0));
  t = conv(b, t, 4 * width, 1, 1, 0, RESIDUAL_GAIN);
  size_t shortcut = (stride != 1 || in_c != 4 * width) ? conv(b, in, 4 * width, 1, stride, 0, 1.0) : in;
  return relu(b, residual(b, t, shortcut));
}

/* ResNet layout: 7x7/2 stem of `width` channels, 3x3/2 max pool, four stages of blocks[i] blocks at widths
 * width << i (bottlenecks expand x4), global average pool, fc -> classes. */
static void resnet(builder *b, const size_t blocks[4], bool bottlenecks, size_t width, size_t classes) {
  size_t t = relu(b, conv(b, 0, width, 7, 2, 3, 1.0));
  t = maxpool(b, t, 3, 2, 1);
  for (size_t stage = 0; stage < 4; stage++)
    for (size_t i = 0; i < blocks[stage]; i++) {
      size_t stride = stage > 0 && i == 0 ? 2 : 1;
      t = bottlenecks ? bottleneck(b, t, width << stage, stride) : basic_block(b, t, width << stage, stride);
    }
  t = add(b, (fsn_layer_desc){.kind = FSN_LAYER_GLOBAL_AVGPOOL, .in = t});
  t = add(b, (fsn_layer_desc){.kind = FSN_LAYER_FLATTEN, .in = t});
  fc(b, t, classes);
}

/* Fire module: squeeze 1x1 -> relu, then expand 1x1 and expand 3x3 (pad 1), each -> relu, concatenated. */
static size_t fire(builder *b, size_t in, size_t squeeze, size_t expand) {
  size_t t = relu(b, conv(b, in, squeeze, 1, 1, 0, 1.0));
  size_t e1 = relu(b, conv(b, t, expand, 1, 1, 0, 1.0));
  size_t e3 = relu(b, conv(b, t, expand, 3, 1, 1, 1.0));
  return add(b, (fsn_layer_desc){.kind = FSN_LAYER_CONCAT, .in = e1, .in2 = e3});
}

/* SqueezeNet v1.1 as CrypTFlow2 and Cheetah run it (227 x 227 input, valid 3x3 / 2 stem and pools, dropout dropped):
 * conv 3x3/2 64 -> relu -> maxpool 3/2 -> fire(16, 64) x 2 -> maxpool 3/2 -> fire(32, 128) x 2 -> maxpool 3/2 ->
 * fire(48, 192) x 2 -> fire(64, 256) x 2 -> conv 1x1 classes -> relu -> global average pool -> flatten. Every
 * channel count is divided by `narrow` (1 = the real network). */
static void squeezenet(builder *b, size_t narrow, size_t classes) {
  static const size_t fires[8][2] = {{16, 64},  {16, 64},  {32, 128}, {32, 128},
                                     {48, 192}, {48, 192}, {64, 256}, {64, 256}};
  size_t t = maxpool(b, relu(b, conv(b, 0, 64 / narrow, 3, 2, 0, 1.0)), 3, 2, 0);
  for (size_t i = 0; i < 8; i++) {
    t = fire(b, t, fires[i][0] / narrow, fires[i][1] / narrow);
    if (i == 1 || i == 3) t = maxpool(b, t, 3, 2, 0);
  }
  t = relu(b, conv(b, t, classes, 1, 1, 0, 1.0));
  t = add(b, (fsn_layer_desc){.kind = FSN_LAYER_GLOBAL_AVGPOOL, .in = t});
  add(b, (fsn_layer_desc){.kind = FSN_LAYER_FLATTEN, .in = t});
}

static fsn_status finish(builder *b, fsn_model **out) {
  free(b->buf);
  if (b->st != FSN_OK) {
    fsn_model_destroy(b->m);
    return b->st;
  }
  *out = b->m;
  return FSN_OK;
}

fsn_status fsn_nn_squeezenet(fsn_model **out, uint64_t seed, size_t side, size_t narrow, size_t classes) {
  *out = NULL;
  if (narrow < 1 || narrow > 16 || 16 % narrow || classes < 1)
    return fsn_fail(FSN_E_INVALID, "squeezenet: channel divisor %zu must divide 16, classes %zu >= 1", narrow, classes);
  builder b = {.rng = seed};
  fsn_status st = fsn_model_create(&b.m, 3, side, side);
  if (st != FSN_OK) return st;
  squeezenet(&b, narrow, classes);
  return finish(&b, out);
}

fsn_status fsn_nn_resnet(fsn_model **out, uint64_t seed, unsigned depth, size_t side, size_t width, size_t classes) {
  *out = NULL;
  static const size_t r18[4] = {2, 2, 2, 2}, r50[4] = {3, 4, 6, 3};
  if ((depth != 18 && depth != 50) || width < 1 || width > 64 || classes < 1)
    return fsn_fail(FSN_E_INVALID, "resnet: depth %u must be 18 or 50, width %zu in 1..64, classes %zu >= 1", depth,
                    width, classes);
  builder b = {.rng = seed};
  fsn_status st = fsn_model_create(&b.m, 3, side, side);
  if (st != FSN_OK) return st;
  resnet(&b, depth == 18 ? r18 : r50, depth == 50, width, classes);
  return finish(&b, out);
}

fsn_status fsn_model_builtin(fsn_model **out, const char *name, uint64_t seed) {
  *out = NULL;
  if (!strcmp(name, "squeezenet")) return fsn_nn_squeezenet(out, seed, 227, 1, 1000);
  if (!strcmp(name, "resnet18")) return fsn_nn_resnet(out, seed, 18, 224, 64, 1000);
  if (!strcmp(name, "resnet50")) return fsn_nn_resnet(out, seed, 50, 224, 64, 1000);
  const bool mobile = !strcmp(name, "mobilenet");
  if (strcmp(name, "4layer") && !mobile)
    return fsn_fail(FSN_E_INVALID,
                    "unknown built-in model '%s' (known: 4layer, resnet18, resnet50, squeezenet, mobilenet)", name);
  builder b = {.rng = seed};
  fsn_status st = mobile ? fsn_model_create(&b.m, 3, 224, 224) : fsn_model_create(&b.m, 1, 28, 28);
  if (st != FSN_OK) return st;
  if (mobile)
    mobilenet(&b);
  else
    four_layer(&b);
  return finish(&b, out);
}
