/* Portable conv2d and pooling: the oracles. conv2d is direct (no scratch): for each output plane and each tap,
 * a unit-stride sweep over the output rows that tap reaches, so padding costs no branches in the inner loop. */
#include "kernels/conv/conv_ops.h"
#include "kernels/conv/conv_portable.h"
#include "kernels/omp.h"

static void conv_plane(uint64_t *plane, const uint64_t *image, const uint64_t *filter, uint64_t bias,
                       const fsn_conv2d_shape *s, size_t oh_n, size_t ow_n) {
  for (size_t i = 0; i < oh_n * ow_n; i++) plane[i] = bias;
  for (size_t c = 0; c < s->in_c; c++)
    for (size_t kh = 0; kh < s->k_h; kh++) {
      size_t oh_lo, oh_hi;
      fsn_conv_valid_range(&oh_lo, &oh_hi, oh_n, s->in_h, kh, s->stride_h, s->pad_h);
      for (size_t kw = 0; kw < s->k_w; kw++) {
        const uint64_t w = filter[(c * s->k_h + kh) * s->k_w + kw];
        size_t ow_lo, ow_hi;
        fsn_conv_valid_range(&ow_lo, &ow_hi, ow_n, s->in_w, kw, s->stride_w, s->pad_w);
        for (size_t oh = oh_lo; oh < oh_hi; oh++) {
          const uint64_t *row = image + (c * s->in_h + oh * s->stride_h + kh - s->pad_h) * s->in_w + kw - s->pad_w;
          uint64_t *out_row = plane + oh * ow_n;
          for (size_t ow = ow_lo; ow < ow_hi; ow++) out_row[ow] += w * row[ow * s->stride_w];
        }
      }
    }
}

void fsn_conv_conv2d__ref(uint64_t *out, const uint64_t *in, const uint64_t *weight, const uint64_t *bias,
                          const fsn_conv2d_shape *s, void *scratch) {
  (void)scratch;
  const size_t oh_n = fsn_conv_out_extent(s->in_h, s->k_h, s->stride_h, s->pad_h);
  const size_t ow_n = fsn_conv_out_extent(s->in_w, s->k_w, s->stride_w, s->pad_w);
  const size_t filter_len = s->in_c * s->k_h * s->k_w, planes = s->batch * s->out_c;
  const int parallel = planes > 1 && planes * oh_n * ow_n * filter_len >= FSN_OMP_MIN_WORK;
  (void)parallel;
  FSN_OMP("omp parallel for schedule(dynamic) if (parallel)")
  for (size_t t = 0; t < planes; t++) {
    const size_t b = t / s->out_c, o = t % s->out_c;
    conv_plane(out + t * oh_n * ow_n, in + b * s->in_c * s->in_h * s->in_w, weight + o * filter_len, bias ? bias[o] : 0,
               s, oh_n, ow_n);
  }
}

static void pool_ref(uint64_t *out, const uint64_t *in, const fsn_pool_shape *s, unsigned ell, int is_max) {
  const size_t oh_n = fsn_conv_out_extent(s->in_h, s->k_h, s->stride_h, s->pad_h);
  const size_t ow_n = fsn_conv_out_extent(s->in_w, s->k_w, s->stride_w, s->pad_w);
  for (size_t p = 0; p < s->batch * s->channels; p++)
    for (size_t oh = 0; oh < oh_n; oh++)
      for (size_t ow = 0; ow < ow_n; ow++)
        out[(p * oh_n + oh) * ow_n + ow] = conv_pool_window(in + p * s->in_h * s->in_w, s, oh, ow, is_max, ell);
}

void fsn_conv_maxpool2d__ref(uint64_t *out, const uint64_t *in, const fsn_pool_shape *s, unsigned ell) {
  pool_ref(out, in, s, ell, 1);
}

void fsn_conv_sumpool2d__ref(uint64_t *out, const uint64_t *in, const fsn_pool_shape *s, unsigned ell) {
  pool_ref(out, in, s, ell, 0);
}

void fsn_conv_global_sumpool__ref(uint64_t *out, const uint64_t *in, size_t planes, size_t hw, unsigned ell) {
  const uint64_t mask = fsn_ring_mask(ell);
  for (size_t p = 0; p < planes; p++) {
    uint64_t acc = 0;
    for (size_t i = 0; i < hw; i++) acc += in[p * hw + i];
    out[p] = acc & mask;
  }
}

void fsn_conv_im2col__ref(uint64_t *cols, const uint64_t *image, const fsn_conv2d_shape *s) {
  conv_im2col_portable(cols, image, s);
}
