/* Private to protocol/nn: what the importer and the engines need beyond the public view. */
#ifndef FSN_PROTOCOL_NN_INTERNAL_H
#define FSN_PROTOCOL_NN_INTERNAL_H

#include <fusion/conv.h>
#include <fusion/nn.h>

#include <stdbool.h>

/* Mutable float weights and bias of conv/fc layer i (for folding BatchNorm or an Add into it); drops the quantised
 * form. */
void fsn_nn_layer_params_mut(fsn_model *m, size_t i, float **weight, float **bias);

/* The fc weight of layer i transposed to F x out_c, quantised (for the GEMM C[N x out] += X[N x F] * W^T). */
const uint64_t *fsn_nn_fc_qweight_t(const fsn_model *m, size_t i);

/* For each tensor t, the last layer that reads it (SIZE_MAX if none reads it); n + 1 entries. */
void fsn_nn_last_uses(const fsn_model *m, size_t *last_use);

/* a * b into *out, false on overflow of size_t. */
static inline bool fsn_nn_mul_ok(size_t a, size_t b, size_t *out) { return !__builtin_mul_overflow(a, b, out); }

static inline size_t fsn_shape_size(fsn_shape s) { return s.c * s.h * s.w; }

/* The kernel shapes of a conv or pooling layer over a batch. */
static inline fsn_conv2d_shape fsn_nn_conv_shape(const fsn_layer *l, size_t batch) {
  const fsn_layer_desc *d = &l->desc;
  return (fsn_conv2d_shape){batch,  l->in_shape.c, l->in_shape.h, l->in_shape.w, d->out_c, d->k_h,
                            d->k_w, d->stride_h,   d->stride_w,   d->pad_h,      d->pad_w};
}

static inline fsn_pool_shape fsn_nn_pool_shape(const fsn_layer *l, size_t batch) {
  const fsn_layer_desc *d = &l->desc;
  return (fsn_pool_shape){batch,  l->in_shape.c, l->in_shape.h, l->in_shape.w, d->k_h,
                          d->k_w, d->stride_h,   d->stride_w,   d->pad_h,      d->pad_w};
}

#endif
