/* conv2d and pooling over Z_2^64 / Z_2^ell on NCHW tensors. Kernels never allocate: callers pass scratch. */
#ifndef FUSION_CONV_H
#define FUSION_CONV_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Input N x C x H x W, weight O x C x KH x KW (OIHW), symmetric zero padding. */
typedef struct fsn_conv2d_shape {
  size_t batch, in_c, in_h, in_w;
  size_t out_c, k_h, k_w;
  size_t stride_h, stride_w, pad_h, pad_w;
} fsn_conv2d_shape;

/* Output height and width: (in + 2 pad - k) / stride + 1. */
size_t fsn_conv2d_out_h(const fsn_conv2d_shape *s);
size_t fsn_conv2d_out_w(const fsn_conv2d_shape *s);

/* Bytes of scratch fsn_conv2d needs for this shape (0 if none). */
size_t fsn_conv2d_scratch_bytes(const fsn_conv2d_shape *s);

/* out (N x O x OH x OW) = conv2d(in, weight) + bias[o] mod 2^64; bias may be NULL. out is overwritten.
 * scratch: fsn_conv2d_scratch_bytes(s) bytes, 64-byte aligned. */
void fsn_conv2d(uint64_t *out, const uint64_t *in, const uint64_t *weight, const uint64_t *bias,
                const fsn_conv2d_shape *s, void *scratch);

/* One image's im2col matrix: cols[(c * k_h + kh) * k_w + kw][oh * out_w + ow] = image[c][ih][iw] with
 * ih = oh * stride_h + kh - pad_h (likewise iw), or 0 where that falls in the padding. image is in_c x in_h x in_w;
 * cols has in_c * k_h * k_w rows of out_h * out_w values. conv2d is then weight (O x C*KH*KW) times cols. */
void fsn_conv_im2col(uint64_t *cols, const uint64_t *image, const fsn_conv2d_shape *s);

/* Pooling windows over N x C x H x W; padding positions are skipped (never part of a max or a sum). */
typedef struct fsn_pool_shape {
  size_t batch, channels, in_h, in_w;
  size_t k_h, k_w, stride_h, stride_w, pad_h, pad_w;
} fsn_pool_shape;

size_t fsn_pool_out_h(const fsn_pool_shape *s);
size_t fsn_pool_out_w(const fsn_pool_shape *s);

/* Max of each window, comparing values as signed ell-bit integers. */
void fsn_maxpool2d(uint64_t *out, const uint64_t *in, const fsn_pool_shape *s, unsigned ell);
/* Sum of each window mod 2^ell (average pooling = this, then a division by the window size in trunc). */
void fsn_sumpool2d(uint64_t *out, const uint64_t *in, const fsn_pool_shape *s, unsigned ell);
/* out[i] = sum of in[i * hw .. i * hw + hw) mod 2^ell, for i < planes (global average pooling's sum). */
void fsn_global_sumpool(uint64_t *out, const uint64_t *in, size_t planes, size_t hw, unsigned ell);

#ifdef __cplusplus
}
#endif
#endif
