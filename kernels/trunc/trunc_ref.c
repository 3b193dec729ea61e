/* Portable trunc kernels: the oracle every SIMD sibling must match bit for bit. Signed values are handled as a sign
 * and a magnitude in uint64_t, so nothing depends on implementation-defined signed shifts or conversions. */
#include "kernels/trunc/trunc_ops.h"

static int is_negative(uint64_t x, unsigned ell) { return (x >> (ell - 1)) & 1; }

/* |v| for the signed ell-bit value v of a reduced x (2^(ell-1) for the most negative value). */
static uint64_t magnitude(uint64_t x, unsigned ell) { return is_negative(x, ell) ? (0 - x) & fsn_ring_mask(ell) : x; }

void fsn_trunc_sar__ref(uint64_t *z, const uint64_t *x, size_t n, unsigned ell, unsigned s) {
  const uint64_t mask = fsn_ring_mask(ell);
  for (size_t i = 0; i < n; i++) {
    uint64_t a = magnitude(x[i], ell);
    /* floor(-a / 2^s) = -ceil(a / 2^s) = -(((a - 1) >> s) + 1) for a >= 1 */
    z[i] = is_negative(x[i], ell) ? (0 - (((a - 1) >> s) + 1)) & mask : a >> s;
  }
}

void fsn_trunc_shr__ref(uint64_t *z, const uint64_t *x, size_t n, unsigned ell, unsigned s) {
  const uint64_t mask = fsn_ring_mask(ell);
  for (size_t i = 0; i < n; i++) z[i] = (x[i] & mask) >> s;
}

void fsn_trunc_msb__ref(uint8_t *bits, const uint64_t *x, size_t n, unsigned ell) {
  for (size_t byte = 0; byte < (n + 7) / 8; byte++) {
    unsigned packed = 0;
    for (size_t j = byte * 8; j < n && j < byte * 8 + 8; j++) packed |= (unsigned)is_negative(x[j], ell) << (j % 8);
    bits[byte] = (uint8_t)packed;
  }
}

void fsn_trunc_div__ref(uint64_t *z, const uint64_t *x, uint64_t d, size_t n, unsigned ell) {
  const uint64_t mask = fsn_ring_mask(ell);
  for (size_t i = 0; i < n; i++) {
    uint64_t a = magnitude(x[i], ell);
    z[i] = is_negative(x[i], ell) ? (0 - ((a - 1) / d + 1)) & mask : a / d;
  }
}

void fsn_trunc_sext__ref(uint64_t *z, const uint64_t *x, size_t n, unsigned ell) {
  for (size_t i = 0; i < n; i++) z[i] = is_negative(x[i], ell) ? 0 - magnitude(x[i], ell) : x[i];
}
