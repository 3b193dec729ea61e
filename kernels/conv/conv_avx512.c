/* AVX512 conv kernels (placeholder until the vector kernels land: delegates to the oracle). */
#include "kernels/conv/conv_ops.h"

void fsn_conv_conv2d__avx512(uint64_t *out, const uint64_t *in, const uint64_t *weight, const uint64_t *bias,
                             const fsn_conv2d_shape *s, void *scratch) {
  fsn_conv_conv2d__ref(out, in, weight, bias, s, scratch);
}

void fsn_conv_im2col__avx512(uint64_t *cols, const uint64_t *image, const fsn_conv2d_shape *s) {
  fsn_conv_im2col__ref(cols, image, s);
}

void fsn_conv_maxpool2d__avx512(uint64_t *out, const uint64_t *in, const fsn_pool_shape *s, unsigned ell) {
  fsn_conv_maxpool2d__ref(out, in, s, ell);
}

void fsn_conv_sumpool2d__avx512(uint64_t *out, const uint64_t *in, const fsn_pool_shape *s, unsigned ell) {
  fsn_conv_sumpool2d__ref(out, in, s, ell);
}

void fsn_conv_global_sumpool__avx512(uint64_t *out, const uint64_t *in, size_t planes, size_t hw, unsigned ell) {
  fsn_conv_global_sumpool__ref(out, in, planes, hw, ell);
}
