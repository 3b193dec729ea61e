/* The one list of dispatched AES-128 ops (see kernels/dispatch.h). The family is named aes128 so the generated entry
 * points are exactly the public fsn_aes128_ecb / fsn_aes128_ctr / fsn_aes128_ccrh of <fusion/prg.h>. */
#ifndef FSN_KERNELS_PRG_OPS_H
#define FSN_KERNELS_PRG_OPS_H

#include <fusion/prg.h>

#include "kernels/dispatch.h"

#define FSN_AES128_OPS(X, isa)                                                                                         \
  X(aes128, isa, ecb, (uint8_t * out, const uint8_t *in, size_t nblocks, const fsn_aes128_key *key),                   \
    (out, in, nblocks, key))                                                                                           \
  X(aes128, isa, ctr, (uint8_t * out, const uint8_t *in, size_t nblocks, const fsn_aes128_key *key, uint8_t ctr[16]),  \
    (out, in, nblocks, key, ctr))                                                                                      \
  X(aes128, isa, ccrh, (uint8_t * out, const uint8_t *in, size_t nblocks, const fsn_aes128_key *key),                  \
    (out, in, nblocks, key))

/* AES-NI (avx2), VAES on ymm (avx2_vaes) and on zmm (avx512_vaes): an avx512 CPU without VAES runs avx2. */
#define FSN_AES128_VARIANTS(V, a) V(a, ref) V(a, avx2) V(a, avx2_vaes) V(a, avx512_vaes)

FSN_FAMILY_DECLARE(aes128, FSN_AES128_OPS, FSN_AES128_VARIANTS)

/* Peak loops of the SIMD variants: `iters` rounds of full AES-128 (10 rounds) on 12 register-resident independent
 * chains, no memory traffic for the state. 12 chains, more than the 8 registers the batches use, so the loop is bound
 * by aesenc throughput, not by the latency of a chain: it is the ceiling the CTR path is compared with.
 * Blocks processed = iters * FSN_AES128_PEAK_BLOCKS_<VARIANT>. The folded state is written to out. */
#define FSN_AES128_PEAK_CHAINS             12
#define FSN_AES128_PEAK_BLOCKS_AVX2        12 /* 12 xmm */
#define FSN_AES128_PEAK_BLOCKS_AVX2_VAES   24 /* 12 ymm x 2 blocks */
#define FSN_AES128_PEAK_BLOCKS_AVX512_VAES 48 /* 12 zmm x 4 blocks */
/* Blocks per batch of the CTR/ECB/CCRH paths: 8 registers in flight. */
#define FSN_AES128_BATCH_AESNI   8
#define FSN_AES128_BATCH_VAES256 16
#define FSN_AES128_BATCH_AVX512  32
void fsn_aes128_peak__avx2(uint8_t out[16], const fsn_aes128_key *key, size_t iters);
void fsn_aes128_peak__avx2_vaes(uint8_t out[16], const fsn_aes128_key *key, size_t iters);
void fsn_aes128_peak__avx512_vaes(uint8_t out[16], const fsn_aes128_key *key, size_t iters);

/* Counter blocks as a big-endian 128-bit integer split into host-order halves. */
static inline uint64_t fsn_aes128_load_be64(const uint8_t *p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; i++) v = (v << 8) | p[i];
  return v;
}
static inline void fsn_aes128_store_be64(uint8_t *p, uint64_t v) {
  for (int i = 7; i >= 0; i--) p[i] = (uint8_t)v, v >>= 8;
}
/* Write n consecutive counter blocks starting at (hi, lo) into blocks and advance (hi, lo) by n. */
static inline void fsn_aes128_counter_blocks(uint8_t *blocks, uint64_t *hi, uint64_t *lo, size_t n) {
  for (size_t i = 0; i < n; i++) {
    fsn_aes128_store_be64(blocks + 16 * i, *hi);
    fsn_aes128_store_be64(blocks + 16 * i + 8, *lo);
    *hi += (++*lo == 0);
  }
}

#endif
