/* Portable bit-matrix kernels: the oracle every SIMD sibling must match bit for bit. */
#include "kernels/bits/bits_ops.h"

void fsn_bits_transpose__ref(uint8_t *out, const uint8_t *in, size_t rows, size_t cols) {
  fsn_bits_transpose_tiles(out, in, rows, cols, 0, rows, 0, cols / 8);
}

void fsn_bits_transpose128__ref(uint8_t out[2048], const uint8_t in[2048]) {
  fsn_bits_transpose__ref(out, in, 128, 128);
}

void fsn_bits_unpack__ref(uint8_t *out, const uint8_t *packed, size_t n) {
  for (size_t j = 0; j < n; j++) out[j] = (packed[j / 8] >> (j % 8)) & 1;
}

/* Only bit 0 of each input byte counts (the SIMD paths read exactly that bit too). */
void fsn_bits_pack__ref(uint8_t *packed, const uint8_t *bits, size_t n) {
  for (size_t i = 0; i < n / 8; i++) {
    unsigned v = 0;
    for (int j = 0; j < 8; j++) v |= (unsigned)(bits[8 * i + j] & 1) << j;
    packed[i] = (uint8_t)v;
  }
  if (n % 8) {
    unsigned v = 0;
    for (size_t j = n / 8 * 8; j < n; j++) v |= (unsigned)(bits[j] & 1) << (j % 8);
    packed[n / 8] = (uint8_t)v;
  }
}

void fsn_bits_xor__ref(uint8_t *out, const uint8_t *a, const uint8_t *b, size_t nbytes) {
  for (size_t i = 0; i < nbytes; i++) out[i] = a[i] ^ b[i];
}

void fsn_bits_and__ref(uint8_t *out, const uint8_t *a, const uint8_t *b, size_t nbytes) {
  for (size_t i = 0; i < nbytes; i++) out[i] = a[i] & b[i];
}

/* Little-endian 64-bit word k of a 16-byte field element. */
static uint64_t word(const uint8_t *p, int k) {
  uint64_t v = 0;
  for (int b = 7; b >= 0; b--) v = v << 8 | p[8 * k + b];
  return v;
}

/* Carry-less 64 x 64 -> 128-bit product, one bit of b at a time, without a branch on the bits. */
static void clmul64(uint64_t a, uint64_t b, uint64_t *lo, uint64_t *hi) {
  uint64_t l = 0, h = 0;
  for (int i = 0; i < 64; i++) {
    const uint64_t m = 0 - (b >> i & 1);
    l ^= a << i & m;
    h ^= (i ? a >> (64 - i) : 0) & m;
  }
  *lo = l, *hi = h;
}

void fsn_bits_gf128_inner__ref(uint8_t out[16], const uint8_t *a, const uint8_t *b, size_t n) {
  uint64_t w[4] = {0}, r[2];
  for (size_t i = 0; i < n; i++) {
    const uint64_t a0 = word(a + 16 * i, 0), a1 = word(a + 16 * i, 1), b0 = word(b + 16 * i, 0),
                   b1 = word(b + 16 * i, 1);
    uint64_t lo, hi;
    clmul64(a0, b0, &lo, &hi), w[0] ^= lo, w[1] ^= hi;
    clmul64(a0, b1, &lo, &hi), w[1] ^= lo, w[2] ^= hi;
    clmul64(a1, b0, &lo, &hi), w[1] ^= lo, w[2] ^= hi;
    clmul64(a1, b1, &lo, &hi), w[2] ^= lo, w[3] ^= hi;
  }
  fsn_gf128_reduce(r, w);
  for (int b = 0; b < 16; b++) out[b] = (uint8_t)(r[b / 8] >> (8 * (b % 8)));
}
