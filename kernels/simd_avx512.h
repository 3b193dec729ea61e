/* Helpers shared by the AVX-512 kernel files (kernels/<family>/<family>_avx512.c), included after <immintrin.h>. */
#ifndef FSN_KERNELS_SIMD_AVX512_H
#define FSN_KERNELS_SIMD_AVX512_H

#include <stddef.h>
#include <stdint.h>

/* Lanes of 64 bits live in the block of 8 that starts at i: all 8, or the n - i of the tail. */
static inline __mmask8 fsn_live_lanes8(size_t i, size_t n) {
  return n - i >= 8 ? 0xff : (__mmask8)((1u << (n - i)) - 1);
}

/* Sum of the 8 lanes mod 2^64. Not _mm512_reduce_add_epi64: GCC 12 defines it through signed long long vector
 * additions, whose overflow is undefined behaviour (UBSan reports it on ring data). */
static inline uint64_t fsn_sum_u64x8(__m512i v) {
  uint64_t lane[8], sum = 0;
  _mm512_storeu_si512(lane, v);
  for (int i = 0; i < 8; i++) sum += lane[i];
  return sum;
}

#endif
