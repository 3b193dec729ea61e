/* The one list of dispatched LPN-encoding ops (see kernels/dispatch.h): Ferret's primal LPN with a local linear code
 * (Yang-Weng-Lan-Zhang-Wang, CCS 2020, section 6): every output row XORs FSN_LPN_D blocks of a k-block vector, at
 * positions drawn from AES-128 in counter mode under a public key, so both parties derive the same code. */
#ifndef FSN_KERNELS_LPN_OPS_H
#define FSN_KERNELS_LPN_OPS_H

#include <fusion/prg.h>
#include <stddef.h>
#include <stdint.h>

#include "kernels/dispatch.h"

/* Nonzero entries per row of the code (the paper's d = 10). */
#define FSN_LPN_D 10

/* AES blocks per pair of rows: 2 d 32-bit words. */
#define FSN_LPN_PAIR_BLOCKS 5

/* The code. Rows 2p and 2p + 1 take their positions from the five blocks AES_key(b), b = 5 p .. 5 p + 4, the counter
 * b written as a little-endian 64-bit integer in bytes 0..7 of the block, bytes 8..15 zero. The 80 output bytes are
 * 20 little-endian 32-bit words w[0..20); row 2p uses w[0..10), row 2p + 1 uses w[10..20), and word w names the
 * position floor(w k / 2^32) < k (a fixed public code; its positions are within k / 2^32 of uniform).
 *
 * encode: for every row i in [row0, row0 + nrows), out[i - row0] ^= XOR over its d positions j of base[j]
 * (16-byte blocks; a position drawn twice cancels, as in the paper's code). 1 <= k <= 2^32; out and base do not
 * overlap; any alignment. */
#define FSN_LPN_OPS(X, isa)                                                                                            \
  X(lpn, isa, encode,                                                                                                  \
    (uint8_t * out, const uint8_t *base, const fsn_aes128_key *key, size_t k, size_t row0, size_t nrows),              \
    (out, base, key, k, row0, nrows))

/* No AVX-512 variant: AES on zmm needs VAES, and the AES-NI path keeps the AES units busy; avx512 runs avx2. */
#define FSN_LPN_VARIANTS(V, a) V(a, ref) V(a, avx2)

FSN_FAMILY_DECLARE(lpn, FSN_LPN_OPS, FSN_LPN_VARIANTS)

/* The dispatched entry point (FSN_OP_DISPATCH in lpn.c). */
void fsn_lpn_encode(uint8_t *out, const uint8_t *base, const fsn_aes128_key *key, size_t k, size_t row0, size_t nrows);

/* The position a code word names: floor(w k / 2^32). */
static inline uint32_t fsn_lpn_position(uint32_t w, size_t k) { return (uint32_t)(((uint64_t)w * k) >> 32); }

/* The counter block b of the code. */
static inline void fsn_lpn_counter_block(uint8_t block[16], uint64_t b) {
  for (int i = 0; i < 8; i++) block[i] = (uint8_t)(b >> (8 * i));
  for (int i = 8; i < 16; i++) block[i] = 0;
}

/* Little-endian 32-bit word i of a byte string. */
static inline uint32_t fsn_lpn_word(const uint8_t *bytes, size_t i) {
  const uint8_t *p = bytes + 4 * i;
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

#endif
