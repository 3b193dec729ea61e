/* AES-128 on VAES-512 (variant avx512_vaes: avx512 + VAES): 4 blocks per instruction, 8 zmm registers = 32 blocks in
 * flight; the structure of prg_avx2_vaes.c with lanes twice as wide. VAES is not part of the avx512 level
 * (Skylake-SP and Cascade Lake have AVX-512 F/BW/VL/DQ but no VAES, and vaesenc on zmm faults there), so this is a
 * variant of its own; without VAES an avx512 machine runs the AES-NI variant avx2. */
#include <immintrin.h>

#include "kernels/prg/prg_drivers.h"

enum { R512 = 8, B512 = FSN_AES128_BATCH_AVX512 }; /* registers, blocks */

typedef struct keys512 {
  __m512i k[11];
} keys512;

static inline void load_keys512(keys512 *k, const fsn_aes128_key *key) {
  for (int r = 0; r < 11; r++) k->k[r] = _mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)key->rk[r]));
}

/* n independent chains (a constant after inlining, so the loops unroll and x stays in registers). */
static inline void encrypt512(__m512i *x, int n, const keys512 *k) {
#pragma GCC unroll 12
  for (int j = 0; j < n; j++) x[j] = _mm512_xor_si512(x[j], k->k[0]);
#pragma GCC unroll 9
  for (int r = 1; r < 10; r++) {
#pragma GCC unroll 12
    for (int j = 0; j < n; j++) x[j] = _mm512_aesenc_epi128(x[j], k->k[r]);
  }
#pragma GCC unroll 12
  for (int j = 0; j < n; j++) x[j] = _mm512_aesenclast_epi128(x[j], k->k[10]);
}

static inline void ecb_batch_avx512_vaes(uint8_t *out, const uint8_t *in, const keys512 *k) {
  __m512i x[R512];
#pragma GCC unroll 8
  for (int j = 0; j < R512; j++) x[j] = _mm512_loadu_si512(in + 64 * j);
  encrypt512(x, R512, k);
#pragma GCC unroll 8
  for (int j = 0; j < R512; j++) _mm512_storeu_si512(out + 64 * j, x[j]);
}

static inline void ctr_batch_avx512_vaes(uint8_t *out, const uint8_t *in, const keys512 *k, uint64_t hi, uint64_t lo) {
  __m512i x[R512];
  if (fsn_aes128_batch_carries(lo, B512)) {
    uint8_t blocks[16 * B512];
    fsn_aes128_counter_blocks(blocks, &hi, &lo, B512);
    for (int j = 0; j < R512; j++) x[j] = _mm512_loadu_si512(blocks + 64 * j);
  } else if (fsn_aes128_batch_low_byte_fits(lo, B512)) {
    const __m512i base =
        _mm512_broadcast_i32x4(_mm_set_epi64x((long long)__builtin_bswap64(lo), (long long)__builtin_bswap64(hi)));
#pragma GCC unroll 8
    for (int j = 0; j < R512; j++)
      x[j] = _mm512_add_epi8(base, _mm512_set_epi64((long long)((uint64_t)(4 * j + 3) << 56), 0,
                                                    (long long)((uint64_t)(4 * j + 2) << 56), 0,
                                                    (long long)((uint64_t)(4 * j + 1) << 56), 0,
                                                    (long long)((uint64_t)(4 * j) << 56), 0));
  } else {
    const __m512i bswap = _mm512_broadcast_i32x4(_mm_set_epi8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15));
    const __m512i base = _mm512_broadcast_i32x4(_mm_set_epi64x((long long)hi, (long long)lo));
#pragma GCC unroll 8
    for (int j = 0; j < R512; j++)
      x[j] = _mm512_shuffle_epi8(
          _mm512_add_epi64(base, _mm512_set_epi64(0, 4 * j + 3, 0, 4 * j + 2, 0, 4 * j + 1, 0, 4 * j)), bswap);
  }
  encrypt512(x, R512, k);
  if (in) {
#pragma GCC unroll 8
    for (int j = 0; j < R512; j++) x[j] = _mm512_xor_si512(x[j], _mm512_loadu_si512(in + 64 * j));
  }
#pragma GCC unroll 8
  for (int j = 0; j < R512; j++) _mm512_storeu_si512(out + 64 * j, x[j]);
}

/* sigma(a || b) = (a ^ b) || a per 128-bit lane: the halves swapped, XOR the low halves kept in place. */
static inline __m512i sigma512(__m512i x) {
  return _mm512_xor_si512(_mm512_shuffle_epi32(x, (_MM_PERM_ENUM)0x4e), _mm512_maskz_mov_epi64(0x55, x));
}

static inline void ccrh_batch_avx512_vaes(uint8_t *out, const uint8_t *in, const keys512 *k) {
  __m512i s[R512], x[R512];
#pragma GCC unroll 8
  for (int j = 0; j < R512; j++) x[j] = s[j] = sigma512(_mm512_loadu_si512(in + 64 * j));
  encrypt512(x, R512, k);
#pragma GCC unroll 8
  for (int j = 0; j < R512; j++) _mm512_storeu_si512(out + 64 * j, _mm512_xor_si512(x[j], s[j]));
}

FSN_AES128_DEFINE_DRIVERS(avx512_vaes, B512, keys512, load_keys512)

void fsn_aes128_peak__avx512_vaes(uint8_t out[16], const fsn_aes128_key *key, size_t iters) {
  keys512 k;
  load_keys512(&k, key);
  __m512i x[FSN_AES128_PEAK_CHAINS];
  for (int j = 0; j < FSN_AES128_PEAK_CHAINS; j++) x[j] = _mm512_set1_epi32(j);
  for (size_t i = 0; i < iters; i++) encrypt512(x, FSN_AES128_PEAK_CHAINS, &k);
  for (int j = 1; j < FSN_AES128_PEAK_CHAINS; j++) x[0] = _mm512_xor_si512(x[0], x[j]);
  __m256i y = _mm256_xor_si256(_mm512_castsi512_si256(x[0]), _mm512_extracti64x4_epi64(x[0], 1));
  _mm_storeu_si128((__m128i *)out, _mm_xor_si128(_mm256_castsi256_si128(y), _mm256_extracti128_si256(y, 1)));
}
