/* AES-128 on VAES-256 (variant avx2_vaes: avx2 + VAES): 2 blocks per instruction, 8 ymm registers = 16 blocks in
 * flight. The only file of the family built with -mvaes at 256 bits; the AES-NI path is prg_avx2.c. */
#include <immintrin.h>

#include "kernels/prg/prg_drivers.h"

enum { R256 = 8, B256 = FSN_AES128_BATCH_VAES256 }; /* registers, blocks */

typedef struct keys256 {
  __m256i k[11];
} keys256;

static inline void load_keys256(keys256 *k, const fsn_aes128_key *key) {
  for (int r = 0; r < 11; r++) k->k[r] = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)key->rk[r]));
}

/* n independent chains (a constant after inlining, so the loops unroll and x stays in registers). */
static inline void encrypt256(__m256i *x, int n, const keys256 *k) {
#pragma GCC unroll 12
  for (int j = 0; j < n; j++) x[j] = _mm256_xor_si256(x[j], k->k[0]);
#pragma GCC unroll 9
  for (int r = 1; r < 10; r++) {
#pragma GCC unroll 12
    for (int j = 0; j < n; j++) x[j] = _mm256_aesenc_epi128(x[j], k->k[r]);
  }
#pragma GCC unroll 12
  for (int j = 0; j < n; j++) x[j] = _mm256_aesenclast_epi128(x[j], k->k[10]);
}

static inline void ecb_batch_avx2_vaes(uint8_t *out, const uint8_t *in, const keys256 *k) {
  __m256i x[R256];
#pragma GCC unroll 8
  for (int j = 0; j < R256; j++) x[j] = _mm256_loadu_si256((const __m256i *)(in + 32 * j));
  encrypt256(x, R256, k);
#pragma GCC unroll 8
  for (int j = 0; j < R256; j++) _mm256_storeu_si256((__m256i *)(out + 32 * j), x[j]);
}

static inline void ctr_batch_avx2_vaes(uint8_t *out, const uint8_t *in, const keys256 *k, uint64_t hi, uint64_t lo) {
  __m256i x[R256];
  if (fsn_aes128_batch_carries(lo, B256)) {
    uint8_t blocks[16 * B256];
    fsn_aes128_counter_blocks(blocks, &hi, &lo, B256);
    for (int j = 0; j < R256; j++) x[j] = _mm256_loadu_si256((const __m256i *)(blocks + 32 * j));
  } else if (fsn_aes128_batch_low_byte_fits(lo, B256)) {
    const __m256i base =
        _mm256_broadcastsi128_si256(_mm_set_epi64x((long long)__builtin_bswap64(lo), (long long)__builtin_bswap64(hi)));
#pragma GCC unroll 8
    for (int j = 0; j < R256; j++)
      x[j] = _mm256_add_epi8(base, _mm256_set_epi64x((long long)((uint64_t)(2 * j + 1) << 56), 0,
                                                     (long long)((uint64_t)(2 * j) << 56), 0));
  } else {
    const __m256i bswap =
        _mm256_broadcastsi128_si256(_mm_set_epi8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15));
    const __m256i base = _mm256_broadcastsi128_si256(_mm_set_epi64x((long long)hi, (long long)lo));
#pragma GCC unroll 8
    for (int j = 0; j < R256; j++)
      x[j] = _mm256_shuffle_epi8(_mm256_add_epi64(base, _mm256_set_epi64x(0, 2 * j + 1, 0, 2 * j)), bswap);
  }
  encrypt256(x, R256, k);
  if (in) {
#pragma GCC unroll 8
    for (int j = 0; j < R256; j++) x[j] = _mm256_xor_si256(x[j], _mm256_loadu_si256((const __m256i *)(in + 32 * j)));
  }
#pragma GCC unroll 8
  for (int j = 0; j < R256; j++) _mm256_storeu_si256((__m256i *)(out + 32 * j), x[j]);
}

static inline __m256i sigma256(__m256i x) {
  return _mm256_xor_si256(_mm256_shuffle_epi32(x, 0x4e), _mm256_blend_epi32(_mm256_setzero_si256(), x, 0x33));
}

static inline void ccrh_batch_avx2_vaes(uint8_t *out, const uint8_t *in, const keys256 *k) {
  __m256i s[R256], x[R256];
#pragma GCC unroll 8
  for (int j = 0; j < R256; j++) x[j] = s[j] = sigma256(_mm256_loadu_si256((const __m256i *)(in + 32 * j)));
  encrypt256(x, R256, k);
#pragma GCC unroll 8
  for (int j = 0; j < R256; j++) _mm256_storeu_si256((__m256i *)(out + 32 * j), _mm256_xor_si256(x[j], s[j]));
}

FSN_AES128_DEFINE_DRIVERS(avx2_vaes, B256, keys256, load_keys256)

void fsn_aes128_peak__avx2_vaes(uint8_t out[16], const fsn_aes128_key *key, size_t iters) {
  keys256 k;
  load_keys256(&k, key);
  __m256i x[FSN_AES128_PEAK_CHAINS];
  for (int j = 0; j < FSN_AES128_PEAK_CHAINS; j++) x[j] = _mm256_set1_epi32(j);
  for (size_t i = 0; i < iters; i++) encrypt256(x, FSN_AES128_PEAK_CHAINS, &k);
  for (int j = 1; j < FSN_AES128_PEAK_CHAINS; j++) x[0] = _mm256_xor_si256(x[0], x[j]);
  _mm_storeu_si128((__m128i *)out, _mm_xor_si128(_mm256_castsi256_si128(x[0]), _mm256_extracti128_si256(x[0], 1)));
}
