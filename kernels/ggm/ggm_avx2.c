/* GGM level expansion with AES-NI: 4 nodes per batch, 8 AES blocks in flight (4 under each key), from the last node
 * to the first so that the level may grow in place. VAES is left out: the two-key schedule already keeps 8 blocks in
 * flight, and the machines that have VAES reach this code through the same AES-NI units. */
#include <immintrin.h>

#include "kernels/ggm/ggm_ops.h"

enum { NODES = 4 };

typedef struct two_keys {
  __m128i a[11], b[11];
} two_keys;

static inline void load_keys(two_keys *k, const fsn_aes128_key *k0, const fsn_aes128_key *k1) {
  for (int r = 0; r < 11; r++) {
    k->a[r] = _mm_load_si128((const __m128i *)k0->rk[r]);
    k->b[r] = _mm_load_si128((const __m128i *)k1->rk[r]);
  }
}

/* left[j] = AES_k0(s[j]) ^ s[j], right[j] = AES_k1(s[j]) ^ s[j] for n nodes (a constant after inlining). */
static inline void children(__m128i *left, __m128i *right, const __m128i *s, int n, const two_keys *k) {
#pragma GCC unroll 4
  for (int j = 0; j < n; j++) left[j] = _mm_xor_si128(s[j], k->a[0]), right[j] = _mm_xor_si128(s[j], k->b[0]);
#pragma GCC unroll 9
  for (int r = 1; r < 10; r++) {
#pragma GCC unroll 4
    for (int j = 0; j < n; j++)
      left[j] = _mm_aesenc_si128(left[j], k->a[r]), right[j] = _mm_aesenc_si128(right[j], k->b[r]);
  }
#pragma GCC unroll 4
  for (int j = 0; j < n; j++) {
    left[j] = _mm_xor_si128(_mm_aesenclast_si128(left[j], k->a[10]), s[j]);
    right[j] = _mm_xor_si128(_mm_aesenclast_si128(right[j], k->b[10]), s[j]);
  }
}

void fsn_ggm_expand__avx2(uint8_t *out, uint8_t sums[32], const uint8_t *in, size_t m, const fsn_aes128_key *k0,
                          const fsn_aes128_key *k1) {
  two_keys k;
  load_keys(&k, k0, k1);
  __m128i sum_left = _mm_setzero_si128(), sum_right = _mm_setzero_si128();
  size_t end = m;
  for (; end >= NODES; end -= NODES) {
    const size_t begin = end - NODES;
    __m128i s[NODES], left[NODES], right[NODES];
#pragma GCC unroll 4
    for (int j = 0; j < NODES; j++) s[j] = _mm_loadu_si128((const __m128i *)(in + 16 * (begin + j)));
    children(left, right, s, NODES, &k);
#pragma GCC unroll 4
    for (int j = 0; j < NODES; j++) {
      sum_left = _mm_xor_si128(sum_left, left[j]);
      sum_right = _mm_xor_si128(sum_right, right[j]);
      _mm_storeu_si128((__m128i *)(out + 32 * (begin + j)), left[j]);
      _mm_storeu_si128((__m128i *)(out + 32 * (begin + j) + 16), right[j]);
    }
  }
  for (; end > 0; end--) { /* the first m % 4 nodes, last */
    __m128i s = _mm_loadu_si128((const __m128i *)(in + 16 * (end - 1))), left, right;
    children(&left, &right, &s, 1, &k);
    sum_left = _mm_xor_si128(sum_left, left);
    sum_right = _mm_xor_si128(sum_right, right);
    _mm_storeu_si128((__m128i *)(out + 32 * (end - 1)), left);
    _mm_storeu_si128((__m128i *)(out + 32 * (end - 1) + 16), right);
  }
  _mm_storeu_si128((__m128i *)sums, sum_left);
  _mm_storeu_si128((__m128i *)(sums + 16), sum_right);
}
