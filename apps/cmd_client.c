/* `fusion client`: secure inference of the client's images against a server's private model, with Fusion's
 * mix-and-check on by default (replicas and public samples shuffled into the batch, checked afterwards).
 * Exit codes: 0 = predictions delivered, 1 = error, 2 = usage, 3 = the checks caught the server. */
#include <fusion/inference.h>

#include <ctype.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apps/commands.h"
#include "apps/common.h"

enum { EXIT_CAUGHT = 3, MAX_QUERIES = 100000, MAX_THREADS = 64 };

typedef struct client_opts {
  const char *connect, *images, *labels, *index, *public_range, *net, *model_hash, *state;
  const char *input, *preprocess; /* --input FILE [--preprocess SPEC]: the queries from a tensor file */
  unsigned long long threads, ell, scale, timeout, max_r;
  double kappa;
  bool fusion, report_verdict, trust_again, json, progress, logits, approx;
  const char *backend; /* --backend: NULL follows the server's card */
  const char *ot;      /* --ot: NULL follows the server's card */
} client_opts;

typedef struct client_run {
  client_opts o;
  fsn_images im;
  fsn_labels lb;
  size_t *queries, n;
  fsn_sampleset set;
  fsn_fusion_result res;
  fsn_link_profile link; /* the emulated link, zero if none */
  fsn_tensor tensor;     /* --input: the file as loaded, before preprocessing */
  uint64_t *inputs;      /* --input: the n queries, encoded */
  fsn_shape input_shape; /* --input: the shape of one */
  unsigned input_bits;   /* --input: s + 1 if every value lies in [0, 1], else 0 (no promise) */
} client_run;

static int usage(void) {
  fprintf(
      stderr,
      "usage: fusion client --connect HOST:PORT (--index LIST | --input FILE [--preprocess SPEC])\n"
      "  [--images IDX --labels IDX]\n"
      "  [--kappa K | --no-fusion] [--report-verdict] [--trust-again] [--state FILE] [--approx] [--model-hash HEX]\n"
      "  [--public A-B] [--threads T] [--net PROFILE] [--ell L --scale S] [--max-r R] [--timeout SECONDS]\n"
      "  [--progress] [--json [--logits]] [--backend vcot|he|he-packed] [--ot iknp|kk13|ferret]\n"
      "  LIST: indices of test images, e.g. 0-9,15; all of them go in one batch (amortised Fusion: the report\n"
      "  states n, the batch N and the batch factor N/n, and the cost per query)\n"
      "  --input: the queries from a .npy array, an ONNX TensorProto .pb (N x C x H x W) or a PNG/JPEG image\n"
      "    (pixel / 255), as `fusion plain --input`; SPEC as there, e.g. resize=256,crop=224\n"
      "  The verdict is not sent unless --report-verdict (which tells a cheating server one bit per session);\n"
      "  a server caught once is refused afterwards (records in --state, default $FSN_STATE_FILE or\n"
      "  $XDG_STATE_HOME/fusion/caught-servers) unless --trust-again.\n"
      "  --backend, --ot: insist on this conv/fc protocol, this OT pack (default: the ones the server's card\n"
      "  states).\n");
  return 2;
}

static bool parse(int argc, char **argv, client_opts *o) {
  static const struct option longopts[] = {{"connect", required_argument, 0, 'c'},
                                           {"images", required_argument, 0, 'i'},
                                           {"labels", required_argument, 0, 'l'},
                                           {"index", required_argument, 0, 'x'},
                                           {"public", required_argument, 0, 'P'},
                                           {"net", required_argument, 0, 'N'},
                                           {"model-hash", required_argument, 0, 'H'},
                                           {"threads", required_argument, 0, 't'},
                                           {"ell", required_argument, 0, 'e'},
                                           {"scale", required_argument, 0, 's'},
                                           {"timeout", required_argument, 0, 'T'},
                                           {"max-r", required_argument, 0, 'R'},
                                           {"kappa", required_argument, 0, 'k'},
                                           {"no-fusion", no_argument, 0, 'F'},
                                           {"silent-abort", no_argument, 0, 'S'},
                                           {"report-verdict", no_argument, 0, 'V'},
                                           {"trust-again", no_argument, 0, 'G'},
                                           {"state", required_argument, 0, 'Z'},
                                           {"json", no_argument, 0, 'j'},
                                           {"progress", no_argument, 0, 'p'},
                                           {"logits", no_argument, 0, 'g'},
                                           {"approx", no_argument, 0, 'a'},
                                           {"input", required_argument, 0, 'I'},
                                           {"preprocess", required_argument, 0, 'E'},
                                           {"backend", required_argument, 0, 'B'},
                                           {"ot", required_argument, 0, 'O'},
                                           {0, 0, 0, 0}};
  *o = (client_opts){.images = FSN_APP_FMNIST_IMAGES,
                     .labels = FSN_APP_FMNIST_LABELS,
                     .public_range = FSN_APP_PUBLIC_RANGE,
                     .threads = 2,
                     .ell = FSN_DEFAULT_ELL,
                     .scale = FSN_DEFAULT_SCALE,
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
    case 't': ok = fsn_app_parse_uint(optarg, MAX_THREADS, &o->threads) && o->threads > 0; break;
    case 'e': ok = fsn_app_parse_uint(optarg, 64, &o->ell); break;
    case 's': ok = fsn_app_parse_uint(optarg, 62, &o->scale); break;
    case 'T': ok = fsn_app_parse_uint(optarg, 86400, &o->timeout) && o->timeout > 0; break;
    case 'R': ok = fsn_app_parse_uint(optarg, 1024, &o->max_r) && o->max_r > 0; break;
    case 'k': o->kappa = atof(optarg), ok = o->kappa > 0 && o->kappa <= 128; break;
    case 'F': o->fusion = false; break;
    case 'S': break; /* the default now: kept so older scripts still parse */
    case 'V': o->report_verdict = true; break;
    case 'G': o->trust_again = true; break;
    case 'Z': o->state = optarg; break;
    case 'j': o->json = true; break;
    case 'p': o->progress = true; break;
    case 'g': o->logits = true; break;
    case 'a': o->approx = true; break;
    case 'I': o->input = optarg; break;
    case 'E': o->preprocess = optarg; break;
    case 'B': o->backend = optarg, ok = fsn_linear_backend_find(optarg) != NULL; break;
    case 'O': o->ot = optarg, ok = fsn_ot_pack_resolve(optarg) != NULL; break;
    default: ok = false;
    }
    if (!ok) return false;
  }
  return optind == argc && o->connect && !o->index != !o->input && (!o->preprocess || o->input);
}

/* --model-hash HEX: 64 hex digits (anything else can match no card). */
static bool parse_hash(const char *hex, uint8_t out[32]) {
  if (strlen(hex) != 64) return false;
  for (int i = 0; i < 32; i++) {
    unsigned v;
    if (sscanf(hex + 2 * i, "%2x", &v) != 1 || !isxdigit((unsigned char)hex[2 * i]) ||
        !isxdigit((unsigned char)hex[2 * i + 1]))
      return false;
    out[i] = (uint8_t)v;
  }
  return true;
}

/* The images as the library takes them: fixed point at the client's ell and s. */
static uint64_t *encode(const uint8_t *pixels, size_t count, size_t in_size, const client_opts *o) {
  uint64_t *x = malloc(count * in_size * sizeof *x + 8);
  if (x) fsn_nn_pixels_to_fixed(x, pixels, count * in_size, (unsigned)o->ell, (unsigned)o->scale);
  return x;
}

/* The preprocessing of --input: the card's, applied to an image (a --preprocess that says otherwise is refused: the
 * server's model was made for the card's), else --preprocess, applied as `fusion plain` does. */
static fsn_status input_preprocess(const client_run *r, fsn_preprocess *pp) {
  const fsn_preprocess *card = &r->res.card.preprocess;
  fsn_status st = fsn_preprocess_parse(r->o.preprocess, pp);
  if (st != FSN_OK || fsn_preprocess_is_none(card)) return st;
  char want[512], ours[512];
  fsn_preprocess_format(want, sizeof want, card), fsn_preprocess_format(ours, sizeof ours, pp);
  if (r->o.preprocess && strcmp(want, ours))
    return fsn_fail(FSN_E_MISMATCH, "the server's card declares the preprocessing '%s', --preprocess says '%s'", want,
                    ours);
  *pp = *card;
  return FSN_OK;
}

/* --input, once the card is in: the tensor preprocessed and encoded at the client's scale; inputs in [0, 1] (pixels)
 * promise s + 1 bits to the first linear layer, as images from --images do. */
static fsn_status encode_input(client_run *r) {
  const client_opts *o = &r->o;
  fsn_tensor *t = &r->tensor;
  fsn_preprocess pp;
  fsn_status st = input_preprocess(r, &pp);
  if (st == FSN_OK) st = fsn_app_preprocess_input(t, &pp, o->preprocess != NULL);
  if (st == FSN_OK) st = fsn_tensor_inputs(t, o->input, &r->input_shape, &r->n);
  if (st == FSN_OK && r->n > MAX_QUERIES)
    st = fsn_fail(FSN_E_INVALID, "'%s' holds %zu inputs, more than %d", o->input, r->n, MAX_QUERIES);
  double *x = st == FSN_OK ? malloc(t->count * sizeof *x + 8) : NULL;
  if (st == FSN_OK && !(x && (r->inputs = malloc(t->count * sizeof *r->inputs + 8))))
    st = fsn_fail(FSN_E_NOMEM, "'%s': %zu values", o->input, t->count);
  bool pixels = true;
  for (size_t i = 0; st == FSN_OK && i < t->count; i++) x[i] = t->data[i], pixels &= x[i] >= 0 && x[i] <= 1;
  if (st == FSN_OK) fsn_nn_encode(r->inputs, x, t->count, (unsigned)o->ell, (unsigned)o->scale);
  r->input_bits = pixels ? (unsigned)o->scale + 1 : 0;
  free(x);
  return st;
}

/* --input before connecting: the file read and checked (a bad file fails before any byte goes out). */
static fsn_status load_input(client_run *r) {
  fsn_preprocess pp;
  fsn_status st = fsn_preprocess_parse(r->o.preprocess, &pp);
  if (st == FSN_OK) st = fsn_tensor_load(&r->tensor, r->o.input);
  if (st == FSN_OK) st = fsn_tensor_inputs(&r->tensor, r->o.input, &r->input_shape, &r->n);
  return st;
}

static fsn_status query(client_run *r, fsn_channel **chs) {
  const client_opts *o = &r->o;
  size_t in_size = r->im.channels * r->im.rows * r->im.cols;
  uint64_t *pub = encode(r->set.images.pixels, r->set.images.count, in_size, o);
  uint64_t *q = o->input ? NULL : malloc(r->n * in_size * sizeof *q + 8);
  for (size_t k = 0; q && k < r->n; k++)
    fsn_nn_pixels_to_fixed(q + k * in_size, r->im.pixels + r->queries[k] * in_size, in_size, (unsigned)o->ell,
                           (unsigned)o->scale);
  char state[1024];
  uint8_t pin[32];
  fsn_status st =
      pub && (q || o->input) ? FSN_OK : fsn_fail(FSN_E_NOMEM, "encoding %zu images", r->n + r->set.images.count);
  if (st == FSN_OK && o->model_hash && !parse_hash(o->model_hash, pin))
    st = fsn_fail(FSN_E_MISMATCH, "the server's model hash cannot be the expected %s (not 64 hex digits)",
                  o->model_hash);
  if (st == FSN_OK && o->state && strcmp(o->state, "none"))
    snprintf(state, sizeof state, "%s", o->state);
  else if (st == FSN_OK && !o->state)
    st = fsn_fusion_state_default_path(state, sizeof state);
  if (st == FSN_OK) st = fsn_fusion_client_recv_card(chs[0], &r->res);
  if (st == FSN_OK && o->input) st = encode_input(r);
  /* --input's tensor, or the images: pixel / 255 at scale s lies in [0, 2^s], s + 1 bits */
  const uint64_t *queries = r->inputs ? r->inputs : q;
  const fsn_shape shape =
      r->inputs ? r->input_shape : (fsn_shape){.c = r->im.channels, .h = r->im.rows, .w = r->im.cols};
  const unsigned input_bits = r->inputs ? r->input_bits : (unsigned)o->scale + 1;
  fsn_fusion_client_opts co = {.queries = queries,
                               .n = r->n,
                               .input = shape,
                               .ell = (unsigned)o->ell,
                               .scale = (unsigned)o->scale,
                               .input_bits = input_bits,
                               /* a semi-honest run checks nothing: it needs no public set, nor the server's */
                               .public_set = !o->fusion ? (fsn_fusion_public){0}
                                                        : (fsn_fusion_public){.name = r->set.name,
                                                                              .hash = r->set.set_hash,
                                                                              .count = r->set.images.count,
                                                                              .labels = r->set.labels,
                                                                              .inputs = pub},
                               .no_fusion = !o->fusion,
                               .kappa = o->kappa,
                               .max_R = (unsigned)o->max_r,
                               .approx = o->approx,
                               .report_verdict = o->report_verdict,
                               .model_hash = o->model_hash ? pin : NULL,
                               .server_id = o->connect,
                               .state_path = o->state && !strcmp(o->state, "none") ? NULL : state,
                               .trust_again = o->trust_again,
                               .require_logits = o->logits,
                               .progress = o->progress,
                               .linear_backend = o->backend,
                               .ot = o->ot};
  if (st == FSN_OK) st = fsn_fusion_client_run_with_card(chs, o->threads, &co, &r->res);
  if (st == FSN_E_MISMATCH && r->inputs) { /* name the file the shape came from */
    char msg[512];
    snprintf(msg, sizeof msg, "%s", fsn_last_error());
    st = fsn_fail(st, "%s (--input '%s' holds %zu input(s) of %zux%zux%zu)", msg, o->input, r->n, r->input_shape.c,
                  r->input_shape.h, r->input_shape.w);
  }
  free(pub), free(q);
  return st;
}

static size_t predicted(const client_run *r, size_t q) { return r->res.labels[q]; }

/* The link terms of the model estimate (fsn_link_model_seconds without the compute term). */
static double link_transfer_s(const client_run *r) {
  return fsn_link_model_seconds(&(fsn_link_profile){.bandwidth_bps = r->link.bandwidth_bps}, 0,
                                r->res.cost.bytes_sent + r->res.cost.bytes_recv, 0);
}
static double link_latency_s(const client_run *r) {
  return fsn_link_model_seconds(&(fsn_link_profile){.rtt_s = r->link.rtt_s}, 0, 0, r->res.cost.rounds);
}

/* Amortisation: the batch's cost shared by the n queries, and the batch factor N / n (1 without Fusion). */
static double batch_factor(const client_run *r) { return (double)r->res.choice.N / (double)r->n; }
static double seconds_per_query(const client_run *r) { return r->res.cost.seconds / (double)r->n; }
static double bytes_per_query(const client_run *r) {
  return (double)(r->res.cost.bytes_sent + r->res.cost.bytes_recv) / (double)r->n;
}

/* Mix-and-check's own time (planning, shuffling, checks) as a share of the whole batch's time. */
static double overhead_share(const client_run *r) {
  double extra = fsn_fusion_overhead_seconds(&r->res.overhead), total = r->res.cost.seconds + extra;
  return total > 0 ? extra / total : 0;
}

/* This process's peak resident set; the server's comes in its report after the verdict (fsn_session_recv_report). */
static unsigned long long peak_rss_bytes(void) { return fsn_session_peak_rss(); }

static void print_text(const client_run *r) {
  char hex[65];
  fsn_app_hex(hex, r->res.card.model_hash, 32);
  printf("model %s (%s), ell %u, s %u; the server reveals %s; linear backend %s, OT pack %s\n", r->res.card.model_name,
         hex, r->res.card.ell, r->res.card.scale, r->res.card.reveal == FSN_REVEAL_LOGITS ? "logits" : "labels only",
         r->res.card.linear_backend, r->res.card.ot);
  if (!fsn_preprocess_is_none(&r->res.card.preprocess)) {
    char spec[512];
    fsn_preprocess_format(spec, sizeof spec, &r->res.card.preprocess);
    printf("the card declares the preprocessing %s%s\n", spec, r->o.input ? " (applied to --input images)" : "");
  }
  size_t correct = 0;
  for (size_t q = 0; r->inputs && q < r->n; q++) printf("input %zu: predicted %zu\n", q, predicted(r, q));
  for (size_t q = 0; !r->inputs && q < r->n; q++) {
    size_t p = predicted(r, q), truth = r->lb.labels[r->queries[q]];
    correct += p == truth;
    printf("image %6zu: predicted %zu, label %zu%s\n", r->queries[q], p, truth, p == truth ? "" : "  (wrong)");
  }
  if (!r->inputs) printf("%zu of %zu correct\n", correct, r->n);
  if (r->o.fusion)
    printf("fusion: kappa %g, R = %u, B = %zu, batch %zu for %zu queries (%.1fx), escape <= 2^%.1f; checks %s%s\n",
           r->o.kappa, r->res.choice.R, r->res.choice.B, r->res.choice.N, r->n, (double)r->res.choice.N / (double)r->n,
           r->res.choice.log2_escape, r->res.check == FSN_OK ? "passed" : "FAILED",
           r->o.approx ? " (approximate truncation: replicas compared by label, logits within 1.0)" : "");
  else
    printf("fusion: off (semi-honest run, no checks)\n");
  printf("cost: %.2f s, sent %.2f MiB, received %.2f MiB, %llu rounds\n", r->res.cost.seconds,
         (double)r->res.cost.bytes_sent / 1048576.0, (double)r->res.cost.bytes_recv / 1048576.0,
         (unsigned long long)r->res.cost.rounds);
  printf("per query: %.3f s, %.2f MiB both ways (%zu queries in a batch of %zu: batch factor %.2f)\n",
         seconds_per_query(r), bytes_per_query(r) / 1048576.0, r->n, r->res.choice.N, batch_factor(r));
  printf("mix-and-check overhead: %.4f s (plan %.4f, shuffle %.4f, checks %.4f), %.3f %% of the batch's time\n",
         fsn_fusion_overhead_seconds(&r->res.overhead), r->res.overhead.plan, r->res.overhead.shuffle,
         r->res.overhead.check, 100 * overhead_share(r));
  printf("peak RSS: client %.1f MiB, server %.1f MiB\n", (double)peak_rss_bytes() / 1048576.0,
         (double)r->res.server_peak_rss / 1048576.0);
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
  fsn_app_hex(hex, r->res.card.model_hash, 32);
  printf("{\"model\": ");
  fsn_app_json_string(stdout, r->res.card.model_name);
  printf(", \"model_hash\": \"%s\", \"ell\": %u, \"scale\": %u, \"reveal\": \"%s\", \"linear_backend\": \"%s\", "
         "\"ot\": \"%s\", \"predictions\": [",
         hex, r->res.card.ell, r->res.card.scale, r->res.card.reveal == FSN_REVEAL_LOGITS ? "logits" : "label",
         r->res.card.linear_backend, r->res.card.ot);
  for (size_t q = 0; q < r->n; q++) {
    if (r->inputs)
      printf("%s{\"input\": %zu, \"predicted\": %zu", q ? ", " : "", q, predicted(r, q));
    else
      printf("%s{\"index\": %zu, \"predicted\": %zu, \"label\": %u", q ? ", " : "", r->queries[q], predicted(r, q),
             r->lb.labels[r->queries[q]]);
    if (r->o.logits) {
      printf(", \"logits\": ");
      fsn_app_json_signed(stdout, r->res.logits + q * r->res.dim, r->res.dim, r->res.card.ell);
    }
    printf("}");
  }
  printf("], \"fusion\": {\"enabled\": %s", r->o.fusion ? "true" : "false");
  if (r->o.fusion)
    printf(", \"kappa\": %g, \"R\": %u, \"B\": %zu, \"N\": %zu, \"log2_escape\": %.3f, \"passed\": %s, "
           "\"replicas_ok\": %s, \"public_ok\": %s, \"groups_inconsistent\": %zu, \"public_mismatches\": %zu",
           r->o.kappa, r->res.choice.R, r->res.choice.B, r->res.choice.N, r->res.choice.log2_escape,
           r->res.check == FSN_OK ? "true" : "false", r->res.report.replicas_ok ? "true" : "false",
           r->res.report.public_ok ? "true" : "false", r->res.report.groups_inconsistent,
           r->res.report.public_mismatches);
  printf("}, \"cost\": {\"seconds\": %.4f, \"bytes_sent\": %llu, \"bytes_recv\": %llu, \"rounds\": %llu}",
         r->res.cost.seconds, (unsigned long long)r->res.cost.bytes_sent, (unsigned long long)r->res.cost.bytes_recv,
         (unsigned long long)r->res.cost.rounds);
  printf(", \"amortised\": {\"queries\": %zu, \"batch\": %zu, \"batch_factor\": %.4f, \"seconds_per_query\": %.4f, "
         "\"bytes_per_query\": %.0f}",
         r->n, r->res.choice.N, batch_factor(r), seconds_per_query(r), bytes_per_query(r));
  printf(", \"overhead\": {\"plan_seconds\": %.6f, \"shuffle_seconds\": %.6f, \"check_seconds\": %.6f, "
         "\"seconds\": %.6f, \"share\": %.6f}",
         r->res.overhead.plan, r->res.overhead.shuffle, r->res.overhead.check,
         fsn_fusion_overhead_seconds(&r->res.overhead), overhead_share(r));
  printf(", \"memory\": {\"client_peak_rss_bytes\": %llu, \"server_peak_rss_bytes\": ", peak_rss_bytes());
  if (r->res.server_peak_rss)
    printf("%llu}", (unsigned long long)r->res.server_peak_rss);
  else
    printf("null}");
  printf(
      ", \"link\": {\"bandwidth_bps\": %.0f, \"rtt_s\": %.6f, \"transfer_seconds\": %.4f, \"latency_seconds\": %.4f}",
      r->link.bandwidth_bps, r->link.rtt_s, link_transfer_s(r), link_latency_s(r));
  printf(", \"layers\": [");
  for (size_t i = 0; r->res.layers && i < fsn_model_num_layers(r->res.card.arch); i++) {
    const fsn_layer *l = fsn_model_layer(r->res.card.arch, i);
    const fsn_cost *c = &r->res.layers[i]; /* a ReLU fused into the conv/fc before it shows zero */
    printf("%s{\"name\": ", i ? ", " : "");
    fsn_app_json_string(stdout, l->desc.name);
    printf(", \"kind\": \"%s\", \"seconds\": %.4f, \"bytes_sent\": %llu, \"bytes_recv\": %llu, \"rounds\": %llu}",
           fsn_layer_kind_name(l->desc.kind), c->seconds, (unsigned long long)c->bytes_sent,
           (unsigned long long)c->bytes_recv, (unsigned long long)c->rounds);
  }
  printf("]}\n");
}

/* The IDX images and the public set drawn from them; --input without Fusion needs neither (its queries come from the
 * file and no public sample is mixed in), so it serves models of any input shape. */
static fsn_status load_images(client_run *r) {
  if (r->o.input && !r->o.fusion) return FSN_OK;
  fsn_status st = fsn_idx_read_images(&r->im, r->o.images);
  if (st == FSN_OK) st = fsn_idx_read_labels(&r->lb, r->o.labels);
  if (st == FSN_OK && r->lb.count < r->im.count)
    st = fsn_fail(FSN_E_FORMAT, "%zu labels for %zu images", r->lb.count, r->im.count);
  if (st == FSN_OK && !r->o.input) st = fsn_app_parse_indices(r->o.index, r->im.count, MAX_QUERIES, &r->queries, &r->n);
  if (st == FSN_OK) st = fsn_app_public_set(&r->set, &r->im, &r->lb, r->o.public_range);
  return st;
}

static fsn_status run(client_run *r) {
  fsn_status st = load_images(r);
  if (st == FSN_OK && r->o.input) st = load_input(r);
  fsn_channel_opts co;
  if (st == FSN_OK) st = fsn_app_channel_opts(&co, r->o.net, (unsigned)r->o.timeout);
  if (st != FSN_OK) return st;
  r->link = co.link;
  fsn_channel *chs[MAX_THREADS] = {0};
  const fsn_channel_params params = {.ell = (uint32_t)r->o.ell, .scale = (uint32_t)r->o.scale};
  st = fsn_channels_connect(chs, r->o.threads, r->o.connect, FSN_ROLE_CLIENT, &params, &co);
  if (st == FSN_OK) st = query(r, chs);
  fsn_channels_close(chs, r->o.threads);
  return st;
}

/* A failed check never delivers predictions: they may be wrong. */
static void print_caught(const client_run *r) {
  const fsn_fusion_result *res = &r->res;
  if (res->refused) {
    fprintf(stderr, "fusion client: %s\n", fsn_last_error());
    return;
  }
  fprintf(stderr,
          "fusion client: CHECKS FAILED — the server deviated or runs a worse model; predictions withheld\n"
          "  replicas: %s (%zu of %zu queries inconsistent)\n  public samples: %s (%zu of %zu mismatched)\n"
          "  %s; this server will be refused from now on (--trust-again to retry)\n",
          res->report.replicas_ok ? "ok" : "FAILED", res->report.groups_inconsistent, r->n,
          res->report.public_ok ? "ok" : "FAILED", res->report.public_mismatches, res->choice.B,
          r->o.report_verdict ? "the server was told (--report-verdict)"
                              : "the server was not told (it got the same silent verdict byte as always)");
}

int fsn_cmd_client(int argc, char **argv) {
  client_run r = {0};
  if (!parse(argc, argv, &r.o)) return usage();
  fsn_status st = run(&r);
  int rc = 0;
  if (st == FSN_E_CHEATING) {
    print_caught(&r);
    rc = EXIT_CAUGHT;
  } else if (st != FSN_OK) {
    fprintf(stderr, "fusion client: %s\n", fsn_last_error());
    rc = 1;
  } else if (r.o.json) {
    print_json(&r);
  } else {
    print_text(&r);
  }
  fsn_fusion_result_free(&r.res);
  fsn_sampleset_free(&r.set);
  fsn_idx_images_free(&r.im);
  fsn_idx_labels_free(&r.lb);
  free(r.queries);
  free(r.inputs);
  fsn_tensor_free(&r.tensor);
  return rc;
}
