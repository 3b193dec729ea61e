/* LPN encoding with AES-NI: the positions of 8 rows (4 pairs, 20 AES blocks in two groups of 10 in flight) are
 * computed and prefetched one batch ahead, so the random 16-byte loads of a batch find their lines on the way while
 * the previous batch is summed. */
#include <immintrin.h>

#include "kernels/lpn/lpn_ops.h"

enum { ROWS = 8, PAIRS = ROWS / 2, GROUP = 2 * FSN_LPN_PAIR_BLOCKS };

typedef struct keys128 {
  __m128i k[11];
} keys128;

/* AES of the counter blocks [b0, b0 + n) (n a constant after inlining), written to words. */
static inline void code_blocks(uint8_t *words, uint64_t b0, int n, const keys128 *k) {
  __m128i x[GROUP];
#pragma GCC unroll 10
  for (int j = 0; j < n; j++) x[j] = _mm_xor_si128(_mm_set_epi64x(0, (long long)(b0 + (uint64_t)j)), k->k[0]);
#pragma GCC unroll 9
  for (int r = 1; r < 10; r++) {
#pragma GCC unroll 10
    for (int j = 0; j < n; j++) x[j] = _mm_aesenc_si128(x[j], k->k[r]);
  }
#pragma GCC unroll 10
  for (int j = 0; j < n; j++) _mm_storeu_si128((__m128i *)(words + 16 * j), _mm_aesenclast_si128(x[j], k->k[10]));
}

/* Positions of the 2 `pairs` rows of pairs [p, p + pairs), pairs 1 or PAIRS. */
static inline void positions(uint32_t *pos, size_t p, int pairs, const keys128 *k, size_t kk) {
  uint8_t words[16 * FSN_LPN_PAIR_BLOCKS * PAIRS];
  if (pairs == PAIRS) {
    code_blocks(words, FSN_LPN_PAIR_BLOCKS * p, GROUP, k);
    code_blocks(words + 16 * GROUP, FSN_LPN_PAIR_BLOCKS * (p + 2), GROUP, k);
  } else {
    code_blocks(words, FSN_LPN_PAIR_BLOCKS * p, FSN_LPN_PAIR_BLOCKS, k);
  }
  for (int j = 0; j < 2 * FSN_LPN_D * pairs; j++) {
    uint32_t w;
    __builtin_memcpy(&w, words + 4 * j, 4);
    pos[j] = fsn_lpn_position(w, kk);
  }
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
    positions(pos, row / 2, 1, k, kk);
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
  if (row % 2 && row < end) rows_one_pair_at_a_time(out, base, &k, kk, row0, row, row + 1), row++;
  uint32_t buf[2][ROWS * FSN_LPN_D], *cur = buf[0], *next = buf[1];
  if (end - row >= ROWS) positions(cur, row / 2, PAIRS, &k, kk);
  for (; end - row >= ROWS; row += ROWS) {
    if (end - row >= 2 * ROWS) {
      positions(next, row / 2 + PAIRS, PAIRS, &k, kk);
      for (int j = 0; j < ROWS * FSN_LPN_D; j++) _mm_prefetch((const char *)(base + 16 * (size_t)next[j]), _MM_HINT_T0);
    }
#pragma GCC unroll 8
    for (int r = 0; r < ROWS; r++) xor_row(out + 16 * (row - row0 + r), base, cur + FSN_LPN_D * r);
    uint32_t *t = cur;
    cur = next, next = t;
  }
  rows_one_pair_at_a_time(out, base, &k, kk, row0, row, end);
}
