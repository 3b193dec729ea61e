/* fusion-adversary: a MALICIOUS server for tests and benchmarks of mix-and-check (never installed). It speaks the
 * protocol exactly like `fusion server`, so an honest client cannot tell it apart on the wire, and deviates:
 *   weak       runs --weak-model while its card (hash, committed labels, accuracy) describes --model
 *   flip       on a random fraction f of batch positions, pushes one random class's logit up (another label)
 *   bias-layer adds 1.0 to every output of layer --layer on a random fraction f of positions
 *   skip-relu  skips the ReLU --layer (the first one by default): passes its input through on every position
 *   bias-all   adds --bias (default 8.0) to class 0's logit on every position
 * Positions are drawn fresh each session from libsodium; the server never sees the client's permutation. */
#include <fusion/isa.h>
#include <fusion/session.h>

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apps/common.h"
#include "apps/server_opts.h"

typedef enum deviation { WEAK, FLIP, BIAS_LAYER, SKIP_RELU, BIAS_ALL } deviation;

typedef struct adversary {
  deviation kind;
  double fraction, bias;
  long layer; /* -1: the default for the deviation */
  const fsn_model *m;
  unsigned scale;
} adversary;

/* Whether position b is attacked this time: probability `fraction`, fresh randomness. */
static bool pick(const adversary *a) { return randombytes_uniform(1000000) < (uint32_t)(a->fraction * 1e6); }

static size_t last_layer(const adversary *a) { return fsn_model_num_layers(a->m) - 1; }

static size_t first_relu(const adversary *a) {
  for (size_t i = 0; i < fsn_model_num_layers(a->m); i++)
    if (fsn_model_layer(a->m, i)->desc.kind == FSN_LAYER_RELU) return i;
  return 0;
}

static void tamper(size_t layer, const uint64_t *in, uint64_t *out, size_t batch, size_t size, void *arg) {
  const adversary *a = arg;
  const uint64_t one = (uint64_t)1 << a->scale;
  switch (a->kind) {
  case FLIP:
    if (layer != last_layer(a)) return;
    for (size_t b = 0; b < batch; b++)
      if (pick(a)) out[b * size + randombytes_uniform((uint32_t)size)] += 64 * one;
    return;
  case BIAS_LAYER:
    if ((long)layer != (a->layer >= 0 ? a->layer : 0)) return;
    for (size_t b = 0; b < batch; b++)
      if (pick(a))
        for (size_t k = 0; k < size; k++) out[b * size + k] += one;
    return;
  case SKIP_RELU:
    if (layer != (a->layer >= 0 ? (size_t)a->layer : first_relu(a))) return;
    memcpy(out, in, batch * size * sizeof *out);
    return;
  case BIAS_ALL:
    if (layer != last_layer(a)) return;
    for (size_t b = 0; b < batch; b++) out[b * size] += (uint64_t)(a->bias * (double)one);
    return;
  case WEAK: return;
  }
}

static int usage(void) {
  fprintf(stderr, "usage: fusion-adversary --deviation weak|flip|bias-layer|skip-relu|bias-all [--fraction F]\n"
                  "  [--weak-model FILE] [--layer K] [--bias B]\n" FSN_SERVER_USAGE);
  return 2;
}

int main(int argc, char **argv) {
  static const struct option longopts[] = {FSN_SERVER_LONGOPTS,
                                           {"deviation", required_argument, 0, 'D'},
                                           {"fraction", required_argument, 0, 'f'},
                                           {"weak-model", required_argument, 0, 'W'},
                                           {"layer", required_argument, 0, 'K'},
                                           {"bias", required_argument, 0, 'B'},
                                           {0, 0, 0, 0}};
  static const char *const names[] = {"weak", "flip", "bias-layer", "skip-relu", "bias-all"};
  if (fsn_init() != FSN_OK) return fprintf(stderr, "fusion-adversary: %s\n", fsn_last_error()), 1;
  fsn_server_opts o;
  fsn_server_opts_init(&o);
  adversary a = {.kind = (deviation)-1, .fraction = 0.5, .bias = 8.0, .layer = -1};
  const char *weak_spec = NULL;
  int c;
  while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
    bool ok = true;
    switch (c) {
    case 'D':
      for (int k = 0; k < 5; k++)
        if (!strcmp(optarg, names[k])) a.kind = (deviation)k;
      ok = (int)a.kind >= 0;
      break;
    case 'f': a.fraction = atof(optarg), ok = a.fraction > 0 && a.fraction <= 1; break;
    case 'W': weak_spec = optarg; break;
    case 'K': a.layer = atol(optarg), ok = a.layer >= 0; break;
    case 'B': a.bias = atof(optarg); break;
    default: ok = fsn_server_opt(&o, c, optarg);
    }
    if (!ok) return usage();
  }
  if ((int)a.kind < 0 || optind != argc || (a.kind == WEAK && !weak_spec)) return usage();
  fsn_serve_config cfg;
  fsn_model *m = NULL, *weak = NULL;
  fsn_sampleset set = {0};
  fsn_status st = fsn_server_setup(&o, &cfg, &m, &set);
  if (st == FSN_OK && weak_spec) st = fsn_app_load_model(&weak, weak_spec, o.seed + 1);
  if (st == FSN_OK && weak) st = fsn_model_quantize(weak, (unsigned)o.ell, (unsigned)o.scale);
  if (st != FSN_OK) {
    fprintf(stderr, "fusion-adversary: %s\n", fsn_last_error());
    return 1;
  }
  a.m = m, a.scale = (unsigned)o.scale;
  if (a.kind == WEAK)
    cfg.fusion.run_model = weak;
  else
    cfg.fusion.secure.tamper = tamper, cfg.fusion.secure.tamper_arg = &a;
  fprintf(stderr, "fusion-adversary: deviation %s (fraction %.3g)\n", names[a.kind], a.fraction);
  int rc = fsn_app_serve(&cfg);
  fsn_model_destroy(m), fsn_model_destroy(weak);
  fsn_sampleset_free(&set);
  return rc;
}
