/* LPN encoding with AES-NI: the positions of a batch of 8 rows (4 pairs, 20 AES blocks in two groups of 10 in
 * flight) are computed and prefetched AHEAD - 1 batches before the batch is summed: the random 16-byte loads miss
 * the caches when the k-block input outgrows L2/L3 (9 MiB at the main set's k), and one batch of summing is far
 * shorter than a DRAM round trip. */
#include <immintrin.h>
#include <stdbool.h>

#include "kernels/lpn/lpn_ops.h"

enum { ROWS = 8, PAIRS = ROWS / 2, GROUP = 2 * FSN_LPN_PAIR_BLOCKS, AHEAD = 4 };

/* Inputs up to this many blocks (2 MiB: one 1 MiB L2 and a share of L3 on the AMD EPYC the project measures on) are
 * read without prefetches: there they only take load slots (20-30 % slower per row at k <= 2^17 here), while from
 * k = 3 * 2^16 on they hide the L3/DRAM latency. */
#define NO_PREFETCH_MAX_K ((size_t)1 << 17)

typedef struct keys128 {
  __m128i k[11];
} keys128;

/* AES of the counter blocks [b0, b0 + n) (n a constant after inlining), left in x. */
static inline void code_blocks(__m128i *x, uint64_t b0, int n, const keys128 *k) {
#pragma GCC unroll 10
  for (int j = 0; j < n; j++) x[j] = _mm_xor_si128(_mm_set_epi64x(0, (long long)(b0 + (uint64_t)j)), k->k[0]);
#pragma GCC unroll 9
  for (int r = 1; r < 10; r++) {
#pragma GCC unroll 10
    for (int j = 0; j < n; j++) x[j] = _mm_aesenc_si128(x[j], k->k[r]);
  }
#pragma GCC unroll 10
  for (int j = 0; j < n; j++) x[j] = _mm_aesenclast_si128(x[j], k->k[10]);
}

/* floor(w k / 2^32) of the eight 32-bit words w of two code blocks (k < 2^32 in every lane of kv): the high halves
 * of the even and the odd lanes' 64-bit products. */
static inline __m256i scale(__m128i lo, __m128i hi, __m256i kv) {
  const __m256i w = _mm256_set_m128i(hi, lo);
  const __m256i even = _mm256_srli_epi64(_mm256_mul_epu32(w, kv), 32);
  const __m256i odd = _mm256_mul_epu32(_mm256_srli_epi64(w, 32), kv);
  return _mm256_blend_epi32(even, odd, 0xaa);
}

/* Positions of the ROWS rows of pairs [p, p + PAIRS), k < 2^32: the words never leave the registers. */
static inline void positions_batch(uint32_t *pos, size_t p, const keys128 *k, __m256i kv) {
  __m128i x[GROUP];
  for (int g = 0; g < 2; g++) {
    code_blocks(x, FSN_LPN_PAIR_BLOCKS * (p + 2 * (size_t)g), GROUP, k);
#pragma GCC unroll 5
    for (int j = 0; j < GROUP / 2; j++)
      _mm256_storeu_si256((__m256i *)(pos + 4 * GROUP * g + 8 * j), scale(x[2 * j], x[2 * j + 1], kv));
  }
}

/* Positions of the two rows of pair p, one word at a time (the tails, and k = 2^32). */
static inline void positions_pair(uint32_t *pos, size_t p, const keys128 *k, size_t kk) {
  __m128i x[FSN_LPN_PAIR_BLOCKS];
  uint8_t words[16 * FSN_LPN_PAIR_BLOCKS];
  code_blocks(x, FSN_LPN_PAIR_BLOCKS * p, FSN_LPN_PAIR_BLOCKS, k);
  for (int j = 0; j < FSN_LPN_PAIR_BLOCKS; j++) _mm_storeu_si128((__m128i *)(words + 16 * j), x[j]);
  for (int j = 0; j < 2 * FSN_LPN_D; j++) {
    uint32_t w;
    __builtin_memcpy(&w, words + 4 * j, 4);
    pos[j] = fsn_lpn_position(w, kk);
  }
}

/* The positions of the batch of rows starting at pair p, and their lines on the way to L1. */
static inline void prefetch_batch(uint32_t *pos, size_t p, const keys128 *k, __m256i kv, const uint8_t *base,
                                  bool far) {
  positions_batch(pos, p, k, kv);
  for (int j = 0; far && j < ROWS * FSN_LPN_D; j++)
    _mm_prefetch((const char *)(base + 16 * (size_t)pos[j]), _MM_HINT_T0);
}

static inline void xor_row(uint8_t *out, const uint8_t *base, const uint32_t *pos) {
  __m128i acc = _mm_loadu_si128((const __m128i *)out);
#pragma GCC unroll 10
  for (int j = 0; j < FSN_LPN_D; j++)
    acc = _mm_xor_si128(acc, _mm_loadu_si128((const __m128i *)(base + 16 * (size_t)pos[j])));
  _mm_storeu_si128((__m128i *)out, acc);
}

/* Rows [row, end) of the pair-by-pair path, end - row < ROWS or an odd leading row. */
static void rows_one_pair_at_a_time(uint8_t *out, const uint8_t *base, const keys128 *k, size_t kk, size_t row0,
                                    size_t row, size_t end) {
  uint32_t pos[2 * FSN_LPN_D];
  while (row < end) {
    positions_pair(pos, row / 2, k, kk);
    xor_row(out + 16 * (row - row0), base, pos + FSN_LPN_D * (row % 2));
    row++;
  }
}

void fsn_lpn_encode__avx2(uint8_t *out, const uint8_t *base, const fsn_aes128_key *key, size_t kk, size_t row0,
                          size_t nrows) {
  keys128 k;
  for (int r = 0; r < 11; r++) k.k[r] = _mm_load_si128((const __m128i *)key->rk[r]);
  size_t row = row0;
  const size_t end = row0 + nrows;
  if (kk > UINT32_MAX) { /* k = 2^32: the position is the word itself, which the batch path's lanes cannot scale */
    rows_one_pair_at_a_time(out, base, &k, kk, row0, row, end);
    return;
  }
  const __m256i kv = _mm256_set1_epi64x((long long)kk);
  const bool far = kk > NO_PREFETCH_MAX_K;
  if (row % 2 && row < end) rows_one_pair_at_a_time(out, base, &k, kk, row0, row, row + 1), row++;
  /* ring[b % AHEAD] holds the positions of batch b; batch b + AHEAD - 1 is prefetched while batch b is summed. */
  const size_t batches = (end - row) / ROWS;
  uint32_t ring[AHEAD][ROWS * FSN_LPN_D];
  for (size_t b = 0; b < batches && b < AHEAD - 1; b++)
    prefetch_batch(ring[b % AHEAD], row / 2 + PAIRS * b, &k, kv, base, far);
  for (size_t b = 0; b < batches; b++) {
    if (b + AHEAD - 1 < batches)
      prefetch_batch(ring[(b + AHEAD - 1) % AHEAD], row / 2 + PAIRS * (b + AHEAD - 1), &k, kv, base, far);
    const uint32_t *pos = ring[b % AHEAD];
#pragma GCC unroll 8
    for (int r = 0; r < ROWS; r++) xor_row(out + 16 * (row + ROWS * b - row0 + r), base, pos + FSN_LPN_D * r);
  }
  rows_one_pair_at_a_time(out, base, &k, kk, row0, row + ROWS * batches, end);
}
