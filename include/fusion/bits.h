/* Bit matrices and packed bit vectors. Bit j of a packed vector is bit (j % 8) of byte j / 8 (LSB first). */
#ifndef FUSION_BITS_H
#define FUSION_BITS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Transpose a 128 x 128 bit matrix: row r of `in` is 16 bytes at in + 16 r; out bit (c, r) = in bit (r, c). */
void fsn_bits_transpose128(uint8_t out[2048], const uint8_t in[2048]);

/* Transpose a rows x cols bit matrix (row-major, each row cols / 8 bytes) into cols x rows (each row rows / 8 bytes).
 * rows and cols are multiples of 8. The bulk form IKNP uses is 128 x m -> m x 128. out must not overlap in. */
void fsn_bits_transpose(uint8_t *out, const uint8_t *in, size_t rows, size_t cols);

/* out[j] = bit j of packed (0 or 1), n bits. */
void fsn_bits_unpack(uint8_t *out, const uint8_t *packed, size_t n);
/* Pack n bytes that are 0 or 1 into ceil(n / 8) bytes; unused high bits of the last byte are zero. */
void fsn_bits_pack(uint8_t *packed, const uint8_t *bits, size_t n);
/* out = a XOR b, n bytes; out may equal a or b. */
void fsn_bits_xor(uint8_t *out, const uint8_t *a, const uint8_t *b, size_t nbytes);
/* out = a AND b, n bytes; out may equal a or b. */
void fsn_bits_and(uint8_t *out, const uint8_t *a, const uint8_t *b, size_t nbytes);
/* out = sum_i a_i * b_i in GF(2^128) = GF(2)[x] / (x^128 + x^7 + x^2 + x + 1), n terms; an element is 16 bytes,
 * bit k (bit k % 8 of byte k / 8) the coefficient of x^k. n = 0 gives 0. The KOS15 check of OT extension. */
void fsn_bits_gf128_inner(uint8_t out[16], const uint8_t *a, const uint8_t *b, size_t n);

#ifdef __cplusplus
}
#endif
#endif
