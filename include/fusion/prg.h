/* AES-128 (AES-NI / VAES, portable constant-time reference), a counter-mode PRG, and the fixed-key
 * circular-correlation-robust hash used by OT extension. Blocks are 16 bytes; buffers may be unaligned. */
#ifndef FUSION_PRG_H
#define FUSION_PRG_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* An expanded AES-128 key: 11 round keys in FIPS-197 byte order. */
typedef struct fsn_aes128_key {
  _Alignas(16) uint8_t rk[11][16];
} fsn_aes128_key;

/* FIPS-197 key expansion. */
void fsn_aes128_expand(fsn_aes128_key *key, const uint8_t k[16]);

/* ECB encryption of n blocks: out[i] = AES_k(in[i]). out may equal in. */
void fsn_aes128_ecb(uint8_t *out, const uint8_t *in, size_t nblocks, const fsn_aes128_key *key);

/* SP 800-38A CTR: out = in XOR keystream, keystream block i = AES_k(ctr + i), the 16-byte counter block read and
 * incremented as a big-endian 128-bit integer. *ctr is advanced by nblocks. in may be NULL (keystream only). */
void fsn_aes128_ctr(uint8_t *out, const uint8_t *in, size_t nblocks, const fsn_aes128_key *key, uint8_t ctr[16]);

/* A PRG: AES-128 in counter mode from a 16-byte seed (the counter block starts at zero). Not thread-safe: one
 * per thread. Bytes are produced in whole blocks; a partial block's remainder is discarded. */
typedef struct fsn_prg {
  fsn_aes128_key key;
  uint8_t ctr[16];
} fsn_prg;

void fsn_prg_seed(fsn_prg *prg, const uint8_t seed[16]);
void fsn_prg_bytes(fsn_prg *prg, void *out, size_t nbytes);
/* n uniform elements of Z_2^ell (one 64-bit word of stream each, masked). */
void fsn_prg_ring(fsn_prg *prg, uint64_t *out, size_t n, unsigned ell);

/* Circular-correlation-robust hash on 128-bit blocks (fixed-key AES, Guo-Katz-Wang-Yu 2020):
 * out[i] = pi(sigma(in[i])) XOR sigma(in[i]), pi = AES-128 under a public fixed key, sigma(a || b) = (a XOR b) || a
 * on the 64-bit halves (a = low half, bytes 0..7). out may equal in. */
void fsn_ccrh(uint8_t *out, const uint8_t *in, size_t nblocks);

/* The same hash with pi = AES-128 under `key`; fsn_ccrh is this under the fixed key fsn_ccrh_key(). */
void fsn_aes128_ccrh(uint8_t *out, const uint8_t *in, size_t nblocks, const fsn_aes128_key *key);
/* The expanded fixed public key of fsn_ccrh: AES-128 key = the first 16 bytes of SHA-256("fusion ccrh v1"). */
const fsn_aes128_key *fsn_ccrh_key(void);

#ifdef __cplusplus
}
#endif
#endif
