/* The client's side of a Fusion query (include/fusion/inference.h): check the card, choose (R, B), draw the secret
 * plan, run the permuted batch, check it, and deliver the predictions only if the checks pass. */
#include <fusion/inference.h>

#include <math.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { DEFAULT_MAX_R = 48 };
#define DEFAULT_KAPPA          40.0
#define DEFAULT_MAX_ACTIVATION ((size_t)1 << 31)

static size_t shape_size(fsn_shape s) { return s.c * s.h * s.w; }

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

double fsn_fusion_overhead_seconds(const fsn_fusion_overhead *o) { return o->plan + o->shuffle + o->check; }

/* The card must describe the public set the client holds, take the client's inputs, use its encoding, and (with
 * commitments) claim exactly the accuracy its committed labels score: the client checks model quality itself. */
static fsn_status check_card(const fsn_fusion_client_opts *o, const fsn_card *c) {
  if (o->model_hash && sodium_memcmp(o->model_hash, c->model_hash, 32)) {
    char got[65], want[65];
    sodium_bin2hex(got, sizeof got, c->model_hash, 32), sodium_bin2hex(want, sizeof want, o->model_hash, 32);
    return fsn_fail(FSN_E_MISMATCH, "the server's model hash %s is not the expected %s", got, want);
  }
  if (c->ell != o->ell || c->scale != o->scale)
    return fsn_fail(FSN_E_MISMATCH, "the server's card states ell %u, s %u; ours are %u, %u", c->ell, c->scale, o->ell,
                    o->scale);
  const fsn_fusion_public *pub = &o->public_set;
  if (pub->name && pub->hash &&
      (strcmp(c->set_name, pub->name) || memcmp(c->set_hash, pub->hash, 32) || c->set_count != pub->count))
    return fsn_fail(FSN_E_MISMATCH, "the server's public set '%s' differs from ours ('%s')", c->set_name, pub->name);
  if (o->require_logits && c->reveal != FSN_REVEAL_LOGITS)
    return fsn_fail(FSN_E_MISMATCH, "the server reveals labels only, not logits (its policy: --reveal label)");
  fsn_shape in = fsn_model_input_shape(c->arch);
  if (in.c != o->input.c || in.h != o->input.h || in.w != o->input.w)
    return fsn_fail(FSN_E_MISMATCH, "the server's model takes %zux%zux%zu inputs, ours are %zux%zux%zu", in.c, in.h,
                    in.w, o->input.c, o->input.h, o->input.w);
  if (c->predictions && pub->labels) {
    size_t correct = 0;
    for (size_t i = 0; i < c->set_count; i++) correct += c->predictions[i] == pub->labels[i];
    double acc = (double)correct / (double)(c->set_count ? c->set_count : 1);
    if (fabs(acc - c->claimed_accuracy) > 1e-9)
      return fsn_fail(FSN_E_MISMATCH, "the server claims accuracy %.4f but its committed labels score %.4f",
                      c->claimed_accuracy, acc);
  }
  return FSN_OK;
}

/* Choose (R, B) and draw the plan; without Fusion a plan with R = 1, B = 0 keeps the queries in order. */
static fsn_status plan_batch(const fsn_fusion_client_opts *o, fsn_fusion_result *r, fsn_mc_plan *plan) {
  if (o->no_fusion) {
    fsn_status st = fsn_mc_plan_create(plan, o->n, 1, 0, 1);
    for (size_t p = 0; st == FSN_OK && p < plan->N; p++) plan->slot_of[p] = (uint32_t)p;
    r->choice = (fsn_mc_choice){.R = 1, .N = o->n};
    return st;
  }
  fsn_mc_goal g = {.n = o->n,
                   .kappa = o->kappa > 0 ? o->kappa : DEFAULT_KAPPA,
                   .committed = r->card.predictions != NULL,
                   .alpha = r->card.claimed_accuracy,
                   .delta = 1e-3,
                   .drop = 0.05,
                   .public_size = o->public_set.count,
                   .max_R = o->max_R ? o->max_R : DEFAULT_MAX_R};
  fsn_mc_choice *all = calloc(g.max_R, sizeof *all);
  if (!all) return fsn_fail(FSN_E_NOMEM, "parameter search");
  fsn_status st = fsn_mc_search(&g, all, &r->choice);
  free(all);
  return st == FSN_OK ? fsn_mc_plan_create(plan, o->n, r->choice.R, r->choice.B, o->public_set.count) : st;
}

/* The card's architecture fits the stated parameter budget (fsn_arch_decode); the batch must fit this one too. */
static fsn_status check_activation_budget(const fsn_fusion_client_opts *o, const fsn_model *m, size_t N) {
  size_t largest = shape_size(fsn_model_input_shape(m));
  for (size_t i = 0; i < fsn_model_num_layers(m); i++) {
    size_t s = shape_size(fsn_model_layer(m, i)->out_shape);
    largest = s > largest ? s : largest;
  }
  size_t budget = o->max_activation_bytes ? o->max_activation_bytes : DEFAULT_MAX_ACTIVATION;
  if (largest > budget / 8 / N)
    return fsn_fail(FSN_E_UNSUPPORTED,
                    "a batch of %zu through this model needs %zu values in one tensor, beyond the client's budget of "
                    "%zu bytes",
                    N, largest * N, budget);
  return FSN_OK;
}

/* The permuted batch: each position takes a query or a public sample, as the plan says. */
static uint64_t *permuted_inputs(const fsn_fusion_client_opts *o, const fsn_mc_plan *plan) {
  size_t in_size = shape_size(o->input);
  uint64_t *x = malloc(plan->N * in_size * sizeof *x + 8);
  for (size_t p = 0; x && p < plan->N; p++) {
    size_t idx;
    const uint64_t *src = fsn_mc_plan_source(plan, p, &idx) == FSN_MC_QUERY ? o->queries + idx * in_size
                                                                            : o->public_set.inputs + idx * in_size;
    memcpy(x + p * in_size, src, in_size * sizeof *x);
  }
  return x;
}

/* Approximate truncation may leave each truncation one ulp low, and the errors propagate through the network: replicas
 * must then agree on the label and on every logit within 1.0 (2^s units). A stated tolerance, not a proof. */
static uint64_t approx_tolerance(const fsn_card *c) { return (uint64_t)1 << c->scale; }

static fsn_status check_outputs(const fsn_fusion_client_opts *o, fsn_fusion_result *r, const fsn_mc_plan *plan,
                                const uint64_t *out) {
  const fsn_card *c = &r->card;
  fsn_mc_expect e = {.labels = c->predictions ? c->predictions : o->public_set.labels,
                     .committed = c->predictions != NULL,
                     .threshold = r->choice.threshold,
                     .tolerance = o->approx ? approx_tolerance(c) : 0};
  return c->reveal == FSN_REVEAL_LOGITS ? fsn_mc_check(plan, out, r->dim, c->ell, &e, &r->report)
                                        : fsn_mc_check_labels(plan, out, &e, &r->report);
}

/* Un-permute the first replica of each query into the result. */
static fsn_status deliver(const fsn_fusion_client_opts *o, fsn_fusion_result *r, const fsn_mc_plan *plan,
                          const uint64_t *out) {
  bool logits = r->card.reveal == FSN_REVEAL_LOGITS;
  r->labels = malloc(o->n * sizeof *r->labels);
  if (logits) r->logits = malloc(o->n * r->dim * sizeof *r->logits);
  if (!r->labels || (logits && !r->logits)) return fsn_fail(FSN_E_NOMEM, "predictions for %zu queries", o->n);
  for (size_t q = 0; q < o->n; q++) {
    size_t p = fsn_mc_query_position(plan, q);
    if (!logits) {
      r->labels[q] = (size_t)out[p];
      continue;
    }
    memcpy(r->logits + q * r->dim, out + p * r->dim, r->dim * sizeof *r->logits);
    r->labels[q] = fsn_nn_argmax_fixed(out + p * r->dim, r->dim, r->card.ell);
  }
  return FSN_OK;
}

/* A server recorded as caught is refused, unless the caller trusts it again (which forgets the record). */
static fsn_status check_record(const fsn_fusion_client_opts *o, fsn_fusion_result *r) {
  if (!o->state_path) return FSN_OK;
  const char *id = o->server_id ? o->server_id : "";
  if (o->trust_again) return fsn_fusion_state_forget(o->state_path, r->card.model_hash, id);
  bool caught = false;
  fsn_status st = fsn_fusion_state_lookup(o->state_path, r->card.model_hash, id, &caught);
  if (st != FSN_OK || !caught) return st;
  r->refused = true;
  return fsn_fail(FSN_E_CHEATING,
                  "this server (%s, same model hash) failed the checks in an earlier session (recorded in %s): "
                  "refused; trust it again explicitly to retry",
                  id, o->state_path);
}

/* The batch, the verdict byte and the server's report. The silent verdict goes out before any check runs, so neither
 * its value nor its timing depends on them; the report is read after the checks either way. */
static fsn_status run_and_check(fsn_channel *const *chs, size_t nthreads, const fsn_fusion_client_opts *o,
                                fsn_fusion_result *r, const fsn_mc_plan *plan, uint64_t *out) {
  double t0 = now();
  uint64_t *x = permuted_inputs(o, plan);
  r->overhead.shuffle = now() - t0;
  if (!x) return fsn_fail(FSN_E_NOMEM, "a batch of %zu inputs", plan->N);
  fsn_secure_opts so = {.progress = o->progress,
                        .layer_costs = r->layers,
                        .trunc = o->approx ? FSN_TRUNC_APPROX : FSN_TRUNC_EXACT,
                        .input_bits = o->input_bits,
                        .linear_backend = o->linear_backend,
                        .ot = o->ot};
  fsn_status st = fsn_client_batch_reveal(chs, nthreads, &r->card, r->card.reveal, x, plan->N, out, &so, &r->cost);
  sodium_memzero(x, plan->N * shape_size(o->input) * sizeof *x);
  free(x);
  if (st == FSN_OK && !o->report_verdict) st = fsn_client_send_verdict(chs[0], FSN_VERDICT_SILENT);
  if (st != FSN_OK) return st;
  t0 = now();
  r->check = o->no_fusion ? FSN_OK : check_outputs(o, r, plan, out);
  r->overhead.check = now() - t0;
  if (r->check != FSN_OK && r->check != FSN_E_CHEATING) return r->check;
  if (o->report_verdict &&
      (st = fsn_client_send_verdict(chs[0], r->check == FSN_OK ? FSN_VERDICT_PASS : FSN_VERDICT_FAIL)) != FSN_OK)
    return st;
  if ((st = fsn_session_recv_report(chs[0], &r->server_peak_rss)) != FSN_OK) return st;
  if (r->check == FSN_OK) {
    t0 = now();
    st = deliver(o, r, plan, out);
    r->overhead.check += now() - t0;
    return st;
  }
  if (o->state_path &&
      (st = fsn_fusion_state_record(o->state_path, r->card.model_hash, o->server_id ? o->server_id : "")) != FSN_OK)
    return st;
  return fsn_fail(FSN_E_CHEATING, "mix-and-check caught the server: %s%s%s; predictions withheld",
                  r->report.replicas_ok ? "" : "replicas disagree",
                  !r->report.replicas_ok && !r->report.public_ok ? ", " : "",
                  r->report.public_ok ? "" : "public samples wrong");
}

fsn_status fsn_fusion_client_run(fsn_channel *const *chs, size_t nthreads, const fsn_fusion_client_opts *o,
                                 fsn_fusion_result *r) {
  *r = (fsn_fusion_result){.check = FSN_OK};
  const fsn_fusion_public *pub = &o->public_set;
  if (!o->queries || o->n == 0 || (!o->no_fusion && (!pub->name || !pub->hash || !pub->inputs || !pub->labels)))
    return fsn_fail(FSN_E_INVALID, "fusion client: no queries, or no public set (needed unless no_fusion)");
  if (sodium_init() < 0) return fsn_fail(FSN_E_CRYPTO, "libsodium failed to initialise");
  fsn_status st = fsn_card_recv(chs[0], &r->card);
  if (st == FSN_OK) st = check_card(o, &r->card);
  if (st == FSN_OK) st = check_record(o, r);
  fsn_mc_plan plan = {0};
  double t0 = now();
  if (st == FSN_OK) st = plan_batch(o, r, &plan);
  r->overhead.plan = now() - t0;
  if (st == FSN_OK) st = check_activation_budget(o, r->card.arch, plan.N);
  uint64_t *out = NULL;
  if (st == FSN_OK) {
    r->dim = shape_size(fsn_model_output_shape(r->card.arch));
    r->layers = calloc(fsn_model_num_layers(r->card.arch) + 1, sizeof *r->layers);
    out = malloc(plan.N * (r->card.reveal == FSN_REVEAL_LOGITS ? r->dim : 1) * sizeof *out + 8);
    if (!r->layers || !out) st = fsn_fail(FSN_E_NOMEM, "outputs of a batch of %zu", plan.N);
  }
  if (st == FSN_OK) st = run_and_check(chs, nthreads, o, r, &plan, out);
  free(out);
  fsn_mc_plan_destroy(&plan);
  return st;
}

void fsn_fusion_result_free(fsn_fusion_result *r) {
  fsn_card_free(&r->card);
  free(r->labels), free(r->logits), free(r->layers);
  *r = (fsn_fusion_result){0};
}
