/* The float engine: the model in double precision with its real-valued weights (the accuracy reference the
 * fixed-point engine is compared against). Plain loops; batch-parallel with OpenMP. */
#include <fusion/nn.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/nn/nn_internal.h"

static double max_abs(const double *v, size_t n) {
  double m = 0;
  for (size_t i = 0; i < n; i++) m = fmax(m, fabs(v[i]));
  return m;
}

/* One sample: out (O x OH x OW) = conv(in (C x H x W), w) + b. */
static void conv_one(double *out, const double *in, const fsn_layer *l) {
  const fsn_layer_desc *d = &l->desc;
  const fsn_shape is = l->in_shape, os = l->out_shape;
  for (size_t o = 0; o < os.c; o++) {
    double *plane = out + o * os.h * os.w;
    for (size_t p = 0; p < os.h * os.w; p++) plane[p] = d->bias[o];
    for (size_t c = 0; c < is.c; c++)
      for (size_t ky = 0; ky < d->k_h; ky++)
        for (size_t kx = 0; kx < d->k_w; kx++) {
          double wv = d->weight[((o * is.c + c) * d->k_h + ky) * d->k_w + kx];
          for (size_t oy = 0; oy < os.h; oy++) {
            size_t y = oy * d->stride_h + ky;
            if (y < d->pad_h || y - d->pad_h >= is.h) continue;
            const double *row = in + (c * is.h + (y - d->pad_h)) * is.w;
            for (size_t ox = 0; ox < os.w; ox++) {
              size_t x = ox * d->stride_w + kx;
              if (x < d->pad_w || x - d->pad_w >= is.w) continue;
              plane[oy * os.w + ox] += wv * row[x - d->pad_w];
            }
          }
        }
  }
}

static void fc_one(double *out, const double *in, const fsn_layer *l) {
  const fsn_layer_desc *d = &l->desc;
  size_t f = fsn_shape_size(l->in_shape);
  for (size_t o = 0; o < d->out_c; o++) {
    double acc = d->bias[o];
    const float *w = d->weight + o * f;
    for (size_t k = 0; k < f; k++) acc += w[k] * in[k];
    out[o] = acc;
  }
}

/* Max or mean over windows of one sample; *acc_max gets the largest |mean| (the fixed engine's sum * f at 2s). */
static void pool_one(double *out, const double *in, const fsn_layer *l, double *acc_max) {
  const fsn_layer_desc *d = &l->desc;
  const fsn_shape is = l->in_shape, os = l->out_shape;
  const bool is_max = d->kind == FSN_LAYER_MAXPOOL;
  for (size_t c = 0; c < os.c; c++)
    for (size_t oy = 0; oy < os.h; oy++)
      for (size_t ox = 0; ox < os.w; ox++) {
        double acc = is_max ? -INFINITY : 0.0;
        for (size_t ky = 0; ky < d->k_h; ky++)
          for (size_t kx = 0; kx < d->k_w; kx++) {
            size_t y = oy * d->stride_h + ky, x = ox * d->stride_w + kx;
            if (y < d->pad_h || y - d->pad_h >= is.h || x < d->pad_w || x - d->pad_w >= is.w) continue;
            double v = in[(c * is.h + y - d->pad_h) * is.w + x - d->pad_w];
            acc = is_max ? fmax(acc, v) : acc + v;
          }
        if (!is_max) acc /= (double)(d->k_h * d->k_w);
        if (!is_max) *acc_max = fmax(*acc_max, fabs(acc));
        out[(c * os.h + oy) * os.w + ox] = acc;
      }
}

/* One layer over the batch from its input(s) (in2: the add's second operand); out may be in for element-wise
 * layers (the ReLU of a fused step). */
static void layer_batch(double *out, const double *in, const double *in2, const fsn_layer *l, size_t batch,
                        double *acc_max) {
  const size_t isz = fsn_shape_size(l->in_shape), osz = fsn_shape_size(l->out_shape);
  double amax = 0;
  switch (l->desc.kind) {
  case FSN_LAYER_CONV:
  case FSN_LAYER_FC:
#pragma omp parallel for schedule(static)
    for (size_t b = 0; b < batch; b++)
      (l->desc.kind == FSN_LAYER_CONV ? conv_one : fc_one)(out + b * osz, in + b * isz, l);
    amax = max_abs(out, batch * osz);
    break;
  case FSN_LAYER_RELU:
    for (size_t i = 0; i < batch * osz; i++) out[i] = in[i] > 0 ? in[i] : 0.0;
    break;
  case FSN_LAYER_MAXPOOL:
  case FSN_LAYER_AVGPOOL:
    for (size_t b = 0; b < batch; b++) pool_one(out + b * osz, in + b * isz, l, &amax);
    break;
  case FSN_LAYER_GLOBAL_AVGPOOL: {
    size_t hw = l->in_shape.h * l->in_shape.w;
    for (size_t p = 0; p < batch * l->in_shape.c; p++) {
      double s = 0;
      for (size_t k = 0; k < hw; k++) s += in[p * hw + k];
      out[p] = s / (double)hw;
      amax = fmax(amax, fabs(out[p]));
    }
    break;
  }
  case FSN_LAYER_ADD:
    for (size_t i = 0; i < batch * osz; i++) out[i] = in[i] + in2[i];
    break;
  case FSN_LAYER_FLATTEN: memcpy(out, in, batch * osz * sizeof *out); break;
  }
  *acc_max = amax;
}

typedef struct engine {
  const fsn_model *m;
  size_t batch;
  fsn_layer_stats *stats; /* NULL or one per layer */
} engine;

/* Layer i over the batch, and its headroom figures. */
static void run_layer(const engine *e, size_t i, double *out, const double *in, const double *in2) {
  const fsn_layer *l = fsn_model_layer(e->m, i);
  double acc_max;
  layer_batch(out, in, in2, l, e->batch, &acc_max);
  if (!e->stats) return;
  const double om = max_abs(out, e->batch * fsn_shape_size(l->out_shape));
  e->stats[i].float_max_out = fmax(e->stats[i].float_max_out, om);
  e->stats[i].float_max_acc = fmax(e->stats[i].float_max_acc, acc_max > 0 ? acc_max : om);
}

/* A step of the plan: the layer, then (fused) its ReLU in place. */
static fsn_status run_step(void *arg, const fsn_nn_step *step, void *const *tensors) {
  const engine *e = arg;
  double *out = tensors[step->out];
  run_layer(e, step->layer, out, tensors[step->in], step->in2 == SIZE_MAX ? NULL : tensors[step->in2]);
  if (step->fused_relu) run_layer(e, step->layer + 1, out, out, NULL);
  return FSN_OK;
}

fsn_status fsn_model_run_float(const fsn_model *m, double *out, const double *in, size_t batch,
                               fsn_layer_stats *stats) {
  if (fsn_model_shapes_only(m)) return fsn_fail(FSN_E_INVALID, "float engine: the model has shapes only (no weights)");
  engine e = {.m = m, .batch = batch, .stats = stats};
  const fsn_nn_walk w = {.batch = batch,
                         .elem_size = sizeof *out,
                         .in = (void *)in,
                         .out = out,
                         .step = run_step,
                         .engine = &e,
                         .who = "float engine"};
  return fsn_nn_walk_model(m, &w);
}
