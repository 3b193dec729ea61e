/* AVX-512 bit-matrix kernels: the algorithms of bits_avx2.c with lanes twice as wide. The transpose tile is 64 rows x
 * 16 byte columns (rows r, r+16, r+32, r+48 in the four 128-bit lanes); vpmovb2m (movepi8_mask) peels 64 row bits per
 * instruction. pack/unpack/xor/and finish their tails with lane masks instead of the scalar reference. */
#include <immintrin.h>
#include <string.h>

#include "kernels/bits/bits_ops.h"

static inline void transpose16x16_epi8_x4(__m512i v[16]) {
  for (int round = 0; round < 4; round++) {
    __m512i t[16];
#pragma GCC unroll 8
    for (int i = 0; i < 8; i++) {
      t[2 * i] = _mm512_unpacklo_epi8(v[i], v[i + 8]);
      t[2 * i + 1] = _mm512_unpackhi_epi8(v[i], v[i + 8]);
    }
    memcpy(v, t, sizeof t);
  }
}

/* src: row r0, byte column cb0 of the input; dst: output row 8 cb0, byte r0 / 8. */
static inline void transpose_tile64(uint8_t *dst, const uint8_t *src, size_t in_stride, size_t out_stride) {
  __m512i v[16];
#pragma GCC unroll 16
  for (int i = 0; i < 16; i++) {
    __m512i x = _mm512_castsi128_si512(_mm_loadu_si128((const __m128i *)(src + i * in_stride)));
    x = _mm512_inserti32x4(x, _mm_loadu_si128((const __m128i *)(src + (16 + i) * in_stride)), 1);
    x = _mm512_inserti32x4(x, _mm_loadu_si128((const __m128i *)(src + (32 + i) * in_stride)), 2);
    v[i] = _mm512_inserti32x4(x, _mm_loadu_si128((const __m128i *)(src + (48 + i) * in_stride)), 3);
  }
  transpose16x16_epi8_x4(v);
  for (int j = 0; j < 16; j++) {
    __m512i x = v[j]; /* byte k = byte column cb0 + j of row r0 + k */
    uint8_t *row = dst + 8 * (size_t)j * out_stride;
#pragma GCC unroll 8
    for (int b = 7; b >= 0; b--) {
      uint64_t word = (uint64_t)_mm512_movepi8_mask(x);
      memcpy(row + (size_t)b * out_stride, &word, 8);
      x = _mm512_slli_epi64(x, 1);
    }
  }
}

/* Tall matrices have output rows far apart (rows / 8 bytes), and 128 of them at a power-of-two stride share one L1
 * set; so above STAGE_ROWS rows the tiles of STAGE_ROWS rows go to a staging block first and leave as whole
 * 64-byte lines. */
enum { STAGE_ROWS = 512 };

void fsn_bits_transpose__avx512(uint8_t *out, const uint8_t *in, size_t rows, size_t cols) {
  const size_t in_stride = cols / 8, out_stride = rows / 8;
  const size_t rows_tiled = rows / 64 * 64, cbs_tiled = in_stride / 16 * 16;
  if (rows_tiled >= STAGE_ROWS) {
    uint8_t stage[128 * STAGE_ROWS / 8];
    for (size_t r = 0; r < rows_tiled; r += STAGE_ROWS) {
      size_t chunk = rows_tiled - r < STAGE_ROWS ? rows_tiled - r : STAGE_ROWS;
      for (size_t cb = 0; cb < cbs_tiled; cb += 16) {
        for (size_t t = 0; t < chunk; t += 64)
          transpose_tile64(stage + t / 8, in + (r + t) * in_stride + cb, in_stride, STAGE_ROWS / 8);
        for (size_t i = 0; i < 128; i++)
          memcpy(out + (8 * cb + i) * out_stride + r / 8, stage + i * (STAGE_ROWS / 8), chunk / 8);
      }
    }
  } else {
    for (size_t r = 0; r < rows_tiled; r += 64)
      for (size_t cb = 0; cb < cbs_tiled; cb += 16)
        transpose_tile64(out + 8 * cb * out_stride + r / 8, in + r * in_stride + cb, in_stride, out_stride);
  }
  fsn_bits_transpose_tiles(out, in, rows, cols, 0, rows_tiled, cbs_tiled, in_stride);
  fsn_bits_transpose_tiles(out, in, rows, cols, rows_tiled, rows, 0, in_stride);
}

void fsn_bits_transpose128__avx512(uint8_t out[2048], const uint8_t in[2048]) {
  fsn_bits_transpose__avx512(out, in, 128, 128);
}

static inline __mmask64 live_bytes(size_t left) { return left >= 64 ? ~(__mmask64)0 : ((__mmask64)1 << left) - 1; }

void fsn_bits_unpack__avx512(uint8_t *out, const uint8_t *packed, size_t n) {
  const __m512i one = _mm512_set1_epi8(1);
  for (size_t i = 0; i < n; i += 64) {
    __mmask64 live = live_bytes(n - i);
    uint64_t word = 0;
    memcpy(&word, packed + i / 8, n - i >= 64 ? 8 : (n - i + 7) / 8);
    _mm512_mask_storeu_epi8(out + i, live, _mm512_maskz_mov_epi8((__mmask64)word, one));
  }
}

void fsn_bits_pack__avx512(uint8_t *packed, const uint8_t *bits, size_t n) {
  const __m512i one = _mm512_set1_epi8(1);
  for (size_t i = 0; i < n; i += 64) {
    __mmask64 live = live_bytes(n - i);
    uint64_t word = (uint64_t)_mm512_test_epi8_mask(_mm512_maskz_loadu_epi8(live, bits + i), one);
    memcpy(packed + i / 8, &word, n - i >= 64 ? 8 : (n - i + 7) / 8);
  }
}

void fsn_bits_xor__avx512(uint8_t *out, const uint8_t *a, const uint8_t *b, size_t nbytes) {
  for (size_t i = 0; i < nbytes; i += 64) {
    __mmask64 live = live_bytes(nbytes - i);
    __m512i x = _mm512_maskz_loadu_epi8(live, a + i), y = _mm512_maskz_loadu_epi8(live, b + i);
    _mm512_mask_storeu_epi8(out + i, live, _mm512_xor_si512(x, y));
  }
}

void fsn_bits_and__avx512(uint8_t *out, const uint8_t *a, const uint8_t *b, size_t nbytes) {
  for (size_t i = 0; i < nbytes; i += 64) {
    __mmask64 live = live_bytes(nbytes - i);
    __m512i x = _mm512_maskz_loadu_epi8(live, a + i), y = _mm512_maskz_loadu_epi8(live, b + i);
    _mm512_mask_storeu_epi8(out + i, live, _mm512_and_si512(x, y));
  }
}

/* One 128-bit carry-less multiply per product is all this op needs (VPCLMULQDQ would not pay off for the KOS15
 * check's one pass per chunk): the AVX2 body, which the avx512 level's features include. */
void fsn_bits_gf128_inner__avx512(uint8_t out[16], const uint8_t *a, const uint8_t *b, size_t n) {
  fsn_bits_gf128_inner__avx2(out, a, b, n);
}
