/* AVX-512 conv kernels: the AVX2 file with 8 lanes (conv2d as im2col + the AVX-512 GEMM; pooling 8 output columns
 * at a time). Signed ell-bit max: values shifted left by 64 - ell compare with vpmaxsq, and a logical shift back
 * restores the reduced value. Windows that touch the padding (the edges) take the portable path. */
#include <immintrin.h>

#include "kernels/conv/conv_portable.h"
#include "kernels/gemm/gemm_ops.h"
#include "kernels/simd_avx512.h"

void fsn_conv_conv2d__avx512(uint64_t *out, const uint64_t *in, const uint64_t *weight, const uint64_t *bias,
                             const fsn_conv2d_shape *s, void *scratch) {
  conv2d_by_gemm(out, in, weight, bias, s, scratch, fsn_gemm_u64__avx512);
}

void fsn_conv_im2col__avx512(uint64_t *cols, const uint64_t *image, const fsn_conv2d_shape *s) {
  conv_im2col_portable(cols, image, s);
}

/* 8 consecutive outputs' taps: in[base + j * stride] for j < 8. Stride 2 (ResNet's pooling) de-interleaves two
 * loads that end exactly at the last tap (as the AVX2 path does); other strides gather. */
static inline __m512i taps8(const uint64_t *base, size_t stride, __m512i index) {
  if (stride == 1) return _mm512_loadu_si512(base);
  if (stride == 2) {
    const __m512i x0_7 = _mm512_loadu_si512(base), x7_14 = _mm512_loadu_si512(base + 7);
    return _mm512_permutex2var_epi64(x0_7, _mm512_set_epi64(15, 13, 11, 9, 6, 4, 2, 0), x7_14);
  }
  return _mm512_i64gather_epi64(index, base, 8);
}

static void pool_row_avx512(uint64_t *out_row, const uint64_t *plane, const fsn_pool_shape *s, size_t oh, size_t ow_n,
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
  const __m512i mask = _mm512_set1_epi64((long long)fsn_ring_mask(ell));
  const __m512i index =
      _mm512_mullo_epi64(_mm512_set_epi64(7, 6, 5, 4, 3, 2, 1, 0), _mm512_set1_epi64((long long)s->stride_w));
  size_t ow = 0;
  for (; ow < ow_lo; ow++) out_row[ow] = conv_pool_window(plane, s, oh, ow, is_max, ell);
  for (; ow + 8 <= ow_hi; ow += 8) {
    __m512i acc = is_max ? _mm512_set1_epi64(INT64_MIN) : _mm512_setzero_si512();
    for (size_t kh = kh_lo; kh < kh_hi; kh++) {
      const uint64_t *row = plane + (oh * s->stride_h + kh - s->pad_h) * s->in_w + ow * s->stride_w - s->pad_w;
      for (size_t kw = 0; kw < s->k_w; kw++) {
        const __m512i v = taps8(row + kw, s->stride_w, index);
        acc = is_max ? _mm512_max_epi64(acc, _mm512_sll_epi64(v, shift_count)) : _mm512_add_epi64(acc, v);
      }
    }
    acc = is_max ? _mm512_srl_epi64(acc, shift_count) : _mm512_and_si512(acc, mask);
    _mm512_storeu_si512(out_row + ow, acc);
  }
  for (; ow < ow_n; ow++) out_row[ow] = conv_pool_window(plane, s, oh, ow, is_max, ell);
}

static void pool_avx512(uint64_t *out, const uint64_t *in, const fsn_pool_shape *s, unsigned ell, int is_max) {
  const size_t oh_n = conv_pool_oh(s), ow_n = conv_pool_ow(s), planes = s->batch * s->channels;
  const int parallel = planes > 1 && planes * oh_n * ow_n * s->k_h * s->k_w >= FSN_OMP_MIN_WORK;
  (void)parallel;
  FSN_OMP("omp parallel for schedule(static) if (parallel)")
  for (size_t p = 0; p < planes; p++)
    for (size_t oh = 0; oh < oh_n; oh++)
      pool_row_avx512(out + (p * oh_n + oh) * ow_n, in + p * s->in_h * s->in_w, s, oh, ow_n, ell, is_max);
}

void fsn_conv_maxpool2d__avx512(uint64_t *out, const uint64_t *in, const fsn_pool_shape *s, unsigned ell) {
  pool_avx512(out, in, s, ell, 1);
}

void fsn_conv_sumpool2d__avx512(uint64_t *out, const uint64_t *in, const fsn_pool_shape *s, unsigned ell) {
  pool_avx512(out, in, s, ell, 0);
}

void fsn_conv_global_sumpool__avx512(uint64_t *out, const uint64_t *in, size_t planes, size_t hw, unsigned ell) {
  for (size_t p = 0; p < planes; p++) {
    const uint64_t *x = in + p * hw;
    __m512i acc0 = _mm512_setzero_si512(), acc1 = acc0;
    size_t i = 0;
    for (; i + 16 <= hw; i += 16) {
      acc0 = _mm512_add_epi64(acc0, _mm512_loadu_si512(x + i));
      acc1 = _mm512_add_epi64(acc1, _mm512_loadu_si512(x + i + 8));
    }
    uint64_t sum = fsn_sum_u64x8(_mm512_add_epi64(acc0, acc1));
    for (; i < hw; i++) sum += x[i];
    out[p] = sum & fsn_ring_mask(ell);
  }
}
