/* `fusion plain`: run a model in the clear with the float engine and the fixed-point engine (the secure protocol's
 * exact semantics) on test images; report both accuracies, the model hash and the per-layer headroom. */
#include <fusion/sampleset.h>
#include <fusion/nn.h>

#include <getopt.h>
#include <stdbool.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "apps/commands.h"
#include "apps/common.h"

typedef struct plain_opts {
  const char *model, *images, *labels, *input, *preprocess;
  size_t count;
  unsigned ell, scale;
  unsigned long long seed;
  int json, logits;
} plain_opts;

static int plain_usage(void) {
  fprintf(stderr, "usage: fusion plain --model FILE.onnx|builtin:NAME [--images IDX|random --labels IDX]\n"
                  "                    [--input FILE [--preprocess SPEC]]\n"
                  "                    [--count N] [--ell L --scale S] [--seed SEED] [--json [--logits]]\n"
                  "  --input: a .npy array, an ONNX TensorProto .pb, or a PNG/JPEG image (pixel / 255) instead of\n"
                  "    --images; SPEC preprocesses an image, e.g. resize=256,crop=224,mean=0.485/0.456/0.406,\n"
                  "    std=0.229/0.224/0.225 (keys resize, crop, channels, scale, mean, std)\n"
                  "  built-in models: 4layer, resnet18, resnet50, squeezenet (weights from --seed, default 1)\n"
                  "  --images random: seeded random pixels of the model's input shape (headroom only, no labels)\n"
                  "  default images: the Fashion-MNIST test set of Debian's dataset-fashion-mnist\n");
  return 2;
}

static int fail_line(const char *what) {
  fprintf(stderr, "fusion plain: %s\n", what);
  return 1;
}

static int fail_status(void) { return fail_line(fsn_last_error()); }

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int parse_unsigned(const char *s, unsigned long long max, unsigned long long *out) {
  char *end;
  if (!s || !*s || *s == '-') return 0;
  *out = strtoull(s, &end, 10);
  return *end == 0 && *out <= max;
}

static int parse_args(int argc, char **argv, plain_opts *o) {
  static const struct option longopts[] = {{"model", required_argument, 0, 'm'},
                                           {"images", required_argument, 0, 'i'},
                                           {"labels", required_argument, 0, 'l'},
                                           {"input", required_argument, 0, 'I'},
                                           {"preprocess", required_argument, 0, 'P'},
                                           {"count", required_argument, 0, 'n'},
                                           {"ell", required_argument, 0, 'e'},
                                           {"scale", required_argument, 0, 's'},
                                           {"seed", required_argument, 0, 'r'},
                                           {"json", no_argument, 0, 'j'},
                                           {"logits", no_argument, 0, 'g'},
                                           {"help", no_argument, 0, 'h'},
                                           {0, 0, 0, 0}};
  *o = (plain_opts){.ell = FSN_DEFAULT_ELL,
                    .scale = FSN_DEFAULT_SCALE,
                    .seed = 1,
                    .images = FSN_APP_FMNIST_IMAGES,
                    .labels = FSN_APP_FMNIST_LABELS};
  unsigned long long v;
  int c;
  optind = 1;
  while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
    switch (c) {
    case 'm': o->model = optarg; break;
    case 'i': o->images = optarg; break;
    case 'l': o->labels = optarg; break;
    case 'I': o->input = optarg; break;
    case 'P': o->preprocess = optarg; break;
    case 'j': o->json = 1; break;
    case 'g': o->logits = 1; break;
    case 'n':
      if (!parse_unsigned(optarg, 1u << 24, &v) || v == 0) return fail_line("--count must be a positive integer");
      o->count = (size_t)v;
      break;
    case 'e':
      if (!parse_unsigned(optarg, 64, &v)) return fail_line("--ell must be an integer in 2..64");
      o->ell = (unsigned)v;
      break;
    case 's':
      if (!parse_unsigned(optarg, 62, &v)) return fail_line("--scale must be an integer in 0..31");
      o->scale = (unsigned)v;
      break;
    case 'r':
      if (!parse_unsigned(optarg, ~0ull, &v)) return fail_line("--seed must be an unsigned integer");
      o->seed = v;
      break;
    case 'h': return plain_usage();
    default: return plain_usage();
    }
  }
  if (optind < argc) {
    fprintf(stderr, "fusion plain: unexpected argument '%s'\n", argv[optind]);
    return 2;
  }
  if (!o->model || !o->images) return plain_usage();
  if (o->preprocess && !o->input) return fail_line("--preprocess applies to --input");
  if (!o->input && strcmp(o->images, "random") && !o->labels)
    return fail_line("--labels is required with an image file");
  return 0;
}

/* Images from IDX files, or seeded random pixels of the model's input shape. */
static int load_images(const plain_opts *o, const fsn_model *m, fsn_images *im, fsn_labels *lb) {
  fsn_shape in = fsn_model_input_shape(m);
  memset(lb, 0, sizeof *lb);
  if (!strcmp(o->images, "random")) {
    size_t n = o->count ? o->count : 2, sz = in.c * in.h * in.w;
    *im = (fsn_images){n, in.c, in.h, in.w, malloc(n * sz)};
    if (!im->pixels) return fail_line("out of memory for random images");
    uint64_t x = o->seed ^ 0x5eed;
    for (size_t i = 0; i < n * sz; i++) {
      x = x * 6364136223846793005ull + 1442695040888963407ull;
      im->pixels[i] = (uint8_t)(x >> 56);
    }
    return 0;
  }
  if (fsn_idx_read_images(im, o->images) != FSN_OK) return fail_status();
  if (fsn_idx_read_labels(lb, o->labels) != FSN_OK) return fail_status();
  if (lb->count < im->count) {
    char msg[200];
    snprintf(msg, sizeof msg, "'%s' has %zu labels for %zu images", o->labels, lb->count, im->count);
    return fail_line(msg);
  }
  if (im->channels != in.c || im->rows != in.h || im->cols != in.w) {
    char msg[300];
    snprintf(msg, sizeof msg, "the model expects %zux%zux%zu inputs, '%s' holds %zux%zux%zu images", in.c, in.h, in.w,
             o->images, im->channels, im->rows, im->cols);
    return fail_line(msg);
  }
  if (o->count && o->count < im->count) im->count = o->count;
  return 0;
}

/* --input: a tensor file (an image preprocessed by --preprocess) holding N inputs of the model's shape, as doubles. */
static int load_input(const plain_opts *o, const fsn_model *m, double **x, size_t *count) {
  fsn_shape in = fsn_model_input_shape(m);
  const size_t size = in.c * in.h * in.w;
  fsn_tensor t;
  fsn_preprocess pp;
  if (fsn_preprocess_parse(o->preprocess, &pp) != FSN_OK || fsn_tensor_load(&t, o->input) != FSN_OK)
    return fail_status();
  int rc = 0;
  if (o->preprocess && fsn_preprocess_apply(&t, &pp) != FSN_OK) rc = fail_status();
  const size_t batch = t.rank == 4 || (t.rank == 2 && in.h == 1 && in.w == 1) ? t.dims[0] : 1;
  if (!rc && (t.rank < 1 || t.count != batch * size || (t.rank == 4 && (t.dims[1] != in.c || t.dims[2] != in.h)))) {
    char msg[400];
    snprintf(msg, sizeof msg,
             "'%s' holds %zu values in %zu dimensions (first %zu x %zu), the model takes N x %zu x %zu x %zu%s",
             o->input, t.count, t.rank, t.dims[0], t.rank > 1 ? t.dims[1] : 1, in.c, in.h, in.w,
             o->preprocess ? "" : " (an image may need --preprocess, e.g. resize=H,crop=HxW,channels=C)");
    rc = fail_line(msg);
  }
  if (!rc && !(*x = malloc(t.count * sizeof **x))) rc = fail_line("out of memory");
  for (size_t i = 0; !rc && i < t.count; i++) (*x)[i] = t.data[i];
  *count = batch;
  fsn_tensor_free(&t);
  return rc;
}

typedef struct results {
  size_t count, float_correct, fixed_correct, agree;
  double float_s, fixed_s;
  fsn_layer_stats *stats;
  uint64_t *logits;  /* count x output size fixed-point outputs, with --logits */
  size_t *predicted; /* --input: the fixed-point engine's label of each input */
} results;

/* The inputs: IDX images (x = pixel / 255) or a tensor's values. */
typedef struct source {
  const fsn_images *im;
  const double *values;
  size_t count;
} source;

static void fill(double *x, const source *src, size_t start, size_t n, size_t isz) {
  if (src->im)
    fsn_nn_pixels_to_float(x, src->im->pixels + start * isz, n * isz);
  else
    memcpy(x, src->values + start * isz, n * isz * sizeof *x);
}

/* Both engines over every input in batches sized so that the largest tensor of a batch stays near 2^25 values. */
static int evaluate(const fsn_model *m, const source *src, const fsn_labels *lb, results *r, int keep_logits) {
  const fsn_shape is = fsn_model_input_shape(m);
  const size_t n = fsn_model_num_layers(m), isz = is.c * is.h * is.w;
  const size_t osz = fsn_model_output_shape(m).c * fsn_model_output_shape(m).h * fsn_model_output_shape(m).w;
  const unsigned ell = fsn_model_ell(m), s = fsn_model_scale(m);
  size_t widest = isz;
  for (size_t i = 0; i < n; i++) {
    fsn_shape o = fsn_model_layer(m, i)->out_shape;
    if (o.c * o.h * o.w > widest) widest = o.c * o.h * o.w;
  }
  size_t batch = ((size_t)1 << 25) / widest;
  batch = batch < 1 ? 1 : batch > 256 ? 256 : batch;
  double *x = malloc(batch * isz * sizeof *x), *yf = malloc(batch * osz * sizeof *yf);
  uint64_t *q = malloc(batch * isz * sizeof *q), *yq = malloc(batch * osz * sizeof *yq);
  r->stats = calloc(n ? n : 1, sizeof *r->stats);
  r->count = src->count;
  int rc = 0;
  if (keep_logits) r->logits = malloc(src->count * osz * sizeof *r->logits + 8);
  if (!x || !yf || !q || !yq || !r->stats || (keep_logits && !r->logits)) rc = fail_line("out of memory for a batch");
  for (size_t start = 0; !rc && start < src->count; start += batch) {
    size_t b = src->count - start < batch ? src->count - start : batch;
    fill(x, src, start, b, isz);
    fsn_nn_encode(q, x, b * isz, ell, s);
    double t0 = now_s();
    if (fsn_model_run_float(m, yf, x, b, r->stats) != FSN_OK) rc = fail_status();
    double t1 = now_s();
    if (!rc && fsn_model_run_fixed(m, yq, q, b, r->stats) != FSN_OK) rc = fail_status();
    r->float_s += t1 - t0;
    r->fixed_s += now_s() - t1;
    if (!rc && r->logits) memcpy(r->logits + start * osz, yq, b * osz * sizeof *yq);
    for (size_t k = 0; !rc && k < b; k++) {
      size_t pf = fsn_nn_argmax_float(yf + k * osz, osz), pq = fsn_nn_argmax_fixed(yq + k * osz, osz, ell);
      r->agree += pf == pq;
      if (r->predicted) r->predicted[start + k] = pq;
      if (lb->labels) {
        r->float_correct += pf == lb->labels[start + k];
        r->fixed_correct += pq == lb->labels[start + k];
      }
    }
  }
  free(x);
  free(yf);
  free(q);
  free(yq);
  return rc;
}

/* Scale of layer i's pre-truncation values relative to real units (2s where a truncation follows, s otherwise). */
static double acc_scale(const fsn_model *m, size_t i) {
  fsn_layer_kind k = fsn_model_layer(m, i)->desc.kind;
  bool truncated = k == FSN_LAYER_CONV || k == FSN_LAYER_FC || k == FSN_LAYER_AVGPOOL || k == FSN_LAYER_GLOBAL_AVGPOOL;
  return ldexp(1.0, (int)((truncated ? 2 : 1) * fsn_model_scale(m)));
}

static void print_text(const plain_opts *o, const fsn_model *m, const char *hex, const results *r, int labelled) {
  fsn_shape in = fsn_model_input_shape(m), out = fsn_model_output_shape(m);
  const unsigned ell = fsn_model_ell(m);
  printf("model:  %s (%zu layers, input %zux%zux%zu, output %zu)\n", o->model, fsn_model_num_layers(m), in.c, in.h,
         in.w, out.c * out.h * out.w);
  printf("hash:   %s (SHA-256 of the quantised model, ell = %u, s = %u)\n", hex, ell, fsn_model_scale(m));
  printf("inputs: %zu from %s\n", r->count, o->input ? o->input : o->images);
  for (size_t k = 0; r->predicted && k < r->count; k++) printf("input %zu: predicted %zu\n", k, r->predicted[k]);
  if (labelled) {
    double fa = 100.0 * (double)r->float_correct / (double)r->count;
    double qa = 100.0 * (double)r->fixed_correct / (double)r->count;
    printf("float accuracy:       %6.2f %% (%zu / %zu)  [%.2f s]\n", fa, r->float_correct, r->count, r->float_s);
    printf("fixed-point accuracy: %6.2f %% (%zu / %zu)  [%.2f s]  %s\n", qa, r->fixed_correct, r->count, r->fixed_s,
           fabs(fa - qa) <= 1.0 ? "within 1 point of float" : "MORE THAN 1 POINT FROM FLOAT");
  }
  printf("predictions agreeing between the engines: %zu / %zu\n", r->agree, r->count);
  printf("headroom per layer (bits left below 2^%u; fixed: measured in Z_2^ell; float: what exact arithmetic needs)\n",
         ell - 1);
  printf("  %3s  %-24s %-14s %-14s %14s %8s %8s\n", "#", "name", "kind", "output", "max |acc|", "fixed", "float");
  for (size_t i = 0; i < fsn_model_num_layers(m); i++) {
    const fsn_layer *l = fsn_model_layer(m, i);
    char shape[48];
    snprintf(shape, sizeof shape, "%zux%zux%zu", l->out_shape.c, l->out_shape.h, l->out_shape.w);
    double hq = fsn_nn_headroom_bits((double)r->stats[i].fixed_max_acc, ell);
    double hf = fsn_nn_headroom_bits(r->stats[i].float_max_acc * acc_scale(m, i), ell);
    printf("  %3zu  %-24.24s %-14s %-14s %14llu %8.1f %8.1f%s\n", i, l->desc.name, fsn_layer_kind_name(l->desc.kind),
           shape, (unsigned long long)r->stats[i].fixed_max_acc, hq, hf, hf < 0 ? "  OVERFLOW" : "");
  }
}

static void print_json(const plain_opts *o, const fsn_model *m, const char *hex, const results *r, int labelled) {
  const unsigned ell = fsn_model_ell(m);
  printf("{\"model\": ");
  fsn_app_json_string(stdout, o->model);
  printf(", \"hash\": \"%s\", \"ell\": %u, \"scale\": %u, \"count\": %zu", hex, ell, fsn_model_scale(m), r->count);
  if (labelled)
    printf(", \"float_accuracy\": %.6f, \"fixed_accuracy\": %.6f", (double)r->float_correct / (double)r->count,
           (double)r->fixed_correct / (double)r->count);
  if (r->predicted) {
    printf(", \"predicted\": [");
    for (size_t k = 0; k < r->count; k++) printf("%s%zu", k ? ", " : "", r->predicted[k]);
    printf("]");
  }
  printf(", \"agreement\": %.6f, \"float_seconds\": %.3f, \"fixed_seconds\": %.3f, \"layers\": [",
         (double)r->agree / (double)r->count, r->float_s, r->fixed_s);
  for (size_t i = 0; i < fsn_model_num_layers(m); i++) {
    const fsn_layer *l = fsn_model_layer(m, i);
    printf("%s\n  {\"index\": %zu, \"name\": ", i ? "," : "", i);
    fsn_app_json_string(stdout, l->desc.name);
    printf(", \"kind\": \"%s\", \"output\": [%zu, %zu, %zu], \"fixed_max_acc\": %llu, \"fixed_max_out\": %llu, "
           "\"fixed_headroom_bits\": %.3f, \"float_headroom_bits\": %.3f}",
           fsn_layer_kind_name(l->desc.kind), l->out_shape.c, l->out_shape.h, l->out_shape.w,
           (unsigned long long)r->stats[i].fixed_max_acc, (unsigned long long)r->stats[i].fixed_max_out,
           fsn_nn_headroom_bits((double)r->stats[i].fixed_max_acc, ell),
           fsn_nn_headroom_bits(r->stats[i].float_max_acc * acc_scale(m, i), ell));
  }
  printf("]");
  if (r->logits) {
    fsn_shape os = fsn_model_output_shape(m);
    size_t osz = os.c * os.h * os.w;
    printf(", \"logits\": [");
    for (size_t k = 0; k < r->count; k++) {
      printf("%s\n  ", k ? "," : "");
      fsn_app_json_signed(stdout, r->logits + k * osz, osz, ell);
    }
    printf("]");
  }
  printf("}\n");
}

int fsn_cmd_plain(int argc, char **argv) {
  plain_opts o;
  int rc = parse_args(argc, argv, &o);
  if (rc) return rc;
  fsn_model *m = NULL;
  fsn_images im = {0};
  fsn_labels lb = {0};
  results r = {0};
  uint8_t hash[32];
  char hex[65];
  if (fsn_app_load_model(&m, o.model, o.seed) != FSN_OK || fsn_model_quantize(m, o.ell, o.scale) != FSN_OK ||
      fsn_model_hash(m, hash) != FSN_OK) {
    rc = fail_status();
  } else if (o.input) {
    source src = {0};
    double *values = NULL;
    if (!(rc = load_input(&o, m, &values, &src.count))) {
      src.values = values;
      if (!(r.predicted = malloc(src.count * sizeof *r.predicted + 1))) rc = fail_line("out of memory");
      if (!rc && !(rc = evaluate(m, &src, &lb, &r, o.logits))) {
        for (int i = 0; i < 32; i++) snprintf(hex + 2 * i, 3, "%02x", hash[i]);
        (o.json ? print_json : print_text)(&o, m, hex, &r, 0);
      }
    }
    free(values);
  } else if (!(rc = load_images(&o, m, &im, &lb)) &&
             !(rc = evaluate(m, &(source){.im = &im, .count = im.count}, &lb, &r, o.logits))) {
    for (int i = 0; i < 32; i++) snprintf(hex + 2 * i, 3, "%02x", hash[i]);
    (o.json ? print_json : print_text)(&o, m, hex, &r, lb.labels != NULL);
  }
  free(r.stats);
  free(r.logits);
  free(r.predicted);
  fsn_idx_images_free(&im);
  fsn_idx_labels_free(&lb);
  fsn_model_destroy(m);
  return rc;
}
