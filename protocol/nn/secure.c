/* The secure executor (include/fusion/secure.h): the fixed-point engine's layers, each through its two-party
 * protocol, with per-layer cost accounting. */
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

/* A conv or fc output feeds only a ReLU: truncating after the ReLU gives the same bits (floor shifts commute with
 * max(., 0)) and the truncation can assume a non-negative value. */
static bool relu_follows(const fsn_model *m, size_t i, const size_t *last_use) {
  if (i + 1 >= fsn_model_num_layers(m) || last_use[i + 1] != i + 1) return false;
  const fsn_layer *next = fsn_model_layer(m, i + 1);
  return next->desc.kind == FSN_LAYER_RELU && next->desc.in == i + 1;
}

static fsn_trunc_mode nonneg(fsn_trunc_mode mode) {
  return mode == FSN_TRUNC_APPROX ? FSN_TRUNC_NONNEG_APPROX : FSN_TRUNC_NONNEG;
}

/* A conv or fc layer; one that reads the model input OTs only the bits the input is known to need. */
static fsn_status linear(fsn_2pc *p, uint64_t *out, const uint64_t *in, const fsn_model *m, size_t i, size_t batch,
                         unsigned input_bits) {
  const fsn_layer *l = fsn_model_layer(m, i);
  const bool server = fsn_2pc_role(p) == FSN_ROLE_SERVER;
  const uint64_t *w = server ? l->qweight : NULL, *b = server ? l->qbias : NULL;
  if (server && !w) return fsn_fail(FSN_E_INVALID, "secure run: layer '%s' is not quantised", l->desc.name);
  fsn_conv2d_shape s = fsn_nn_conv_shape(l, batch);
  if (l->desc.kind == FSN_LAYER_FC) s = fsn_linear_fc_shape(batch, fsn_shape_size(l->in_shape), l->desc.out_c);
  const unsigned bits = l->desc.in == 0 && input_bits ? input_bits : fsn_2pc_ell(p);
  return fsn_linear_conv2d_narrow(p, out, in, w, b, &s, bits);
}

/* Window sums to averages, as the fixed engine: times round(2^s / k) locally, then the faithful truncation. */
static fsn_status average(fsn_2pc *p, uint64_t *v, size_t n, uint64_t k, fsn_trunc_mode mode) {
  const unsigned ell = fsn_2pc_ell(p), s = fsn_2pc_scale(p);
  fsn_ring_scale(v, v, fsn_nn_avg_factor(k, s), n, ell);
  return fsn_2pc_trunc(p, v, v, n, s, mode);
}

/* A fused conv/fc + ReLU pair: the ReLU before the (non-negative) truncation. A tamper hook sees the linear output
 * as layer i and the ReLU as layer i + 1 (both at scale 2s, before the truncation). */
static fsn_status fused_relu(fsn_2pc *p, size_t i, uint64_t *out, const uint64_t *in, size_t batch, size_t n,
                             fsn_trunc_mode mode, const fsn_secure_opts *o) {
  fsn_status st;
  uint64_t *pre = NULL;
  if (o->tamper) {
    o->tamper(i, in, out, batch, n / batch, o->tamper_arg);
    if (!(pre = malloc(n * sizeof *pre))) return fsn_fail(FSN_E_NOMEM, "secure run: %zu values", n);
    memcpy(pre, out, n * sizeof *pre);
  }
  st = fsn_2pc_relu(p, out, NULL, out, n);
  if (st == FSN_OK && o->tamper) o->tamper(i + 1, pre, out, batch, n / batch, o->tamper_arg);
  free(pre);
  return st == FSN_OK ? fsn_2pc_trunc(p, out, out, n, fsn_2pc_scale(p), nonneg(mode)) : st;
}

static void note_cost(fsn_2pc *p, fsn_cost *c, double t0, const fsn_counters *before) {
  fsn_counters after;
  fsn_2pc_counters(p, &after);
  *c = (fsn_cost){.seconds = now() - t0,
                  .bytes_sent = after.bytes_sent - before->bytes_sent,
                  .bytes_recv = after.bytes_recv - before->bytes_recv,
                  .rounds = after.rounds - before->rounds};
}

/* Layer i. *fused is set when layer i + 1 (its ReLU) was done here too. */
static fsn_status run_layer(fsn_2pc *p, const fsn_model *m, size_t i, uint64_t *const *t, size_t batch,
                            const fsn_secure_opts *o, const size_t *last_use, bool *fused) {
  const fsn_layer *l = fsn_model_layer(m, i);
  const unsigned ell = fsn_2pc_ell(p), s = fsn_2pc_scale(p);
  const size_t n = batch * fsn_shape_size(l->out_shape);
  const uint64_t *in = t[l->desc.in];
  uint64_t *out = t[i + 1];
  const fsn_trunc_mode mode = o->trunc;
  fsn_status st = FSN_OK;
  *fused = false;
  switch (l->desc.kind) {
  case FSN_LAYER_CONV:
  case FSN_LAYER_FC: {
    fsn_counters before;
    fsn_2pc_counters(p, &before);
    const double t0 = now();
    if ((st = linear(p, out, in, m, i, batch, o->input_bits)) != FSN_OK) return st;
    if (o->linear_costs) note_cost(p, &o->linear_costs[i], t0, &before);
    if (relu_follows(m, i, last_use)) {
      *fused = true;
      return fused_relu(p, i, out, in, batch, n, mode, o);
    }
    return fsn_2pc_trunc(p, out, out, n, s, mode);
  }
  case FSN_LAYER_RELU: return fsn_2pc_relu(p, out, NULL, in, n);
  case FSN_LAYER_MAXPOOL: {
    fsn_pool_shape ps = fsn_nn_pool_shape(l, batch);
    return fsn_2pc_maxpool2d(p, out, in, &ps);
  }
  case FSN_LAYER_AVGPOOL: {
    fsn_pool_shape ps = fsn_nn_pool_shape(l, batch);
    fsn_sumpool2d(out, in, &ps, ell);
    return average(p, out, n, l->desc.k_h * l->desc.k_w, mode);
  }
  case FSN_LAYER_GLOBAL_AVGPOOL: {
    size_t hw = l->in_shape.h * l->in_shape.w;
    fsn_global_sumpool(out, in, n, hw, ell);
    return average(p, out, n, hw, mode);
  }
  case FSN_LAYER_ADD: fsn_ring_add(out, in, t[l->desc.in2], n, ell); return FSN_OK;
  case FSN_LAYER_FLATTEN: memcpy(out, in, n * sizeof *out); return FSN_OK;
  }
  return fsn_fail(FSN_E_UNSUPPORTED, "secure run: layer '%s' of unknown kind %d", l->desc.name, (int)l->desc.kind);
}

fsn_status fsn_secure_run(fsn_2pc *p, const fsn_model *m, uint64_t *out, const uint64_t *in, size_t batch,
                          const fsn_secure_opts *opts, fsn_cost *costs) {
  const fsn_secure_opts defaults = {.trunc = FSN_TRUNC_EXACT};
  if (!opts) opts = &defaults;
  if (!costs) costs = opts->layer_costs;
  const size_t L = fsn_model_num_layers(m), in_size = fsn_shape_size(fsn_model_input_shape(m));
  const bool client = fsn_2pc_role(p) == FSN_ROLE_CLIENT;
  if (client && !in) return fsn_fail(FSN_E_INVALID, "secure run: the client must pass its inputs");
  if (opts->trunc != FSN_TRUNC_EXACT && opts->trunc != FSN_TRUNC_APPROX)
    return fsn_fail(FSN_E_INVALID, "secure run: truncation mode must be exact or approximate");
  if (opts->linear_costs) memset(opts->linear_costs, 0, L * sizeof *opts->linear_costs);
  uint64_t **t = calloc(L + 1, sizeof *t);
  size_t *last_use = malloc((L + 1) * sizeof *last_use);
  fsn_status st = t && last_use ? FSN_OK : fsn_fail(FSN_E_NOMEM, "secure run of %zu layers", L);
  if (st == FSN_OK) {
    fsn_nn_last_uses(m, last_use);
    t[0] = malloc((batch * in_size + 1) * sizeof *t[0]);
    if (!t[0])
      st = fsn_fail(FSN_E_NOMEM, "secure run: input of %zu values", batch * in_size);
    else
      fsn_2pc_share_input(p, t[0], client ? in : NULL, batch * in_size);
  }
  const double start = now();
  fsn_counters at_start;
  fsn_2pc_counters(p, &at_start);
  for (size_t i = 0; i < L && st == FSN_OK; i++) {
    const fsn_layer *l = fsn_model_layer(m, i);
    size_t n = batch * fsn_shape_size(l->out_shape);
    if (!(t[i + 1] = malloc((n + 1) * sizeof *t[i + 1]))) {
      st = fsn_fail(FSN_E_NOMEM, "secure run: layer '%s' output of %zu values", l->desc.name, n);
      break;
    }
    fsn_counters before;
    fsn_2pc_counters(p, &before);
    double t0 = now();
    bool fused;
    st = run_layer(p, m, i, t, batch, opts, last_use, &fused);
    if (st == FSN_OK && opts->tamper && !fused)
      opts->tamper(i, t[l->desc.in], t[i + 1], batch, fsn_shape_size(l->out_shape), opts->tamper_arg);
    if (st == FSN_OK && fused) { /* the ReLU ran in place on layer i's output: layer i + 1 is that tensor */
      t[i + 2] = t[i + 1];
      t[i + 1] = NULL;
    }
    fsn_cost c;
    note_cost(p, &c, t0, &before);
    if (costs) costs[i] = c;
    if (fused && costs)
      costs[++i] = (fsn_cost){0};
    else if (fused)
      i++;
    if (opts->progress && st == FSN_OK) {
      fsn_counters so_far;
      fsn_2pc_counters(p, &so_far);
      fprintf(stderr,
              "  layer %zu/%zu %-16s %-10s %8.3f s  sent %9.2f MiB  recv %9.2f MiB  (so far %.2f s, %.1f MiB)\n", i + 1,
              L, l->desc.name, fused ? "(+relu)" : fsn_layer_kind_name(l->desc.kind), c.seconds,
              (double)c.bytes_sent / 1048576.0, (double)c.bytes_recv / 1048576.0, now() - start,
              (double)(so_far.bytes_sent + so_far.bytes_recv - at_start.bytes_sent - at_start.bytes_recv) / 1048576.0);
    }
    /* tensors read for the last time are freed */
    for (size_t k = 0; k <= i && st == FSN_OK; k++)
      if (t[k] && last_use[k] <= i && k != 0) free(t[k]), t[k] = NULL;
  }
  if (st == FSN_OK) memcpy(out, L ? t[L] : t[0], batch * fsn_shape_size(fsn_model_output_shape(m)) * sizeof *out);
  for (size_t k = 0; t && k <= L; k++) free(t[k]);
  free(t), free(last_use);
  return st;
}
