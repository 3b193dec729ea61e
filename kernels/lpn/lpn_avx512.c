/* The avx512 level has no wider LPN path yet: the encoding is bound by its random 16-byte loads, which zmm registers
 * do not speed up, and its AES needs VAES, which the avx512 level does not require. */
#include "kernels/lpn/lpn_ops.h"

void fsn_lpn_encode__avx512(uint8_t *out, const uint8_t *base, const fsn_aes128_key *key, size_t k, size_t row0,
                            size_t nrows) {
  fsn_lpn_encode__avx2(out, base, key, k, row0, nrows);
}
