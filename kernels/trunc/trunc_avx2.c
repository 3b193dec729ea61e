/* avx2 trunc kernels. */
#include <immintrin.h>

#include "kernels/trunc/trunc_ops.h"

void fsn_trunc_sar__avx2(uint64_t *z, const uint64_t *x, size_t n, unsigned ell, unsigned s) {
  fsn_trunc_sar__ref(z, x, n, ell, s);
}
void fsn_trunc_shr__avx2(uint64_t *z, const uint64_t *x, size_t n, unsigned ell, unsigned s) {
  fsn_trunc_shr__ref(z, x, n, ell, s);
}
void fsn_trunc_msb__avx2(uint8_t *bits, const uint64_t *x, size_t n, unsigned ell) {
  fsn_trunc_msb__ref(bits, x, n, ell);
}
void fsn_trunc_div__avx2(uint64_t *z, const uint64_t *x, uint64_t d, size_t n, unsigned ell) {
  fsn_trunc_div__ref(z, x, d, n, ell);
}
void fsn_trunc_sext__avx2(uint64_t *z, const uint64_t *x, size_t n, unsigned ell) { fsn_trunc_sext__ref(z, x, n, ell); }
