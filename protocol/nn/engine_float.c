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

static void layer_batch(double *out, double *const *tensors, const fsn_layer *l, size_t batch, double *acc_max) {
  const size_t isz = fsn_shape_size(l->in_shape), osz = fsn_shape_size(l->out_shape);
  const double *in = tensors[l->desc.in];
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
  case FSN_LAYER_ADD: {
    const double *in2 = tensors[l->desc.in2];
    for (size_t i = 0; i < batch * osz; i++) out[i] = in[i] + in2[i];
    break;
  }
  case FSN_LAYER_FLATTEN: memcpy(out, in, batch * osz * sizeof *out); break;
  }
  *acc_max = amax;
}

fsn_status fsn_model_run_float(const fsn_model *m, double *out, const double *in, size_t batch,
                               fsn_layer_stats *stats) {
  const size_t n = fsn_model_num_layers(m);
  if (n == 0) {
    memcpy(out, in, batch * fsn_shape_size(fsn_model_input_shape(m)) * sizeof *out);
    return FSN_OK;
  }
  double **tensors = calloc(n + 1, sizeof *tensors);
  size_t *last_use = malloc((n + 1) * sizeof *last_use);
  fsn_status st = FSN_OK;
  if (!tensors || !last_use) {
    st = fsn_fail(FSN_E_NOMEM, "float engine: out of memory");
    goto done;
  }
  fsn_nn_last_uses(m, last_use);
  tensors[0] = (double *)in;
  for (size_t i = 0; i < n; i++) {
    const fsn_layer *l = fsn_model_layer(m, i);
    size_t osz = batch * fsn_shape_size(l->out_shape);
    double *t = i + 1 == n ? out : malloc((osz ? osz : 1) * sizeof *t);
    if (!t) {
      st = fsn_fail(FSN_E_NOMEM, "float engine: out of memory for layer '%s' (%zu values)", l->desc.name, osz);
      goto done;
    }
    tensors[i + 1] = t;
    double acc_max;
    layer_batch(t, tensors, l, batch, &acc_max);
    if (stats) {
      double om = max_abs(t, osz);
      stats[i].float_max_out = fmax(stats[i].float_max_out, om);
      stats[i].float_max_acc = fmax(stats[i].float_max_acc, acc_max > 0 ? acc_max : om);
    }
    for (size_t k = 1; k <= i; k++)
      if (last_use[k] == i) {
        free(tensors[k]);
        tensors[k] = NULL;
      }
  }
done:
  if (tensors)
    for (size_t k = 1; k < n; k++) free(tensors[k]);
  free(tensors);
  free(last_use);
  return st;
}
