/* The fixed-point engine: the secure protocol's semantics in the clear (include/fusion/nn.h), through the dispatched
 * kernels (conv2d, GEMM, pooling, ring, trunc), so the secure executor can be checked against it bit for bit. */
#include <fusion/conv.h>
#include <fusion/gemm.h>
#include <fusion/nn.h>
#include <fusion/ring.h>
#include <fusion/trunc.h>

#include <stdlib.h>
#include <string.h>

#include "protocol/nn/nn_internal.h"

static uint64_t abs_signed(uint64_t v, unsigned ell) {
  uint64_t sign = (uint64_t)1 << (ell - 1);
  return (v & sign) ? ((~v + 1) & fsn_ring_mask(ell)) : v;
}

static uint64_t max_abs(const uint64_t *v, size_t n, unsigned ell) {
  uint64_t m = 0;
  for (size_t i = 0; i < n; i++) {
    uint64_t a = abs_signed(v[i], ell);
    if (a > m) m = a;
  }
  return m;
}

/* One dense conv through the kernel, with its scratch (a group of a grouped conv, or the whole layer). */
static fsn_status conv_kernel(void *arg, uint64_t *y, const uint64_t *x, const uint64_t *w, const uint64_t *b,
                              const fsn_conv2d_shape *s) {
  const fsn_layer *l = arg;
  size_t bytes = fsn_conv2d_scratch_bytes(s);
  void *scratch = bytes ? aligned_alloc(64, (bytes + 63) / 64 * 64) : NULL;
  if (bytes && !scratch)
    return fsn_fail(FSN_E_NOMEM, "fixed engine: out of memory for %zu bytes of conv scratch (layer '%s')", bytes,
                    l->desc.name);
  fsn_conv2d(y, x, w, b, s, scratch);
  free(scratch);
  return FSN_OK;
}

/* Conv: sum + bias at scale 2s, reduced mod 2^ell. */
static fsn_status conv_acc(uint64_t *acc, const uint64_t *in, const fsn_layer *l, size_t batch, unsigned ell) {
  fsn_status st = fsn_nn_conv_groups(l, batch, acc, in, conv_kernel, (void *)l);
  if (st == FSN_OK) fsn_ring_reduce(acc, acc, batch * fsn_shape_size(l->out_shape), ell);
  return st;
}

/* Fc: acc[N x O] = bias + X[N x F] * W^T, reduced mod 2^ell. */
static void fc_acc(uint64_t *acc, const uint64_t *in, const fsn_model *m, size_t i, size_t batch, unsigned ell) {
  const fsn_layer *l = fsn_model_layer(m, i);
  size_t o = l->desc.out_c, f = fsn_shape_size(l->in_shape);
  for (size_t b = 0; b < batch; b++) memcpy(acc + b * o, l->qbias, o * sizeof *acc);
  fsn_gemm_u64(acc, in, fsn_nn_fc_qweight_t(m, i), batch, o, f);
  fsn_ring_reduce(acc, acc, batch * o, ell);
}

static void relu(uint64_t *out, const uint64_t *in, size_t n, unsigned ell) {
  const uint64_t sign = (uint64_t)1 << (ell - 1);
  for (size_t i = 0; i < n; i++) out[i] = (in[i] & sign) ? 0 : in[i];
}

uint64_t fsn_nn_avg_factor(uint64_t k, unsigned scale) { return (((uint64_t)1 << scale) + k / 2) / k; }

/* Window sums times the fixed-point reciprocal of their divisor (done by the caller), then the floor truncation of a
 * product. *acc_max gets the largest |sum * f| (scale 2s), the value that needs the headroom. */
static void truncate_average(uint64_t *v, size_t n, unsigned ell, unsigned s, uint64_t *acc_max) {
  *acc_max = max_abs(v, n, ell);
  fsn_trunc_sar(v, v, n, ell, s);
}

/* Max or average pooling through the kernels, on the input grown for ceil_mode. */
static fsn_status pool(uint64_t *out, const uint64_t *in, const fsn_layer *l, size_t batch, unsigned ell, unsigned s,
                       uint64_t *acc_max) {
  uint64_t *grown;
  fsn_status st = fsn_nn_pool_input(l, batch, in, &grown);
  if (st != FSN_OK) return st;
  const fsn_pool_shape ps = fsn_nn_pool_shape(l, batch);
  if (l->desc.kind == FSN_LAYER_MAXPOOL) {
    fsn_maxpool2d(out, grown ? grown : in, &ps, ell);
  } else {
    fsn_sumpool2d(out, grown ? grown : in, &ps, ell);
    fsn_nn_avgpool_scale(out, l, batch, ell, s);
    truncate_average(out, batch * fsn_shape_size(l->out_shape), ell, s, acc_max);
  }
  free(grown);
  return FSN_OK;
}

/* Clip as the secure protocol computes it: ReLUs of the shifted values, recombined with the bounds. */
static fsn_status clip(uint64_t *out, const uint64_t *in, const fsn_layer *l, size_t n, unsigned ell, unsigned s) {
  uint64_t *r = malloc((2 * n + 1) * sizeof *r);
  if (!r) return fsn_fail(FSN_E_NOMEM, "fixed engine: out of memory for clip '%s'", l->desc.name);
  const size_t blocks = fsn_nn_clip_relu_inputs(r, in, n, &l->desc, ell, s, true);
  relu(r, r, blocks * n, ell);
  fsn_nn_clip_combine(out, r, in, n, &l->desc, ell, s, true);
  free(r);
  return FSN_OK;
}

/* One layer over the batch from its input(s) (in2: the add's second operand); *acc_max gets the largest |value|
 * before truncation / division (0 if none). out may be in for element-wise layers (the ReLU of a fused step). */
static fsn_status run_layer(uint64_t *out, const uint64_t *in, const uint64_t *in2, const fsn_model *m, size_t i,
                            size_t batch, uint64_t *acc_max) {
  const fsn_layer *l = fsn_model_layer(m, i);
  const unsigned ell = fsn_model_ell(m), s = fsn_model_scale(m);
  const size_t n = batch * fsn_shape_size(l->out_shape);
  *acc_max = 0;
  switch (l->desc.kind) {
  case FSN_LAYER_CONV:
  case FSN_LAYER_FC:
    if (l->desc.kind == FSN_LAYER_CONV) {
      fsn_status st = conv_acc(out, in, l, batch, ell);
      if (st != FSN_OK) return st;
    } else {
      fc_acc(out, in, m, i, batch, ell);
    }
    *acc_max = max_abs(out, n, ell);
    fsn_trunc_sar(out, out, n, ell, s);
    break;
  case FSN_LAYER_RELU: relu(out, in, n, ell); break;
  case FSN_LAYER_MAXPOOL:
  case FSN_LAYER_AVGPOOL: return pool(out, in, l, batch, ell, s, acc_max);
  case FSN_LAYER_GLOBAL_AVGPOOL: {
    size_t hw = l->in_shape.h * l->in_shape.w;
    fsn_global_sumpool(out, in, n, hw, ell);
    fsn_ring_scale(out, out, fsn_nn_avg_factor(hw, s), n, ell);
    truncate_average(out, n, ell, s, acc_max);
    break;
  }
  case FSN_LAYER_ADD: fsn_ring_add(out, in, in2, n, ell); break;
  case FSN_LAYER_FLATTEN: memcpy(out, in, n * sizeof *out); break;
  case FSN_LAYER_CONCAT: fsn_nn_concat(out, in, in2, l, m, batch, sizeof *out); break;
  case FSN_LAYER_PAD: fsn_nn_pad(out, in, l, batch, sizeof *out); break;
  case FSN_LAYER_CLIP: return clip(out, in, l, n, ell, s);
  }
  return FSN_OK;
}

typedef struct engine {
  const fsn_model *m;
  size_t batch;
  fsn_layer_stats *stats; /* NULL or one per layer */
} engine;

/* Layer i wrote out: raise its headroom figures. */
static void note_stats(const engine *e, size_t i, const uint64_t *out, uint64_t acc_max) {
  if (!e->stats) return;
  const unsigned ell = fsn_model_ell(e->m);
  const uint64_t om = max_abs(out, e->batch * fsn_shape_size(fsn_model_layer(e->m, i)->out_shape), ell);
  fsn_layer_stats *st = &e->stats[i];
  if (om > st->fixed_max_out) st->fixed_max_out = om;
  if (!acc_max) acc_max = om;
  if (acc_max > st->fixed_max_acc) st->fixed_max_acc = acc_max;
}

/* A step of the plan: the layer, then (fused) its ReLU in place; the same bits as the two layers apart. */
static fsn_status run_step(void *arg, const fsn_nn_step *step, void *const *tensors) {
  const engine *e = arg;
  uint64_t *out = tensors[step->out], acc_max;
  const uint64_t *in2 = step->in2 == SIZE_MAX ? NULL : tensors[step->in2];
  fsn_status st = run_layer(out, tensors[step->in], in2, e->m, step->layer, e->batch, &acc_max);
  if (st != FSN_OK) return st;
  note_stats(e, step->layer, out, acc_max);
  if (step->fused_relu) {
    st = run_layer(out, out, NULL, e->m, step->layer + 1, e->batch, &acc_max);
    if (st == FSN_OK) note_stats(e, step->layer + 1, out, acc_max);
  }
  return st;
}

fsn_status fsn_model_run_fixed(const fsn_model *m, uint64_t *out, const uint64_t *in, size_t batch,
                               fsn_layer_stats *stats) {
  if (!fsn_model_ell(m))
    return fsn_fail(FSN_E_INVALID, "fixed engine: the model is not quantised (call fsn_model_quantize)");
  engine e = {.m = m, .batch = batch, .stats = stats};
  const fsn_nn_walk w = {.batch = batch,
                         .elem_size = sizeof *out,
                         .in = (void *)in,
                         .out = out,
                         .step = run_step,
                         .engine = &e,
                         .who = "fixed engine"};
  return fsn_nn_walk_model(m, &w);
}
