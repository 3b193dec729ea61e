/* ONNX import: small models packed here with protobuf-c (every supported operator, BatchNorm and bias folding,
 * raw and typed tensor data), and every bad-model case: unsupported operators and attributes, wrong shapes, truncated
 * and corrupt files. The shipped models are imported too when they exist. */
#include <fusion/nn.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "protocol/nn/onnx.pb-c.h"
#include "tests/common/fsn_test.h"

typedef Fsn__Onnx__NodeProto node_t;
typedef Fsn__Onnx__TensorProto tensor_t;
typedef Fsn__Onnx__AttributeProto attr_t;

/* ---- an arena, so every test frees what it builds (LeakSanitizer runs in the forked children) ---- */

static void *arena[4096];
static size_t arena_n;

static void *keep(void *p) {
  ck_assert_uint_lt(arena_n, sizeof arena / sizeof arena[0]);
  return arena[arena_n++] = p;
}
static void *zalloc(size_t n) { return keep(calloc(1, n ? n : 1)); }
static void arena_free(void) {
  while (arena_n) free(arena[--arena_n]);
}

/* ---- builders ---- */

static float *floats(size_t n, double range) {
  float *v = zalloc(n * sizeof *v);
  for (size_t i = 0; i < n; i++) v[i] = (float)(range * (2.0 * (double)(fsn_test_rand() >> 11) * 0x1p-53 - 1.0));
  return v;
}

/* A float tensor; raw selects raw_data (little-endian bytes) over float_data. */
static tensor_t *ftensor(const char *name, const int64_t *dims, size_t nd, const float *data, int raw) {
  tensor_t *t = zalloc(sizeof *t);
  fsn__onnx__tensor_proto__init(t);
  t->name = (char *)name;
  t->n_dims = nd;
  t->dims = keep(malloc(nd * sizeof *dims));
  memcpy(t->dims, dims, nd * sizeof *dims);
  t->has_data_type = 1, t->data_type = 1;
  size_t n = 1;
  for (size_t i = 0; i < nd; i++) n *= (size_t)dims[i];
  if (raw) {
    uint8_t *b = zalloc(4 * n);
    for (size_t i = 0; i < n; i++) {
      uint32_t u;
      memcpy(&u, &data[i], 4);
      for (int k = 0; k < 4; k++) b[4 * i + (size_t)k] = (uint8_t)(u >> (8 * k));
    }
    t->has_raw_data = 1, t->raw_data.len = 4 * n, t->raw_data.data = b;
  } else {
    t->n_float_data = n;
    t->float_data = (float *)data;
  }
  return t;
}

static tensor_t *i64tensor(const char *name, const int64_t *v, size_t n) {
  tensor_t *t = zalloc(sizeof *t);
  fsn__onnx__tensor_proto__init(t);
  t->name = (char *)name;
  t->n_dims = 1;
  t->dims = zalloc(sizeof *t->dims);
  t->dims[0] = (int64_t)n;
  t->has_data_type = 1, t->data_type = 7;
  t->n_int64_data = n;
  t->int64_data = (int64_t *)v;
  return t;
}

static attr_t *a_ints(const char *name, const int64_t *v, size_t n) {
  attr_t *a = zalloc(sizeof *a);
  fsn__onnx__attribute_proto__init(a);
  a->name = (char *)name;
  a->n_ints = n;
  a->ints = (int64_t *)v;
  a->has_type = 1, a->type = 7;
  return a;
}

static attr_t *a_int(const char *name, int64_t v) {
  attr_t *a = zalloc(sizeof *a);
  fsn__onnx__attribute_proto__init(a);
  a->name = (char *)name;
  a->has_i = 1, a->i = v;
  a->has_type = 1, a->type = 2;
  return a;
}

static attr_t *a_float(const char *name, float v) {
  attr_t *a = zalloc(sizeof *a);
  fsn__onnx__attribute_proto__init(a);
  a->name = (char *)name;
  a->has_f = 1, a->f = v;
  a->has_type = 1, a->type = 1;
  return a;
}

static attr_t *a_str(const char *name, const char *s) {
  attr_t *a = zalloc(sizeof *a);
  fsn__onnx__attribute_proto__init(a);
  a->name = (char *)name;
  a->has_s = 1, a->s.len = strlen(s), a->s.data = (uint8_t *)s;
  a->has_type = 1, a->type = 3;
  return a;
}

/* A graph under construction. */
typedef struct graph {
  node_t *nodes[64];
  tensor_t *inits[64];
  size_t n_nodes, n_inits;
  int64_t in_dims[4];
  size_t in_rank;
  const char *output;
  const char *extra_inputs[4]; /* further graph inputs after "x" (to be bound to constants) */
  size_t n_extra;
} graph;

/* node(g, "Conv", "name", "out", {inputs}, {attrs}) */
static void node(graph *g, const char *op, const char *name, const char *out, const char *const *inputs, size_t n_in,
                 attr_t *const *attrs, size_t n_attr) {
  node_t *n = zalloc(sizeof *n);
  fsn__onnx__node_proto__init(n);
  n->op_type = (char *)op;
  n->name = (char *)name;
  n->n_input = n_in;
  n->input = zalloc(n_in * sizeof *n->input);
  for (size_t i = 0; i < n_in; i++) n->input[i] = (char *)inputs[i];
  n->n_output = 1;
  n->output = zalloc(sizeof *n->output);
  n->output[0] = (char *)out;
  n->n_attribute = n_attr;
  n->attribute = zalloc(n_attr * sizeof *n->attribute);
  for (size_t i = 0; i < n_attr; i++) n->attribute[i] = attrs[i];
  g->nodes[g->n_nodes++] = n;
  g->output = out;
}

#define NODE(g, op, name, out, INS, ATTRS)                                                                             \
  do {                                                                                                                 \
    const char *ins_[] = {INS};                                                                                        \
    attr_t *attrs_[] = {ATTRS NULL};                                                                                   \
    node(g, op, name, out, ins_, sizeof ins_ / sizeof ins_[0], attrs_, sizeof attrs_ / sizeof attrs_[0] - 1);          \
  } while (0)
#define IN(...) __VA_ARGS__
#define AT(...) __VA_ARGS__,

static void init(graph *g, tensor_t *t) { g->inits[g->n_inits++] = t; }

static Fsn__Onnx__ValueInfoProto *value_info(const char *name, const int64_t *dims, size_t rank) {
  Fsn__Onnx__ValueInfoProto *vi = zalloc(sizeof *vi);
  fsn__onnx__value_info_proto__init(vi);
  vi->name = (char *)name;
  Fsn__Onnx__TypeProto *ty = zalloc(sizeof *ty);
  fsn__onnx__type_proto__init(ty);
  Fsn__Onnx__TypeProto__Tensor *tt = zalloc(sizeof *tt);
  fsn__onnx__type_proto__tensor__init(tt);
  tt->has_elem_type = 1, tt->elem_type = 1;
  Fsn__Onnx__TensorShapeProto *sh = zalloc(sizeof *sh);
  fsn__onnx__tensor_shape_proto__init(sh);
  sh->n_dim = rank;
  sh->dim = zalloc(rank * sizeof *sh->dim);
  for (size_t i = 0; i < rank; i++) {
    Fsn__Onnx__TensorShapeProto__Dimension *d = zalloc(sizeof *d);
    fsn__onnx__tensor_shape_proto__dimension__init(d);
    if (i == 0) {
      d->value_case = FSN__ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
      d->dim_param = "N";
    } else {
      d->value_case = FSN__ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
      d->dim_value = dims[i];
    }
    sh->dim[i] = d;
  }
  tt->shape = sh;
  ty->value_case = FSN__ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
  ty->tensor_type = tt;
  vi->type = ty;
  return vi;
}

/* Pack the graph into an ONNX ModelProto; *len gets its size. */
static uint8_t *pack(const graph *g, size_t *len) {
  Fsn__Onnx__GraphProto gp;
  fsn__onnx__graph_proto__init(&gp);
  gp.name = "test";
  gp.n_node = g->n_nodes;
  gp.node = (node_t **)g->nodes;
  gp.n_initializer = g->n_inits;
  gp.initializer = (tensor_t **)g->inits;
  Fsn__Onnx__ValueInfoProto *ins[5] = {value_info("x", g->in_dims, g->in_rank)};
  Fsn__Onnx__ValueInfoProto *out = value_info(g->output, NULL, 0);
  for (size_t i = 0; i < g->n_extra; i++) ins[1 + i] = value_info(g->extra_inputs[i], g->in_dims, g->in_rank);
  gp.n_input = 1 + g->n_extra, gp.input = ins;
  gp.n_output = 1, gp.output = &out;
  Fsn__Onnx__ModelProto mp;
  fsn__onnx__model_proto__init(&mp);
  mp.has_ir_version = 1, mp.ir_version = 7;
  mp.producer_name = "fusion-tests";
  mp.graph = &gp;
  *len = fsn__onnx__model_proto__get_packed_size(&mp);
  uint8_t *buf = zalloc(*len);
  ck_assert_uint_eq(fsn__onnx__model_proto__pack(&mp, buf), *len);
  return buf;
}

static fsn_status import(const graph *g, fsn_model **m) {
  size_t len;
  uint8_t *buf = pack(g, &len);
  return fsn_model_parse_onnx(m, buf, len);
}

static void expect_error(const graph *g, fsn_status want, const char *frag1, const char *frag2) {
  fsn_model *m = (fsn_model *)1;
  fsn_status st = import(g, &m);
  ck_assert_msg(st == want, "expected status %d, got %d (%s)", want, st, fsn_last_error());
  ck_assert_ptr_null(m);
  ck_assert_msg(strstr(fsn_last_error(), frag1), "'%s' lacks '%s'", fsn_last_error(), frag1);
  if (frag2) ck_assert_msg(strstr(fsn_last_error(), frag2), "'%s' lacks '%s'", fsn_last_error(), frag2);
}

static void input(graph *g, int64_t c, int64_t h, int64_t w) {
  g->in_dims[0] = 1, g->in_dims[1] = c, g->in_dims[2] = h, g->in_dims[3] = w;
  g->in_rank = 4;
}

static const int64_t K3[2] = {3, 3}, ONES[2] = {1, 1}, P1[4] = {1, 1, 1, 1}, K2[2] = {2, 2}, S2[2] = {2, 2};

/* ---- every operator ---- */

/* x (2x6x6) -> Conv 3x3 pad 1 (+B) -> BatchNormalization -> Relu -> MaxPool 2/2 -> AveragePool 3 pad 1
 * (count_include_pad) -> Flatten -> Gemm (transB, alpha, beta) -> Relu -> MatMul -> Add(const) */
typedef struct chain_params {
  float *w, *b, *bn[4], *g1, *c1, *g2, *c2;
} chain_params;

static graph chain(chain_params *p, int raw) {
  graph g = {0};
  input(&g, 2, 6, 6);
  int64_t wd[4] = {3, 2, 3, 3}, cd[1] = {3}, g1d[2] = {5, 27}, g2d[2] = {5, 4}, c2d[1] = {4};
  p->w = floats(54, 0.5), p->b = floats(3, 0.5);
  for (int i = 0; i < 4; i++) p->bn[i] = floats(3, 0.5);
  for (int i = 0; i < 3; i++) p->bn[3][i] = fabsf(p->bn[3][i]) + 0.1f; /* variances */
  p->g1 = floats(135, 0.3), p->c1 = floats(5, 0.3), p->g2 = floats(20, 0.3), p->c2 = floats(4, 0.3);
  init(&g, ftensor("W", wd, 4, p->w, raw));
  init(&g, ftensor("B", cd, 1, p->b, !raw));
  const char *bn_names[4] = {"gamma", "beta", "mean", "var"};
  for (int i = 0; i < 4; i++) init(&g, ftensor(bn_names[i], cd, 1, p->bn[i], raw));
  init(&g, ftensor("G1", g1d, 2, p->g1, raw));
  init(&g, ftensor("C1", (int64_t[]){5}, 1, p->c1, raw));
  init(&g, ftensor("G2", g2d, 2, p->g2, raw));
  init(&g, ftensor("C2", c2d, 1, p->c2, raw));
  NODE(&g, "Conv", "conv", "c", IN("x", "W", "B"), AT(a_ints("kernel_shape", K3, 2)) AT(a_ints("pads", P1, 4)));
  NODE(&g, "BatchNormalization", "bn", "bn", IN("c", "gamma", "beta", "mean", "var"), AT(a_float("epsilon", 1e-3f)));
  NODE(&g, "Relu", "relu1", "r", IN("bn"), );
  NODE(&g, "MaxPool", "pool", "p", IN("r"), AT(a_ints("kernel_shape", K2, 2)) AT(a_ints("strides", S2, 2)));
  NODE(&g, "AveragePool", "avg", "a", IN("p"),
       AT(a_ints("kernel_shape", K3, 2)) AT(a_ints("pads", P1, 4)) AT(a_int("count_include_pad", 1)));
  NODE(&g, "Flatten", "flat", "f", IN("a"), AT(a_int("axis", 1)));
  NODE(&g, "Gemm", "fc1", "g", IN("f", "G1", "C1"),
       AT(a_int("transB", 1)) AT(a_float("alpha", 0.5f)) AT(a_float("beta", 2.0f)));
  NODE(&g, "Relu", "relu2", "r2", IN("g"), );
  NODE(&g, "MatMul", "fc2", "mm", IN("r2", "G2"), );
  NODE(&g, "Add", "bias2", "y", IN("mm", "C2"), );
  return g;
}

/* The same network built directly in the IR, with BatchNorm, alpha, beta and the Add folded by hand. */
static fsn_model *chain_reference(const chain_params *p) {
  fsn_model *m;
  ck_assert_int_eq(fsn_model_create(&m, 2, 6, 6), FSN_OK);
  float w[54], b[3], g1[135], c1[5], g2t[20];
  for (int o = 0; o < 3; o++) {
    double k = p->bn[0][o] / sqrt((double)p->bn[3][o] + (double)1e-3f);
    for (int i = 0; i < 18; i++) w[o * 18 + i] = (float)(p->w[o * 18 + i] * k);
    b[o] = (float)((p->b[o] - p->bn[2][o]) * k + p->bn[1][o]);
  }
  for (int i = 0; i < 135; i++) g1[i] = 0.5f * p->g1[i];
  for (int i = 0; i < 5; i++) c1[i] = 2.0f * p->c1[i];
  for (int o = 0; o < 4; o++)
    for (int k = 0; k < 5; k++) g2t[o * 5 + k] = p->g2[k * 4 + o];
  fsn_layer_desc d[] = {
      {.kind = FSN_LAYER_CONV, .in = 0, .out_c = 3, .k_h = 3, .k_w = 3, .pad_h = 1, .pad_w = 1, .weight = w, .bias = b},
      {.kind = FSN_LAYER_RELU, .in = 1},
      {.kind = FSN_LAYER_MAXPOOL, .in = 2, .k_h = 2, .k_w = 2, .stride_h = 2, .stride_w = 2},
      {.kind = FSN_LAYER_AVGPOOL, .in = 3, .k_h = 3, .k_w = 3, .pad_h = 1, .pad_w = 1},
      {.kind = FSN_LAYER_FLATTEN, .in = 4},
      {.kind = FSN_LAYER_FC, .in = 5, .out_c = 5, .weight = g1, .bias = c1},
      {.kind = FSN_LAYER_RELU, .in = 6},
      {.kind = FSN_LAYER_FC, .in = 7, .out_c = 4, .weight = g2t, .bias = p->c2},
  };
  for (size_t i = 0; i < sizeof d / sizeof d[0]; i++) ck_assert_int_eq(fsn_model_add(m, &d[i], NULL), FSN_OK);
  return m;
}

static void check_chain(int raw) {
  chain_params p;
  graph g = chain(&p, raw);
  fsn_model *m;
  ck_assert_msg(import(&g, &m) == FSN_OK, "%s", fsn_last_error());
  fsn_model *ref = chain_reference(&p);
  ck_assert_uint_eq(fsn_model_num_layers(m), fsn_model_num_layers(ref));
  for (size_t i = 0; i < fsn_model_num_layers(m); i++)
    ck_assert_int_eq(fsn_model_layer(m, i)->desc.kind, fsn_model_layer(ref, i)->desc.kind);
  ck_assert_str_eq(fsn_model_layer(m, 0)->desc.name, "conv");
  double x[2 * 72], y[8], want[8];
  for (size_t i = 0; i < 144; i++) x[i] = (double)(fsn_test_rand() % 256) / 255.0;
  ck_assert_int_eq(fsn_model_run_float(m, y, x, 2, NULL), FSN_OK);
  ck_assert_int_eq(fsn_model_run_float(ref, want, x, 2, NULL), FSN_OK);
  for (int i = 0; i < 8; i++) ck_assert_msg(fabs(y[i] - want[i]) < 1e-5, "output %d: %g vs %g", i, y[i], want[i]);
  /* quantised identically: same hash */
  uint8_t h1[32], h2[32];
  ck_assert_int_eq(fsn_model_quantize(m, 37, 12), FSN_OK);
  ck_assert_int_eq(fsn_model_quantize(ref, 37, 12), FSN_OK);
  ck_assert_int_eq(fsn_model_hash(m, h1), FSN_OK);
  ck_assert_int_eq(fsn_model_hash(ref, h2), FSN_OK);
  ck_assert_mem_eq(h1, h2, 32);
  fsn_model_destroy(m);
  fsn_model_destroy(ref);
  arena_free();
}

START_TEST(imports_every_operator_float_data) { check_chain(0); }
END_TEST

START_TEST(imports_every_operator_raw_data) { check_chain(1); }
END_TEST

/* x (4x4x4) -> Conv 3x3 pad 1 -> Add(x) -> Relu -> GlobalAveragePool -> Reshape [-1... ] -> Gemm (no transB) */
static graph residual(int64_t reshape0, int64_t reshape1) {
  graph g = {0};
  input(&g, 4, 4, 4);
  static int64_t shape[2];
  shape[0] = reshape0, shape[1] = reshape1;
  init(&g, ftensor("W", (int64_t[]){4, 4, 3, 3}, 4, floats(144, 0.3), 0));
  init(&g, ftensor("G", (int64_t[]){4, 3}, 2, floats(12, 0.3), 0));
  init(&g, i64tensor("shape", shape, 2));
  NODE(&g, "Conv", "conv", "c", IN("x", "W"), AT(a_ints("pads", P1, 4)) AT(a_ints("strides", ONES, 2)));
  NODE(&g, "Add", "res", "s", IN("c", "x"), );
  NODE(&g, "Relu", "", "r", IN("s"), );
  NODE(&g, "GlobalAveragePool", "gap", "p", IN("r"), );
  NODE(&g, "Reshape", "flat", "f", IN("p", "shape"), );
  NODE(&g, "Gemm", "fc", "y", IN("f", "G"), );
  return g;
}

START_TEST(imports_residual_graph) {
  graph g = residual(-1, 4);
  fsn_model *m;
  ck_assert_msg(import(&g, &m) == FSN_OK, "%s", fsn_last_error());
  static const fsn_layer_kind kinds[] = {FSN_LAYER_CONV,           FSN_LAYER_ADD,     FSN_LAYER_RELU,
                                         FSN_LAYER_GLOBAL_AVGPOOL, FSN_LAYER_FLATTEN, FSN_LAYER_FC};
  ck_assert_uint_eq(fsn_model_num_layers(m), 6);
  for (size_t i = 0; i < 6; i++) ck_assert_int_eq(fsn_model_layer(m, i)->desc.kind, kinds[i]);
  ck_assert_uint_eq(fsn_model_layer(m, 1)->desc.in, 1);
  ck_assert_uint_eq(fsn_model_layer(m, 1)->desc.in2, 0);
  ck_assert_str_eq(fsn_model_layer(m, 2)->desc.name, "r"); /* unnamed node: named after its output */
  ck_assert_uint_eq(fsn_model_output_shape(m).c, 3);
  fsn_model_destroy(m);
  g = residual(0, -1);
  ck_assert_int_eq(import(&g, &m), FSN_OK);
  fsn_model_destroy(m);
  g = residual(2, 2);
  expect_error(&g, FSN_E_UNSUPPORTED, "flat", "Reshape");
  arena_free();
}
END_TEST

/* ---- bad models ---- */

START_TEST(unsupported_operator_names_node_and_op) {
  graph g = residual(-1, 4);
  g.nodes[2]->op_type = "Sigmoid";
  g.nodes[2]->name = "act";
  expect_error(&g, FSN_E_UNSUPPORTED, "'act'", "'Sigmoid'");
  arena_free();
}
END_TEST

START_TEST(unsupported_attributes) {
  static const int64_t D2[2] = {2, 2}, ASYM[4] = {0, 0, 1, 1};
  struct {
    attr_t *attr;
    const char *frag;
  } cases[] = {
      {a_ints("dilations", D2, 2), "dilations"},
      {a_ints("pads", ASYM, 4), "asymmetric"},
      {a_str("auto_pad", "SAME_UPPER"), "auto_pad"},
      {a_int("foo", 1), "'foo'"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    graph g = residual(-1, 4);
    node_t *conv = g.nodes[0];
    conv->n_attribute = 1;
    conv->attribute[0] = cases[i].attr;
    expect_error(&g, FSN_E_UNSUPPORTED, "conv", cases[i].frag);
  }
  graph g = residual(-1, 4); /* a group count that does not fit the weight */
  g.nodes[0]->n_attribute = 1;
  g.nodes[0]->attribute[0] = a_int("group", 2);
  expect_error(&g, FSN_E_INVALID, "conv", "group");
  graph g2 = {0};
  input(&g2, 1, 4, 4);
  NODE(&g2, "MaxPool", "mp", "y", IN("x"), AT(a_ints("kernel_shape", K2, 2)) AT(a_int("storage_order", 1)));
  expect_error(&g2, FSN_E_UNSUPPORTED, "mp", "storage_order");
  graph g3 = {0};
  input(&g3, 1, 4, 4);
  NODE(&g3, "Relu", "r", "r", IN("x"), );
  NODE(&g3, "BatchNormalization", "bn", "y", IN("r", "x", "x", "x", "x"), );
  expect_error(&g3, FSN_E_UNSUPPORTED, "bn", "follow a Conv");
  arena_free();
}
END_TEST

/* The CNN-family operators import to their layers: Pad, Clip (ReLU6), Concat, Identity and Dropout (no layer),
 * pools with ceil_mode and count_include_pad = 0 (ONNX's default). */
START_TEST(cnn_ops_import) {
  static const int64_t PADS[8] = {0, 0, 1, 2, 0, 0, 1, 2}, BAD_PADS[8] = {0, 0, 1, 2, 0, 0, 2, 1};
  graph g = {0};
  input(&g, 2, 5, 5);
  NODE(&g, "Identity", "id", "i", IN("x"), );
  NODE(&g, "Pad", "pad", "p", IN("i"), AT(a_ints("pads", PADS, 8)));
  NODE(&g, "Clip", "relu6", "c", IN("p"), AT(a_float("min", 0)) AT(a_float("max", 6)));
  NODE(&g, "Dropout", "drop", "d", IN("c"), AT(a_float("ratio", 0.5f)));
  NODE(&g, "MaxPool", "mp", "m", IN("d"),
       AT(a_ints("kernel_shape", K2, 2)) AT(a_ints("strides", S2, 2)) AT(a_int("ceil_mode", 1)));
  NODE(&g, "Concat", "cat", "k", IN("m", "m"), AT(a_int("axis", 1)));
  NODE(&g, "AveragePool", "ap", "y", IN("k"), AT(a_ints("kernel_shape", K3, 2)) AT(a_ints("pads", P1, 4)));
  g.output = "y";
  fsn_model *m;
  ck_assert_msg(import(&g, &m) == FSN_OK, "%s", fsn_last_error());
  static const fsn_layer_kind kinds[] = {FSN_LAYER_PAD, FSN_LAYER_CLIP, FSN_LAYER_MAXPOOL, FSN_LAYER_CONCAT,
                                         FSN_LAYER_AVGPOOL};
  ck_assert_uint_eq(fsn_model_num_layers(m), 5);
  for (size_t i = 0; i < 5; i++) ck_assert_int_eq(fsn_model_layer(m, i)->desc.kind, kinds[i]);
  ck_assert(fsn_model_layer(m, 1)->desc.clip_lo == 0 && fsn_model_layer(m, 1)->desc.clip_hi == 6);
  ck_assert(fsn_model_layer(m, 2)->desc.ceil_mode);
  fsn_shape s = fsn_model_output_shape(m); /* 5x5 padded to 7x9, pooled 2/2 with ceil to 4x5, concat: 4 channels */
  ck_assert(s.c == 4 && s.h == 4 && s.w == 5);
  ck_assert(fsn_model_layer(m, 4)->desc.exclude_pad);
  fsn_model_destroy(m);
  graph g2 = {0};
  input(&g2, 2, 5, 5);
  NODE(&g2, "Pad", "pad", "y", IN("x"), AT(a_ints("pads", BAD_PADS, 8)));
  expect_error(&g2, FSN_E_UNSUPPORTED, "pad", "equal before and after");
  graph g3 = {0};
  input(&g3, 2, 5, 5);
  NODE(&g3, "Concat", "cat", "y", IN("x", "x"), AT(a_int("axis", 2)));
  expect_error(&g3, FSN_E_UNSUPPORTED, "cat", "axis");
  /* depthwise Conv (group = channels, weight C x 1 x 3 x 3), then Clip with its bounds as inputs, min left out */
  static const float six = 6;
  graph g4 = {0};
  input(&g4, 2, 5, 5);
  init(&g4, ftensor("Wd", (int64_t[]){2, 1, 3, 3}, 4, floats(18, 0.3), 0));
  init(&g4, ftensor("six", (int64_t[]){1}, 0, &six, 1)); /* a scalar: rank 0 */
  NODE(&g4, "Conv", "dw", "c", IN("x", "Wd"), AT(a_ints("pads", P1, 4)) AT(a_int("group", 2)));
  NODE(&g4, "Clip", "clip", "y", IN("c", "", "six"), );
  ck_assert_msg(import(&g4, &m) == FSN_OK, "%s", fsn_last_error());
  ck_assert_uint_eq(fsn_model_layer(m, 0)->desc.groups, 2);
  ck_assert_uint_eq(fsn_model_layer(m, 0)->weight_count, 18);
  ck_assert(isinf(fsn_model_layer(m, 1)->desc.clip_lo) && fsn_model_layer(m, 1)->desc.clip_hi == 6);
  s = fsn_model_output_shape(m);
  ck_assert(s.c == 2 && s.h == 5 && s.w == 5);
  fsn_model_destroy(m);
  arena_free();
}
END_TEST

START_TEST(wrong_shapes) {
  graph g = residual(-1, 4);
  g.inits[0] = ftensor("W", (int64_t[]){4, 3, 3, 3}, 4, floats(108, 0.3), 0); /* 3 input channels, input has 4 */
  expect_error(&g, FSN_E_INVALID, "conv", "input channels");
  g = residual(-1, 4);
  g.inits[1] = ftensor("G", (int64_t[]){5, 3}, 2, floats(15, 0.3), 0); /* expects 5 features, gets 4 */
  expect_error(&g, FSN_E_INVALID, "fc", "features");
  g = residual(-1, 4);
  g.inits[0] = ftensor("W", (int64_t[]){2, 4, 3, 3}, 4, floats(72, 0.3), 0); /* 2 channels + 4 channels */
  expect_error(&g, FSN_E_INVALID, "res", "shapes must be equal");
  g = residual(-1, 4);
  g.inits[0] = ftensor("W", (int64_t[]){4, 4, 3, 3}, 4, floats(100, 0.3), 0);
  g.inits[0]->n_float_data = 100; /* dims say 144 */
  expect_error(&g, FSN_E_FORMAT, "conv", "144");
  g = residual(-1, 4);
  g.nodes[1]->input[1] = "nowhere";
  expect_error(&g, FSN_E_FORMAT, "res", "nowhere");
  arena_free();
}
END_TEST

START_TEST(truncated_and_corrupt_files) {
  graph g = residual(-1, 4);
  size_t len;
  uint8_t *buf = pack(&g, &len);
  fsn_model *m;
  for (size_t cut = 0; cut < len; cut++) { /* every prefix is an error, never a crash */
    fsn_status st = fsn_model_parse_onnx(&m, buf, cut);
    ck_assert_msg(st == FSN_E_FORMAT, "prefix of %zu / %zu bytes: status %d (%s)", cut, len, st, fsn_last_error());
    ck_assert_ptr_null(m);
  }
  ck_assert_int_eq(fsn_model_parse_onnx(&m, buf, len), FSN_OK);
  fsn_model_destroy(m);
  const char junk[] = "this is not an ONNX model at all, just text";
  ck_assert_int_eq(fsn_model_parse_onnx(&m, junk, sizeof junk), FSN_E_FORMAT);
  ck_assert_ptr_nonnull(strstr(fsn_last_error(), "corrupt"));
  uint8_t *copy = zalloc(len);
  for (int trial = 0; trial < 2000; trial++) { /* random corruption: any outcome but a crash or a leak */
    memcpy(copy, buf, len);
    for (int k = 0; k < 3; k++) copy[fsn_test_rand() % len] ^= (uint8_t)(1 + fsn_test_rand() % 255);
    if (fsn_model_parse_onnx(&m, copy, len) == FSN_OK) fsn_model_destroy(m);
  }
  arena_free();
}
END_TEST

START_TEST(files) {
  fsn_model *m;
  ck_assert_int_eq(fsn_model_load_onnx(&m, "/nonexistent/model.onnx"), FSN_E_IO);
  ck_assert_ptr_nonnull(strstr(fsn_last_error(), "/nonexistent/model.onnx"));
  char path[] = "/tmp/fsn_onnx_XXXXXX";
  int fd = mkstemp(path);
  ck_assert_int_ge(fd, 0);
  graph g = residual(-1, 4);
  size_t len;
  uint8_t *buf = pack(&g, &len);
  ck_assert_int_eq(write(fd, buf, len), (ssize_t)len);
  close(fd);
  ck_assert_int_eq(fsn_model_load_onnx(&m, path), FSN_OK);
  fsn_model_destroy(m);
  ck_assert_int_eq(truncate(path, (off_t)len / 2), 0);
  ck_assert_int_eq(fsn_model_load_onnx(&m, path), FSN_E_FORMAT);
  ck_assert_ptr_nonnull(strstr(fsn_last_error(), path));
  unlink(path);
  arena_free();
}
END_TEST

/* The shipped models (data/models), once they are in the tree: import, quantise, hash, shapes. */
START_TEST(shipped_models) {
  static const char *const names[] = {"fmnist-4layer.onnx", "fmnist-4layer-weak.onnx"};
  for (size_t i = 0; i < 2; i++) {
    char path[1024];
    snprintf(path, sizeof path, "%s/models/%s", FSN_TEST_DATA_DIR, names[i]);
    if (access(path, R_OK) != 0) continue;
    fsn_model *m;
    ck_assert_msg(fsn_model_load_onnx(&m, path) == FSN_OK, "%s", fsn_last_error());
    fsn_shape in = fsn_model_input_shape(m), out = fsn_model_output_shape(m);
    ck_assert(in.c == 1 && in.h == 28 && in.w == 28 && out.c == 10);
    ck_assert_int_eq(fsn_model_quantize(m, 37, 12), FSN_OK);
    uint8_t h[32];
    ck_assert_int_eq(fsn_model_hash(m, h), FSN_OK);
    fsn_model_destroy(m);
  }
}
END_TEST

/* A TensorProto packed to bytes. */
static uint8_t *pack_tensor(const tensor_t *t, size_t *len) {
  *len = fsn__onnx__tensor_proto__get_packed_size(t);
  uint8_t *buf = zalloc(*len);
  ck_assert_uint_eq(fsn__onnx__tensor_proto__pack(t, buf), *len);
  return buf;
}

START_TEST(tensor_files) {
  const int64_t dims[3] = {2, 3, 4};
  const float *v = floats(24, 2.0);
  for (int raw = 0; raw < 2; raw++) {
    size_t len;
    uint8_t *buf = pack_tensor(ftensor("t", dims, 3, v, raw), &len);
    fsn_tensor t;
    ck_assert_int_eq(fsn_tensor_parse_pb(&t, buf, len), FSN_OK);
    ck_assert_uint_eq(t.rank, 3);
    ck_assert(t.dims[0] == 2 && t.dims[1] == 3 && t.dims[2] == 4 && t.count == 24);
    ck_assert(!memcmp(t.data, v, 24 * sizeof *v));
    fsn_tensor_free(&t);
    ck_assert_int_eq(fsn_tensor_parse_pb(&t, buf, len - 1), FSN_E_FORMAT); /* cut short */
    ck_assert_ptr_null(t.data);
  }
  size_t len;
  const int64_t ints[2] = {1, 2};
  uint8_t *buf = pack_tensor(i64tensor("i", ints, 2), &len);
  fsn_tensor t;
  ck_assert_int_eq(fsn_tensor_parse_pb(&t, buf, len), FSN_E_UNSUPPORTED);
  ck_assert_ptr_nonnull(strstr(fsn_last_error(), "float32"));
  const int64_t wrong[1] = {25}; /* dims for 25 values, 24 given */
  tensor_t *bad = ftensor("bad", dims, 3, v, 1);
  bad->dims = (int64_t *)wrong, bad->n_dims = 1;
  buf = pack_tensor(bad, &len);
  ck_assert_int_eq(fsn_tensor_parse_pb(&t, buf, len), FSN_E_FORMAT);
}
END_TEST

/* Weights that arrive as graph inputs (ONNX's operator tests) import as constants once bound, and give the model the
 * same as initializers would; binding errors are clear. */
START_TEST(graph_inputs_bound_as_constants) {
  const int64_t wd[4] = {2, 1, 3, 3};
  const float *w = floats(18, 0.5);
  graph as_init = {0}, as_input = {0};
  input(&as_init, 1, 5, 5), input(&as_input, 1, 5, 5);
  init(&as_init, ftensor("W", wd, 4, w, 1));
  NODE(&as_init, "Conv", "conv", "y", IN("x", "W"), );
  NODE(&as_input, "Conv", "conv", "y", IN("x", "W"), );
  as_input.extra_inputs[as_input.n_extra++] = "W";
  size_t len, wlen;
  uint8_t *model = pack(&as_input, &len), *wpb = pack_tensor(ftensor("W", wd, 4, w, 0), &wlen);
  const void *consts[2] = {NULL, wpb};
  const size_t lens[2] = {0, wlen};
  fsn_model *a, *b;
  ck_assert_int_eq(import(&as_init, &a), FSN_OK);
  ck_assert_msg(fsn_model_parse_onnx_bound(&b, model, len, consts, lens, 2) == FSN_OK, "%s", fsn_last_error());
  double x[25], ya[18], yb[18]; /* 2 x 3 x 3 outputs */
  for (int i = 0; i < 25; i++) x[i] = (double)i / 7.0 - 1.5;
  ck_assert_int_eq(fsn_model_run_float(a, ya, x, 1, NULL), FSN_OK);
  ck_assert_int_eq(fsn_model_run_float(b, yb, x, 1, NULL), FSN_OK);
  ck_assert(!memcmp(ya, yb, sizeof ya));
  fsn_model_destroy(a), fsn_model_destroy(b);
  /* unbound, the weight is a second data input */
  ck_assert_int_eq(fsn_model_parse_onnx(&b, model, len), FSN_E_UNSUPPORTED);
  ck_assert_ptr_nonnull(strstr(fsn_last_error(), "several data inputs"));
  /* more constants than inputs, and bytes that are no tensor */
  const void *three[3] = {NULL, wpb, wpb};
  const size_t lens3[3] = {0, wlen, wlen};
  ck_assert_int_eq(fsn_model_parse_onnx_bound(&b, model, len, three, lens3, 3), FSN_E_INVALID);
  const uint8_t junk[5] = {0xff, 0xff, 0xff, 0xff, 0xff};
  const void *bad[2] = {NULL, junk};
  const size_t badlen[2] = {0, sizeof junk};
  ck_assert_int_eq(fsn_model_parse_onnx_bound(&b, model, len, bad, badlen, 2), FSN_E_FORMAT);
  ck_assert_ptr_nonnull(strstr(fsn_last_error(), "'W'"));
}
END_TEST

int main(void) {
  Suite *s = suite_create("onnx");
  TCase *tc = tcase_create("onnx");
  tcase_set_timeout(tc, 300);
  tcase_add_test(tc, imports_every_operator_float_data);
  tcase_add_test(tc, imports_every_operator_raw_data);
  tcase_add_test(tc, imports_residual_graph);
  tcase_add_test(tc, unsupported_operator_names_node_and_op);
  tcase_add_test(tc, unsupported_attributes);
  tcase_add_test(tc, cnn_ops_import);
  tcase_add_test(tc, wrong_shapes);
  tcase_add_test(tc, truncated_and_corrupt_files);
  tcase_add_test(tc, files);
  tcase_add_test(tc, shipped_models);
  tcase_add_test(tc, tensor_files);
  tcase_add_test(tc, graph_inputs_bound_as_constants);
  suite_add_tcase(s, tc);
  return fsn_test_main(s);
}
