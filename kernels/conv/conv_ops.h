/* The one list of dispatched conv ops (family `conv`, see kernels/dispatch.h). The public names (fsn_conv2d, ...)
 * differ from the generated fsn_conv_<op>, so conv.c writes the entry points itself from the same table. */
#ifndef FSN_KERNELS_CONV_OPS_H
#define FSN_KERNELS_CONV_OPS_H

#include <fusion/conv.h>
#include <fusion/ring.h>

#include "kernels/dispatch.h"

#define FSN_CONV_OPS(X, isa)                                                                                           \
  X(conv, isa, conv2d,                                                                                                 \
    (uint64_t * out, const uint64_t *in, const uint64_t *weight, const uint64_t *bias, const fsn_conv2d_shape *s,      \
     void *scratch),                                                                                                   \
    (out, in, weight, bias, s, scratch))                                                                               \
  X(conv, isa, im2col, (uint64_t * cols, const uint64_t *image, const fsn_conv2d_shape *s), (cols, image, s))          \
  X(conv, isa, maxpool2d, (uint64_t * out, const uint64_t *in, const fsn_pool_shape *s, unsigned ell),                 \
    (out, in, s, ell))                                                                                                 \
  X(conv, isa, sumpool2d, (uint64_t * out, const uint64_t *in, const fsn_pool_shape *s, unsigned ell),                 \
    (out, in, s, ell))                                                                                                 \
  X(conv, isa, global_sumpool, (uint64_t * out, const uint64_t *in, size_t planes, size_t hw, unsigned ell),           \
    (out, in, planes, hw, ell))

FSN_FAMILY_DECLARE(conv, FSN_CONV_OPS)

/* Output extent of a window of `k` sliding by `stride` over `in` values padded by `pad` on both sides. */
static inline size_t fsn_conv_out_extent(size_t in, size_t k, size_t stride, size_t pad) {
  return stride == 0 || in + 2 * pad < k ? 0 : (in + 2 * pad - k) / stride + 1;
}

/* The outputs o in [lo, hi) whose tap at offset `tap` reads inside [0, in): o * stride + tap - pad in [0, in). */
static inline void fsn_conv_valid_range(size_t *lo, size_t *hi, size_t out, size_t in, size_t tap, size_t stride,
                                        size_t pad) {
  size_t first = tap >= pad ? 0 : (pad - tap + stride - 1) / stride;
  size_t end = in + pad > tap ? (in + pad - tap + stride - 1) / stride : 0;
  *lo = first < out ? first : out;
  *hi = end < out ? end : out;
  if (*hi < *lo) *hi = *lo;
}

/* True when conv2d is a plain GEMM on the input (1x1, stride 1, no padding): no im2col, no scratch. */
static inline int fsn_conv_is_pointwise(const fsn_conv2d_shape *s) {
  return s->k_h == 1 && s->k_w == 1 && s->stride_h == 1 && s->stride_w == 1 && s->pad_h == 0 && s->pad_w == 0;
}

#endif
