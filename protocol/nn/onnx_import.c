/* ONNX import: protobuf-c parses the file with our minimal schema (onnx.proto here), then each node becomes a layer
 * of the IR. BatchNormalization is folded into the Conv before it, a constant Add into the MatMul/Gemm before it. */
#include <fusion/nn.h>

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/nn/nn_internal.h"
#include "protocol/nn/onnx.pb-c.h"

#define MAX_FILE_BYTES   ((size_t)1 << 30)
#define MAX_NODES        10000
#define MAX_INITIALIZERS 100000
#define MAX_TENSOR_ELEMS ((size_t)1 << 28)

enum { ONNX_FLOAT = 1, ONNX_INT64 = 7, ONNX_EXTERNAL = 1 };

typedef Fsn__Onnx__NodeProto node_t;
typedef Fsn__Onnx__TensorProto tensor_t;
typedef Fsn__Onnx__AttributeProto attr_t;

/* A named value of the graph: an activation (a tensor of the IR) or a constant (initializer or Constant node). */
typedef struct value {
  const char *name;
  size_t tensor;         /* IR tensor id if an activation */
  const tensor_t *konst; /* else the constant */
  size_t consumers;      /* node inputs and graph outputs that read it */
  bool defined;          /* produced so far (a name may be known only as something read later) */
} value;

typedef struct importer {
  fsn_model *m;
  value *values;
  size_t n_values, cap; /* open addressing, cap a power of two */
  tensor_t **bound;     /* graph inputs bound to constants (fsn_model_parse_onnx_bound), unpacked; n_bound entries */
  size_t n_bound;
} importer;

static size_t hash_name(const char *s) {
  size_t h = 1469598103934665603ull;
  for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
  return h;
}

/* The entry of `name`, created empty if new (the table is sized so it never fills). */
static value *slot(importer *im, const char *name) {
  size_t i = hash_name(name) & (im->cap - 1);
  while (im->values[i].name && strcmp(im->values[i].name, name)) i = (i + 1) & (im->cap - 1);
  if (!im->values[i].name) {
    im->values[i] = (value){.name = name};
    im->n_values++;
  }
  return &im->values[i];
}

/* A defined value, or NULL. */
static value *lookup(importer *im, const char *name) {
  value *v = slot(im, name);
  return v->defined ? v : NULL;
}

/* (Re)define `name`, keeping its reader count. */
static value *define(importer *im, const char *name) {
  value *v = slot(im, name);
  *v = (value){.name = v->name, .consumers = v->consumers, .defined = true};
  return v;
}

static const char *node_label(const node_t *n) {
  if (n->name && n->name[0]) return n->name;
  return n->n_output && n->output[0] ? n->output[0] : "(unnamed)";
}

/* ---- attributes ---- */

static const attr_t *find_attr(const node_t *n, const char *name) {
  for (size_t i = 0; i < n->n_attribute; i++)
    if (n->attribute[i]->name && !strcmp(n->attribute[i]->name, name)) return n->attribute[i];
  return NULL;
}

static fsn_status check_attrs(const node_t *n, const char *const *known) {
  for (size_t i = 0; i < n->n_attribute; i++) {
    const char *name = n->attribute[i]->name ? n->attribute[i]->name : "";
    bool ok = false;
    for (const char *const *k = known; *k && !ok; k++) ok = !strcmp(*k, name);
    if (!ok)
      return fsn_fail(FSN_E_UNSUPPORTED, "node '%s' (%s): unsupported attribute '%s'", node_label(n), n->op_type, name);
  }
  return FSN_OK;
}

static int64_t attr_int(const node_t *n, const char *name, int64_t dflt) {
  const attr_t *a = find_attr(n, name);
  return a && a->has_i ? a->i : dflt;
}

static double attr_float(const node_t *n, const char *name, double dflt) {
  const attr_t *a = find_attr(n, name);
  return a && a->has_f ? a->f : dflt;
}

/* An ints attribute of exactly `count` values into out (default `dflt` for each when absent). */
static fsn_status attr_ints(const node_t *n, const char *name, size_t count, int64_t dflt, int64_t *out) {
  const attr_t *a = find_attr(n, name);
  for (size_t i = 0; i < count; i++) out[i] = dflt;
  if (!a) return FSN_OK;
  if (a->n_ints != count)
    return fsn_fail(FSN_E_UNSUPPORTED, "node '%s' (%s): attribute '%s' has %zu values, expected %zu (2-D only)",
                    node_label(n), n->op_type, name, a->n_ints, count);
  memcpy(out, a->ints, count * sizeof *out);
  return FSN_OK;
}

static fsn_status check_auto_pad(const node_t *n) {
  const attr_t *a = find_attr(n, "auto_pad");
  if (!a || !a->has_s || (a->s.len == 6 && !memcmp(a->s.data, "NOTSET", 6))) return FSN_OK;
  return fsn_fail(FSN_E_UNSUPPORTED, "node '%s' (%s): auto_pad '%.*s' is not supported (only NOTSET, explicit pads)",
                  node_label(n), n->op_type, (int)(a->s.len > 32 ? 32 : a->s.len), (const char *)a->s.data);
}

/* Window attributes shared by Conv and the pools: kernel, strides, symmetric pads, unit dilations. */
static fsn_status window_attrs(const node_t *n, fsn_layer_desc *d, bool kernel_required) {
  int64_t k[2], s[2], p[4], dil[2];
  fsn_status st;
  if ((st = check_auto_pad(n)) != FSN_OK || (st = attr_ints(n, "kernel_shape", 2, 0, k)) != FSN_OK ||
      (st = attr_ints(n, "strides", 2, 1, s)) != FSN_OK || (st = attr_ints(n, "pads", 4, 0, p)) != FSN_OK ||
      (st = attr_ints(n, "dilations", 2, 1, dil)) != FSN_OK)
    return st;
  const char *who = node_label(n);
  if (kernel_required && !find_attr(n, "kernel_shape"))
    return fsn_fail(FSN_E_FORMAT, "node '%s' (%s): missing kernel_shape", who, n->op_type);
  if (dil[0] != 1 || dil[1] != 1)
    return fsn_fail(FSN_E_UNSUPPORTED, "node '%s' (%s): dilations %lldx%lld are not supported (only 1)", who,
                    n->op_type, (long long)dil[0], (long long)dil[1]);
  if (p[0] != p[2] || p[1] != p[3])
    return fsn_fail(FSN_E_UNSUPPORTED, "node '%s' (%s): asymmetric pads [%lld, %lld, %lld, %lld] are not supported",
                    who, n->op_type, (long long)p[0], (long long)p[1], (long long)p[2], (long long)p[3]);
  for (int i = 0; i < 2; i++)
    if (s[i] < 1 || s[i] > 65536 || p[i] < 0 || p[i] > 65536 || k[i] < 0 || k[i] > 65536)
      return fsn_fail(FSN_E_FORMAT, "node '%s' (%s): kernel %lld, stride %lld or pad %lld out of range", who,
                      n->op_type, (long long)k[i], (long long)s[i], (long long)p[i]);
  d->k_h = (size_t)k[0], d->k_w = (size_t)k[1];
  d->stride_h = (size_t)s[0], d->stride_w = (size_t)s[1];
  d->pad_h = (size_t)p[0], d->pad_w = (size_t)p[1];
  return FSN_OK;
}

/* ---- constants ---- */

static size_t tensor_count(const tensor_t *t) {
  size_t count = 1;
  for (size_t i = 0; i < t->n_dims; i++) {
    if (t->dims[i] < 0 || (size_t)t->dims[i] > MAX_TENSOR_ELEMS) return SIZE_MAX;
    count *= (size_t)t->dims[i];
    if (count > MAX_TENSOR_ELEMS) return SIZE_MAX;
  }
  return count;
}

/* The float32 values of tensor t, which must hold `count` of them, copied to a fresh array; `who` names the context
 * in messages. */
static fsn_status decode_floats(const tensor_t *t, size_t count, float **out, const char *who) {
  *out = NULL;
  const char *tn = t->name ? t->name : "";
  if (t->has_data_location && t->data_location == ONNX_EXTERNAL)
    return fsn_fail(FSN_E_UNSUPPORTED, "%s: tensor '%s' uses external data (not supported)", who, tn);
  if (!t->has_data_type || t->data_type != ONNX_FLOAT)
    return fsn_fail(FSN_E_UNSUPPORTED, "%s: tensor '%s' has data type %d, only float32 (1) is supported", who, tn,
                    t->has_data_type ? (int)t->data_type : 0);
  if (tensor_count(t) != count)
    return fsn_fail(FSN_E_FORMAT, "%s: tensor '%s' has dims for %zu elements, expected %zu", who, tn, tensor_count(t),
                    count);
  float *v = malloc((count ? count : 1) * sizeof *v);
  if (!v) return fsn_fail(FSN_E_NOMEM, "%s: out of memory for %zu values", who, count);
  if (t->has_raw_data) {
    if (t->raw_data.len != count * 4) {
      free(v);
      return fsn_fail(FSN_E_FORMAT, "%s: tensor '%s' has %zu raw bytes, expected %zu", who, tn, t->raw_data.len,
                      count * 4);
    }
    for (size_t i = 0; i < count; i++) { /* little-endian IEEE 754 on the wire */
      const uint8_t *b = t->raw_data.data + 4 * i;
      uint32_t bits = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
      memcpy(&v[i], &bits, 4);
    }
  } else if (t->n_float_data == count) {
    if (count) memcpy(v, t->float_data, count * sizeof *v); /* float_data is NULL when empty */
  } else {
    free(v);
    return fsn_fail(FSN_E_FORMAT, "%s: tensor '%s' holds %zu floats, expected %zu", who, tn, t->n_float_data, count);
  }
  for (size_t i = 0; i < count; i++)
    if (!isfinite(v[i])) {
      free(v);
      return fsn_fail(FSN_E_FORMAT, "%s: tensor '%s' element %zu is not finite", who, tn, i);
    }
  *out = v;
  return FSN_OK;
}

/* A float constant of a node, `count` elements. */
static fsn_status read_floats(const node_t *n, const tensor_t *t, size_t count, float **out) {
  char who[160];
  snprintf(who, sizeof who, "node '%s'", node_label(n));
  return decode_floats(t, count, out, who);
}

fsn_status fsn_tensor_parse_pb(fsn_tensor *out, const void *data, size_t n) {
  *out = (fsn_tensor){0};
  if (n > MAX_FILE_BYTES) return fsn_fail(FSN_E_FORMAT, "tensor of %zu bytes is above the 1 GiB limit", n);
  tensor_t *t = fsn__onnx__tensor_proto__unpack(NULL, n, data);
  if (!t) return fsn_fail(FSN_E_FORMAT, "not a valid ONNX TensorProto: truncated or corrupt protobuf (%zu bytes)", n);
  fsn_status st = FSN_OK;
  size_t count = tensor_count(t);
  if (t->n_dims > 8)
    st = fsn_fail(FSN_E_UNSUPPORTED, "tensor of rank %zu (at most 8 is supported)", t->n_dims);
  else if (count == SIZE_MAX)
    st = fsn_fail(FSN_E_FORMAT, "tensor dims are negative or hold more than 2^28 elements");
  if (st == FSN_OK) st = decode_floats(t, count, &out->data, "TensorProto");
  if (st == FSN_OK) {
    out->rank = t->n_dims, out->count = count;
    for (size_t i = 0; i < t->n_dims; i++) out->dims[i] = (size_t)t->dims[i];
  }
  fsn__onnx__tensor_proto__free_unpacked(t, NULL);
  return st;
}

void fsn_tensor_free(fsn_tensor *t) {
  if (!t) return;
  free(t->data);
  *t = (fsn_tensor){0};
}

/* An int64 constant of rank 1 with at most `max` elements. */
static fsn_status read_int64s(const node_t *n, const tensor_t *t, int64_t *out, size_t max, size_t *count) {
  const char *tn = t->name ? t->name : "";
  size_t c = tensor_count(t);
  if (!t->has_data_type || t->data_type != ONNX_INT64 || t->n_dims != 1 || c > max)
    return fsn_fail(FSN_E_UNSUPPORTED, "node '%s': tensor '%s' must be a 1-D int64 tensor of at most %zu elements",
                    node_label(n), tn, max);
  if (t->has_raw_data) {
    if (t->raw_data.len != c * 8)
      return fsn_fail(FSN_E_FORMAT, "node '%s': tensor '%s' has %zu raw bytes, expected %zu", node_label(n), tn,
                      t->raw_data.len, c * 8);
    for (size_t i = 0; i < c; i++) {
      uint64_t u = 0;
      for (int b = 7; b >= 0; b--) u = u << 8 | t->raw_data.data[8 * i + (size_t)b];
      out[i] = (int64_t)u;
    }
  } else if (t->n_int64_data == c) {
    memcpy(out, t->int64_data, c * sizeof *out);
  } else {
    return fsn_fail(FSN_E_FORMAT, "node '%s': tensor '%s' holds %zu int64s, expected %zu", node_label(n), tn,
                    t->n_int64_data, c);
  }
  *count = c;
  return FSN_OK;
}

/* ---- node inputs ---- */

static fsn_status want_inputs(const node_t *n, size_t lo, size_t hi) {
  if (n->n_input < lo || n->n_input > hi)
    return fsn_fail(FSN_E_FORMAT, "node '%s' (%s): %zu inputs, expected %zu..%zu", node_label(n), n->op_type,
                    n->n_input, lo, hi);
  for (size_t i = 1; i < n->n_output; i++)
    if (n->output[i] && n->output[i][0])
      return fsn_fail(FSN_E_UNSUPPORTED, "node '%s' (%s): optional output '%s' is not supported", node_label(n),
                      n->op_type, n->output[i]);
  if (n->n_output < 1 || !n->output[0] || !n->output[0][0])
    return fsn_fail(FSN_E_FORMAT, "node '%s' (%s): no output", node_label(n), n->op_type);
  return FSN_OK;
}

static fsn_status activation(importer *im, const node_t *n, size_t i, size_t *tensor) {
  const char *name = n->input[i];
  value *v = name && name[0] ? lookup(im, name) : NULL;
  if (!v)
    return fsn_fail(FSN_E_FORMAT, "node '%s' (%s): input '%s' is not defined before it", node_label(n), n->op_type,
                    name ? name : "");
  if (v->konst)
    return fsn_fail(FSN_E_UNSUPPORTED, "node '%s' (%s): input '%s' is a constant where an activation is expected",
                    node_label(n), n->op_type, name);
  *tensor = v->tensor;
  return FSN_OK;
}

static fsn_status constant(importer *im, const node_t *n, size_t i, const tensor_t **t) {
  const char *name = n->input[i];
  value *v = name && name[0] ? lookup(im, name) : NULL;
  if (!v)
    return fsn_fail(FSN_E_FORMAT, "node '%s' (%s): input '%s' is not defined before it", node_label(n), n->op_type,
                    name ? name : "");
  if (!v->konst)
    return fsn_fail(FSN_E_UNSUPPORTED, "node '%s' (%s): input '%s' must be a constant (initializer)", node_label(n),
                    n->op_type, name);
  *t = v->konst;
  return FSN_OK;
}

static fsn_status add_layer(importer *im, const node_t *n, fsn_layer_desc *d) {
  d->name = node_label(n);
  size_t t;
  fsn_status st = fsn_model_add(im->m, d, &t);
  if (st != FSN_OK) return st;
  define(im, n->output[0])->tensor = t;
  return FSN_OK;
}

/* The conv/fc layer producing `tensor`, if it is one and only this node reads it (so it can absorb the node). */
static const fsn_layer *foldable(importer *im, const node_t *n, size_t in_index, fsn_layer_kind kind) {
  value *v = lookup(im, n->input[in_index]);
  if (!v || v->konst || v->tensor == 0 || v->consumers != 1) return NULL;
  const fsn_layer *l = fsn_model_layer(im->m, v->tensor - 1);
  return l->desc.kind == kind ? l : NULL;
}

/* ---- operators ---- */

static fsn_status op_conv(importer *im, const node_t *n) {
  static const char *const known[] = {"kernel_shape", "strides", "pads", "dilations", "group", "auto_pad", NULL};
  fsn_layer_desc d = {.kind = FSN_LAYER_CONV};
  const tensor_t *w, *b = NULL;
  fsn_status st;
  if ((st = want_inputs(n, 2, 3)) != FSN_OK || (st = check_attrs(n, known)) != FSN_OK ||
      (st = window_attrs(n, &d, false)) != FSN_OK || (st = activation(im, n, 0, &d.in)) != FSN_OK ||
      (st = constant(im, n, 1, &w)) != FSN_OK || (n->n_input == 3 && (st = constant(im, n, 2, &b)) != FSN_OK))
    return st;
  const int64_t group = attr_int(n, "group", 1);
  fsn_shape in = fsn_model_tensor_shape(im->m, d.in);
  if (group < 1 || (size_t)group > in.c || in.c % (size_t)group)
    return fsn_fail(FSN_E_INVALID, "node '%s' (Conv): group = %lld does not divide the %zu input channels",
                    node_label(n), (long long)group, in.c);
  d.groups = (size_t)group;
  if (w->n_dims != 4 || w->dims[0] < 1 || w->dims[1] < 1 || w->dims[2] < 1 || w->dims[3] < 1)
    return fsn_fail(FSN_E_UNSUPPORTED, "node '%s' (Conv): weight must be 4-D O x C x KH x KW (2-D convolution)",
                    node_label(n));
  if ((size_t)w->dims[1] * d.groups != in.c)
    return fsn_fail(FSN_E_INVALID,
                    "node '%s' (Conv): weight has %lld input channels a group, the input has %zu in %zu "
                    "group(s)",
                    node_label(n), (long long)w->dims[1], in.c, d.groups);
  if (find_attr(n, "kernel_shape") && (d.k_h != (size_t)w->dims[2] || d.k_w != (size_t)w->dims[3]))
    return fsn_fail(FSN_E_INVALID, "node '%s' (Conv): kernel_shape %zux%zu disagrees with the weight's %lldx%lld",
                    node_label(n), d.k_h, d.k_w, (long long)w->dims[2], (long long)w->dims[3]);
  d.k_h = (size_t)w->dims[2], d.k_w = (size_t)w->dims[3], d.out_c = (size_t)w->dims[0];
  float *wv = NULL, *bv = NULL;
  size_t wc = tensor_count(w);
  if (wc == SIZE_MAX) return fsn_fail(FSN_E_FORMAT, "node '%s' (Conv): weight too large", node_label(n));
  if ((st = read_floats(n, w, wc, &wv)) == FSN_OK && b) st = read_floats(n, b, d.out_c, &bv);
  if (st == FSN_OK) {
    d.weight = wv, d.bias = bv;
    st = add_layer(im, n, &d);
  }
  free(wv);
  free(bv);
  return st;
}

static fsn_status op_batchnorm(importer *im, const node_t *n) {
  static const char *const known[] = {"epsilon", "momentum", "training_mode", "spatial", NULL};
  fsn_status st;
  if ((st = want_inputs(n, 5, 5)) != FSN_OK || (st = check_attrs(n, known)) != FSN_OK) return st;
  if (attr_int(n, "training_mode", 0) != 0 || attr_int(n, "spatial", 1) != 1)
    return fsn_fail(FSN_E_UNSUPPORTED, "node '%s' (BatchNormalization): training mode / non-spatial is not supported",
                    node_label(n));
  size_t t;
  if ((st = activation(im, n, 0, &t)) != FSN_OK) return st;
  const fsn_layer *conv = foldable(im, n, 0, FSN_LAYER_CONV);
  if (!conv)
    return fsn_fail(FSN_E_UNSUPPORTED,
                    "node '%s' (BatchNormalization): must directly follow a Conv whose output nothing else reads "
                    "(it is folded into that Conv)",
                    node_label(n));
  size_t oc = conv->desc.out_c, per_out = conv->weight_count / oc;
  float *p[4] = {NULL, NULL, NULL, NULL}; /* scale, B, mean, var */
  for (int i = 0; i < 4 && st == FSN_OK; i++) {
    const tensor_t *c;
    if ((st = constant(im, n, (size_t)i + 1, &c)) == FSN_OK) st = read_floats(n, c, oc, &p[i]);
  }
  if (st == FSN_OK) {
    double eps = attr_float(n, "epsilon", 1e-5);
    float *w, *b;
    fsn_nn_layer_params_mut(im->m, t - 1, &w, &b);
    for (size_t o = 0; o < oc && st == FSN_OK; o++) {
      double var = p[3][o] + eps;
      if (!(var > 0)) {
        st = fsn_fail(FSN_E_INVALID, "node '%s' (BatchNormalization): variance + epsilon <= 0 at channel %zu",
                      node_label(n), o);
        break;
      }
      double g = p[0][o] / sqrt(var);
      for (size_t k = 0; k < per_out; k++) w[o * per_out + k] = (float)(w[o * per_out + k] * g);
      b[o] = (float)((b[o] - p[2][o]) * g + p[1][o]);
    }
  }
  for (int i = 0; i < 4; i++) free(p[i]);
  if (st == FSN_OK) define(im, n->output[0])->tensor = t;
  return st;
}

/* Gemm (alpha, beta, transB; bias C) and MatMul both become fc. */
static fsn_status op_fc(importer *im, const node_t *n, bool gemm) {
  static const char *const known[] = {"alpha", "beta", "transA", "transB", NULL};
  static const char *const none[] = {NULL};
  fsn_layer_desc d = {.kind = FSN_LAYER_FC};
  const tensor_t *w, *c = NULL;
  fsn_status st;
  if ((st = want_inputs(n, 2, gemm ? 3 : 2)) != FSN_OK || (st = check_attrs(n, gemm ? known : none)) != FSN_OK ||
      (st = activation(im, n, 0, &d.in)) != FSN_OK || (st = constant(im, n, 1, &w)) != FSN_OK ||
      (n->n_input == 3 && (st = constant(im, n, 2, &c)) != FSN_OK))
    return st;
  if (attr_int(n, "transA", 0) != 0)
    return fsn_fail(FSN_E_UNSUPPORTED, "node '%s' (Gemm): transA = 1 is not supported", node_label(n));
  bool trans_b = attr_int(n, "transB", 0) != 0;
  double alpha = attr_float(n, "alpha", 1.0), beta = attr_float(n, "beta", 1.0);
  size_t f = fsn_shape_size(fsn_model_tensor_shape(im->m, d.in));
  if (w->n_dims != 2 || w->dims[0] < 1 || w->dims[1] < 1)
    return fsn_fail(FSN_E_UNSUPPORTED, "node '%s' (%s): weight must be a 2-D constant", node_label(n), n->op_type);
  size_t rows = (size_t)w->dims[0], cols = (size_t)w->dims[1], k = trans_b ? cols : rows;
  d.out_c = trans_b ? rows : cols;
  if (k != f)
    return fsn_fail(FSN_E_INVALID, "node '%s' (%s): weight %zux%zu%s expects %zu input features, the input has %zu",
                    node_label(n), n->op_type, rows, cols, trans_b ? " (transB)" : "", k, f);
  float *wv = NULL, *wt = NULL, *cv = NULL, *bias = NULL;
  size_t cc = c ? tensor_count(c) : 0;
  if (c && cc != d.out_c && cc != 1)
    st = fsn_fail(FSN_E_UNSUPPORTED, "node '%s' (Gemm): bias C has %zu elements, expected %zu or 1", node_label(n), cc,
                  d.out_c);
  if (st == FSN_OK) st = read_floats(n, w, rows * cols, &wv);
  if (st == FSN_OK && c) st = read_floats(n, c, cc, &cv);
  if (st == FSN_OK) {
    wt = malloc(rows * cols * sizeof *wt);
    bias = calloc(d.out_c, sizeof *bias);
    if (!wt || !bias) st = fsn_fail(FSN_E_NOMEM, "node '%s': out of memory", node_label(n));
  }
  if (st == FSN_OK) {
    for (size_t o = 0; o < d.out_c; o++) {
      for (size_t i = 0; i < f; i++) wt[o * f + i] = (float)(alpha * (trans_b ? wv[o * f + i] : wv[i * d.out_c + o]));
      if (cv) bias[o] = (float)(beta * cv[cc == 1 ? 0 : o]);
    }
    d.weight = wt, d.bias = bias;
    st = add_layer(im, n, &d);
  }
  free(wv);
  free(wt);
  free(cv);
  free(bias);
  return st;
}

/* Add: two activations make a residual add; an activation from MatMul/Gemm plus a constant folds into its bias. */
static fsn_status op_add(importer *im, const node_t *n) {
  static const char *const none[] = {NULL};
  fsn_status st;
  if ((st = want_inputs(n, 2, 2)) != FSN_OK || (st = check_attrs(n, none)) != FSN_OK) return st;
  value *a = n->input[0] && n->input[0][0] ? lookup(im, n->input[0]) : NULL;
  value *b = n->input[1] && n->input[1][0] ? lookup(im, n->input[1]) : NULL;
  if (!a || !b)
    return fsn_fail(FSN_E_FORMAT, "node '%s' (Add): input '%s' is not defined before it", node_label(n),
                    !a ? n->input[0] : n->input[1]);
  if (!a->konst && !b->konst) {
    fsn_layer_desc d = {.kind = FSN_LAYER_ADD, .in = a->tensor, .in2 = b->tensor};
    return add_layer(im, n, &d);
  }
  if (a->konst && b->konst)
    return fsn_fail(FSN_E_UNSUPPORTED, "node '%s' (Add): both inputs are constants", node_label(n));
  size_t act = a->konst ? 1 : 0;
  const fsn_layer *fc = foldable(im, n, act, FSN_LAYER_FC);
  if (!fc)
    return fsn_fail(FSN_E_UNSUPPORTED,
                    "node '%s' (Add): adding a constant is only supported as the bias of the MatMul/Gemm before it",
                    node_label(n));
  const tensor_t *k = (act ? a : b)->konst;
  size_t kc = tensor_count(k), t = (act ? b : a)->tensor;
  if (kc != fc->desc.out_c && kc != 1)
    return fsn_fail(FSN_E_INVALID, "node '%s' (Add): constant has %zu elements, the layer has %zu outputs",
                    node_label(n), kc, fc->desc.out_c);
  float *kv, *w, *bias;
  size_t oc = fc->desc.out_c;
  if ((st = read_floats(n, k, kc, &kv)) != FSN_OK) return st;
  fsn_nn_layer_params_mut(im->m, t - 1, &w, &bias);
  for (size_t o = 0; o < oc; o++) bias[o] += kv[kc == 1 ? 0 : o];
  free(kv);
  define(im, n->output[0])->tensor = t;
  return FSN_OK;
}

static fsn_status op_pool(importer *im, const node_t *n, fsn_layer_kind kind) {
  static const char *const known[] = {"kernel_shape", "strides",           "pads",          "dilations", "auto_pad",
                                      "ceil_mode",    "count_include_pad", "storage_order", NULL};
  fsn_layer_desc d = {.kind = kind};
  fsn_status st;
  if ((st = want_inputs(n, 1, 1)) != FSN_OK || (st = check_attrs(n, known)) != FSN_OK ||
      (st = window_attrs(n, &d, true)) != FSN_OK || (st = activation(im, n, 0, &d.in)) != FSN_OK)
    return st;
  if (attr_int(n, "storage_order", 0) != 0)
    return fsn_fail(FSN_E_UNSUPPORTED, "node '%s' (%s): storage_order = 1 is not supported", node_label(n), n->op_type);
  d.ceil_mode = attr_int(n, "ceil_mode", 0) != 0;
  d.exclude_pad = attr_int(n, "count_include_pad", 0) == 0;
  return add_layer(im, n, &d);
}

static fsn_status op_simple(importer *im, const node_t *n, fsn_layer_kind kind) {
  static const char *const none[] = {NULL};
  fsn_layer_desc d = {.kind = kind};
  fsn_status st;
  if ((st = want_inputs(n, 1, 1)) != FSN_OK || (st = check_attrs(n, none)) != FSN_OK ||
      (st = activation(im, n, 0, &d.in)) != FSN_OK)
    return st;
  return add_layer(im, n, &d);
}

static fsn_status op_flatten(importer *im, const node_t *n) {
  static const char *const known[] = {"axis", NULL};
  fsn_layer_desc d = {.kind = FSN_LAYER_FLATTEN};
  fsn_status st;
  if ((st = want_inputs(n, 1, 1)) != FSN_OK || (st = check_attrs(n, known)) != FSN_OK ||
      (st = activation(im, n, 0, &d.in)) != FSN_OK)
    return st;
  if (attr_int(n, "axis", 1) != 1)
    return fsn_fail(FSN_E_UNSUPPORTED, "node '%s' (Flatten): axis = %lld is not supported (only 1)", node_label(n),
                    (long long)attr_int(n, "axis", 1));
  return add_layer(im, n, &d);
}

/* Reshape to [N, -1] (or [N, C*H*W]) with N in {-1, 0, 1}: a flatten. */
static fsn_status op_reshape(importer *im, const node_t *n) {
  static const char *const known[] = {"allowzero", NULL};
  fsn_layer_desc d = {.kind = FSN_LAYER_FLATTEN};
  const tensor_t *shape_t;
  int64_t shape[8];
  size_t rank = 0;
  fsn_status st;
  if ((st = want_inputs(n, 2, 2)) != FSN_OK || (st = check_attrs(n, known)) != FSN_OK ||
      (st = activation(im, n, 0, &d.in)) != FSN_OK || (st = constant(im, n, 1, &shape_t)) != FSN_OK ||
      (st = read_int64s(n, shape_t, shape, 8, &rank)) != FSN_OK)
    return st;
  size_t f = fsn_shape_size(fsn_model_tensor_shape(im->m, d.in));
  bool batch_ok = rank == 2 && (shape[0] == -1 || shape[0] == 0 || shape[0] == 1);
  bool rest_ok = rank == 2 && (shape[1] == -1 || (shape[1] > 0 && (size_t)shape[1] == f));
  if (!batch_ok || !rest_ok)
    return fsn_fail(FSN_E_UNSUPPORTED,
                    "node '%s' (Reshape): only a flatten to [N, -1] is supported (input has %zu "
                    "features per sample)",
                    node_label(n), f);
  return add_layer(im, n, &d);
}

static fsn_status op_constant(importer *im, const node_t *n) {
  const attr_t *a = find_attr(n, "value");
  if (n->n_attribute != 1 || !a || !a->t || n->n_output != 1 || !n->output[0])
    return fsn_fail(FSN_E_UNSUPPORTED, "node '%s' (Constant): only a 'value' tensor is supported", node_label(n));
  define(im, n->output[0])->konst = a->t;
  return FSN_OK;
}

/* The node's output names the value of its first input. */
static fsn_status alias_input(importer *im, const node_t *n) {
  const value *src = n->input[0] && n->input[0][0] ? lookup(im, n->input[0]) : NULL;
  if (!src)
    return fsn_fail(FSN_E_FORMAT, "node '%s' (%s): input '%s' is not defined before it", node_label(n), n->op_type,
                    n->input[0] ? n->input[0] : "");
  const value copy = *src;
  value *out = define(im, n->output[0]);
  out->tensor = copy.tensor, out->konst = copy.konst;
  out->consumers += copy.consumers - 1;
  return FSN_OK;
}

/* Identity and Dropout (inference): the output names the input's value; no layer. Whatever reads the output reads
 * the input too, so folding a later node into the layer behind it must count those readers. */
static fsn_status op_alias(importer *im, const node_t *n, bool dropout) {
  static const char *const identity[] = {NULL}, *const drop[] = {"seed", "ratio", "is_test", NULL};
  fsn_status st;
  if ((st = want_inputs(n, 1, dropout ? 3 : 1)) != FSN_OK || (st = check_attrs(n, dropout ? drop : identity)) != FSN_OK)
    return st;
  if (dropout && n->n_input == 3 && n->input[2] && n->input[2][0]) {
    const tensor_t *mode;
    if ((st = constant(im, n, 2, &mode)) != FSN_OK) return st;
    const bool on =
        mode->has_raw_data ? mode->raw_data.len && mode->raw_data.data[0] : mode->n_int32_data && mode->int32_data[0];
    if (on)
      return fsn_fail(FSN_E_UNSUPPORTED, "node '%s' (Dropout): training_mode = true is not supported", node_label(n));
  }
  return alias_input(im, n);
}

/* A scalar float constant (a bound of Clip). */
static fsn_status scalar_float(importer *im, const node_t *n, size_t i, double *out) {
  const tensor_t *t;
  float *v;
  fsn_status st = constant(im, n, i, &t);
  if (st == FSN_OK && tensor_count(t) != 1)
    st = fsn_fail(FSN_E_UNSUPPORTED, "node '%s' (%s): input '%s' must be a scalar", node_label(n), n->op_type,
                  n->input[i]);
  if (st == FSN_OK && (st = read_floats(n, t, 1, &v)) == FSN_OK) *out = v[0], free(v);
  return st;
}

/* Clip (min / max as attributes before opset 11, as optional constant inputs after); absent bounds are infinite. */
static fsn_status op_clip(importer *im, const node_t *n) {
  static const char *const known[] = {"min", "max", NULL};
  fsn_layer_desc d = {.kind = FSN_LAYER_CLIP};
  fsn_status st;
  if ((st = want_inputs(n, 1, 3)) != FSN_OK || (st = check_attrs(n, known)) != FSN_OK ||
      (st = activation(im, n, 0, &d.in)) != FSN_OK)
    return st;
  d.clip_lo = attr_float(n, "min", -INFINITY), d.clip_hi = attr_float(n, "max", INFINITY);
  for (size_t i = 1; i < n->n_input && st == FSN_OK; i++)
    if (n->input[i] && n->input[i][0]) st = scalar_float(im, n, i, i == 1 ? &d.clip_lo : &d.clip_hi);
  if (st == FSN_OK && !(d.clip_lo <= d.clip_hi))
    st = fsn_fail(FSN_E_UNSUPPORTED, "node '%s' (Clip): min %g above max %g is not supported", node_label(n), d.clip_lo,
                  d.clip_hi);
  return st == FSN_OK ? add_layer(im, n, &d) : st;
}

/* Concat along the channels (axis 1 or -3 of N x C x H x W): a chain of two-input concat layers. */
static fsn_status op_concat(importer *im, const node_t *n) {
  static const char *const known[] = {"axis", NULL};
  fsn_status st;
  if ((st = want_inputs(n, 1, 64)) != FSN_OK || (st = check_attrs(n, known)) != FSN_OK) return st;
  const int64_t axis = attr_int(n, "axis", 0);
  if (axis != 1 && axis != -3)
    return fsn_fail(FSN_E_UNSUPPORTED, "node '%s' (Concat): axis = %lld is not supported (only the channels, 1)",
                    node_label(n), (long long)axis);
  size_t acc, next;
  if ((st = activation(im, n, 0, &acc)) != FSN_OK) return st;
  if (n->n_input == 1) return alias_input(im, n);
  for (size_t i = 1; i < n->n_input; i++) {
    if ((st = activation(im, n, i, &next)) != FSN_OK) return st;
    fsn_layer_desc d = {.kind = FSN_LAYER_CONCAT, .in = acc, .in2 = next, .name = node_label(n)};
    if ((st = fsn_model_add(im->m, &d, &acc)) != FSN_OK) return st;
  }
  define(im, n->output[0])->tensor = acc;
  return FSN_OK;
}

/* Pad: constant zeros on H and W, the same before and after (pads as an attribute before opset 11, an input after). */
static fsn_status op_pad(importer *im, const node_t *n) {
  static const char *const known[] = {"mode", "pads", "value", NULL};
  fsn_layer_desc d = {.kind = FSN_LAYER_PAD};
  int64_t pads[8];
  size_t count = 0;
  fsn_status st;
  if ((st = want_inputs(n, 1, 4)) != FSN_OK || (st = check_attrs(n, known)) != FSN_OK ||
      (st = activation(im, n, 0, &d.in)) != FSN_OK)
    return st;
  const attr_t *mode = find_attr(n, "mode"), *pa = find_attr(n, "pads");
  if (mode && mode->has_s && !(mode->s.len == 8 && !memcmp(mode->s.data, "constant", 8)))
    return fsn_fail(FSN_E_UNSUPPORTED, "node '%s' (Pad): mode '%.*s' is not supported (only constant)", node_label(n),
                    (int)(mode->s.len > 16 ? 16 : mode->s.len), (const char *)mode->s.data);
  double value = attr_float(n, "value", 0.0);
  if (n->n_input >= 3 && n->input[2] && n->input[2][0] && (st = scalar_float(im, n, 2, &value)) != FSN_OK) return st;
  if (n->n_input == 4 && n->input[3] && n->input[3][0])
    return fsn_fail(FSN_E_UNSUPPORTED, "node '%s' (Pad): the axes input is not supported", node_label(n));
  if (value != 0)
    return fsn_fail(FSN_E_UNSUPPORTED, "node '%s' (Pad): constant value %g is not supported (only 0)", node_label(n),
                    value);
  if (n->n_input >= 2 && n->input[1] && n->input[1][0]) {
    const tensor_t *t;
    if ((st = constant(im, n, 1, &t)) != FSN_OK || (st = read_int64s(n, t, pads, 8, &count)) != FSN_OK) return st;
  } else if (pa && pa->n_ints <= 8) {
    count = pa->n_ints;
    memcpy(pads, pa->ints, count * sizeof *pads);
  }
  if (count != 8 || pads[0] || pads[1] || pads[4] || pads[5] || pads[2] != pads[6] || pads[3] != pads[7] ||
      pads[2] < 0 || pads[3] < 0 || pads[2] > 65536 || pads[3] > 65536)
    return fsn_fail(FSN_E_UNSUPPORTED,
                    "node '%s' (Pad): only N x C x H x W padding of H and W, equal before and after, is supported",
                    node_label(n));
  d.pad_h = (size_t)pads[2], d.pad_w = (size_t)pads[3];
  return add_layer(im, n, &d);
}

static fsn_status import_node(importer *im, const node_t *n) {
  const char *op = n->op_type ? n->op_type : "";
  if (n->domain && n->domain[0] && strcmp(n->domain, "ai.onnx"))
    return fsn_fail(FSN_E_UNSUPPORTED, "node '%s': operator '%s' of domain '%s' is not supported", node_label(n), op,
                    n->domain);
  if (!strcmp(op, "Conv")) return op_conv(im, n);
  if (!strcmp(op, "BatchNormalization")) return op_batchnorm(im, n);
  if (!strcmp(op, "Gemm")) return op_fc(im, n, true);
  if (!strcmp(op, "MatMul")) return op_fc(im, n, false);
  if (!strcmp(op, "Add")) return op_add(im, n);
  if (!strcmp(op, "Relu")) return op_simple(im, n, FSN_LAYER_RELU);
  if (!strcmp(op, "GlobalAveragePool")) return op_simple(im, n, FSN_LAYER_GLOBAL_AVGPOOL);
  if (!strcmp(op, "MaxPool")) return op_pool(im, n, FSN_LAYER_MAXPOOL);
  if (!strcmp(op, "AveragePool")) return op_pool(im, n, FSN_LAYER_AVGPOOL);
  if (!strcmp(op, "Flatten")) return op_flatten(im, n);
  if (!strcmp(op, "Reshape")) return op_reshape(im, n);
  if (!strcmp(op, "Constant")) return op_constant(im, n);
  if (!strcmp(op, "Concat")) return op_concat(im, n);
  if (!strcmp(op, "Pad")) return op_pad(im, n);
  if (!strcmp(op, "Clip")) return op_clip(im, n);
  if (!strcmp(op, "Identity")) return op_alias(im, n, false);
  if (!strcmp(op, "Dropout")) return op_alias(im, n, true);
  return fsn_fail(FSN_E_UNSUPPORTED,
                  "node '%s': operator '%s' is not supported (supported: Conv, Gemm, MatMul, Relu, Clip, MaxPool, "
                  "AveragePool, GlobalAveragePool, Add, Concat, Pad, BatchNormalization, Flatten, Reshape, Identity, "
                  "Dropout)",
                  node_label(n), op);
}

/* ---- graph ---- */

/* The one graph input that is not an initializer: N x C x H x W or N x F float. */
static fsn_status graph_input(importer *im, const Fsn__Onnx__GraphProto *g, fsn_shape *shape, const char **name) {
  const Fsn__Onnx__ValueInfoProto *found = NULL;
  for (size_t i = 0; i < g->n_input; i++) {
    const char *nm = g->input[i]->name;
    if (!nm || !nm[0]) return fsn_fail(FSN_E_FORMAT, "graph input %zu has no name", i);
    value *v = lookup(im, nm);
    if (v && v->konst) continue;
    if (found)
      return fsn_fail(FSN_E_UNSUPPORTED, "the graph has several data inputs ('%s', '%s'); one is supported",
                      found->name, nm);
    found = g->input[i];
  }
  if (!found) return fsn_fail(FSN_E_FORMAT, "the graph has no data input");
  const Fsn__Onnx__TypeProto *ty = found->type;
  const Fsn__Onnx__TypeProto__Tensor *tt =
      ty && ty->value_case == FSN__ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE ? ty->tensor_type : NULL;
  if (!tt || !tt->shape || (tt->has_elem_type && tt->elem_type != ONNX_FLOAT))
    return fsn_fail(FSN_E_UNSUPPORTED, "graph input '%s' must be a float tensor with a known shape", found->name);
  size_t rank = tt->shape->n_dim, dims[4] = {1, 1, 1, 1};
  if (rank != 4 && rank != 2)
    return fsn_fail(FSN_E_UNSUPPORTED, "graph input '%s' has rank %zu; N x C x H x W or N x F is supported",
                    found->name, rank);
  for (size_t i = 1; i < rank; i++) {
    const Fsn__Onnx__TensorShapeProto__Dimension *d = tt->shape->dim[i];
    if (d->value_case != FSN__ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE || d->dim_value < 1 ||
        d->dim_value > 65536)
      return fsn_fail(FSN_E_UNSUPPORTED, "graph input '%s': dimension %zu must be a fixed size in 1..65536",
                      found->name, i);
    dims[i] = (size_t)d->dim_value;
  }
  *shape = rank == 4 ? (fsn_shape){dims[1], dims[2], dims[3]} : (fsn_shape){dims[1], 1, 1};
  *name = found->name;
  return FSN_OK;
}

/* Graph input i takes the value of consts[i] (a TensorProto message) where that is not NULL. */
static fsn_status bind_inputs(importer *im, const Fsn__Onnx__GraphProto *g, const void *const *consts,
                              const size_t *lens, size_t count) {
  if (count > g->n_input)
    return fsn_fail(FSN_E_INVALID, "%zu constants bound to a graph of %zu inputs", count, g->n_input);
  if (count && !(im->bound = calloc(count, sizeof *im->bound))) return fsn_fail(FSN_E_NOMEM, "ONNX import");
  im->n_bound = count;
  for (size_t i = 0; i < count; i++) {
    if (!consts[i]) continue;
    const char *nm = g->input[i]->name;
    if (!nm || !nm[0]) return fsn_fail(FSN_E_FORMAT, "graph input %zu has no name", i);
    if (!(im->bound[i] = fsn__onnx__tensor_proto__unpack(NULL, lens[i], consts[i])))
      return fsn_fail(FSN_E_FORMAT, "the constant bound to graph input '%s' is not a valid TensorProto", nm);
    define(im, nm)->konst = im->bound[i];
  }
  return FSN_OK;
}

static fsn_status import_graph(importer *im, const Fsn__Onnx__GraphProto *g, const void *const *consts,
                               const size_t *lens, size_t count) {
  if (g->n_node > MAX_NODES || g->n_initializer > MAX_INITIALIZERS)
    return fsn_fail(FSN_E_FORMAT, "graph has %zu nodes and %zu initializers (limits %d, %d)", g->n_node,
                    g->n_initializer, MAX_NODES, MAX_INITIALIZERS);
  size_t names = g->n_initializer + g->n_input + g->n_output + 16, cap = 64;
  for (size_t i = 0; i < g->n_node; i++) names += g->node[i]->n_input + g->node[i]->n_output;
  size_t slots = 2 * names;
  while (cap < slots) cap *= 2;
  im->values = calloc(cap, sizeof *im->values);
  im->cap = cap;
  if (!im->values) return fsn_fail(FSN_E_NOMEM, "ONNX import: out of memory");
  for (size_t i = 0; i < g->n_initializer; i++) {
    const char *nm = g->initializer[i]->name;
    if (!nm || !nm[0]) return fsn_fail(FSN_E_FORMAT, "initializer %zu has no name", i);
    define(im, nm)->konst = g->initializer[i];
  }
  fsn_status st = bind_inputs(im, g, consts, lens, count);
  fsn_shape in_shape = {0, 0, 0};
  const char *in_name = "";
  if (st == FSN_OK) st = graph_input(im, g, &in_shape, &in_name);
  if (st != FSN_OK) return st;
  if ((st = fsn_model_create(&im->m, in_shape.c, in_shape.h, in_shape.w)) != FSN_OK) return st;
  define(im, in_name)->tensor = 0;
  /* Count readers of every name, so folding can tell whether a layer's output is read elsewhere. */
  for (size_t i = 0; i < g->n_node; i++)
    for (size_t k = 0; k < g->node[i]->n_input; k++) {
      const char *nm = g->node[i]->input[k];
      if (nm && nm[0]) slot(im, nm)->consumers++;
    }
  for (size_t i = 0; i < g->n_output; i++)
    if (g->output[i]->name) slot(im, g->output[i]->name)->consumers++;
  for (size_t i = 0; i < g->n_node; i++)
    if ((st = import_node(im, g->node[i])) != FSN_OK) return st;
  if (g->n_output != 1 || !g->output[0]->name)
    return fsn_fail(FSN_E_UNSUPPORTED, "the graph has %zu outputs; exactly one is supported", g->n_output);
  value *out = lookup(im, g->output[0]->name);
  size_t n = fsn_model_num_layers(im->m);
  if (!out || out->konst || out->tensor != n) /* n = 0: Identity / Dropout of the input */
    return fsn_fail(FSN_E_UNSUPPORTED, "graph output '%s' must be produced by the last node", g->output[0]->name);
  return FSN_OK;
}

fsn_status fsn_model_parse_onnx(fsn_model **out, const void *data, size_t n) {
  return fsn_model_parse_onnx_bound(out, data, n, NULL, NULL, 0);
}

fsn_status fsn_model_parse_onnx_bound(fsn_model **out, const void *data, size_t n, const void *const *consts,
                                      const size_t *lens, size_t count) {
  *out = NULL;
  if (n > MAX_FILE_BYTES) return fsn_fail(FSN_E_FORMAT, "ONNX model of %zu bytes is above the 1 GiB limit", n);
  Fsn__Onnx__ModelProto *mp = fsn__onnx__model_proto__unpack(NULL, n, data);
  if (!mp) return fsn_fail(FSN_E_FORMAT, "not a valid ONNX model: truncated or corrupt protobuf (%zu bytes)", n);
  importer im = {0};
  fsn_status st = mp->graph ? import_graph(&im, mp->graph, consts, lens, count)
                            : fsn_fail(FSN_E_FORMAT, "not a valid ONNX model: no graph (%zu bytes)", n);
  if (st == FSN_OK) {
    *out = im.m;
  } else {
    fsn_model_destroy(im.m);
  }
  free(im.values);
  for (size_t i = 0; i < im.n_bound; i++)
    if (im.bound[i]) fsn__onnx__tensor_proto__free_unpacked(im.bound[i], NULL);
  free(im.bound);
  fsn__onnx__model_proto__free_unpacked(mp, NULL);
  return st;
}

fsn_status fsn_model_load_onnx(fsn_model **out, const char *path) {
  *out = NULL;
  FILE *f = fopen(path, "rb");
  if (!f) return fsn_fail(FSN_E_IO, "cannot open model '%s': %s", path, strerror(errno));
  uint8_t *buf = NULL;
  size_t len = 0, cap = 0;
  fsn_status st = FSN_OK;
  for (;;) {
    if (len == cap) {
      if (cap > MAX_FILE_BYTES) {
        st = fsn_fail(FSN_E_FORMAT, "model '%s' is larger than the 1 GiB limit", path);
        break;
      }
      cap = cap ? 2 * cap : 1 << 16;
      uint8_t *grown = realloc(buf, cap);
      if (!grown) {
        st = fsn_fail(FSN_E_NOMEM, "model '%s': out of memory after %zu bytes", path, len);
        break;
      }
      buf = grown;
    }
    size_t got = fread(buf + len, 1, cap - len, f);
    len += got;
    if (got == 0) {
      if (ferror(f)) st = fsn_fail(FSN_E_IO, "reading model '%s' failed after %zu bytes", path, len);
      break;
    }
  }
  fclose(f);
  if (st == FSN_OK) {
    st = fsn_model_parse_onnx(out, buf, len);
    if (st != FSN_OK) {
      char msg[400];
      snprintf(msg, sizeof msg, "%s", fsn_last_error());
      st = fsn_fail(st, "model '%s': %s", path, msg);
    }
  }
  free(buf);
  return st;
}
