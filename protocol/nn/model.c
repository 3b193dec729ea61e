/* The model graph: building with shape inference, quantisation to Z_2^ell, and the model hash. */
#include <fusion/nn.h>
#include <fusion/ring.h>

#include <math.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/nn/nn_internal.h"

#define MAX_LAYERS   4096
#define MAX_DIM      65536
#define MAX_ELEMENTS ((size_t)1 << 28)

typedef struct layer_rec {
  fsn_layer view;
  char *name;
  float *weight, *bias;
  uint64_t *qweight, *qbias, *qweight_t;
} layer_rec;

struct fsn_model {
  fsn_shape input;
  size_t n, cap;
  layer_rec *layers;
  unsigned ell, scale;
  bool shapes_only; /* an architecture: conv/fc layers without weights (fsn_model_create_shapes) */
};

const char *fsn_layer_kind_name(fsn_layer_kind kind) {
  switch (kind) {
  case FSN_LAYER_CONV: return "conv";
  case FSN_LAYER_FC: return "fc";
  case FSN_LAYER_RELU: return "relu";
  case FSN_LAYER_MAXPOOL: return "maxpool";
  case FSN_LAYER_AVGPOOL: return "avgpool";
  case FSN_LAYER_GLOBAL_AVGPOOL: return "global_avgpool";
  case FSN_LAYER_ADD: return "add";
  case FSN_LAYER_FLATTEN: return "flatten";
  case FSN_LAYER_CONCAT: return "concat";
  case FSN_LAYER_PAD: return "pad";
  case FSN_LAYER_CLIP: return "clip";
  }
  return "?";
}

fsn_status fsn_model_create(fsn_model **out, size_t c, size_t h, size_t w) {
  *out = NULL;
  if (c < 1 || h < 1 || w < 1 || c > MAX_DIM || h > MAX_DIM || w > MAX_DIM || c * h * w > MAX_ELEMENTS)
    return fsn_fail(FSN_E_INVALID, "model input %zux%zux%zu: each dimension must be 1..%d and the product <= 2^28", c,
                    h, w, MAX_DIM);
  fsn_model *m = calloc(1, sizeof *m);
  if (!m) return fsn_fail(FSN_E_NOMEM, "model: out of memory");
  m->input = (fsn_shape){c, h, w};
  *out = m;
  return FSN_OK;
}

fsn_status fsn_model_create_shapes(fsn_model **out, size_t c, size_t h, size_t w) {
  fsn_status st = fsn_model_create(out, c, h, w);
  if (st == FSN_OK) (*out)->shapes_only = true;
  return st;
}

bool fsn_model_shapes_only(const fsn_model *m) { return m->shapes_only; }

static void drop_quantised(layer_rec *r) {
  free(r->qweight);
  free(r->qbias);
  free(r->qweight_t);
  r->qweight = r->qbias = r->qweight_t = NULL;
  r->view.qweight = r->view.qbias = NULL;
}

static void drop_all_quantised(fsn_model *m) {
  for (size_t i = 0; i < m->n; i++) drop_quantised(&m->layers[i]);
  m->ell = m->scale = 0;
}

void fsn_model_destroy(fsn_model *m) {
  if (!m) return;
  for (size_t i = 0; i < m->n; i++) {
    drop_quantised(&m->layers[i]);
    free(m->layers[i].name);
    free(m->layers[i].weight);
    free(m->layers[i].bias);
  }
  free(m->layers);
  free(m);
}

size_t fsn_model_num_layers(const fsn_model *m) { return m->n; }
fsn_shape fsn_model_input_shape(const fsn_model *m) { return m->input; }
fsn_shape fsn_model_output_shape(const fsn_model *m) { return m->n ? m->layers[m->n - 1].view.out_shape : m->input; }
const fsn_layer *fsn_model_layer(const fsn_model *m, size_t i) { return &m->layers[i].view; }
fsn_shape fsn_model_tensor_shape(const fsn_model *m, size_t t) {
  return t == 0 ? m->input : m->layers[t - 1].view.out_shape;
}
unsigned fsn_model_ell(const fsn_model *m) { return m->ell; }
unsigned fsn_model_scale(const fsn_model *m) { return m->scale; }

static bool shape_ok(fsn_shape s) {
  return s.c >= 1 && s.h >= 1 && s.w >= 1 && s.c <= MAX_ELEMENTS && s.h <= MAX_DIM && s.w <= MAX_DIM &&
         s.c * s.h * s.w <= MAX_ELEMENTS;
}

/* Output extent of a window sweep: (in + 2 pad - k) / stride + 1, or 0 if the window does not fit; rounded up with
 * ceil_mode, less the last window if it would start past the input and its leading padding (as ONNX). */
static size_t sweep(size_t in, size_t k, size_t stride, size_t pad, bool ceil_mode) {
  if (k < 1 || in + 2 * pad < k) return 0;
  size_t out = (in + 2 * pad - k + (ceil_mode ? stride - 1 : 0)) / stride + 1;
  if (ceil_mode && (out - 1) * stride >= in + pad) out--;
  return out;
}

static fsn_status check_finite(const char *name, const char *what, const float *v, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (!isfinite(v[i])) return fsn_fail(FSN_E_INVALID, "layer '%s': %s %zu is not finite", name, what, i);
  return FSN_OK;
}

/* Infer the output shape of d given its input shapes; one clear line on failure. */
static fsn_status infer(const fsn_layer_desc *d, const char *name, fsn_shape in, fsn_shape in2, fsn_shape *out,
                        size_t *weight_count) {
  *weight_count = 0;
  switch (d->kind) {
  case FSN_LAYER_CONV:
  case FSN_LAYER_MAXPOOL:
  case FSN_LAYER_AVGPOOL: {
    if (d->k_h < 1 || d->k_w < 1 || d->k_h > MAX_DIM || d->k_w > MAX_DIM || d->stride_h > MAX_DIM ||
        d->stride_w > MAX_DIM || d->pad_h > MAX_DIM || d->pad_w > MAX_DIM)
      return fsn_fail(FSN_E_INVALID, "layer '%s': window %zux%zu, stride %zux%zu, pad %zux%zu out of range", name,
                      d->k_h, d->k_w, d->stride_h, d->stride_w, d->pad_h, d->pad_w);
    if (d->kind != FSN_LAYER_CONV && (d->pad_h >= d->k_h || d->pad_w >= d->k_w))
      return fsn_fail(FSN_E_INVALID, "layer '%s': pooling pad %zux%zu must be smaller than the window %zux%zu", name,
                      d->pad_h, d->pad_w, d->k_h, d->k_w);
    size_t sh = d->stride_h ? d->stride_h : 1, sw = d->stride_w ? d->stride_w : 1;
    const bool ceil_mode = d->kind != FSN_LAYER_CONV && d->ceil_mode;
    size_t oh = sweep(in.h, d->k_h, sh, d->pad_h, ceil_mode), ow = sweep(in.w, d->k_w, sw, d->pad_w, ceil_mode);
    if (!oh || !ow)
      return fsn_fail(FSN_E_INVALID, "layer '%s': window %zux%zu (pad %zux%zu) larger than the input %zux%zux%zu", name,
                      d->k_h, d->k_w, d->pad_h, d->pad_w, in.c, in.h, in.w);
    *out = (fsn_shape){in.c, oh, ow};
    if (d->kind == FSN_LAYER_CONV) {
      if (d->out_c < 1 || d->out_c > MAX_ELEMENTS)
        return fsn_fail(FSN_E_INVALID, "layer '%s': %zu output channels", name, d->out_c);
      out->c = d->out_c;
      const size_t g = d->groups > 1 ? d->groups : 1;
      if (in.c % g || d->out_c % g)
        return fsn_fail(FSN_E_INVALID, "layer '%s': %zu groups do not divide %zu input and %zu output channels", name,
                        g, in.c, d->out_c);
      size_t n;
      if (!fsn_nn_mul_ok(d->out_c, in.c / g, &n) || !fsn_nn_mul_ok(n, d->k_h * d->k_w, &n) || n > MAX_ELEMENTS)
        return fsn_fail(FSN_E_INVALID, "layer '%s': %zu x %zu x %zu x %zu weights are too many", name, d->out_c, in.c,
                        d->k_h, d->k_w);
      *weight_count = n;
    }
    break;
  }
  case FSN_LAYER_FC: {
    size_t f = fsn_shape_size(in), n;
    if (d->out_c < 1 || !fsn_nn_mul_ok(d->out_c, f, &n) || n > MAX_ELEMENTS)
      return fsn_fail(FSN_E_INVALID, "layer '%s': fc %zu -> %zu out of range", name, f, d->out_c);
    *out = (fsn_shape){d->out_c, 1, 1};
    *weight_count = n;
    break;
  }
  case FSN_LAYER_RELU: *out = in; break;
  case FSN_LAYER_CLIP:
    if (!(d->clip_lo <= d->clip_hi)) /* infinite bounds are none; NaN fails the comparison */
      return fsn_fail(FSN_E_INVALID, "layer '%s': clip bounds [%g, %g] must be ordered numbers", name, d->clip_lo,
                      d->clip_hi);
    *out = in;
    break;
  case FSN_LAYER_PAD:
    if (d->pad_h > MAX_DIM || d->pad_w > MAX_DIM)
      return fsn_fail(FSN_E_INVALID, "layer '%s': pad %zux%zu out of range", name, d->pad_h, d->pad_w);
    *out = (fsn_shape){in.c, in.h + 2 * d->pad_h, in.w + 2 * d->pad_w};
    break;
  case FSN_LAYER_CONCAT:
    if (in.h != in2.h || in.w != in2.w)
      return fsn_fail(FSN_E_INVALID, "layer '%s': concat of %zux%zux%zu and %zux%zux%zu (H and W must be equal)", name,
                      in.c, in.h, in.w, in2.c, in2.h, in2.w);
    *out = (fsn_shape){in.c + in2.c, in.h, in.w};
    break;
  case FSN_LAYER_GLOBAL_AVGPOOL: *out = (fsn_shape){in.c, 1, 1}; break;
  case FSN_LAYER_FLATTEN: *out = (fsn_shape){fsn_shape_size(in), 1, 1}; break;
  case FSN_LAYER_ADD:
    if (in.c != in2.c || in.h != in2.h || in.w != in2.w)
      return fsn_fail(FSN_E_INVALID, "layer '%s': add of %zux%zux%zu and %zux%zux%zu (shapes must be equal)", name,
                      in.c, in.h, in.w, in2.c, in2.h, in2.w);
    *out = in;
    break;
  default: return fsn_fail(FSN_E_INVALID, "layer '%s': unknown layer kind %d", name, (int)d->kind);
  }
  if (!shape_ok(*out))
    return fsn_fail(FSN_E_INVALID, "layer '%s': output %zux%zux%zu out of range", name, out->c, out->h, out->w);
  return FSN_OK;
}

static float *copy_floats(const float *src, size_t n) {
  float *p = malloc((n ? n : 1) * sizeof *p);
  if (p && src) memcpy(p, src, n * sizeof *p);
  if (p && !src) memset(p, 0, n * sizeof *p);
  return p;
}

fsn_status fsn_model_add(fsn_model *m, const fsn_layer_desc *d, size_t *tensor) {
  char auto_name[48];
  const char *name = d->name && d->name[0] ? d->name : auto_name;
  snprintf(auto_name, sizeof auto_name, "%s%zu", fsn_layer_kind_name(d->kind), m->n);
  if (m->n >= MAX_LAYERS) return fsn_fail(FSN_E_INVALID, "layer '%s': more than %d layers", name, MAX_LAYERS);
  const bool binary = fsn_layer_kind_binary(d->kind);
  if (d->in > m->n || (binary && d->in2 > m->n))
    return fsn_fail(FSN_E_INVALID, "layer '%s': reads tensor %zu but only tensors 0..%zu exist", name,
                    d->in > m->n ? d->in : d->in2, m->n);
  fsn_shape in = fsn_model_tensor_shape(m, d->in);
  fsn_shape in2 = binary ? fsn_model_tensor_shape(m, d->in2) : in;
  fsn_shape out = {0, 0, 0};
  size_t wc;
  fsn_status st = infer(d, name, in, in2, &out, &wc);
  if (st != FSN_OK) return st;
  /* A shapes-only model keeps no parameters: a client decoding a card allocates nothing per weight. */
  bool has_params = !m->shapes_only && (d->kind == FSN_LAYER_CONV || d->kind == FSN_LAYER_FC);
  if (has_params) {
    if (!d->weight)
      return fsn_fail(FSN_E_INVALID, "layer '%s': %s without weights", name, fsn_layer_kind_name(d->kind));
    if ((st = check_finite(name, "weight", d->weight, wc)) != FSN_OK) return st;
    if (d->bias && (st = check_finite(name, "bias", d->bias, d->out_c)) != FSN_OK) return st;
  }
  if (m->n == m->cap) {
    size_t cap = m->cap ? 2 * m->cap : 16;
    layer_rec *grown = realloc(m->layers, cap * sizeof *grown);
    if (!grown) return fsn_fail(FSN_E_NOMEM, "layer '%s': out of memory", name);
    m->layers = grown;
    m->cap = cap;
  }
  layer_rec r = {0};
  r.name = strdup(name);
  if (has_params) {
    r.weight = copy_floats(d->weight, wc);
    r.bias = copy_floats(d->bias, d->out_c);
  }
  if (!r.name || (has_params && (!r.weight || !r.bias))) {
    free(r.name);
    free(r.weight);
    free(r.bias);
    return fsn_fail(FSN_E_NOMEM, "layer '%s': out of memory for %zu weights", name, wc);
  }
  r.view.desc = *d;
  r.view.desc.name = r.name;
  r.view.desc.weight = r.weight;
  r.view.desc.bias = r.bias;
  if (!r.view.desc.stride_h) r.view.desc.stride_h = 1;
  if (!r.view.desc.stride_w) r.view.desc.stride_w = 1;
  if (!binary) r.view.desc.in2 = 0;
  if (d->kind != FSN_LAYER_CONV && d->kind != FSN_LAYER_FC) r.view.desc.out_c = 0;
  /* fields a kind does not use read back as their defaults (the hash and the card see one form per layer) */
  r.view.desc.groups = d->kind == FSN_LAYER_CONV && d->groups > 1 ? d->groups : 1;
  r.view.desc.ceil_mode = (d->kind == FSN_LAYER_MAXPOOL || d->kind == FSN_LAYER_AVGPOOL) && d->ceil_mode;
  /* without padding both divisors count the same positions: one form, one hash */
  r.view.desc.exclude_pad = d->kind == FSN_LAYER_AVGPOOL && d->exclude_pad && (d->pad_h || d->pad_w);
  if (d->kind != FSN_LAYER_CLIP) r.view.desc.clip_lo = r.view.desc.clip_hi = 0;
  r.view.in_shape = in;
  r.view.out_shape = out;
  r.view.weight_count = wc;
  drop_all_quantised(m);
  m->layers[m->n++] = r;
  if (tensor) *tensor = m->n;
  return FSN_OK;
}

void fsn_nn_layer_params_mut(fsn_model *m, size_t i, float **weight, float **bias) {
  drop_all_quantised(m);
  *weight = m->layers[i].weight;
  *bias = m->layers[i].bias;
}

const uint64_t *fsn_nn_fc_qweight_t(const fsn_model *m, size_t i) { return m->layers[i].qweight_t; }

/* ---- quantisation ---- */

/* round(x * 2^scale) as an ell-bit two's-complement value, or false if it does not fit. */
static bool encode_one(double x, unsigned ell, unsigned scale, uint64_t *out) {
  double v = ldexp(x, (int)scale), r = round(v);
  if (!(fabs(r) < ldexp(1.0, (int)ell - 1))) return false;
  *out = (uint64_t)(int64_t)r & fsn_ring_mask(ell);
  return true;
}

static fsn_status quantize_layer(layer_rec *r, unsigned ell, unsigned scale) {
  const fsn_layer_desc *d = &r->view.desc;
  size_t wc = r->view.weight_count, oc = d->out_c;
  r->qweight = malloc(wc * sizeof *r->qweight);
  r->qbias = malloc(oc * sizeof *r->qbias);
  if (d->kind == FSN_LAYER_FC) r->qweight_t = malloc(wc * sizeof *r->qweight_t);
  if (!r->qweight || !r->qbias || (d->kind == FSN_LAYER_FC && !r->qweight_t))
    return fsn_fail(FSN_E_NOMEM, "layer '%s': out of memory quantising %zu weights", r->name, wc);
  for (size_t i = 0; i < wc; i++)
    if (!encode_one(r->weight[i], ell, scale, &r->qweight[i]))
      return fsn_fail(FSN_E_INVALID, "layer '%s': weight %zu = %g does not fit in %u bits at scale %u", r->name, i,
                      (double)r->weight[i], ell, scale);
  for (size_t o = 0; o < oc; o++)
    if (!encode_one(r->bias[o], ell, 2 * scale, &r->qbias[o]))
      return fsn_fail(FSN_E_INVALID, "layer '%s': bias %zu = %g does not fit in %u bits at scale 2s = %u", r->name, o,
                      (double)r->bias[o], ell, 2 * scale);
  if (d->kind == FSN_LAYER_FC) {
    size_t f = wc / oc;
    for (size_t o = 0; o < oc; o++)
      for (size_t k = 0; k < f; k++) r->qweight_t[k * oc + o] = r->qweight[o * f + k];
  }
  r->view.qweight = r->qweight;
  r->view.qbias = r->qbias;
  return FSN_OK;
}

fsn_status fsn_model_quantize(fsn_model *m, unsigned ell, unsigned scale) {
  if (ell < 2 || ell > 64 || 2 * scale + 2 > ell)
    return fsn_fail(FSN_E_INVALID, "quantisation ell = %u, s = %u: need 2 <= ell <= 64 and 2s <= ell - 2", ell, scale);
  if (m->shapes_only) return fsn_fail(FSN_E_INVALID, "quantisation: the model has shapes only (no weights)");
  drop_all_quantised(m);
  for (size_t i = 0; i < m->n; i++) {
    layer_rec *r = &m->layers[i];
    if (r->view.desc.kind != FSN_LAYER_CONV && r->view.desc.kind != FSN_LAYER_FC) continue;
    fsn_status st = quantize_layer(r, ell, scale);
    if (st != FSN_OK) {
      drop_all_quantised(m);
      return st;
    }
  }
  m->ell = ell;
  m->scale = scale;
  return FSN_OK;
}

/* ---- hash ---- */

typedef struct hasher {
  crypto_hash_sha256_state st;
  uint8_t buf[8 * 1024];
  size_t len;
} hasher;

static void hash_flush(hasher *h) {
  crypto_hash_sha256_update(&h->st, h->buf, h->len);
  h->len = 0;
}

static void hash_u64(hasher *h, uint64_t v) {
  if (h->len + 8 > sizeof h->buf) hash_flush(h);
  for (int i = 0; i < 8; i++) h->buf[h->len++] = (uint8_t)(v >> (8 * i));
}

/* The kind, with the options of newer layers in its upper bits: zero for every layer that has none, so the hashes of
 * models without them are what they always were. */
static uint64_t kind_word(const fsn_layer_desc *d) {
  return (uint64_t)d->kind | (uint64_t)(d->groups - 1) << 32 | (uint64_t)d->ceil_mode << 62 |
         (uint64_t)d->exclude_pad << 63;
}

fsn_status fsn_model_hash(const fsn_model *m, uint8_t out[32]) {
  if (!m->ell) return fsn_fail(FSN_E_INVALID, "model hash: the model is not quantised (call fsn_model_quantize)");
  hasher *h = malloc(sizeof *h);
  if (!h) return fsn_fail(FSN_E_NOMEM, "model hash: out of memory");
  crypto_hash_sha256_init(&h->st);
  h->len = 0;
  static const char magic[8] = "FSNMODL1";
  memcpy(h->buf, magic, 8);
  h->len = 8;
  hash_u64(h, m->ell);
  hash_u64(h, m->scale);
  hash_u64(h, m->input.c);
  hash_u64(h, m->input.h);
  hash_u64(h, m->input.w);
  hash_u64(h, m->n);
  for (size_t i = 0; i < m->n; i++) {
    const fsn_layer *l = &m->layers[i].view;
    const fsn_layer_desc *d = &l->desc;
    const uint64_t fields[] = {kind_word(d),   d->in,          d->in2,         d->out_c,       d->k_h,
                               d->k_w,         d->stride_h,    d->stride_w,    d->pad_h,       d->pad_w,
                               l->out_shape.c, l->out_shape.h, l->out_shape.w, l->weight_count};
    for (size_t f = 0; f < sizeof fields / sizeof fields[0]; f++) hash_u64(h, fields[f]);
    if (d->kind == FSN_LAYER_CLIP) {
      uint64_t lo, hi;
      fsn_nn_clip_bounds(d, m->ell, m->scale, &lo, &hi);
      hash_u64(h, lo), hash_u64(h, hi);
    }
    for (size_t k = 0; k < l->weight_count; k++) hash_u64(h, l->qweight[k]);
    if (l->qbias)
      for (size_t k = 0; k < d->out_c; k++) hash_u64(h, l->qbias[k]);
  }
  hash_flush(h);
  crypto_hash_sha256_final(&h->st, out);
  free(h);
  return FSN_OK;
}

/* ---- encoding helpers ---- */

void fsn_nn_encode(uint64_t *out, const double *in, size_t n, unsigned ell, unsigned scale) {
  fsn_ring_encode(out, in, n, ell, scale);
}

static int64_t signed_of(uint64_t v, unsigned ell) {
  return ell >= 64 ? (int64_t)v : (int64_t)(v << (64 - ell)) >> (64 - ell);
}

double fsn_nn_decode(uint64_t v, unsigned ell, unsigned scale) { return ldexp((double)signed_of(v, ell), -(int)scale); }

void fsn_nn_pixels_to_float(double *out, const uint8_t *pixels, size_t n) {
  for (size_t i = 0; i < n; i++) out[i] = pixels[i] / 255.0;
}

void fsn_nn_pixels_to_fixed(uint64_t *out, const uint8_t *pixels, size_t n, unsigned ell, unsigned scale) {
  double chunk[256];
  for (size_t i = 0; i < n; i += 256) {
    size_t k = n - i < 256 ? n - i : 256;
    fsn_nn_pixels_to_float(chunk, pixels + i, k);
    fsn_ring_encode(out + i, chunk, k, ell, scale);
  }
}

double fsn_nn_headroom_bits(double max_abs, unsigned ell) {
  return (double)ell - 1.0 - (max_abs >= 1.0 ? log2(max_abs) : 0.0);
}

size_t fsn_nn_argmax_float(const double *v, size_t n) {
  size_t best = 0;
  for (size_t i = 1; i < n; i++)
    if (v[i] > v[best]) best = i;
  return best;
}

size_t fsn_nn_argmax_fixed(const uint64_t *v, size_t n, unsigned ell) {
  size_t best = 0;
  for (size_t i = 1; i < n; i++)
    if (signed_of(v[i], ell) > signed_of(v[best], ell)) best = i;
  return best;
}
