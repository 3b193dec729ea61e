/* Correlated GGM level expansion with AES-NI: 8 nodes per batch, 8 AES blocks in flight (this CPU's AES units take
 * a block per cycle each at a 4-cycle latency), from the last node to the first so that the level may grow in
 * place. VAES is left out: the machines that have it reach this code through the same AES-NI units. */
#include <immintrin.h>

#include "kernels/ggm/ggm_ops.h"

enum { NODES = 8 };

/* sigma(a || b) = (a ^ b) || a: the halves swapped, XOR the low half kept in place. */
static inline __m128i sigma(__m128i x) { return _mm_xor_si128(_mm_shuffle_epi32(x, 0x4e), _mm_move_epi64(x)); }

/* left[j] = H(s[j]) for n nodes (a constant after inlining). */
static inline void hash(__m128i *left, const __m128i *s, int n, const __m128i rk[11]) {
  __m128i x[NODES];
#pragma GCC unroll 8
  for (int j = 0; j < n; j++) x[j] = sigma(s[j]), left[j] = _mm_xor_si128(x[j], rk[0]);
#pragma GCC unroll 9
  for (int r = 1; r < 10; r++) {
#pragma GCC unroll 8
    for (int j = 0; j < n; j++) left[j] = _mm_aesenc_si128(left[j], rk[r]);
  }
#pragma GCC unroll 8
  for (int j = 0; j < n; j++) left[j] = _mm_xor_si128(_mm_aesenclast_si128(left[j], rk[10]), x[j]);
}

/* The children of nodes [begin, begin + n) into out, their sums into the accumulators. */
static inline void level_batch(uint8_t *out, const uint8_t *in, size_t begin, int n, const __m128i rk[11],
                               __m128i *sum_left, __m128i *sum_right) {
  __m128i s[NODES], left[NODES];
#pragma GCC unroll 8
  for (int j = 0; j < n; j++) s[j] = _mm_loadu_si128((const __m128i *)(in + 16 * (begin + j)));
  hash(left, s, n, rk);
#pragma GCC unroll 8
  for (int j = 0; j < n; j++) {
    const __m128i right = _mm_xor_si128(s[j], left[j]);
    *sum_left = _mm_xor_si128(*sum_left, left[j]);
    *sum_right = _mm_xor_si128(*sum_right, right);
    _mm_storeu_si128((__m128i *)(out + 32 * (begin + j)), left[j]);
    _mm_storeu_si128((__m128i *)(out + 32 * (begin + j) + 16), right);
  }
}

void fsn_ggm_expand__avx2(uint8_t *out, uint8_t sums[32], const uint8_t *in, size_t m, const fsn_aes128_key *key) {
  __m128i rk[11];
  for (int r = 0; r < 11; r++) rk[r] = _mm_load_si128((const __m128i *)key->rk[r]);
  __m128i sum_left = _mm_setzero_si128(), sum_right = _mm_setzero_si128();
  size_t end = m;
  for (; end >= NODES; end -= NODES) level_batch(out, in, end - NODES, NODES, rk, &sum_left, &sum_right);
  for (; end > 0; end--) level_batch(out, in, end - 1, 1, rk, &sum_left, &sum_right); /* the first m % 8, last */
  _mm_storeu_si128((__m128i *)sums, sum_left);
  _mm_storeu_si128((__m128i *)(sums + 16), sum_right);
}
