/* AVX2 conv kernels: conv2d as im2col + the AVX2 GEMM; pooling 4 output columns at a time. Signed ell-bit max:
 * shifting a value left by 64 - ell puts its sign in bit 63, so vpcmpgtq orders it, and a logical shift back
 * restores the reduced value. Windows that touch the padding (the edges) take the portable path. */
#include <immintrin.h>

#include "kernels/conv/conv_portable.h"
#include "kernels/gemm/gemm_ops.h"

void fsn_conv_conv2d__avx2(uint64_t *out, const uint64_t *in, const uint64_t *weight, const uint64_t *bias,
                           const fsn_conv2d_shape *s, void *scratch) {
  conv2d_by_gemm(out, in, weight, bias, s, scratch, fsn_gemm_u64__avx2);
}

void fsn_conv_im2col__avx2(uint64_t *cols, const uint64_t *image, const fsn_conv2d_shape *s) {
  conv_im2col_portable(cols, image, s);
}

/* 4 consecutive outputs' taps: in[base + j * stride] for j < 4. Stride 2 (ResNet's pooling) de-interleaves two
 * loads that end exactly at the last tap (vpgatherqq is several times slower); other strides gather. */
static inline __m256i taps4(const uint64_t *base, size_t stride, __m256i index) {
  if (stride == 1) return _mm256_loadu_si256((const __m256i *)base);
  if (stride == 2) {
    const __m256i x0123 = _mm256_loadu_si256((const __m256i *)base);
    const __m256i x3456 = _mm256_loadu_si256((const __m256i *)(base + 3));
    const __m256i evens_low = _mm256_permute4x64_epi64(x0123, 0x88);  /* x0 x2 x0 x2 */
    const __m256i evens_high = _mm256_permute4x64_epi64(x3456, 0xdd); /* x4 x6 x4 x6 */
    return _mm256_blend_epi32(evens_low, evens_high, 0xf0);
  }
  return _mm256_i64gather_epi64((const long long *)base, index, 8);
}

static void pool_row_avx2(uint64_t *out_row, const uint64_t *plane, const fsn_pool_shape *s, size_t oh, size_t ow_n,
                          unsigned ell, int is_max) {
  size_t kh_lo, kh_hi, ow_lo, ow_hi, unused, ow_end;
  /* Taps kh reading a real row for this oh: ih = oh * stride_h + kh - pad_h in [0, in_h). */
  kh_lo = oh * s->stride_h >= s->pad_h ? 0 : s->pad_h - oh * s->stride_h;
  kh_hi = s->in_h + s->pad_h > oh * s->stride_h ? s->in_h + s->pad_h - oh * s->stride_h : 0;
  if (kh_hi > s->k_h) kh_hi = s->k_h;
  /* Interior columns: every tap kw in [0, k_w) reads a real column. */
  fsn_conv_valid_range(&ow_lo, &unused, ow_n, s->in_w, 0, s->stride_w, s->pad_w);
  fsn_conv_valid_range(&unused, &ow_end, ow_n, s->in_w, s->k_w - 1, s->stride_w, s->pad_w);
  ow_hi = ow_end > ow_lo ? ow_end : ow_lo;
  if (kh_lo >= kh_hi) ow_lo = ow_hi = ow_n; /* only padding rows: the portable path yields the empty-window 0 */
  const unsigned shift = 64 - ell;
  const __m128i shift_count = _mm_cvtsi32_si128((int)shift);
  const __m256i mask = _mm256_set1_epi64x((long long)fsn_ring_mask(ell));
  const __m256i index =
      _mm256_set_epi64x(3 * (long long)s->stride_w, 2 * (long long)s->stride_w, (long long)s->stride_w, 0);
  size_t ow = 0;
  for (; ow < ow_lo; ow++) out_row[ow] = conv_pool_window(plane, s, oh, ow, is_max, ell);
  for (; ow + 4 <= ow_hi; ow += 4) {
    __m256i acc = is_max ? _mm256_set1_epi64x(INT64_MIN) : _mm256_setzero_si256();
    for (size_t kh = kh_lo; kh < kh_hi; kh++) {
      const uint64_t *row = plane + (oh * s->stride_h + kh - s->pad_h) * s->in_w + ow * s->stride_w - s->pad_w;
      for (size_t kw = 0; kw < s->k_w; kw++) {
        const __m256i v = taps4(row + kw, s->stride_w, index);
        if (is_max) {
          const __m256i key = _mm256_sll_epi64(v, shift_count);
          acc = _mm256_blendv_epi8(acc, key, _mm256_cmpgt_epi64(key, acc));
        } else {
          acc = _mm256_add_epi64(acc, v);
        }
      }
    }
    acc = is_max ? _mm256_srl_epi64(acc, shift_count) : _mm256_and_si256(acc, mask);
    _mm256_storeu_si256((__m256i *)(out_row + ow), acc);
  }
  for (; ow < ow_n; ow++) out_row[ow] = conv_pool_window(plane, s, oh, ow, is_max, ell);
}

static void pool_avx2(uint64_t *out, const uint64_t *in, const fsn_pool_shape *s, unsigned ell, int is_max) {
  const size_t oh_n = conv_pool_oh(s), ow_n = conv_pool_ow(s), planes = s->batch * s->channels;
  const int parallel = planes > 1 && planes * oh_n * ow_n * s->k_h * s->k_w >= FSN_OMP_MIN_WORK;
  (void)parallel;
  FSN_OMP("omp parallel for schedule(static) if (parallel)")
  for (size_t p = 0; p < planes; p++)
    for (size_t oh = 0; oh < oh_n; oh++)
      pool_row_avx2(out + (p * oh_n + oh) * ow_n, in + p * s->in_h * s->in_w, s, oh, ow_n, ell, is_max);
}

void fsn_conv_maxpool2d__avx2(uint64_t *out, const uint64_t *in, const fsn_pool_shape *s, unsigned ell) {
  pool_avx2(out, in, s, ell, 1);
}

void fsn_conv_sumpool2d__avx2(uint64_t *out, const uint64_t *in, const fsn_pool_shape *s, unsigned ell) {
  pool_avx2(out, in, s, ell, 0);
}

void fsn_conv_global_sumpool__avx2(uint64_t *out, const uint64_t *in, size_t planes, size_t hw, unsigned ell) {
  for (size_t p = 0; p < planes; p++) {
    const uint64_t *x = in + p * hw;
    __m256i acc0 = _mm256_setzero_si256(), acc1 = acc0;
    size_t i = 0;
    for (; i + 8 <= hw; i += 8) {
      acc0 = _mm256_add_epi64(acc0, _mm256_loadu_si256((const __m256i *)(x + i)));
      acc1 = _mm256_add_epi64(acc1, _mm256_loadu_si256((const __m256i *)(x + i + 4)));
    }
    _Alignas(32) uint64_t lanes[4];
    _mm256_store_si256((__m256i *)lanes, _mm256_add_epi64(acc0, acc1));
    uint64_t sum = lanes[0] + lanes[1] + lanes[2] + lanes[3];
    for (; i < hw; i++) sum += x[i];
    out[p] = sum & fsn_ring_mask(ell);
  }
}
