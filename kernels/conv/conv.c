/* Dispatch table of the conv family, the public entry points and the portable shape helpers. */
#include "kernels/conv/conv_ops.h"

FSN_FAMILY_TABLES(conv, FSN_CONV_OPS, FSN_LEVEL_VARIANTS)

static const fsn_conv_impl *active(void) { return fsn_conv_impl_for(fsn_isa_active()); }

size_t fsn_conv2d_out_h(const fsn_conv2d_shape *s) {
  return fsn_conv_out_extent(s->in_h, s->k_h, s->stride_h, s->pad_h);
}
size_t fsn_conv2d_out_w(const fsn_conv2d_shape *s) {
  return fsn_conv_out_extent(s->in_w, s->k_w, s->stride_w, s->pad_w);
}

/* Every level sizes its scratch the same way (one image's im2col matrix), so the answer is level-independent. */
size_t fsn_conv2d_scratch_bytes(const fsn_conv2d_shape *s) {
  if (fsn_conv_is_pointwise(s)) return 0;
  return s->in_c * s->k_h * s->k_w * fsn_conv2d_out_h(s) * fsn_conv2d_out_w(s) * sizeof(uint64_t);
}

size_t fsn_pool_out_h(const fsn_pool_shape *s) { return fsn_conv_out_extent(s->in_h, s->k_h, s->stride_h, s->pad_h); }
size_t fsn_pool_out_w(const fsn_pool_shape *s) { return fsn_conv_out_extent(s->in_w, s->k_w, s->stride_w, s->pad_w); }

void fsn_conv2d(uint64_t *out, const uint64_t *in, const uint64_t *weight, const uint64_t *bias,
                const fsn_conv2d_shape *s, void *scratch) {
  active()->conv2d(out, in, weight, bias, s, scratch);
}
void fsn_conv_im2col(uint64_t *cols, const uint64_t *image, const fsn_conv2d_shape *s) {
  active()->im2col(cols, image, s);
}
void fsn_maxpool2d(uint64_t *out, const uint64_t *in, const fsn_pool_shape *s, unsigned ell) {
  active()->maxpool2d(out, in, s, ell);
}
void fsn_sumpool2d(uint64_t *out, const uint64_t *in, const fsn_pool_shape *s, unsigned ell) {
  active()->sumpool2d(out, in, s, ell);
}
void fsn_global_sumpool(uint64_t *out, const uint64_t *in, size_t planes, size_t hw, unsigned ell) {
  active()->global_sumpool(out, in, planes, hw, ell);
}
