/* `fusion client`: secure inference of the client's images against a server's private model, with Fusion's
 * mix-and-check on by default (replicas and public samples shuffled into the batch, checked afterwards).
 * Exit codes: 0 = predictions delivered, 1 = error, 2 = usage, 3 = the checks caught the server. */
#include <fusion/mixcheck.h>
#include <fusion/session.h>

#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apps/commands.h"
#include "apps/common.h"

enum { EXIT_CAUGHT = 3, MAX_QUERIES = 100000 };

typedef struct client_opts {
  const char *connect, *images, *labels, *index, *public_range, *net, *model_hash;
  unsigned long long threads, ell, scale, timeout, max_r;
  double kappa;
  bool fusion, silent_abort, json, progress, logits, approx;
} client_opts;

typedef struct client_run {
  client_opts o;
  fsn_images im;
  fsn_labels lb;
  size_t *queries, n;
  fsn_sampleset set;
  fsn_card card;
  fsn_mc_choice choice;
  fsn_mc_plan plan;
  uint64_t *outputs;
  size_t out_size;
  fsn_mc_report report;
  fsn_status check;
  fsn_cost cost, *layers; /* the whole run; per layer */
  fsn_link_profile link;  /* the emulated link, zero if none */
} client_run;

static int usage(void) {
  fprintf(stderr,
          "usage: fusion client --connect HOST:PORT --index LIST [--images IDX --labels IDX]\n"
          "  [--kappa K | --no-fusion] [--silent-abort] [--approx] [--model-hash HEX] [--public A-B] [--threads T]\n"
          "  [--net PROFILE] [--ell L --scale S] [--max-r R] [--timeout SECONDS] [--progress] [--json [--logits]]\n"
          "  LIST: indices of test images, e.g. 0-9,15\n");
  return 2;
}

static bool parse(int argc, char **argv, client_opts *o) {
  static const struct option longopts[] = {
      {"connect", required_argument, 0, 'c'},    {"images", required_argument, 0, 'i'},
      {"labels", required_argument, 0, 'l'},     {"index", required_argument, 0, 'x'},
      {"public", required_argument, 0, 'P'},     {"net", required_argument, 0, 'N'},
      {"model-hash", required_argument, 0, 'H'}, {"threads", required_argument, 0, 't'},
      {"ell", required_argument, 0, 'e'},        {"scale", required_argument, 0, 's'},
      {"timeout", required_argument, 0, 'T'},    {"max-r", required_argument, 0, 'R'},
      {"kappa", required_argument, 0, 'k'},      {"no-fusion", no_argument, 0, 'F'},
      {"silent-abort", no_argument, 0, 'S'},     {"json", no_argument, 0, 'j'},
      {"progress", no_argument, 0, 'p'},         {"logits", no_argument, 0, 'g'},
      {"approx", no_argument, 0, 'a'},           {0, 0, 0, 0}};
  *o = (client_opts){.images = FSN_APP_FMNIST_IMAGES,
                     .labels = FSN_APP_FMNIST_LABELS,
                     .public_range = FSN_APP_PUBLIC_RANGE,
                     .threads = 2,
                     .ell = 37,
                     .scale = 12,
                     .timeout = 120,
                     .max_r = 48,
                     .kappa = 40,
                     .fusion = true};
  int c;
  optind = 1;
  while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
    bool ok = true;
    switch (c) {
    case 'c': o->connect = optarg; break;
    case 'i': o->images = optarg; break;
    case 'l': o->labels = optarg; break;
    case 'x': o->index = optarg; break;
    case 'P': o->public_range = optarg; break;
    case 'N': o->net = optarg; break;
    case 'H': o->model_hash = optarg; break;
    case 't': ok = fsn_app_parse_uint(optarg, 64, &o->threads) && o->threads > 0; break;
    case 'e': ok = fsn_app_parse_uint(optarg, 64, &o->ell); break;
    case 's': ok = fsn_app_parse_uint(optarg, 62, &o->scale); break;
    case 'T': ok = fsn_app_parse_uint(optarg, 86400, &o->timeout) && o->timeout > 0; break;
    case 'R': ok = fsn_app_parse_uint(optarg, 1024, &o->max_r) && o->max_r > 0; break;
    case 'k': o->kappa = atof(optarg), ok = o->kappa > 0 && o->kappa <= 128; break;
    case 'F': o->fusion = false; break;
    case 'S': o->silent_abort = true; break;
    case 'j': o->json = true; break;
    case 'p': o->progress = true; break;
    case 'g': o->logits = true; break;
    case 'a': o->approx = true; break;
    default: ok = false;
    }
    if (!ok) return false;
  }
  return optind == argc && o->connect && o->index;
}

/* The card must describe the public set the client holds, and (with commitments) its claimed accuracy must be
 * the committed labels' accuracy on that set: the client checks model quality itself. */
static fsn_status check_card(client_run *r) {
  const fsn_card *c = &r->card;
  char hex[65];
  fsn_app_hex(hex, c->model_hash, 32);
  if (r->o.model_hash && strcmp(r->o.model_hash, hex))
    return fsn_fail(FSN_E_MISMATCH, "the server's model hash %s is not the expected %s", hex, r->o.model_hash);
  if (strcmp(c->set_name, r->set.name) || memcmp(c->set_hash, r->set.set_hash, 32) ||
      c->set_count != r->set.images.count)
    return fsn_fail(FSN_E_MISMATCH, "the server's public set '%s' differs from ours ('%s')", c->set_name, r->set.name);
  fsn_shape in = fsn_model_input_shape(c->arch);
  if (in.c != r->im.channels || in.h != r->im.rows || in.w != r->im.cols)
    return fsn_fail(FSN_E_MISMATCH, "the server's model takes %zux%zux%zu inputs, our images are %zux%zux%zu", in.c,
                    in.h, in.w, r->im.channels, r->im.rows, r->im.cols);
  if (c->predictions) {
    size_t correct = 0;
    for (size_t i = 0; i < c->set_count; i++) correct += c->predictions[i] == r->set.labels[i];
    double acc = (double)correct / (double)c->set_count;
    if (fabs(acc - c->claimed_accuracy) > 1e-9)
      return fsn_fail(FSN_E_MISMATCH, "the server claims accuracy %.4f but its committed labels score %.4f",
                      c->claimed_accuracy, acc);
  }
  return FSN_OK;
}

/* Choose (R, B) and draw the plan; without Fusion a plan with R = 1, B = 0 keeps the queries in order. */
static fsn_status plan_batch(client_run *r) {
  if (!r->o.fusion) {
    fsn_status st = fsn_mc_plan_create(&r->plan, r->n, 1, 0, 1);
    for (size_t p = 0; st == FSN_OK && p < r->plan.N; p++) r->plan.slot_of[p] = (uint32_t)p;
    r->choice = (fsn_mc_choice){.R = 1, .N = r->n};
    return st;
  }
  fsn_mc_goal g = {.n = r->n,
                   .kappa = r->o.kappa,
                   .committed = r->card.predictions != NULL,
                   .alpha = r->card.claimed_accuracy,
                   .delta = 1e-3,
                   .drop = 0.05,
                   .public_size = r->set.images.count,
                   .max_R = (unsigned)r->o.max_r};
  fsn_mc_choice *all = calloc(g.max_R, sizeof *all);
  if (!all) return fsn_fail(FSN_E_NOMEM, "parameter search");
  fsn_status st = fsn_mc_search(&g, all, &r->choice);
  free(all);
  return st == FSN_OK ? fsn_mc_plan_create(&r->plan, r->n, r->choice.R, r->choice.B, r->set.images.count) : st;
}

/* Approximate truncation may leave each truncation one ulp low, and the errors propagate through the network: replicas
 * must then agree on the label and on every logit within 1.0 (2^s units). A stated tolerance, not a proof. */
static uint64_t approx_tolerance(const fsn_card *c) { return (uint64_t)1 << c->scale; }

static fsn_status run_batch(client_run *r, fsn_channel **chs) {
  const fsn_card *c = &r->card;
  size_t in_size = r->im.channels * r->im.rows * r->im.cols, N = r->plan.N;
  fsn_shape os = fsn_model_output_shape(c->arch);
  r->out_size = os.c * os.h * os.w;
  uint64_t *x = malloc(N * in_size * sizeof *x + 8);
  r->outputs = malloc(N * r->out_size * sizeof *r->outputs + 8);
  if (!x || !r->outputs) {
    free(x);
    return fsn_fail(FSN_E_NOMEM, "a batch of %zu inputs", N);
  }
  for (size_t p = 0; p < N; p++) {
    size_t idx;
    const uint8_t *px = fsn_mc_plan_source(&r->plan, p, &idx) == FSN_MC_QUERY ? r->im.pixels + r->queries[idx] * in_size
                                                                              : r->set.images.pixels + idx * in_size;
    fsn_nn_pixels_to_fixed(x + p * in_size, px, in_size, c->ell, c->scale);
  }
  r->layers = calloc(fsn_model_num_layers(c->arch) + 1, sizeof *r->layers);
  /* pixel / 255 at scale s lies in [0, 2^s]: s + 1 bits */
  fsn_secure_opts so = {.progress = r->o.progress,
                        .layer_costs = r->layers,
                        .trunc = r->o.approx ? FSN_TRUNC_APPROX : FSN_TRUNC_EXACT,
                        .input_bits = c->scale + 1};
  fsn_status st = fsn_client_batch(chs, r->o.threads, c, x, N, r->outputs, &so, &r->cost);
  free(x);
  if (st != FSN_OK) return st;
  r->check = FSN_OK;
  if (r->o.fusion) {
    fsn_mc_expect e = {.labels = c->predictions ? c->predictions : r->set.labels,
                       .committed = c->predictions != NULL,
                       .threshold = r->choice.threshold,
                       .tolerance = r->o.approx ? approx_tolerance(c) : 0};
    r->check = fsn_mc_check(&r->plan, r->outputs, r->out_size, c->ell, &e, &r->report);
  }
  return fsn_client_verdict(chs[0], r->check == FSN_OK || r->o.silent_abort);
}

static size_t predicted(const client_run *r, size_t q) {
  return fsn_nn_argmax_fixed(fsn_mc_query_logits(&r->plan, r->outputs, r->out_size, q), r->out_size, r->card.ell);
}

/* The link terms of the model estimate (fsn_link_model_seconds without the compute term). */
static double link_transfer_s(const client_run *r) {
  return fsn_link_model_seconds(&(fsn_link_profile){.bandwidth_bps = r->link.bandwidth_bps}, 0,
                                r->cost.bytes_sent + r->cost.bytes_recv, 0);
}
static double link_latency_s(const client_run *r) {
  return fsn_link_model_seconds(&(fsn_link_profile){.rtt_s = r->link.rtt_s}, 0, 0, r->cost.rounds);
}

static void print_text(const client_run *r) {
  char hex[65];
  fsn_app_hex(hex, r->card.model_hash, 32);
  printf("model %s (%s), ell %u, s %u\n", r->card.model_name, hex, r->card.ell, r->card.scale);
  size_t correct = 0;
  for (size_t q = 0; q < r->n; q++) {
    size_t p = predicted(r, q), truth = r->lb.labels[r->queries[q]];
    correct += p == truth;
    printf("image %6zu: predicted %zu, label %zu%s\n", r->queries[q], p, truth, p == truth ? "" : "  (wrong)");
  }
  printf("%zu of %zu correct\n", correct, r->n);
  if (r->o.fusion)
    printf("fusion: kappa %g, R = %u, B = %zu, batch %zu for %zu queries (%.1fx), escape <= 2^%.1f; checks %s%s\n",
           r->o.kappa, r->choice.R, r->choice.B, r->choice.N, r->n, (double)r->choice.N / (double)r->n,
           r->choice.log2_escape, r->check == FSN_OK ? "passed" : "FAILED",
           r->o.approx ? " (approximate truncation: replicas compared by label, logits within 1.0)" : "");
  else
    printf("fusion: off (semi-honest run, no checks)\n");
  printf("cost: %.2f s, sent %.2f MiB, received %.2f MiB, %llu rounds\n", r->cost.seconds,
         (double)r->cost.bytes_sent / 1048576.0, (double)r->cost.bytes_recv / 1048576.0,
         (unsigned long long)r->cost.rounds);
  if (r->link.bandwidth_bps > 0 || r->link.rtt_s > 0) {
    char link[96];
    fsn_link_format(link, sizeof link, &r->link);
    printf("link %s (emulated): model estimate = compute + %.2f s (bytes both ways / bandwidth) + %.2f s "
           "(rounds x RTT)\n",
           link, link_transfer_s(r), link_latency_s(r));
  }
}

static void print_json(const client_run *r) {
  char hex[65];
  fsn_app_hex(hex, r->card.model_hash, 32);
  printf("{\"model\": ");
  fsn_app_json_string(stdout, r->card.model_name);
  printf(", \"model_hash\": \"%s\", \"ell\": %u, \"scale\": %u, \"predictions\": [", hex, r->card.ell, r->card.scale);
  for (size_t q = 0; q < r->n; q++) {
    printf("%s{\"index\": %zu, \"predicted\": %zu, \"label\": %u", q ? ", " : "", r->queries[q], predicted(r, q),
           r->lb.labels[r->queries[q]]);
    if (r->o.logits) {
      printf(", \"logits\": ");
      fsn_app_json_signed(stdout, fsn_mc_query_logits(&r->plan, r->outputs, r->out_size, q), r->out_size, r->card.ell);
    }
    printf("}");
  }
  printf("], \"fusion\": {\"enabled\": %s", r->o.fusion ? "true" : "false");
  if (r->o.fusion)
    printf(", \"kappa\": %g, \"R\": %u, \"B\": %zu, \"N\": %zu, \"log2_escape\": %.3f, \"passed\": %s, "
           "\"replicas_ok\": %s, \"public_ok\": %s, \"groups_inconsistent\": %zu, \"public_mismatches\": %zu",
           r->o.kappa, r->choice.R, r->choice.B, r->choice.N, r->choice.log2_escape,
           r->check == FSN_OK ? "true" : "false", r->report.replicas_ok ? "true" : "false",
           r->report.public_ok ? "true" : "false", r->report.groups_inconsistent, r->report.public_mismatches);
  printf("}, \"cost\": {\"seconds\": %.4f, \"bytes_sent\": %llu, \"bytes_recv\": %llu, \"rounds\": %llu}",
         r->cost.seconds, (unsigned long long)r->cost.bytes_sent, (unsigned long long)r->cost.bytes_recv,
         (unsigned long long)r->cost.rounds);
  printf(
      ", \"link\": {\"bandwidth_bps\": %.0f, \"rtt_s\": %.6f, \"transfer_seconds\": %.4f, \"latency_seconds\": %.4f}",
      r->link.bandwidth_bps, r->link.rtt_s, link_transfer_s(r), link_latency_s(r));
  printf(", \"layers\": [");
  for (size_t i = 0; r->layers && i < fsn_model_num_layers(r->card.arch); i++) {
    const fsn_layer *l = fsn_model_layer(r->card.arch, i);
    const fsn_cost *c = &r->layers[i]; /* a ReLU fused into the conv/fc before it shows zero */
    printf("%s{\"name\": ", i ? ", " : "");
    fsn_app_json_string(stdout, l->desc.name);
    printf(", \"kind\": \"%s\", \"seconds\": %.4f, \"bytes_sent\": %llu, \"bytes_recv\": %llu, \"rounds\": %llu}",
           fsn_layer_kind_name(l->desc.kind), c->seconds, (unsigned long long)c->bytes_sent,
           (unsigned long long)c->bytes_recv, (unsigned long long)c->rounds);
  }
  printf("]}\n");
}

static fsn_status run(client_run *r) {
  fsn_status st = fsn_idx_read_images(&r->im, r->o.images);
  if (st == FSN_OK) st = fsn_idx_read_labels(&r->lb, r->o.labels);
  if (st == FSN_OK && r->lb.count < r->im.count)
    st = fsn_fail(FSN_E_FORMAT, "%zu labels for %zu images", r->lb.count, r->im.count);
  if (st == FSN_OK) st = fsn_app_parse_indices(r->o.index, r->im.count, MAX_QUERIES, &r->queries, &r->n);
  if (st == FSN_OK) st = fsn_app_public_set(&r->set, &r->im, &r->lb, r->o.public_range);
  fsn_channel_opts co;
  if (st == FSN_OK) st = fsn_app_channel_opts(&co, r->o.net, (unsigned)r->o.timeout);
  if (st != FSN_OK) return st;
  r->link = co.link;
  fsn_channel *chs[64] = {0};
  const fsn_session_params params = {.ell = (uint32_t)r->o.ell, .scale = (uint32_t)r->o.scale};
  st = fsn_session_connect(chs, r->o.threads, r->o.connect, FSN_ROLE_CLIENT, &params, &co);
  if (st == FSN_OK) st = fsn_card_recv(chs[0], &r->card);
  if (st == FSN_OK) st = check_card(r);
  if (st == FSN_OK) st = plan_batch(r);
  if (st == FSN_OK) st = run_batch(r, chs);
  fsn_session_close(chs, r->o.threads);
  return st;
}

int fsn_cmd_client(int argc, char **argv) {
  client_run r = {0};
  if (!parse(argc, argv, &r.o)) return usage();
  fsn_status st = run(&r);
  int rc = 0;
  if (st != FSN_OK) {
    fprintf(stderr, "fusion client: %s\n", fsn_last_error());
    rc = 1;
  } else if (r.check != FSN_OK) {
    /* A failed check never delivers predictions: they may be wrong. */
    fprintf(stderr,
            "fusion client: CHECKS FAILED — the server deviated or runs a worse model; predictions withheld\n"
            "  replicas: %s (%zu of %zu queries inconsistent)\n  public samples: %s (%zu of %zu mismatched%s)\n",
            r.report.replicas_ok ? "ok" : "FAILED", r.report.groups_inconsistent, r.n,
            r.report.public_ok ? "ok" : "FAILED", r.report.public_mismatches, r.choice.B,
            r.o.silent_abort ? "; the server was told the session passed (--silent-abort)" : "");
    rc = EXIT_CAUGHT;
  } else if (r.o.json) {
    print_json(&r);
  } else {
    print_text(&r);
  }
  fsn_mc_plan_destroy(&r.plan);
  fsn_card_free(&r.card);
  fsn_sampleset_free(&r.set);
  fsn_images_free(&r.im);
  fsn_labels_free(&r.lb);
  free(r.queries), free(r.outputs), free(r.layers);
  return rc;
}
