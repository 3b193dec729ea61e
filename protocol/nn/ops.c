/* Layer pieces the fixed-point and secure engines share (and, where they only move values, the float engine too):
 * grouped convolution as one conv per group, the pooling extension for ceil_mode and the per-position divisors of
 * average pooling, clip as ReLUs, concat and zero padding. Everything here is local: on shares it is what each party
 * does on its own, so the engines agree bit for bit by construction. */
#include <fusion/ring.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/nn/nn_internal.h"

/* ---- grouped conv ---- */

/* Channels [first, first + count) of each of `batch` samples of `channels` planes of hw values, copied between a
 * batch x channels tensor and a dense batch x count one. */
static void gather_channels(uint64_t *dense, const uint64_t *full, size_t batch, size_t channels, size_t first,
                            size_t count, size_t hw) {
  for (size_t b = 0; b < batch; b++)
    memcpy(dense + b * count * hw, full + (b * channels + first) * hw, count * hw * sizeof *dense);
}

static void scatter_channels(uint64_t *full, const uint64_t *dense, size_t batch, size_t channels, size_t first,
                             size_t count, size_t hw) {
  for (size_t b = 0; b < batch; b++)
    memcpy(full + (b * channels + first) * hw, dense + b * count * hw, count * hw * sizeof *full);
}

fsn_status fsn_nn_conv_groups(const fsn_layer *l, size_t batch, uint64_t *out, const uint64_t *in,
                              fsn_nn_group_conv_fn conv, void *arg) {
  const fsn_conv2d_shape whole = fsn_nn_conv_shape(l, batch);
  const uint64_t *w = l->qweight, *b = l->qbias;
  const size_t g = l->desc.groups;
  if (g <= 1) return conv(arg, out, in, w, b, &whole);
  fsn_conv2d_shape s = whole;
  s.in_c /= g, s.out_c /= g;
  const size_t ihw = s.in_h * s.in_w, ohw = fsn_conv2d_out_h(&s) * fsn_conv2d_out_w(&s);
  const size_t per_group_w = s.out_c * s.in_c * s.k_h * s.k_w;
  uint64_t *x = malloc((batch * s.in_c * ihw + 1) * sizeof *x), *y = malloc((batch * s.out_c * ohw + 1) * sizeof *y);
  fsn_status st =
      x && y ? FSN_OK
             : fsn_fail(FSN_E_NOMEM, "layer '%s': out of memory for a group of %zu channels", l->desc.name, s.in_c);
  for (size_t k = 0; k < g && st == FSN_OK; k++) {
    gather_channels(x, in, batch, whole.in_c, k * s.in_c, s.in_c, ihw);
    st = conv(arg, y, x, w ? w + k * per_group_w : NULL, b ? b + k * s.out_c : NULL, &s);
    if (st == FSN_OK) scatter_channels(out, y, batch, whole.out_c, k * s.out_c, s.out_c, ohw);
  }
  free(x), free(y);
  return st;
}

/* ---- pooling: ceil_mode and divisors ---- */

/* Rows (cols) the windows overhang the padded input by: 0 unless ceil_mode added a last window. */
static size_t overhang(size_t in, size_t out, size_t k, size_t stride, size_t pad) {
  const size_t reach = (out - 1) * stride + k;
  return reach > in + 2 * pad ? reach - (in + 2 * pad) : 0;
}

void fsn_nn_pool_overhang(const fsn_layer *l, size_t *eh, size_t *ew) {
  const fsn_layer_desc *d = &l->desc;
  *eh = overhang(l->in_shape.h, l->out_shape.h, d->k_h, d->stride_h, d->pad_h);
  *ew = overhang(l->in_shape.w, l->out_shape.w, d->k_w, d->stride_w, d->pad_w);
}

fsn_pool_shape fsn_nn_pool_shape(const fsn_layer *l, size_t batch) {
  const fsn_layer_desc *d = &l->desc;
  size_t eh, ew;
  fsn_nn_pool_overhang(l, &eh, &ew);
  return (fsn_pool_shape){batch,  l->in_shape.c, l->in_shape.h + eh, l->in_shape.w + ew, d->k_h,
                          d->k_w, d->stride_h,   d->stride_w,        d->pad_h,           d->pad_w};
}

/* The input grown by the overhang below and to the right, ahead of the trailing padding, so the pooling kernels
 * (symmetric padding) see every ceil_mode window. A max pool fills it with copies of the last row / column: a
 * window reaching it starts inside the input (sweep() in model.c), so it also holds the copied edge value and its
 * max is unchanged. An average pool fills it with zeros, which add nothing to a sum. */
fsn_status fsn_nn_pool_input(const fsn_layer *l, size_t batch, const uint64_t *in, uint64_t **grown) {
  size_t eh, ew;
  fsn_nn_pool_overhang(l, &eh, &ew);
  *grown = NULL;
  if (!eh && !ew) return FSN_OK;
  const bool replicate = l->desc.kind == FSN_LAYER_MAXPOOL;
  const size_t H = l->in_shape.h, W = l->in_shape.w, GH = H + eh, GW = W + ew, planes = batch * l->in_shape.c;
  uint64_t *g = malloc((planes * GH * GW + 1) * sizeof *g);
  if (!g) return fsn_fail(FSN_E_NOMEM, "layer '%s': out of memory for the ceil_mode input", l->desc.name);
  for (size_t p = 0; p < planes; p++)
    for (size_t y = 0; y < GH; y++) {
      uint64_t *row = g + (p * GH + y) * GW;
      if (y >= H && !replicate) {
        memset(row, 0, GW * sizeof *row);
        continue;
      }
      const uint64_t *src = in + (p * H + (y < H ? y : H - 1)) * W;
      memcpy(row, src, W * sizeof *row);
      for (size_t x = W; x < GW; x++) row[x] = replicate ? src[W - 1] : 0;
    }
  *grown = g;
  return FSN_OK;
}

/* Positions of [start, start + k) inside [lo, hi). */
static size_t covered(long start, size_t k, long lo, long hi) {
  const long a = start > lo ? start : lo, b = start + (long)k < hi ? start + (long)k : hi;
  return b > a ? (size_t)(b - a) : 0;
}

/* The divisor of output row oy (or column): what its window covers of the input (exclude_pad) or of the padded
 * input. */
static size_t divisor_1d(size_t o, size_t in, size_t k, size_t stride, size_t pad, bool exclude_pad) {
  const long start = (long)(o * stride) - (long)pad;
  return exclude_pad ? covered(start, k, 0, (long)in) : covered(start, k, -(long)pad, (long)(in + pad));
}

bool fsn_nn_avgpool_uniform(const fsn_layer *l) {
  const fsn_layer_desc *d = &l->desc;
  const fsn_shape os = l->out_shape;
  for (size_t oy = 0; oy < os.h; oy++)
    if (divisor_1d(oy, l->in_shape.h, d->k_h, d->stride_h, d->pad_h, d->exclude_pad) != d->k_h) return false;
  for (size_t ox = 0; ox < os.w; ox++)
    if (divisor_1d(ox, l->in_shape.w, d->k_w, d->stride_w, d->pad_w, d->exclude_pad) != d->k_w) return false;
  return true;
}

size_t fsn_nn_avgpool_divisor(const fsn_layer *l, size_t oy, size_t ox) {
  const fsn_layer_desc *d = &l->desc;
  return divisor_1d(oy, l->in_shape.h, d->k_h, d->stride_h, d->pad_h, d->exclude_pad) *
         divisor_1d(ox, l->in_shape.w, d->k_w, d->stride_w, d->pad_w, d->exclude_pad);
}

void fsn_nn_avgpool_scale(uint64_t *v, const fsn_layer *l, size_t batch, unsigned ell, unsigned s) {
  const fsn_shape os = l->out_shape;
  if (fsn_nn_avgpool_uniform(l)) {
    fsn_ring_scale(v, v, fsn_nn_avg_factor(l->desc.k_h * l->desc.k_w, s), batch * fsn_shape_size(os), ell);
    return;
  }
  const uint64_t mask = fsn_ring_mask(ell);
  for (size_t oy = 0; oy < os.h; oy++)
    for (size_t ox = 0; ox < os.w; ox++) {
      const size_t k = fsn_nn_avgpool_divisor(l, oy, ox);
      const uint64_t f = k ? fsn_nn_avg_factor(k, s) : 0; /* a window of padding only (ceil_mode) averages to 0 */
      for (size_t p = 0; p < batch * os.c; p++) {
        uint64_t *e = &v[(p * os.h + oy) * os.w + ox];
        *e = *e * f & mask;
      }
    }
}

/* ---- clip ---- */

unsigned fsn_nn_clip_bounds(const fsn_layer_desc *d, unsigned ell, unsigned s, uint64_t *lo, uint64_t *hi) {
  /* a bound beyond a quarter of the ring bounds nothing a value that has headroom can reach */
  const double limit = ldexp(1.0, (int)ell - 2 - (int)s);
  unsigned has = 0;
  *lo = *hi = 0;
  if (fabs(d->clip_lo) < limit) fsn_ring_encode(lo, &d->clip_lo, 1, ell, s), has |= FSN_NN_CLIP_LO;
  if (fabs(d->clip_hi) < limit) fsn_ring_encode(hi, &d->clip_hi, 1, ell, s), has |= FSN_NN_CLIP_HI;
  return has;
}

/* The ReLU inputs of clip, block after block of n: x - L if it has a lower bound, then x - H (both bounds) or H - x
 * (an upper bound only). `constants`: this party adds the public bounds (the fixed engine, the server). */
size_t fsn_nn_clip_relu_inputs(uint64_t *r, const uint64_t *x, size_t n, const fsn_layer_desc *d, unsigned ell,
                               unsigned s, bool constants) {
  uint64_t lo, hi;
  const unsigned has = fsn_nn_clip_bounds(d, ell, s, &lo, &hi);
  const uint64_t mask = fsn_ring_mask(ell), L = constants ? lo : 0, H = constants ? hi : 0;
  size_t blocks = 0;
  if (has & FSN_NN_CLIP_LO) {
    for (size_t i = 0; i < n; i++) r[i] = (x[i] - L) & mask;
    blocks++;
  }
  if (has & FSN_NN_CLIP_HI) {
    uint64_t *b = r + blocks * n;
    const bool both = has & FSN_NN_CLIP_LO;
    for (size_t i = 0; i < n; i++) b[i] = (both ? x[i] - H : H - x[i]) & mask;
    blocks++;
  }
  return blocks;
}

/* out from the ReLUs of those inputs: L + ReLU(x - L) - ReLU(x - H), L + ReLU(x - L), or H - ReLU(H - x); x itself
 * without bounds. */
void fsn_nn_clip_combine(uint64_t *out, const uint64_t *relu, const uint64_t *x, size_t n, const fsn_layer_desc *d,
                         unsigned ell, unsigned s, bool constants) {
  uint64_t lo, hi;
  const unsigned has = fsn_nn_clip_bounds(d, ell, s, &lo, &hi);
  const uint64_t mask = fsn_ring_mask(ell), L = constants ? lo : 0, H = constants ? hi : 0;
  for (size_t i = 0; i < n; i++) {
    switch (has) {
    case FSN_NN_CLIP_LO | FSN_NN_CLIP_HI: out[i] = (L + relu[i] - relu[n + i]) & mask; break;
    case FSN_NN_CLIP_LO: out[i] = (L + relu[i]) & mask; break;
    case FSN_NN_CLIP_HI: out[i] = (H - relu[i]) & mask; break;
    default: out[i] = x[i];
    }
  }
}

/* ---- moving values ---- */

void fsn_nn_concat(void *out, const void *a, const void *b, const fsn_layer *l, const fsn_model *m, size_t batch,
                   size_t elem) {
  const size_t na = fsn_shape_size(fsn_model_tensor_shape(m, l->desc.in)) * elem;
  const size_t nb = fsn_shape_size(fsn_model_tensor_shape(m, l->desc.in2)) * elem;
  for (size_t i = 0; i < batch; i++) {
    memcpy((char *)out + i * (na + nb), (const char *)a + i * na, na);
    memcpy((char *)out + i * (na + nb) + na, (const char *)b + i * nb, nb);
  }
}

void fsn_nn_pad(void *out, const void *in, const fsn_layer *l, size_t batch, size_t elem) {
  const fsn_shape is = l->in_shape, os = l->out_shape;
  memset(out, 0, batch * fsn_shape_size(os) * elem); /* zero in both the ring and IEEE double */
  for (size_t p = 0; p < batch * is.c; p++)
    for (size_t y = 0; y < is.h; y++)
      memcpy((char *)out + ((p * os.h + y + l->desc.pad_h) * os.w + l->desc.pad_w) * elem,
             (const char *)in + (p * is.h + y) * is.w * elem, is.w * elem);
}
