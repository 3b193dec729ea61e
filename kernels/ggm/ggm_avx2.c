/* Correlated GGM level expansion with AES-NI: 8 nodes per batch, 8 AES blocks in flight (this CPU's AES units take
 * a block per cycle each at a 4-cycle latency), from the last node to the first so that the level may grow in
 * place. VAES is left out: the machines that have it reach this code through the same AES-NI units. */
#include <immintrin.h>

#include "kernels/ggm/ggm_ops.h"

enum { NODES = 8 };

/* sigma(a || b) = (a ^ b) || a: the halves swapped, XOR the low half kept in place; its inverse (c || d) -> d || (c ^
 * d). A batch keeps only sigma(s) and the AES states in registers (16 of them) and gets s back from sigma(s). */
static inline __m128i sigma(__m128i x) { return _mm_xor_si128(_mm_shuffle_epi32(x, 0x4e), _mm_move_epi64(x)); }
static inline __m128i sigma_inverse(__m128i x) {
  return _mm_xor_si128(_mm_shuffle_epi32(x, 0x4e), _mm_unpackhi_epi64(_mm_setzero_si128(), x));
}

/* The children of nodes [begin, begin + n) (n a constant after inlining) into out, their sums into the accumulators;
 * the round keys stay in memory (AES takes them as operands). */
static inline void level_batch(uint8_t *out, const uint8_t *in, size_t begin, int n, const fsn_aes128_key *key,
                               __m128i *sum_left, __m128i *sum_right) {
  const __m128i *rk = (const __m128i *)key->rk;
  __m128i x[NODES], a[NODES];
#pragma GCC unroll 8
  for (int j = 0; j < n; j++)
    x[j] = sigma(_mm_loadu_si128((const __m128i *)(in + 16 * (begin + j)))), a[j] = _mm_xor_si128(x[j], rk[0]);
#pragma GCC unroll 9
  for (int r = 1; r < 10; r++) {
#pragma GCC unroll 8
    for (int j = 0; j < n; j++) a[j] = _mm_aesenc_si128(a[j], rk[r]);
  }
#pragma GCC unroll 8
  for (int j = 0; j < n; j++) {
    const __m128i left = _mm_xor_si128(_mm_aesenclast_si128(a[j], rk[10]), x[j]);
    const __m128i right = _mm_xor_si128(sigma_inverse(x[j]), left);
    *sum_left = _mm_xor_si128(*sum_left, left);
    *sum_right = _mm_xor_si128(*sum_right, right);
    _mm_storeu_si128((__m128i *)(out + 32 * (begin + j)), left);
    _mm_storeu_si128((__m128i *)(out + 32 * (begin + j) + 16), right);
  }
}

void fsn_ggm_expand__avx2(uint8_t *out, uint8_t sums[32], const uint8_t *in, size_t m, const fsn_aes128_key *key) {
  __m128i sum_left = _mm_setzero_si128(), sum_right = _mm_setzero_si128();
  size_t end = m;
  for (; end >= NODES; end -= NODES) level_batch(out, in, end - NODES, NODES, key, &sum_left, &sum_right);
  for (; end > 0; end--) level_batch(out, in, end - 1, 1, key, &sum_left, &sum_right); /* the first m % 8, last */
  _mm_storeu_si128((__m128i *)sums, sum_left);
  _mm_storeu_si128((__m128i *)(sums + 16), sum_right);
}
