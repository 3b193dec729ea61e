/* AES-128 with 128-bit AES-NI (variant avx2): 8 independent blocks in flight hide the aesenc latency of 4 cycles at
 * 2 per cycle. The VAES paths are the variants avx2_vaes (prg_avx2_vaes.c) and avx512_vaes (prg_avx512_vaes.c). */
#include <immintrin.h>

#include "kernels/prg/prg_drivers.h"

/* ---- AES-NI, 8 x 1 block ---- */

enum { B128 = FSN_AES128_BATCH_AESNI };

typedef struct keys128 {
  __m128i k[11];
} keys128;

static inline void load_keys128(keys128 *k, const fsn_aes128_key *key) {
  for (int r = 0; r < 11; r++) k->k[r] = _mm_loadu_si128((const __m128i *)key->rk[r]);
}

/* n independent chains (a constant after inlining, so the loops unroll and x stays in registers). */
static inline void encrypt128(__m128i *x, int n, const keys128 *k) {
#pragma GCC unroll 12
  for (int j = 0; j < n; j++) x[j] = _mm_xor_si128(x[j], k->k[0]);
#pragma GCC unroll 9
  for (int r = 1; r < 10; r++) {
#pragma GCC unroll 12
    for (int j = 0; j < n; j++) x[j] = _mm_aesenc_si128(x[j], k->k[r]);
  }
#pragma GCC unroll 12
  for (int j = 0; j < n; j++) x[j] = _mm_aesenclast_si128(x[j], k->k[10]);
}

static inline void ecb_batch_avx2(uint8_t *out, const uint8_t *in, const keys128 *k) {
  __m128i x[B128];
#pragma GCC unroll 8
  for (int j = 0; j < B128; j++) x[j] = _mm_loadu_si128((const __m128i *)(in + 16 * j));
  encrypt128(x, B128, k);
#pragma GCC unroll 8
  for (int j = 0; j < B128; j++) _mm_storeu_si128((__m128i *)(out + 16 * j), x[j]);
}

static inline void ctr_batch_avx2(uint8_t *out, const uint8_t *in, const keys128 *k, uint64_t hi, uint64_t lo) {
  __m128i x[B128];
  if (fsn_aes128_batch_carries(lo, B128)) {
    uint8_t blocks[16 * B128];
    fsn_aes128_counter_blocks(blocks, &hi, &lo, B128);
    for (int j = 0; j < B128; j++) x[j] = _mm_loadu_si128((const __m128i *)(blocks + 16 * j));
  } else if (fsn_aes128_batch_low_byte_fits(lo, B128)) {
    const __m128i base = _mm_set_epi64x((long long)__builtin_bswap64(lo), (long long)__builtin_bswap64(hi));
#pragma GCC unroll 8
    for (int j = 0; j < B128; j++) x[j] = _mm_add_epi8(base, _mm_set_epi64x((long long)((uint64_t)j << 56), 0));
  } else {
    const __m128i bswap = _mm_set_epi8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    const __m128i base = _mm_set_epi64x((long long)hi, (long long)lo);
#pragma GCC unroll 8
    for (int j = 0; j < B128; j++) x[j] = _mm_shuffle_epi8(_mm_add_epi64(base, _mm_set_epi64x(0, j)), bswap);
  }
  encrypt128(x, B128, k);
  if (in) {
#pragma GCC unroll 8
    for (int j = 0; j < B128; j++) x[j] = _mm_xor_si128(x[j], _mm_loadu_si128((const __m128i *)(in + 16 * j)));
  }
#pragma GCC unroll 8
  for (int j = 0; j < B128; j++) _mm_storeu_si128((__m128i *)(out + 16 * j), x[j]);
}

/* sigma(a || b) = (a ^ b) || a: the halves swapped, XOR the low half kept in place. */
static inline __m128i sigma128(__m128i x) { return _mm_xor_si128(_mm_shuffle_epi32(x, 0x4e), _mm_move_epi64(x)); }

static inline void ccrh_batch_avx2(uint8_t *out, const uint8_t *in, const keys128 *k) {
  __m128i s[B128], x[B128];
#pragma GCC unroll 8
  for (int j = 0; j < B128; j++) x[j] = s[j] = sigma128(_mm_loadu_si128((const __m128i *)(in + 16 * j)));
  encrypt128(x, B128, k);
#pragma GCC unroll 8
  for (int j = 0; j < B128; j++) _mm_storeu_si128((__m128i *)(out + 16 * j), _mm_xor_si128(x[j], s[j]));
}

FSN_AES128_DEFINE_DRIVERS(avx2, B128, keys128, load_keys128)

void fsn_aes128_peak__avx2(uint8_t out[16], const fsn_aes128_key *key, size_t iters) {
  keys128 k;
  load_keys128(&k, key);
  __m128i x[FSN_AES128_PEAK_CHAINS];
  for (int j = 0; j < FSN_AES128_PEAK_CHAINS; j++) x[j] = _mm_set1_epi32(j);
  for (size_t i = 0; i < iters; i++) encrypt128(x, FSN_AES128_PEAK_CHAINS, &k);
  for (int j = 1; j < FSN_AES128_PEAK_CHAINS; j++) x[0] = _mm_xor_si128(x[0], x[j]);
  _mm_storeu_si128((__m128i *)out, x[0]);
}
