/* The one list of dispatched bit-matrix ops (see kernels/dispatch.h). */
#ifndef FSN_KERNELS_BITS_OPS_H
#define FSN_KERNELS_BITS_OPS_H

#include <fusion/bits.h>

#include "kernels/dispatch.h"

#define FSN_BITS_OPS(X, isa)                                                                                           \
  X(bits, isa, transpose128, (uint8_t out[2048], const uint8_t in[2048]), (out, in))                                   \
  X(bits, isa, transpose, (uint8_t * out, const uint8_t *in, size_t rows, size_t cols), (out, in, rows, cols))         \
  X(bits, isa, unpack, (uint8_t * out, const uint8_t *packed, size_t n), (out, packed, n))                             \
  X(bits, isa, pack, (uint8_t * packed, const uint8_t *bits, size_t n), (packed, bits, n))                             \
  X(bits, isa, xor, (uint8_t * out, const uint8_t *a, const uint8_t *b, size_t nbytes), (out, a, b, nbytes))           \
  X(bits, isa, and, (uint8_t * out, const uint8_t *a, const uint8_t *b, size_t nbytes), (out, a, b, nbytes))           \
  X(bits, isa, gf128_inner, (uint8_t out[16], const uint8_t *a, const uint8_t *b, size_t n), (out, a, b, n))

FSN_FAMILY_DECLARE(bits, FSN_BITS_OPS)

/* Portable tile transposer shared by the reference and the SIMD edges: the 8 x 8-bit tiles with rows in [r0, r1)
 * and byte columns in [cb0, cb1) of a rows x cols matrix (r0, r1 multiples of 8). */
static inline void fsn_bits_transpose_tiles(uint8_t *out, const uint8_t *in, size_t rows, size_t cols, size_t r0,
                                            size_t r1, size_t cb0, size_t cb1) {
  const size_t in_stride = cols / 8, out_stride = rows / 8;
  for (size_t r = r0; r < r1; r += 8) {
    for (size_t cb = cb0; cb < cb1; cb++) {
      uint64_t x = 0; /* bit 8k + i = bit i of row r + k */
      for (int k = 0; k < 8; k++) x |= (uint64_t)in[(r + k) * in_stride + cb] << (8 * k);
      uint64_t t = (x ^ (x >> 7)) & 0x00aa00aa00aa00aaull;
      x ^= t ^ (t << 7);
      t = (x ^ (x >> 14)) & 0x0000cccc0000ccccull;
      x ^= t ^ (t << 14);
      t = (x ^ (x >> 28)) & 0x00000000f0f0f0f0ull;
      x ^= t ^ (t << 28);
      for (int i = 0; i < 8; i++) out[(8 * cb + i) * out_stride + r / 8] = (uint8_t)(x >> (8 * i));
    }
  }
}

/* GF(2^128) = GF(2)[x] / (x^128 + x^7 + x^2 + x + 1): the unreduced 256-bit product w[0..3] (little-endian 64-bit
 * words, w[2..3] the coefficients of x^128 .. x^255) folded to 128 bits. x^128 = x^7 + x^2 + x + 1, so the high half
 * H contributes H (1 + x + x^2 + x^7); the at most 7 bits that overflow past x^127 fold the same way once more. */
static inline void fsn_gf128_reduce(uint64_t out[2], const uint64_t w[4]) {
  const uint64_t h0 = w[2], h1 = w[3];
  const uint64_t over = h1 >> 63 ^ h1 >> 62 ^ h1 >> 57;
  out[0] = w[0] ^ h0 ^ h0 << 1 ^ h0 << 2 ^ h0 << 7 ^ over ^ over << 1 ^ over << 2 ^ over << 7;
  out[1] = w[1] ^ h1 ^ h1 << 1 ^ h1 << 2 ^ h1 << 7 ^ h0 >> 63 ^ h0 >> 62 ^ h0 >> 57;
}

#endif
