/* ONNX conformance: every ONNX operator test (Debian's libonnx-testdata, data/node/test_<op>*) of an operator the
 * importer knows goes through the importer, the float engine and the fixed-point engine, and is compared with the
 * test's expected output. The weights of these tests arrive as graph inputs: inputs 1.. are bound as constants.
 *
 * Verdicts (TAP, one line per test):
 *   supported  imported, and every data set matches: float within 1e-5 relative to the output's largest magnitude,
 *              fixed point (ell = 37, s = 12) within the bound of fixed_bound() below;
 *   refused    the importer says FSN_E_UNSUPPORTED with a message naming what it refuses (the reason is printed);
 *   wrong      anything else: a mismatch, another error code, an engine failure. Only this fails the test.
 * The last lines count the three; `N supported passed, N refused with reason, N wrong`.
 * Usage: onnx_conformance NODE_DIR   (a TAP skip if NODE_DIR does not exist). */
#include <dirent.h>
#include <errno.h>
#include <fusion/isa.h>
#include <fusion/nn.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { ELL = 37, SCALE = 12, MAX_INPUTS = 8 };

/* The operators the importer supports, as ONNX names its tests (a prefix ending in '_' needs more after it). */
static const char *const prefixes[] = {"test_conv_",
                                       "test_gemm_",
                                       "test_maxpool_",
                                       "test_averagepool_",
                                       "test_globalaveragepool",
                                       "test_batchnorm_",
                                       "test_relu",
                                       "test_add",
                                       "test_flatten_",
                                       "test_reshape_",
                                       "test_matmul_",
                                       "test_concat_",
                                       "test_constant_pad",
                                       "test_edge_pad",
                                       "test_reflect_pad",
                                       "test_clip",
                                       "test_identity",
                                       "test_dropout_",
                                       NULL};

static bool wanted(const char *name) {
  for (const char *const *p = prefixes; *p; p++) {
    size_t n = strlen(*p);
    if (strncmp(name, *p, n)) continue;
    /* "test_relu" and "test_add..." are whole names or families; "test_convinteger" is another operator. */
    if ((*p)[n - 1] == '_' || name[n] == 0 || name[n] == '_') return true;
  }
  return false;
}

static int cmp_names(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* dir + "/" + name into path[4096]; NULL if it does not fit. */
static const char *path_in(char *path, const char *dir, const char *name) {
  int len = snprintf(path, 4096, "%s/%s", dir, name);
  return len > 0 && len < 4096 ? path : NULL;
}

static void *read_file(const char *path, size_t *len) {
  if (!path) return NULL;
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  size_t cap = 1 << 16, n = 0;
  unsigned char *buf = malloc(cap);
  for (size_t got; buf && (got = fread(buf + n, 1, cap - n, f)) > 0;) {
    n += got;
    if (n == cap) {
      unsigned char *grown = realloc(buf, cap *= 2);
      if (!grown) free(buf);
      buf = grown;
    }
  }
  fclose(f);
  *len = n;
  return buf;
}

typedef struct data_set {
  void *in_pb[MAX_INPUTS];
  size_t in_len[MAX_INPUTS], n_inputs;
  void *y_pb; /* output_0.pb */
  size_t y_len;
  fsn_tensor x, y; /* input 0 and output 0, decoded once the model imports */
} data_set;

static void data_set_free(data_set *d) {
  for (size_t i = 0; i < d->n_inputs; i++) free(d->in_pb[i]);
  free(d->y_pb);
  fsn_tensor_free(&d->x), fsn_tensor_free(&d->y);
  *d = (data_set){0};
}

/* test_data_set_<k> of a test: its input_<i>.pb files and output_0.pb. False if the set does not exist. */
static bool data_set_load(data_set *d, const char *dir, int k) {
  char path[4096], name[64];
  *d = (data_set){0};
  for (size_t i = 0; i < MAX_INPUTS; i++) {
    snprintf(name, sizeof name, "test_data_set_%d/input_%zu.pb", k % 1000, i);
    if (!(d->in_pb[i] = read_file(path_in(path, dir, name), &d->in_len[i]))) break;
    d->n_inputs++;
  }
  size_t ylen;
  snprintf(name, sizeof name, "test_data_set_%d/output_0.pb", k % 1000);
  void *ypb = read_file(path_in(path, dir, name), &ylen);
  if (!d->n_inputs || !ypb) {
    free(ypb);
    data_set_free(d);
    return false;
  }
  d->y_pb = ypb, d->y_len = ylen;
  return true;
}

static double max_abs(const double *v, size_t n) {
  double m = 0;
  for (size_t i = 0; i < n; i++) m = fmax(m, fabs(v[i]));
  return m;
}

static double max_abs_f(const float *v, size_t n) {
  double m = 0;
  for (size_t i = 0; i < n; i++) m = fmax(m, fabs((double)v[i]));
  return m;
}

/* The largest |fixed - exact| the fixed-point engine may show on a one-layer model, in real units, with A the
 * largest |input|. Encoding puts each input and weight within d = 2^-(s+1) of its value; a product x w is then off
 * by at most (|x| + |w|) d + d^2; conv/fc add K of them (K = fan-in), the bias rounded at scale 2s (2^-(2s+1)) and
 * the floor truncation (< 2^-s). Average pooling scales a window sum of k values by round(2^s / k) / 2^s, which is
 * within 2^-(s+1) of 1 / k: the mean is off by d + k A 2^-(s+1) + 2^-s. Max, ReLU and flatten only encode (d); a
 * residual add sums two encodings (2 d). An average with a divisor k' < k (count_include_pad = 0, ceil_mode) stays
 * within the bound of k. Clip, pad and concat only encode (d). */
static double fixed_bound(const fsn_model *m, double A) {
  const double d = ldexp(1.0, -(SCALE + 1)), trunc = ldexp(1.0, -SCALE), bias = ldexp(1.0, -(2 * SCALE + 1));
  if (!fsn_model_num_layers(m)) return d; /* Identity, Dropout: the input encoded and decoded */
  const fsn_layer *l = fsn_model_layer(m, 0);
  switch (l->desc.kind) {
  case FSN_LAYER_CONV:
  case FSN_LAYER_FC: {
    const double K = (double)(l->weight_count / l->desc.out_c), W = max_abs_f(l->desc.weight, l->weight_count);
    return K * ((A + W) * d + d * d) + bias + trunc;
  }
  case FSN_LAYER_AVGPOOL: return d + (double)(l->desc.k_h * l->desc.k_w) * A * 2 * d + trunc;
  case FSN_LAYER_GLOBAL_AVGPOOL: return d + (double)(l->in_shape.h * l->in_shape.w) * A * 2 * d + trunc;
  case FSN_LAYER_ADD: return 2 * d;
  default: return d;
  }
}

typedef enum verdict { SUPPORTED, REFUSED, WRONG } verdict;

/* One data set through both engines; false (with why) on any mismatch. */
static bool check_set(const fsn_model *m, fsn_model *qm, const data_set *d, char *why, size_t cap, double *ferr,
                      double *xerr, double *xbound) {
  fsn_shape is = fsn_model_input_shape(m), os = fsn_model_output_shape(m);
  const size_t in_size = is.c * is.h * is.w, out_size = os.c * os.h * os.w;
  const size_t batch = d->x.rank ? d->x.dims[0] : 1;
  if (d->x.count != batch * in_size || d->y.count != batch * out_size) {
    snprintf(why, cap, "input of %zu or output of %zu values for a batch of %zu (model %zu -> %zu)", d->x.count,
             d->y.count, batch, in_size, out_size);
    return false;
  }
  double *x = malloc(d->x.count * sizeof *x), *y = malloc(d->y.count * sizeof *y), *yq = malloc(d->y.count * 8);
  uint64_t *xq = malloc(d->x.count * 8), *out = malloc(d->y.count * 8);
  bool ok = x && y && yq && xq && out;
  if (!ok) snprintf(why, cap, "out of memory");
  for (size_t i = 0; ok && i < d->x.count; i++) x[i] = d->x.data[i];
  if (ok && fsn_model_run_float(m, y, x, batch, NULL) != FSN_OK) {
    snprintf(why, cap, "float engine: %s", fsn_last_error());
    ok = false;
  }
  if (ok) {
    fsn_nn_encode(xq, x, d->x.count, ELL, SCALE);
    if (fsn_model_run_fixed(qm, out, xq, batch, NULL) != FSN_OK) {
      snprintf(why, cap, "fixed-point engine: %s", fsn_last_error());
      ok = false;
    }
  }
  if (ok) {
    const double ymax = fmax(1.0, max_abs_f(d->y.data, d->y.count));
    *xbound = fixed_bound(m, max_abs(x, d->x.count));
    for (size_t i = 0; i < d->y.count; i++) {
      yq[i] = fsn_nn_decode(out[i], ELL, SCALE);
      *ferr = fmax(*ferr, fabs(y[i] - d->y.data[i]) / ymax);
      *xerr = fmax(*xerr, fabs(yq[i] - d->y.data[i]));
    }
    if (*ferr > 1e-5 || *xerr > *xbound) {
      snprintf(why, cap, "float error %.3g (relative, limit 1e-5), fixed error %.3g (limit %.3g)", *ferr, *xerr,
               *xbound);
      ok = false;
    }
  }
  free(x), free(y), free(yq), free(xq), free(out);
  return ok;
}

static verdict run_test(const char *dir, char *why, size_t cap) {
  char path[4096];
  size_t len;
  void *model = read_file(path_in(path, dir, "model.onnx"), &len);
  if (!model) return snprintf(why, cap, "cannot read model.onnx"), WRONG;
  verdict v = SUPPORTED;
  double ferr = 0, xerr = 0, xbound = 0;
  int sets = 0;
  for (int k = 0; v == SUPPORTED; k++, sets++) {
    data_set d;
    if (!data_set_load(&d, dir, k)) break;
    const void *consts[MAX_INPUTS] = {NULL};
    for (size_t i = 1; i < d.n_inputs; i++) consts[i] = d.in_pb[i];
    fsn_model *m = NULL, *qm = NULL;
    fsn_status st = fsn_model_parse_onnx_bound(&m, model, len, consts, d.in_len, d.n_inputs);
    if (st == FSN_OK) st = fsn_model_parse_onnx_bound(&qm, model, len, consts, d.in_len, d.n_inputs);
    if (st == FSN_OK) st = fsn_model_quantize(qm, ELL, SCALE);
    if (st == FSN_OK && (st = fsn_tensor_parse_pb(&d.x, d.in_pb[0], d.in_len[0])) == FSN_OK)
      st = fsn_tensor_parse_pb(&d.y, d.y_pb, d.y_len);
    if (st != FSN_OK) {
      snprintf(why, cap, "%s", fsn_last_error());
      v = st == FSN_E_UNSUPPORTED && k == 0 ? REFUSED : WRONG;
    } else if (fsn_model_num_layers(m) > 1) { /* 0: a no-op (Identity, Dropout) */
      snprintf(why, cap, "one node became %zu layers", fsn_model_num_layers(m));
      v = WRONG;
    } else if (!check_set(m, qm, &d, why, cap, &ferr, &xerr, &xbound)) {
      v = WRONG;
    }
    fsn_model_destroy(m), fsn_model_destroy(qm);
    data_set_free(&d);
  }
  if (v == SUPPORTED && sets == 0) snprintf(why, cap, "no test data set"), v = WRONG;
  if (v == SUPPORTED)
    snprintf(why, cap, "%d data set(s), float error %.2g (relative), fixed error %.3g (bound %.3g)", sets, ferr, xerr,
             xbound);
  free(model);
  return v;
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: onnx_conformance NODE_DIR\n");
    return 2;
  }
  DIR *dir = opendir(argv[1]);
  if (!dir) {
    printf("1..0 # SKIP %s: %s (Debian package libonnx-testdata)\n", argv[1], strerror(errno));
    return 0;
  }
  char *names[1024];
  size_t n = 0;
  for (struct dirent *e; (e = readdir(dir)) && n < 1024;)
    if (wanted(e->d_name)) names[n++] = strdup(e->d_name);
  closedir(dir);
  qsort(names, n, sizeof *names, cmp_names);
  if (fsn_init() != FSN_OK) { /* an ISA level this machine lacks, forced by FSN_ISA: a skip (TAP's empty plan) */
    printf("1..0 # SKIP %s\n", fsn_last_error());
    return 0;
  }
  printf("1..%zu\n", n);
  size_t count[3] = {0};
  static const char *const label[3] = {"supported", "refused", "WRONG"};
  for (size_t i = 0; i < n; i++) {
    char path[4096], why[512] = "";
    int len = snprintf(path, sizeof path, "%s/%s", argv[1], names[i]);
    verdict v = len > 0 && len < (int)sizeof path ? run_test(path, why, sizeof why) : WRONG;
    count[v]++;
    printf("%s %zu - %s: %s: %s\n", v == WRONG ? "not ok" : "ok", i + 1, names[i], label[v], why);
    free(names[i]);
  }
  printf("# %zu supported passed, %zu refused with reason, %zu wrong\n", count[SUPPORTED], count[REFUSED],
         count[WRONG]);
  return count[WRONG] ? 1 : 0;
}
