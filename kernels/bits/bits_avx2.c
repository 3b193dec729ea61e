/* AVX2 bit-matrix kernels. The transpose works on tiles of 32 rows x 16 byte columns: the two 16 x 16 byte blocks
 * (rows r..r+15 and r+16..r+31) sit in the two 128-bit lanes and are byte-transposed in place, so each register then
 * holds one byte column of 32 rows; movemask peels its bits off from bit 7 down, one 32-bit output word each. */
#include <immintrin.h>
#include <string.h>

#include "kernels/bits/bits_ops.h"

/* Four rounds of unpack on pairs (i, i + 8) rotate the 8-bit (register, byte) index by 4, i.e. transpose each
 * 16 x 16 byte block held lane-wise in v[0..15]. */
static inline void transpose16x16_epi8(__m256i v[16]) {
  for (int round = 0; round < 4; round++) {
    __m256i t[16];
#pragma GCC unroll 8
    for (int i = 0; i < 8; i++) {
      t[2 * i] = _mm256_unpacklo_epi8(v[i], v[i + 8]);
      t[2 * i + 1] = _mm256_unpackhi_epi8(v[i], v[i + 8]);
    }
    memcpy(v, t, sizeof t);
  }
}

/* src: row r0, byte column cb0 of the input; dst: output row 8 cb0, byte r0 / 8. */
static inline void transpose_tile32(uint8_t *dst, const uint8_t *src, size_t in_stride, size_t out_stride) {
  __m256i v[16];
#pragma GCC unroll 16
  for (int i = 0; i < 16; i++) {
    __m128i lo = _mm_loadu_si128((const __m128i *)(src + i * in_stride));
    __m128i hi = _mm_loadu_si128((const __m128i *)(src + (16 + i) * in_stride));
    v[i] = _mm256_inserti128_si256(_mm256_castsi128_si256(lo), hi, 1);
  }
  transpose16x16_epi8(v);
  for (int j = 0; j < 16; j++) {
    __m256i x = v[j]; /* byte k = byte column cb0 + j of row r0 + k */
    uint8_t *row = dst + 8 * (size_t)j * out_stride;
#pragma GCC unroll 8
    for (int b = 7; b >= 0; b--) {
      uint32_t word = (uint32_t)_mm256_movemask_epi8(x);
      memcpy(row + (size_t)b * out_stride, &word, 4);
      x = _mm256_slli_epi64(x, 1);
    }
  }
}

/* Tall matrices have output rows far apart (rows / 8 bytes), and 128 of them at a power-of-two stride share one L1
 * set; so above STAGE_ROWS rows the tiles of STAGE_ROWS rows go to a staging block first and leave as whole
 * 64-byte lines. */
enum { STAGE_ROWS = 512 };

void fsn_bits_transpose__avx2(uint8_t *out, const uint8_t *in, size_t rows, size_t cols) {
  const size_t in_stride = cols / 8, out_stride = rows / 8;
  const size_t rows_tiled = rows / 32 * 32, cbs_tiled = in_stride / 16 * 16;
  if (rows_tiled >= STAGE_ROWS) {
    uint8_t stage[128 * STAGE_ROWS / 8];
    for (size_t r = 0; r < rows_tiled; r += STAGE_ROWS) {
      size_t chunk = rows_tiled - r < STAGE_ROWS ? rows_tiled - r : STAGE_ROWS;
      for (size_t cb = 0; cb < cbs_tiled; cb += 16) {
        for (size_t t = 0; t < chunk; t += 32)
          transpose_tile32(stage + t / 8, in + (r + t) * in_stride + cb, in_stride, STAGE_ROWS / 8);
        for (size_t i = 0; i < 128; i++)
          memcpy(out + (8 * cb + i) * out_stride + r / 8, stage + i * (STAGE_ROWS / 8), chunk / 8);
      }
    }
  } else {
    for (size_t r = 0; r < rows_tiled; r += 32)
      for (size_t cb = 0; cb < cbs_tiled; cb += 16)
        transpose_tile32(out + 8 * cb * out_stride + r / 8, in + r * in_stride + cb, in_stride, out_stride);
  }
  fsn_bits_transpose_tiles(out, in, rows, cols, 0, rows_tiled, cbs_tiled, in_stride);
  fsn_bits_transpose_tiles(out, in, rows, cols, rows_tiled, rows, 0, in_stride);
}

void fsn_bits_transpose128__avx2(uint8_t out[2048], const uint8_t in[2048]) {
  fsn_bits_transpose__avx2(out, in, 128, 128);
}

void fsn_bits_unpack__avx2(uint8_t *out, const uint8_t *packed, size_t n) {
  const __m256i spread = _mm256_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, /* in-lane indices */
                                          2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3);
  const __m256i select = _mm256_set1_epi64x(0x8040201008040201ll);
  const __m256i one = _mm256_set1_epi8(1);
  size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    uint32_t word;
    memcpy(&word, packed + i / 8, 4);
    __m256i x = _mm256_and_si256(_mm256_shuffle_epi8(_mm256_set1_epi32((int)word), spread), select);
    _mm256_storeu_si256((__m256i *)(out + i), _mm256_min_epu8(x, one));
  }
  fsn_bits_unpack__ref(out + i, packed + i / 8, n - i);
}

void fsn_bits_pack__avx2(uint8_t *packed, const uint8_t *bits, size_t n) {
  size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    /* Bit 0 of each byte moves to bit 7 of the same byte (16-bit shift; nothing crosses into the bit 7 we read). */
    __m256i x = _mm256_slli_epi16(_mm256_loadu_si256((const __m256i *)(bits + i)), 7);
    uint32_t word = (uint32_t)_mm256_movemask_epi8(x);
    memcpy(packed + i / 8, &word, 4);
  }
  fsn_bits_pack__ref(packed + i / 8, bits + i, n - i);
}

void fsn_bits_xor__avx2(uint8_t *out, const uint8_t *a, const uint8_t *b, size_t nbytes) {
  size_t i = 0;
  for (; i + 32 <= nbytes; i += 32) {
    __m256i x = _mm256_loadu_si256((const __m256i *)(a + i)), y = _mm256_loadu_si256((const __m256i *)(b + i));
    _mm256_storeu_si256((__m256i *)(out + i), _mm256_xor_si256(x, y));
  }
  fsn_bits_xor__ref(out + i, a + i, b + i, nbytes - i);
}

void fsn_bits_and__avx2(uint8_t *out, const uint8_t *a, const uint8_t *b, size_t nbytes) {
  size_t i = 0;
  for (; i + 32 <= nbytes; i += 32) {
    __m256i x = _mm256_loadu_si256((const __m256i *)(a + i)), y = _mm256_loadu_si256((const __m256i *)(b + i));
    _mm256_storeu_si256((__m256i *)(out + i), _mm256_and_si256(x, y));
  }
  fsn_bits_and__ref(out + i, a + i, b + i, nbytes - i);
}

/* Four carry-less products per term, summed unreduced (XOR is linear), one reduction at the end. x86 is
 * little-endian, so a 16-byte element loads as its two 64-bit words. */
void fsn_bits_gf128_inner__avx2(uint8_t out[16], const uint8_t *a, const uint8_t *b, size_t n) {
  __m128i lo = _mm_setzero_si128(), mid = _mm_setzero_si128(), hi = _mm_setzero_si128();
  for (size_t i = 0; i < n; i++) {
    const __m128i x = _mm_loadu_si128((const __m128i *)(a + 16 * i)),
                  y = _mm_loadu_si128((const __m128i *)(b + 16 * i));
    lo = _mm_xor_si128(lo, _mm_clmulepi64_si128(x, y, 0x00));
    hi = _mm_xor_si128(hi, _mm_clmulepi64_si128(x, y, 0x11));
    mid = _mm_xor_si128(mid, _mm_xor_si128(_mm_clmulepi64_si128(x, y, 0x10), _mm_clmulepi64_si128(x, y, 0x01)));
  }
  uint64_t l[2], m[2], h[2], r[2];
  _mm_storeu_si128((__m128i *)l, lo), _mm_storeu_si128((__m128i *)m, mid), _mm_storeu_si128((__m128i *)h, hi);
  const uint64_t w[4] = {l[0], l[1] ^ m[0], h[0] ^ m[1], h[1]};
  fsn_gf128_reduce(r, w);
  memcpy(out, r, 16);
}
