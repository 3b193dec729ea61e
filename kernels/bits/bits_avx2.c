/* Placeholder: delegates to the reference until the avx2 kernels land. */
#include "kernels/bits/bits_ops.h"

void fsn_bits_transpose128__avx2(uint8_t out[2048], const uint8_t in[2048]) { fsn_bits_transpose128__ref(out, in); }
void fsn_bits_transpose__avx2(uint8_t *out, const uint8_t *in, size_t rows, size_t cols) {
  fsn_bits_transpose__ref(out, in, rows, cols);
}
void fsn_bits_unpack__avx2(uint8_t *out, const uint8_t *packed, size_t n) { fsn_bits_unpack__ref(out, packed, n); }
void fsn_bits_pack__avx2(uint8_t *packed, const uint8_t *bits, size_t n) { fsn_bits_pack__ref(packed, bits, n); }
void fsn_bits_xor__avx2(uint8_t *out, const uint8_t *a, const uint8_t *b, size_t nbytes) {
  fsn_bits_xor__ref(out, a, b, nbytes);
}
void fsn_bits_and__avx2(uint8_t *out, const uint8_t *a, const uint8_t *b, size_t nbytes) {
  fsn_bits_and__ref(out, a, b, nbytes);
}
