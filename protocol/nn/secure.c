/* The secure executor (include/fusion/secure.h): the model's execution plan walked step by step, each layer through
 * its two-party protocol (conv/fc through the chosen linear backend), with per-layer cost accounting. */
#include <fusion/conv.h>
#include <fusion/linear.h>
#include <fusion/ring.h>
#include <fusion/secure.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "protocol/nn/nn_internal.h"

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* One run: what every step needs. */
typedef struct secure_run {
  fsn_2pc *p;
  const fsn_model *m;
  const fsn_secure_opts *o;
  const fsn_linear_backend *linear;
  fsn_cost *costs; /* NULL or one per layer */
  size_t batch;
  double start;
  fsn_counters at_start;
} secure_run;

static fsn_trunc_mode nonneg(fsn_trunc_mode mode) {
  return mode == FSN_TRUNC_APPROX ? FSN_TRUNC_NONNEG_APPROX : FSN_TRUNC_NONNEG;
}

/* One conv (a group of a grouped conv, or the whole layer) through the backend. */
typedef struct group_conv {
  const secure_run *r;
  unsigned bits;
} group_conv;

static fsn_status backend_conv(void *arg, uint64_t *y, const uint64_t *x, const uint64_t *w, const uint64_t *b,
                               const fsn_conv2d_shape *s) {
  const group_conv *g = arg;
  const bool server = fsn_2pc_role(g->r->p) == FSN_ROLE_SERVER;
  return g->r->linear->conv2d(g->r->p, y, x, server ? w : NULL, server ? b : NULL, s, g->bits);
}

/* A conv or fc layer through the backend; one that reads the model input passes the bits the input is known to
 * need. */
static fsn_status linear(const secure_run *r, uint64_t *out, const uint64_t *in, size_t i) {
  const fsn_layer *l = fsn_model_layer(r->m, i);
  const bool server = fsn_2pc_role(r->p) == FSN_ROLE_SERVER;
  const uint64_t *w = server ? l->qweight : NULL, *b = server ? l->qbias : NULL;
  if (server && !w) return fsn_fail(FSN_E_INVALID, "secure run: layer '%s' is not quantised", l->desc.name);
  const unsigned bits = l->desc.in == 0 && r->o->input_bits ? r->o->input_bits : fsn_2pc_ell(r->p);
  if (l->desc.kind == FSN_LAYER_FC)
    return r->linear->fc(r->p, out, in, w, b, r->batch, fsn_shape_size(l->in_shape), l->desc.out_c, bits);
  const group_conv g = {r, bits};
  return fsn_nn_conv_groups(l, r->batch, out, in, backend_conv, (void *)&g);
}

/* Max pooling by its protocol, average pooling as the fixed engine: window sums times each position's public
 * round(2^s / k) locally, then the faithful truncation; both on the input grown for ceil_mode. */
static fsn_status pool(fsn_2pc *p, uint64_t *out, const uint64_t *in, const fsn_layer *l, size_t batch,
                       fsn_trunc_mode mode) {
  const unsigned ell = fsn_2pc_ell(p), s = fsn_2pc_scale(p);
  uint64_t *grown;
  fsn_status st = fsn_nn_pool_input(l, batch, in, &grown);
  if (st != FSN_OK) return st;
  const fsn_pool_shape ps = fsn_nn_pool_shape(l, batch);
  if (l->desc.kind == FSN_LAYER_MAXPOOL) {
    st = fsn_nl_maxpool2d(p, out, grown ? grown : in, &ps);
  } else {
    fsn_sumpool2d(out, grown ? grown : in, &ps, ell);
    fsn_nn_avgpool_scale(out, l, batch, ell, s);
    st = fsn_nl_trunc(p, out, out, batch * fsn_shape_size(l->out_shape), s, mode);
  }
  free(grown);
  return st;
}

/* Clip: the ReLUs of x - L and x - H (or of one of them) in one batch, recombined locally; the server adds the
 * public bounds. */
static fsn_status clip(fsn_2pc *p, uint64_t *out, const uint64_t *in, const fsn_layer *l, size_t n) {
  const unsigned ell = fsn_2pc_ell(p), s = fsn_2pc_scale(p);
  const bool server = fsn_2pc_role(p) == FSN_ROLE_SERVER;
  uint64_t *r = malloc((2 * n + 1) * sizeof *r);
  if (!r) return fsn_fail(FSN_E_NOMEM, "secure run: out of memory for clip '%s'", l->desc.name);
  const size_t blocks = fsn_nn_clip_relu_inputs(r, in, n, &l->desc, ell, s, server);
  fsn_status st = blocks ? fsn_nl_relu(p, r, NULL, r, blocks * n) : FSN_OK;
  if (st == FSN_OK) fsn_nn_clip_combine(out, r, in, n, &l->desc, ell, s, server);
  free(r);
  return st;
}

/* A fused conv/fc + ReLU pair. Exact: the truncation and the ReLU in one protocol (max(x >> s, 0), the same bits as
 * truncating then ReLU). Approximate: the ReLU before the (non-negative) truncation. A tamper hook sees the linear
 * output as layer i (at scale 2s) and the ReLU as layer i + 1 (its input that linear output; its output at scale s
 * when exact, at 2s before the truncation when approximate). */
static fsn_status fused_relu(fsn_2pc *p, size_t i, uint64_t *out, const uint64_t *in, size_t batch, size_t n,
                             fsn_trunc_mode mode, const fsn_secure_opts *o) {
  fsn_status st;
  uint64_t *pre = NULL;
  const bool exact = mode == FSN_TRUNC_EXACT;
  if (o->tamper) {
    o->tamper(i, in, out, batch, n / batch, o->tamper_arg);
    if (!(pre = malloc(n * sizeof *pre))) return fsn_fail(FSN_E_NOMEM, "secure run: %zu values", n);
    memcpy(pre, out, n * sizeof *pre);
  }
  st = exact ? fsn_nl_relu_trunc(p, out, out, n, fsn_2pc_scale(p)) : fsn_nl_relu(p, out, NULL, out, n);
  if (st == FSN_OK && o->tamper) o->tamper(i + 1, pre, out, batch, n / batch, o->tamper_arg);
  free(pre);
  return st == FSN_OK && !exact ? fsn_nl_trunc(p, out, out, n, fsn_2pc_scale(p), nonneg(mode)) : st;
}

static void note_cost(fsn_2pc *p, fsn_cost *c, double t0, const fsn_counters *before) {
  fsn_counters after;
  fsn_2pc_counters(p, &after);
  *c = (fsn_cost){.seconds = now() - t0,
                  .bytes_sent = after.bytes_sent - before->bytes_sent,
                  .bytes_recv = after.bytes_recv - before->bytes_recv,
                  .rounds = after.rounds - before->rounds};
}

/* The layer of a step (and, fused, its ReLU) from its input(s) into out. */
static fsn_status run_layer(const secure_run *r, const fsn_nn_step *step, uint64_t *out, const uint64_t *in,
                            const uint64_t *in2) {
  fsn_2pc *p = r->p;
  const size_t i = step->layer;
  const fsn_layer *l = fsn_model_layer(r->m, i);
  const unsigned ell = fsn_2pc_ell(p), s = fsn_2pc_scale(p);
  const size_t n = r->batch * fsn_shape_size(l->out_shape);
  const fsn_trunc_mode mode = r->o->trunc;
  fsn_status st;
  switch (l->desc.kind) {
  case FSN_LAYER_CONV:
  case FSN_LAYER_FC: {
    fsn_counters before;
    fsn_2pc_counters(p, &before);
    const double t0 = now();
    if ((st = linear(r, out, in, i)) != FSN_OK) return st;
    if (r->o->linear_costs) note_cost(p, &r->o->linear_costs[i], t0, &before);
    if (step->fused_relu) return fused_relu(p, i, out, in, r->batch, n, mode, r->o);
    return fsn_nl_trunc(p, out, out, n, s, mode);
  }
  case FSN_LAYER_RELU: return fsn_nl_relu(p, out, NULL, in, n);
  case FSN_LAYER_MAXPOOL:
  case FSN_LAYER_AVGPOOL: return pool(p, out, in, l, r->batch, mode);
  case FSN_LAYER_GLOBAL_AVGPOOL: {
    size_t hw = l->in_shape.h * l->in_shape.w;
    fsn_global_sumpool(out, in, n, hw, ell);
    fsn_ring_scale(out, out, fsn_nn_avg_factor(hw, s), n, ell);
    return fsn_nl_trunc(p, out, out, n, s, mode);
  }
  case FSN_LAYER_ADD: fsn_ring_add(out, in, in2, n, ell); return FSN_OK;
  case FSN_LAYER_FLATTEN: memcpy(out, in, n * sizeof *out); return FSN_OK;
  case FSN_LAYER_CONCAT: fsn_nn_concat(out, in, in2, l, r->m, r->batch, sizeof *out); return FSN_OK;
  case FSN_LAYER_PAD: fsn_nn_pad(out, in, l, r->batch, sizeof *out); return FSN_OK;
  case FSN_LAYER_CLIP: return clip(p, out, in, l, n);
  }
  return fsn_fail(FSN_E_UNSUPPORTED, "secure run: layer '%s' of unknown kind %d", l->desc.name, (int)l->desc.kind);
}

/* A step of the plan: its layer(s), the tamper hook, the cost (a fused step's on its conv/fc, zero on its ReLU) and
 * the progress line. */
static fsn_status run_step(void *arg, const fsn_nn_step *step, void *const *t) {
  const secure_run *r = arg;
  const fsn_secure_opts *o = r->o;
  const fsn_layer *l = fsn_model_layer(r->m, step->layer);
  uint64_t *out = t[step->out];
  const uint64_t *in = t[step->in], *in2 = step->in2 == SIZE_MAX ? NULL : t[step->in2];
  fsn_counters before;
  fsn_2pc_counters(r->p, &before);
  const double t0 = now();
  fsn_status st = run_layer(r, step, out, in, in2);
  if (st == FSN_OK && o->tamper && !step->fused_relu)
    o->tamper(step->layer, in, out, r->batch, fsn_shape_size(l->out_shape), o->tamper_arg);
  fsn_cost c;
  note_cost(r->p, &c, t0, &before);
  if (r->costs) {
    r->costs[step->layer] = c;
    if (step->fused_relu) r->costs[step->layer + 1] = (fsn_cost){0};
  }
  if (o->progress && st == FSN_OK) {
    fsn_counters so_far;
    fsn_2pc_counters(r->p, &so_far);
    fprintf(stderr, "  layer %zu/%zu %-16s %-10s %8.3f s  sent %9.2f MiB  recv %9.2f MiB  (so far %.2f s, %.1f MiB)\n",
            step->out, fsn_model_num_layers(r->m), l->desc.name,
            step->fused_relu ? "(+relu)" : fsn_layer_kind_name(l->desc.kind), c.seconds,
            (double)c.bytes_sent / 1048576.0, (double)c.bytes_recv / 1048576.0, now() - r->start,
            (double)(so_far.bytes_sent + so_far.bytes_recv - r->at_start.bytes_sent - r->at_start.bytes_recv) /
                1048576.0);
  }
  return st;
}

/* The backend named in the options, or FSN_E_INVALID listing the known ones. */
static fsn_status find_backend(const char *name, unsigned ell, const fsn_linear_backend **out) {
  if ((*out = fsn_linear_backend_resolve(name, ell))) return FSN_OK;
  char known[256] = "";
  for (size_t i = 0; fsn_linear_backend_at(i); i++) {
    const size_t used = strlen(known);
    snprintf(known + used, sizeof known - used, "%s%s", i ? ", " : "", fsn_linear_backend_at(i)->name);
  }
  return fsn_fail(FSN_E_INVALID, "secure run: unknown linear backend '%s' (known: %s)", name, known);
}

fsn_status fsn_secure_run(fsn_2pc *p, const fsn_model *m, uint64_t *out, const uint64_t *in, size_t batch,
                          const fsn_secure_opts *opts, fsn_cost *costs) {
  const fsn_secure_opts defaults = {.trunc = FSN_TRUNC_EXACT};
  if (!opts) opts = &defaults;
  secure_run r = {.p = p, .m = m, .o = opts, .costs = costs ? costs : opts->layer_costs, .batch = batch};
  const size_t L = fsn_model_num_layers(m), in_size = fsn_shape_size(fsn_model_input_shape(m));
  const bool client = fsn_2pc_role(p) == FSN_ROLE_CLIENT;
  if (client && !in) return fsn_fail(FSN_E_INVALID, "secure run: the client must pass its inputs");
  if (opts->trunc != FSN_TRUNC_EXACT && opts->trunc != FSN_TRUNC_APPROX)
    return fsn_fail(FSN_E_INVALID, "secure run: truncation mode must be exact or approximate");
  fsn_status st = find_backend(opts->linear_backend, fsn_2pc_ell(p), &r.linear);
  if (st != FSN_OK) return st;
  if (opts->linear_costs) memset(opts->linear_costs, 0, L * sizeof *opts->linear_costs);
  uint64_t *share = malloc((batch * in_size + 1) * sizeof *share); /* tensor 0; the walk frees it after use */
  if (!share) return fsn_fail(FSN_E_NOMEM, "secure run: input of %zu values", batch * in_size);
  fsn_2pc_share_input(p, share, client ? in : NULL, batch * in_size);
  r.start = now();
  fsn_2pc_counters(p, &r.at_start);
  const fsn_nn_walk w = {.batch = batch,
                         .elem_size = sizeof *out,
                         .in = share,
                         .own_input = true,
                         .out = out,
                         .step = run_step,
                         .engine = &r,
                         .who = "secure run"};
  return fsn_nn_walk_model(m, &w);
}
