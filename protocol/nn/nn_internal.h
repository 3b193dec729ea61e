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

/* One step of a plan on a batch: write tensors[step->out] from tensors[step->in] (and tensors[step->in2]). Each
 * buffer holds the batch's values of its tensor (fsn_nn_plan_tensor_values times the batch) in the engine's
 * element type; for a fused step tensors[step->layer + 1] is NULL and the conv/fc writes the output buffer, where
 * the ReLU then runs in place. */
typedef fsn_status (*fsn_nn_step_fn)(void *engine, const fsn_nn_step *step, void *const *tensors);

/* A walk of a plan: the one place buffers are allocated and freed for the float, fixed and secure engines. */
typedef struct fsn_nn_walk {
  const fsn_nn_plan *plan;
  size_t batch, elem_size; /* samples; bytes per value */
  void *in;                /* tensor 0 */
  bool own_input;          /* free `in` after its last reader (it must come from malloc) */
  void *out;               /* the model output: the last step writes here (a model without layers: a copy of in) */
  fsn_nn_step_fn step;
  void *engine;    /* passed to step */
  const char *who; /* for messages: "fixed engine", ... */
} fsn_nn_walk;

/* Run every step in order, each output in a fresh buffer (the last in w->out), each buffer freed after the step
 * that reads it last. Returns the first failure (FSN_E_NOMEM with the layer index, or the step's); every buffer it
 * allocated is freed either way, and `in` too if owned. */
FSN_NODISCARD fsn_status fsn_nn_walk_run(const fsn_nn_walk *w);
/* The same over m's plan, built for this walk (w->plan is ignored). */
FSN_NODISCARD fsn_status fsn_nn_walk_model(const fsn_model *m, const fsn_nn_walk *w);

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
