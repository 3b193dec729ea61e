/* Placeholder: delegates to the reference until the VAES-512 kernels land. */
#include "kernels/prg/prg_ops.h"

void fsn_aes128_ecb__avx512(uint8_t *out, const uint8_t *in, size_t nblocks, const fsn_aes128_key *key) {
  fsn_aes128_ecb__ref(out, in, nblocks, key);
}
void fsn_aes128_ctr__avx512(uint8_t *out, const uint8_t *in, size_t nblocks, const fsn_aes128_key *key,
                            uint8_t ctr[16]) {
  fsn_aes128_ctr__ref(out, in, nblocks, key, ctr);
}
void fsn_aes128_ccrh__avx512(uint8_t *out, const uint8_t *in, size_t nblocks, const fsn_aes128_key *key) {
  fsn_aes128_ccrh__ref(out, in, nblocks, key);
}
void fsn_aes128_peak_avx512(uint8_t out[16], const fsn_aes128_key *key, size_t iters) {
  (void)out, (void)key, (void)iters;
}
