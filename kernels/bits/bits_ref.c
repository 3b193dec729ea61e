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
