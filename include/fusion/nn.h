/* Neural-network models: a small layer graph, its quantisation to Z_2^ell, ONNX import, built-in architectures, and
 * the two plaintext engines (float and fixed point).
 *
 * Tensors. A model has one input tensor (id 0); layer i produces tensor i + 1; the model's output is the last layer's
 * tensor. Every layer names the tensors it reads by id (an earlier tensor, so graphs are acyclic by construction).
 * Shapes are per sample, C x H x W; a batch of N samples is N x C x H x W, NCHW, densely packed. A flat vector of F
 * features has shape F x 1 x 1, and flatten is the identity on memory.
 *
 * Fixed-point convention (what the secure protocol computes, and what the fixed-point engine reproduces bit for bit):
 * - Values live in Z_2^ell (uint64_t, bits above ell clear); a value v stands for signed(v) / 2^s, where signed(v) is
 *   v read as an ell-bit two's-complement integer. Encoding: enc(x) = round(x * 2^s) mod 2^ell, ties away from zero.
 * - Inputs, weights and every layer output are at scale s. Conv / fc: the products and their sum are at scale 2s, the
 *   bias is encoded at scale 2s (round(b * 2^(2s))) and added to the sum, then the result is truncated by s.
 * - Truncation by s is floor(signed(v) / 2^s) mod 2^ell: an arithmetic right shift of the signed value (exact
 *   mode; no rounding, no +-1 error).
 * - All sums wrap mod 2^ell: nothing saturates. Overflow is made visible by the headroom report (fsn_layer_stats).
 * - ReLU: v if signed(v) > 0, else 0. Max pooling compares signed values; padding positions are never a candidate.
 * - Average pooling over k values (a k_h x k_w window, or H x W for global average pooling): the window sum mod
 *   2^ell, multiplied by the public fixed-point reciprocal f = fsn_nn_avg_factor(k, s) = round(2^s / k), then
 *   truncated by s like a product: floor(signed(sum * f) / 2^s). For k a power of two (k <= 2^s) this is exactly
 *   floor(sum / k); otherwise it is within one ulp of sum * f / 2^s, whose relative error against sum / k is at most
 *   k / 2^(s+1). The secure protocol computes the same with a local product and its faithful truncation, so the two
 *   agree bit for bit (docs/PROTOCOLS.md). Padding positions contribute zero to the sum but count in k (ONNX
 *   count_include_pad = 1). The sum times f needs log2(f) bits of headroom, as a product does.
 *   With padding, a window's divisor k counts its positions inside the padded input (count_include_pad = 1) or inside
 *   the input (exclude_pad); a window overhanging the padded input (ceil_mode) counts only what it covers of it. The
 *   divisor of each output position is public, so its factor round(2^s / k) is too.
 * - Add (residual): (a + b) mod 2^ell, no truncation (both operands are at scale s).
 * - Concat and Pad move values (padding is 0); Dropout and Identity are imported as no-ops (no layer).
 * - Clip to [lo, hi] with L = enc(lo), H = enc(hi): y = x - L, out = L + ReLU(y) - ReLU(y - (H - L)) mod 2^ell (the
 *   clamp of x to [L, H] whenever x - L and x - H do not wrap; the secure protocol runs the two ReLUs in one batch).
 * - Grouped conv: each group is a conv of its channels, computed as above.
 * The float engine computes the same graph in double with real-valued weights (avg pool = exact mean). */
#ifndef FUSION_NN_H
#define FUSION_NN_H

#include <fusion/status.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum fsn_layer_kind {
  FSN_LAYER_CONV = 1,           /* conv2d with bias (BatchNorm folded in), symmetric zero padding */
  FSN_LAYER_FC = 2,             /* fully connected on the flattened input (F = C * H * W features) */
  FSN_LAYER_RELU = 3,           /* elementwise max(x, 0) */
  FSN_LAYER_MAXPOOL = 4,        /* max over k_h x k_w windows */
  FSN_LAYER_AVGPOOL = 5,        /* sum over k_h x k_w windows, then floor division by k_h * k_w */
  FSN_LAYER_GLOBAL_AVGPOOL = 6, /* C x H x W -> C x 1 x 1 */
  FSN_LAYER_ADD = 7,            /* residual: in + in2, same shapes */
  FSN_LAYER_FLATTEN = 8,        /* C x H x W -> (C * H * W) x 1 x 1 */
  FSN_LAYER_CONCAT = 9,         /* channels of in, then of in2 (same H x W): C1 x H x W, C2 x H x W -> (C1 + C2) ... */
  FSN_LAYER_PAD = 10,           /* zero padding: pad_h rows above and below, pad_w columns left and right */
  FSN_LAYER_CLIP = 11,          /* elementwise min(max(x, clip_lo), clip_hi) (ReLU6: 0, 6) */
} fsn_layer_kind;

/* Layers that read two tensors (in and in2): add and concat. */
static inline bool fsn_layer_kind_binary(fsn_layer_kind kind) {
  return kind == FSN_LAYER_ADD || kind == FSN_LAYER_CONCAT;
}

/* "conv", "fc", "relu", "maxpool", "avgpool", "global_avgpool", "add", "flatten", "concat", "pad", "clip"; "?" for
 * anything else. */
const char *fsn_layer_kind_name(fsn_layer_kind kind);

typedef struct fsn_shape {
  size_t c, h, w;
} fsn_shape;

/* What a caller gives fsn_model_add. Fields a kind does not use are ignored. */
typedef struct fsn_layer_desc {
  fsn_layer_kind kind;
  const char *name;          /* copied; NULL or "" gives "<kind><index>" */
  size_t in, in2;            /* tensor ids read (in2: add and concat only); each must be <= the number of layers */
  size_t out_c;              /* conv: output channels; fc: output features */
  size_t k_h, k_w;           /* conv, maxpool, avgpool: window */
  size_t stride_h, stride_w; /* conv, pools; 0 means 1 */
  size_t pad_h, pad_w;       /* conv, pools, pad: zero padding on each side */
  const float *weight;       /* conv: out_c x (in_c / groups) x k_h x k_w (OIHW); fc: out_c x F (row o = output o) */
  const float *bias;         /* conv, fc: out_c values, copied; NULL = zeros */
  size_t groups;             /* conv: 0 or 1 = dense; g > 1 splits in and out channels into g independent convs
                              * (output channels [o g', ...) read input channels of group g'); depthwise: g = in_c */
  bool ceil_mode;            /* pools: the last window may overhang the padded input (ONNX ceil_mode = 1): out =
                              * ceil((in + 2 pad - k) / stride) + 1, less one if that window would start past
                              * in + pad (it must start inside the input or its leading padding) */
  bool exclude_pad;          /* avgpool: divide by the window's positions inside the input (ONNX count_include_pad = 0)
                              * instead of those inside the padded input (1) */
  double clip_lo, clip_hi;   /* clip: the bounds, clip_lo <= clip_hi, encoded at scale s when the layer runs; one
                              * beyond +-2^(ell - 2 - s) (e.g. +-INFINITY) is no bound */
} fsn_layer_desc;

/* A read-only view of a layer of a model. Pointers stay valid until the model is changed or destroyed. */
typedef struct fsn_layer {
  fsn_layer_desc desc; /* as added (weight and bias point at the model's copies; bias never NULL for conv/fc) */
  fsn_shape in_shape, out_shape;
  size_t weight_count;     /* conv: out_c * in_c * k_h * k_w; fc: out_c * F; else 0 */
  const uint64_t *qweight; /* quantised weights, same layout, scale s; NULL until fsn_model_quantize */
  const uint64_t *qbias;   /* quantised bias, scale 2s; NULL until fsn_model_quantize */
} fsn_layer;

typedef struct fsn_model fsn_model;

/* An empty model whose input is c x h x w per sample (each in 1 .. 65536, c * h * w <= 2^28). */
FSN_NODISCARD fsn_status fsn_model_create(fsn_model **out, size_t c, size_t h, size_t w);
/* An architecture without parameters, as a client decodes it from a model card: conv/fc layers are added without
 * weights (desc.weight and desc.bias are ignored and read back NULL), nothing is allocated per weight, and the model
 * cannot be quantised, hashed or run by the plaintext engines (FSN_E_INVALID); the client's side of the secure
 * engine needs only the shapes. */
FSN_NODISCARD fsn_status fsn_model_create_shapes(fsn_model **out, size_t c, size_t h, size_t w);
bool fsn_model_shapes_only(const fsn_model *m);
void fsn_model_destroy(fsn_model *m);

/* Append a layer; its input shapes are checked and its output shape inferred. On success *tensor (if not NULL) is
 * the id of its output tensor. Errors (FSN_E_INVALID, one line naming the layer): unknown tensor, shapes that do not
 * fit (conv channels, fc features, add operands, a window larger than the padded input), missing or non-finite
 * weights. Adding a layer drops the quantised form (call fsn_model_quantize again). At most 4096 layers. */
FSN_NODISCARD fsn_status fsn_model_add(fsn_model *m, const fsn_layer_desc *d, size_t *tensor);

size_t fsn_model_num_layers(const fsn_model *m);
fsn_shape fsn_model_input_shape(const fsn_model *m);
/* The model's output shape (its input shape if it has no layers). */
fsn_shape fsn_model_output_shape(const fsn_model *m);
/* Layer i < fsn_model_num_layers(m). */
const fsn_layer *fsn_model_layer(const fsn_model *m, size_t i);
/* The shape of tensor t (0 = input). */
fsn_shape fsn_model_tensor_shape(const fsn_model *m, size_t t);

/* The default ring of every tool and protocol: ell = 37 bits, s = 12 fractional bits (room for a conv's 2s-scale
 * sums of the shipped and builtin models; docs/PROTOCOLS.md). */
#define FSN_DEFAULT_ELL   37
#define FSN_DEFAULT_SCALE 12

/* Encode weights (scale s) and biases (scale 2s) into Z_2^ell. Needs 2 <= ell <= 64 and 2 * s <= ell - 2.
 * FSN_E_INVALID, naming the layer, if a weight or bias does not fit in ell signed bits. */
FSN_NODISCARD fsn_status fsn_model_quantize(fsn_model *m, unsigned ell, unsigned scale);
/* ell and s of the quantised form; 0 and 0 before fsn_model_quantize. */
unsigned fsn_model_ell(const fsn_model *m);
unsigned fsn_model_scale(const fsn_model *m);

/* SHA-256 of the canonical serialisation of the quantised model (docs/FORMATS.md: "Model hash"): input shape, ell, s,
 * every layer's kind, tensor ids, sizes and quantised weights and biases. Names do not enter it. FSN_E_INVALID if
 * the model is not quantised. */
FSN_NODISCARD fsn_status fsn_model_hash(const fsn_model *m, uint8_t out[32]);

/* enc(x) = round(x * 2^s) mod 2^ell for n values (ties away from zero; |x| must be below 2^(ell - 1 - s)). */
void fsn_nn_encode(uint64_t *out, const double *in, size_t n, unsigned ell, unsigned scale);
/* signed(v) / 2^s. */
double fsn_nn_decode(uint64_t v, unsigned ell, unsigned scale);
/* Images to model inputs: x = pixel / 255 (the shipped models' convention). */
void fsn_nn_pixels_to_float(double *out, const uint8_t *pixels, size_t n);
void fsn_nn_pixels_to_fixed(uint64_t *out, const uint8_t *pixels, size_t n, unsigned ell, unsigned scale);

/* round(2^s / k) for k >= 1: the public fixed-point reciprocal average pooling multiplies by. */
uint64_t fsn_nn_avg_factor(uint64_t k, unsigned scale);

/* Per-layer value ranges, for the headroom report. Each engine raises its own fields to the maxima it sees (zero the
 * array first; the same array can serve several batches and both engines). */
typedef struct fsn_layer_stats {
  uint64_t fixed_max_out; /* largest |signed value| of the layer's outputs, in Z_2^ell units */
  uint64_t fixed_max_acc; /* before truncation (scale 2s): conv/fc sum + bias, avg pools sum * f; else = max_out */
  double float_max_out;   /* the float engine's largest |output| */
  double float_max_acc;   /* conv/fc: largest |sum + bias|; avg pools: largest |mean|; else = float_max_out */
} fsn_layer_stats;

/* Bits of headroom: (ell - 1) - log2(max_abs); negative means the value cannot be represented (it wrapped). */
double fsn_nn_headroom_bits(double max_abs, unsigned ell);

/* Float engine: out (batch x output size) from in (batch x input size), both NCHW doubles. stats: NULL or
 * fsn_model_num_layers entries. FSN_E_NOMEM if buffers cannot be allocated. */
FSN_NODISCARD fsn_status fsn_model_run_float(const fsn_model *m, double *out, const double *in, size_t batch,
                                             fsn_layer_stats *stats);

/* Fixed-point engine with the secure semantics above (needs fsn_model_quantize): out and in are batch x size values
 * in Z_2^ell at scale s (inputs must be reduced). stats: NULL or fsn_model_num_layers entries. */
FSN_NODISCARD fsn_status fsn_model_run_fixed(const fsn_model *m, uint64_t *out, const uint64_t *in, size_t batch,
                                             fsn_layer_stats *stats);

/* ---- execution plan ----
 * What every engine (float, fixed point, secure) and `fusion bench model` walk: the model's layers as steps in order,
 * with the conv/fc + ReLU fusion decided once, and each tensor's buffer size and lifetime.
 *
 * Fusion: a conv or fc at layer i whose output's only reader is a ReLU at layer i + 1 runs with that ReLU as one step
 * writing the ReLU's tensor (i + 2); the conv/fc's own tensor (i + 1) is never materialised. Every engine computes
 * the same bits fused or not: truncation by s after the ReLU equals the ReLU after the truncation (floor shifts
 * keep the sign), and the secure engine then runs the cheaper truncation that knows its input is non-negative.
 *
 * Sizes are per sample: a batch of N samples needs N times a tensor's values (NCHW, dense), and N times the peak.
 * Lifetimes: the model input (tensor 0) is live from the start, a step's output from that step; a tensor dies after
 * the step that reads it last (a tensor nobody reads dies after the step that writes it); the model output lives to
 * the end. The peak is the most values live while any one step runs (inputs, outputs and every tensor kept for a
 * later step; an engine's scratch not included). A plan reads its model only while being built and stays valid
 * until the model is changed (fsn_model_add). */
typedef struct fsn_nn_step {
  size_t layer;        /* the layer this step runs (a fused step: the conv/fc; its ReLU is layer + 1) */
  fsn_layer_kind kind; /* that layer's kind */
  size_t in, in2;      /* tensors read; in2: the add's second operand, SIZE_MAX for other kinds */
  size_t out;          /* the tensor written: layer + 1, or layer + 2 for a fused step */
  bool fused_relu;     /* a conv/fc whose only reader, the ReLU at layer + 1, runs in this step */
  const size_t *dead;  /* n_dead tensors (ascending) read for the last time here, or written and never read */
  size_t n_dead;
} fsn_nn_step;

typedef struct fsn_nn_plan fsn_nn_plan;

/* Build the plan of m (any model: quantised or not, with or without layers). FSN_E_NOMEM only. */
FSN_NODISCARD fsn_status fsn_nn_plan_create(fsn_nn_plan **out, const fsn_model *m);
void fsn_nn_plan_destroy(fsn_nn_plan *p);

size_t fsn_nn_plan_num_steps(const fsn_nn_plan *p);
/* Step i < fsn_nn_plan_num_steps(p); valid until the plan is destroyed. */
const fsn_nn_step *fsn_nn_plan_step(const fsn_nn_plan *p, size_t i);
/* Tensors: fsn_model_num_layers + 1 (0 = the input, the last = the output). */
size_t fsn_nn_plan_num_tensors(const fsn_nn_plan *p);
/* Values per sample in tensor t's buffer: its shape's size, or 0 for a fused conv/fc output (never materialised). */
size_t fsn_nn_plan_tensor_values(const fsn_nn_plan *p, size_t t);
/* The step after which tensor t's buffer can go (see the lifetimes above); SIZE_MAX for the model output, which
 * outlives the walk (and for tensors never materialised). */
size_t fsn_nn_plan_tensor_death(const fsn_nn_plan *p, size_t t);
/* The most values live at once per sample (times the batch and the element size gives the engines' tensor memory). */
size_t fsn_nn_plan_peak_values(const fsn_nn_plan *p);

/* Index of the largest of n values (the first on ties); signed ell-bit comparison for the fixed variant. */
size_t fsn_nn_argmax_float(const double *v, size_t n);
size_t fsn_nn_argmax_fixed(const uint64_t *v, size_t n, unsigned ell);

/* Import an ONNX model (float32 weights; ops Conv (grouped too), Gemm, MatMul, Relu, Clip, MaxPool, AveragePool,
 * GlobalAveragePool, Add, Concat (channels), Pad (zeros), BatchNormalization folded into the preceding Conv, Flatten,
 * Reshape as a flatten, Identity and Dropout as no-ops; docs/FORMATS.md lists the attributes). FSN_E_FORMAT for a
 * truncated or corrupt file, FSN_E_UNSUPPORTED naming the node and operator or attribute, FSN_E_INVALID for
 * inconsistent shapes, FSN_E_IO if the file cannot be read. Files above 1 GiB are refused. The model comes back
 * unquantised. */
FSN_NODISCARD fsn_status fsn_model_load_onnx(fsn_model **out, const char *path);
/* The same from a buffer of n bytes. */
FSN_NODISCARD fsn_status fsn_model_parse_onnx(fsn_model **out, const void *data, size_t n);

/* A float tensor read from a file format (ONNX TensorProto .pb, as ONNX's tests store their inputs and outputs):
 * rank <= 8 dims, count = their product (<= 2^28), data owned (free with fsn_tensor_free). */
typedef struct fsn_tensor {
  size_t rank, dims[8], count;
  float *data;
} fsn_tensor;

/* Decode an ONNX TensorProto of float32 values (raw_data or float_data). FSN_E_FORMAT for a corrupt message or data
 * that disagrees with the dims, FSN_E_UNSUPPORTED for another element type or external data. */
FSN_NODISCARD fsn_status fsn_tensor_parse_pb(fsn_tensor *out, const void *data, size_t n);
void fsn_tensor_free(fsn_tensor *t);

/* A tensor from a user's file, the format told by its first bytes: NumPy .npy (little-endian float32, float64 or
 * uint8, C order), an ONNX TensorProto (.pb), or a PNG or JPEG image (1 x C x H x W, C = 1 for gray or 3 for RGB,
 * values pixel / 255; alpha dropped, palettes and 16-bit PNGs converted). Errors name the file (`name` for
 * fsn_tensor_parse) and what is wrong: FSN_E_IO (cannot read), FSN_E_FORMAT (corrupt, truncated, sizes that
 * disagree), FSN_E_UNSUPPORTED (another element type, Fortran order, images above 16384 pixels a side). */
FSN_NODISCARD fsn_status fsn_tensor_load(fsn_tensor *out, const char *path);
FSN_NODISCARD fsn_status fsn_tensor_parse(fsn_tensor *out, const void *data, size_t n, const char *name);

/* The inputs a tensor holds, by its rank: N x C x H x W (4), one C x H x W (3), N x F (2: F x 1 x 1 each) or one F
 * (1). FSN_E_UNSUPPORTED for another rank, FSN_E_FORMAT for a dimension of 0; messages name `name`. */
FSN_NODISCARD fsn_status fsn_tensor_inputs(const fsn_tensor *t, const char *name, fsn_shape *shape, size_t *count);

/* The preprocessing a model declares for image inputs (its model card carries it, so client and server agree):
 * resize so the shorter side is `resize` pixels (bilinear, half-pixel centres; 0 = keep), center-crop to
 * crop_h x crop_w (0 = keep), convert to `channels` (0 = keep; RGB to gray by BT.601 weights, gray to RGB by
 * copying), then per channel (v * scale - mean[c]) / std[c] with v = pixel / 255 (scale 0 means 1, std 0 means 1). */
typedef struct fsn_preprocess {
  size_t resize, crop_h, crop_w, channels;
  double scale, mean[3], std[3];
} fsn_preprocess;

/* Parse a preprocessing spec, comma-separated keys: "resize=256,crop=224x224,channels=3,scale=1,
 * mean=0.485/0.456/0.406,std=0.229/0.224/0.225" (crop=N means N x N; mean and std take 1 or 3 values; any key may be
 * left out; "" or "none" is no preprocessing). FSN_E_INVALID names the bad part. fsn_preprocess_format writes the
 * canonical spec (keys in that order, only those set; "none" if nothing is) and returns the length it needs, like
 * snprintf. */
FSN_NODISCARD fsn_status fsn_preprocess_parse(const char *spec, fsn_preprocess *out);
size_t fsn_preprocess_format(char *buf, size_t cap, const fsn_preprocess *p);

/* Apply p to an image tensor (1 x C x H x W, C = 1 or 3), in place. FSN_E_INVALID if it is not one, or the crop is
 * larger than the resized image. */
FSN_NODISCARD fsn_status fsn_preprocess_apply(fsn_tensor *t, const fsn_preprocess *p);

/* fsn_model_parse_onnx with graph inputs bound to constants, as ONNX's operator tests need (their weights arrive as
 * graph inputs): for i < count, consts[i] (TensorProto bytes, lens[i] long), if not NULL, becomes the value of the
 * graph's input i as if it were an initializer. Exactly one graph input must stay unbound: the data input. */
FSN_NODISCARD fsn_status fsn_model_parse_onnx_bound(fsn_model **out, const void *data, size_t n,
                                                    const void *const *consts, const size_t *lens, size_t count);

/* Built-in architectures with deterministic random weights from `seed` (He-style scaling, BatchNorm already folded):
 *   "4layer"   1x28x28: conv 5x5 1->16, relu, maxpool 2, conv 5x5 16->16, relu, maxpool 2, flatten, fc 256->100,
 *              relu, fc 100->10
 *   "resnet18", "resnet50"  3x224x224, the standard layout (7x7/2 stem, 3x3/2 max pool, basic or bottleneck blocks,
 *              global average pool, fc -> 1000)
 *   "squeezenet" 3x227x227: SqueezeNet v1.1 as CrypTFlow2 / Cheetah run it: conv 3x3/2 64, relu, maxpool 3/2, fire
 *              modules (squeeze 1x1, expand 1x1 and 3x3 concatenated) 16/64 x 2, maxpool, 32/128 x 2, maxpool,
 *              48/192 x 2, 64/256 x 2, conv 1x1 -> 1000, relu, global average pool, flatten
 * FSN_E_INVALID for an unknown name (the message lists the known ones). The model comes back unquantised. */
FSN_NODISCARD fsn_status fsn_model_builtin(fsn_model **out, const char *name, uint64_t seed);

#ifdef __cplusplus
}
#endif
#endif
