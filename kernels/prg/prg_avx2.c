/* Placeholder: delegates to the reference until the AES-NI / VAES-256 kernels land. */
#include "kernels/prg/prg_ops.h"

void fsn_aes128_ecb__avx2(uint8_t *out, const uint8_t *in, size_t nblocks, const fsn_aes128_key *key) {
  fsn_aes128_ecb__ref(out, in, nblocks, key);
}
void fsn_aes128_ctr__avx2(uint8_t *out, const uint8_t *in, size_t nblocks, const fsn_aes128_key *key, uint8_t ctr[16]) {
  fsn_aes128_ctr__ref(out, in, nblocks, key, ctr);
}
void fsn_aes128_ccrh__avx2(uint8_t *out, const uint8_t *in, size_t nblocks, const fsn_aes128_key *key) {
  fsn_aes128_ccrh__ref(out, in, nblocks, key);
}
void fsn_aes128_ecb__aesni(uint8_t *out, const uint8_t *in, size_t nblocks, const fsn_aes128_key *key) {
  fsn_aes128_ecb__ref(out, in, nblocks, key);
}
void fsn_aes128_ctr__aesni(uint8_t *out, const uint8_t *in, size_t nblocks, const fsn_aes128_key *key,
                           uint8_t ctr[16]) {
  fsn_aes128_ctr__ref(out, in, nblocks, key, ctr);
}
void fsn_aes128_ccrh__aesni(uint8_t *out, const uint8_t *in, size_t nblocks, const fsn_aes128_key *key) {
  fsn_aes128_ccrh__ref(out, in, nblocks, key);
}
void fsn_aes128_ecb__vaes256(uint8_t *out, const uint8_t *in, size_t nblocks, const fsn_aes128_key *key) {
  fsn_aes128_ecb__ref(out, in, nblocks, key);
}
void fsn_aes128_ctr__vaes256(uint8_t *out, const uint8_t *in, size_t nblocks, const fsn_aes128_key *key,
                             uint8_t ctr[16]) {
  fsn_aes128_ctr__ref(out, in, nblocks, key, ctr);
}
void fsn_aes128_ccrh__vaes256(uint8_t *out, const uint8_t *in, size_t nblocks, const fsn_aes128_key *key) {
  fsn_aes128_ccrh__ref(out, in, nblocks, key);
}
void fsn_aes128_peak_aesni(uint8_t out[16], const fsn_aes128_key *key, size_t iters) {
  (void)out, (void)key, (void)iters;
}
void fsn_aes128_peak_vaes256(uint8_t out[16], const fsn_aes128_key *key, size_t iters) {
  (void)out, (void)key, (void)iters;
}
