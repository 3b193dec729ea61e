/* Local pieces of the truncation and comparison protocols on Z_2^ell values (1 <= ell <= 64), see <fusion/ring.h>
 * for the conventions: uint64_t values reduced mod 2^ell, arrays of n elements at any alignment, outputs reduced,
 * z may equal x (never a partial overlap). The signed value of x is x - 2^ell when bit ell-1 is set, else x.
 * Kernels never fail. */
#ifndef FUSION_TRUNC_H
#define FUSION_TRUNC_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Arithmetic right shift, 0 <= s <= 63: z[i] = floor(v / 2^s) mod 2^ell, v the signed value of x[i]. For s >= ell - 1
 * every result is 0 or -1 (2^ell - 1). This is the exact (faithful) truncation of a public or plaintext value. */
void fsn_trunc_sar(uint64_t *z, const uint64_t *x, size_t n, unsigned ell, unsigned s);

/* Logical right shift of a share, 0 <= s <= 63: z[i] = (x[i] mod 2^ell) >> s (x may be unreduced). */
void fsn_trunc_shr(uint64_t *z, const uint64_t *x, size_t n, unsigned ell, unsigned s);

/* Most significant bit: bit j of `bits` (bit j % 8 of byte j / 8, LSB first, as <fusion/bits.h>) = bit ell-1 of x[j].
 * Writes exactly ceil(n / 8) bytes; unused high bits of the last byte are zero. */
void fsn_trunc_msb(uint8_t *bits, const uint64_t *x, size_t n, unsigned ell);

/* Floor division by a public d >= 1: z[i] = floor(v / d) mod 2^ell, v the signed value of x[i] (floor, not truncation
 * toward zero: -1 / 3 = -1). Average pooling with a window that is not a power of two. d = 0 is a caller error. */
void fsn_trunc_div(uint64_t *z, const uint64_t *x, uint64_t d, size_t n, unsigned ell);

/* Sign extension: z[i] = the signed value of x[i] as a 64-bit two's complement integer, stored in uint64_t
 * (cast to int64_t to use it). For ell = 64 this is the identity. */
void fsn_trunc_sext(uint64_t *z, const uint64_t *x, size_t n, unsigned ell);

#ifdef __cplusplus
}
#endif
#endif
