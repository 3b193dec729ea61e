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

/* builtin:squeezenet's architecture on a 3 x side x side input with every channel count divided by narrow (a
 * divisor of 16) and `classes` outputs, seeded weights: the real network is (227, 1, 1000); tests run narrower and
 * smaller ones. */
FSN_NODISCARD fsn_status fsn_nn_squeezenet(fsn_model **out, uint64_t seed, size_t side, size_t narrow, size_t classes);
/* builtin:resnet18 / resnet50's architecture (depth 18 or 50) on a 3 x side x side input, stem width `width` (64 in
 * the real networks), `classes` outputs, seeded weights: tests run narrow and small ones. */
FSN_NODISCARD fsn_status fsn_nn_resnet(fsn_model **out, uint64_t seed, unsigned depth, size_t side, size_t width,
                                       size_t classes);

/* ---- shared by the engines (ops.c) ---- */

/* The pooling kernels' shape of a max or average pool over a batch: the input grown by the ceil_mode overhang
 * (fsn_nn_pool_input). */
fsn_pool_shape fsn_nn_pool_shape(const fsn_layer *l, size_t batch);
/* Rows and columns ceil_mode's last windows overhang the padded input by (0, 0 without it). */
void fsn_nn_pool_overhang(const fsn_layer *l, size_t *eh, size_t *ew);
/* *grown = NULL if the layer has no overhang (pool `in` itself); else a fresh copy of in grown to the shape of
 * fsn_nn_pool_shape (max pool: edge copies, which leave every max unchanged; average pool: zeros). Free it. */
FSN_NODISCARD fsn_status fsn_nn_pool_input(const fsn_layer *l, size_t batch, const uint64_t *in, uint64_t **grown);
/* Every output of the average pool divides by k_h * k_w (no exclude_pad or ceil_mode window that covers less). */
bool fsn_nn_avgpool_uniform(const fsn_layer *l);
/* The divisor of output position (oy, ox): the window's positions inside the input (exclude_pad) or the padded
 * input. */
size_t fsn_nn_avgpool_divisor(const fsn_layer *l, size_t oy, size_t ox);
/* Window sums (batch x out shape) times each position's public factor round(2^s / divisor), mod 2^ell; the caller
 * then truncates by s. */
void fsn_nn_avgpool_scale(uint64_t *v, const fsn_layer *l, size_t batch, unsigned ell, unsigned s);

/* Clip: which bounds exist (a bound whose encoding lies beyond 2^(ell - 2) is none), encoded at scale s. */
enum { FSN_NN_CLIP_LO = 1, FSN_NN_CLIP_HI = 2 };
unsigned fsn_nn_clip_bounds(const fsn_layer_desc *d, unsigned ell, unsigned s, uint64_t *lo, uint64_t *hi);
/* The ReLU inputs of a clip of n values into r (room for 2n): returns the number of n-blocks (0, 1 or 2). constants:
 * this party adds the public bounds (the fixed engine; the server of the secure one). */
size_t fsn_nn_clip_relu_inputs(uint64_t *r, const uint64_t *x, size_t n, const fsn_layer_desc *d, unsigned ell,
                               unsigned s, bool constants);
/* The clip of x from the ReLUs of those blocks. out may alias x. */
void fsn_nn_clip_combine(uint64_t *out, const uint64_t *relu, const uint64_t *x, size_t n, const fsn_layer_desc *d,
                         unsigned ell, unsigned s, bool constants);

/* Concat (per sample: in's values, then in2's) and zero padding, for elements of `elem` bytes. */
void fsn_nn_concat(void *out, const void *a, const void *b, const fsn_layer *l, const fsn_model *m, size_t batch,
                   size_t elem);
void fsn_nn_pad(void *out, const void *in, const fsn_layer *l, size_t batch, size_t elem);

#endif
