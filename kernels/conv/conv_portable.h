/* Portable pieces every level shares: im2col (plain loops the compiler vectorises with each level's flags) and one
 * pooling window (the edges of the SIMD pooling paths, and all of the oracle's). */
#ifndef FSN_KERNELS_CONV_PORTABLE_H
#define FSN_KERNELS_CONV_PORTABLE_H

#include "kernels/conv/conv_ops.h"
#include "kernels/omp.h"

static inline void conv_im2col_portable(uint64_t *cols, const uint64_t *image, const fsn_conv2d_shape *s) {
  const size_t oh_n = fsn_conv_out_extent(s->in_h, s->k_h, s->stride_h, s->pad_h);
  const size_t ow_n = fsn_conv_out_extent(s->in_w, s->k_w, s->stride_w, s->pad_w);
  const int parallel = s->in_c > 1 && s->in_c * s->k_h * s->k_w * oh_n * ow_n >= FSN_OMP_MIN_WORK;
  (void)parallel;
  FSN_OMP("omp parallel for schedule(static) if (parallel)")
  for (size_t c = 0; c < s->in_c; c++)
    for (size_t kh = 0; kh < s->k_h; kh++)
      for (size_t kw = 0; kw < s->k_w; kw++) {
        uint64_t *dst = cols + ((c * s->k_h + kh) * s->k_w + kw) * oh_n * ow_n;
        size_t oh_lo, oh_hi, ow_lo, ow_hi;
        fsn_conv_valid_range(&oh_lo, &oh_hi, oh_n, s->in_h, kh, s->stride_h, s->pad_h);
        fsn_conv_valid_range(&ow_lo, &ow_hi, ow_n, s->in_w, kw, s->stride_w, s->pad_w);
        for (size_t oh = 0; oh < oh_n; oh++) {
          uint64_t *d = dst + oh * ow_n;
          if (oh < oh_lo || oh >= oh_hi) {
            for (size_t ow = 0; ow < ow_n; ow++) d[ow] = 0;
            continue;
          }
          const uint64_t *row = image + (c * s->in_h + oh * s->stride_h + kh - s->pad_h) * s->in_w + kw - s->pad_w;
          for (size_t ow = 0; ow < ow_lo; ow++) d[ow] = 0;
          for (size_t ow = ow_lo; ow < ow_hi; ow++) d[ow] = row[ow * s->stride_w];
          for (size_t ow = ow_hi; ow < ow_n; ow++) d[ow] = 0;
        }
      }
}

/* Flipping bit ell-1 maps signed ell-bit order onto unsigned order. */
static inline uint64_t conv_signed_key(uint64_t x, uint64_t sign) { return x ^ sign; }

/* Output extents of a pooling shape. */
static inline size_t conv_pool_oh(const fsn_pool_shape *s) {
  return fsn_conv_out_extent(s->in_h, s->k_h, s->stride_h, s->pad_h);
}
static inline size_t conv_pool_ow(const fsn_pool_shape *s) {
  return fsn_conv_out_extent(s->in_w, s->k_w, s->stride_w, s->pad_w);
}

/* One pooling window, padding skipped; an empty window (only padding) yields 0. */
static inline uint64_t conv_pool_window(const uint64_t *plane, const fsn_pool_shape *s, size_t oh, size_t ow,
                                        int is_max, unsigned ell) {
  const uint64_t sign = (uint64_t)1 << (ell - 1);
  uint64_t acc = 0;
  int seen = 0;
  for (size_t kh = 0; kh < s->k_h; kh++) {
    const size_t ih = oh * s->stride_h + kh;
    if (ih < s->pad_h || ih - s->pad_h >= s->in_h) continue;
    for (size_t kw = 0; kw < s->k_w; kw++) {
      const size_t iw = ow * s->stride_w + kw;
      if (iw < s->pad_w || iw - s->pad_w >= s->in_w) continue;
      const uint64_t v = plane[(ih - s->pad_h) * s->in_w + iw - s->pad_w];
      if (!is_max)
        acc += v;
      else if (!seen || conv_signed_key(v, sign) > conv_signed_key(acc, sign))
        acc = v;
      seen = 1;
    }
  }
  return acc & fsn_ring_mask(ell);
}

/* conv2d as GEMMs: per image, out = bias; out (O x OH*OW) += weight (O x C*KH*KW) . im2col(image), where a
 * pointwise convolution multiplies the image itself. Used by the SIMD levels with their own GEMM. */
typedef void (*conv_gemm_fn)(uint64_t *c, const uint64_t *a, const uint64_t *b, size_t m, size_t n, size_t k);

static inline void conv2d_by_gemm(uint64_t *out, const uint64_t *in, const uint64_t *weight, const uint64_t *bias,
                                  const fsn_conv2d_shape *s, void *scratch, conv_gemm_fn gemm) {
  const size_t pixels = fsn_conv_out_extent(s->in_h, s->k_h, s->stride_h, s->pad_h) *
                        fsn_conv_out_extent(s->in_w, s->k_w, s->stride_w, s->pad_w);
  const size_t filter = s->in_c * s->k_h * s->k_w, image_n = s->in_c * s->in_h * s->in_w;
  for (size_t b = 0; b < s->batch; b++) {
    uint64_t *planes = out + b * s->out_c * pixels;
    for (size_t o = 0; o < s->out_c; o++)
      for (size_t i = 0; i < pixels; i++) planes[o * pixels + i] = bias ? bias[o] : 0;
    const uint64_t *cols = in + b * image_n;
    if (!fsn_conv_is_pointwise(s)) {
      conv_im2col_portable(scratch, cols, s);
      cols = scratch;
    }
    gemm(planes, weight, cols, s->out_c, pixels, filter);
  }
}

#endif
