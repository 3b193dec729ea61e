/* Dispatched entry points of the ggm family. There is no AVX-512 variant (AES on zmm needs VAES, which the avx512
 * level does not require, and the AES-NI path already keeps the AES units busy): the avx512 level runs the avx2
 * code, which every avx512 machine can. */
#include "kernels/ggm/ggm_ops.h"

void fsn_ggm_expand__avx512(uint8_t *out, uint8_t sums[32], const uint8_t *in, size_t m, const fsn_aes128_key *k0,
                            const fsn_aes128_key *k1) {
  fsn_ggm_expand__avx2(out, sums, in, m, k0, k1);
}

FSN_FAMILY_DEFINE(ggm, FSN_GGM_OPS)
