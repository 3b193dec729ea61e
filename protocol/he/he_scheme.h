/* The BFV-style scheme under the he backend (include/fusion/he.h): RNS polynomials mod q = p1 p2 as 2N words
 * (residues mod p1, then mod p2), keys, symmetric and public-key encryption, decryption at q and (after modulus
 * switching and dropped bits) at p1, and the wire forms. Private to protocol/he and its tests. */
#ifndef FSN_HE_SCHEME_H
#define FSN_HE_SCHEME_H

#include <fusion/he.h>
#include <fusion/ntt.h>
#include <fusion/prg.h>

typedef struct fsn_he_ctx {
  fsn_he_params par;
  fsn_ntt_table *tab[2];
  uint64_t p[2];
  uint64_t delta[2]; /* Delta = (q - 1) / t mod p_i, = -t^-1 mod p_i since q = 0 mod p_i */
} fsn_he_ctx;

/* w y mod p for any y < 2^64 by Shoup's method: w < p < 2^63, w_shoup = floor(w 2^64 / p); result in [0, p). */
static inline uint64_t fsn_he_mul_shoup(uint64_t y, uint64_t w, uint64_t w_shoup, uint64_t p) {
  const uint64_t r = w * y - (uint64_t)(((unsigned __int128)w_shoup * y) >> 64) * p; /* in [0, 2p) */
  return r >= p ? r - p : r;
}

FSN_NODISCARD fsn_status fsn_he_ctx_init(fsn_he_ctx *ctx, unsigned ell);
void fsn_he_ctx_free(fsn_he_ctx *ctx);

/* A fresh PRG seeded from libsodium's CSPRNG. */
void fsn_he_prg_fresh(fsn_prg *prg);

/* out (2N) = the centred lift of v (N values mod 2^ell) times mult_i mod p_i (mult NULL: times 1). */
void fsn_he_lift(const fsn_he_ctx *ctx, uint64_t *out, const uint64_t *v, const uint64_t *mult);
/* out (2N) = a ternary polynomial (secret, or the u of a public-key encryption) / a centred binomial error. */
void fsn_he_sample_ternary(const fsn_he_ctx *ctx, fsn_prg *prg, uint64_t *out);
void fsn_he_sample_error(const fsn_he_ctx *ctx, fsn_prg *prg, uint64_t *out);
/* a (2N, NTT domain) of ciphertext `index` from a 32-byte seed: uniform mod each p_i from BLAKE2b-keyed AES-CTR. */
void fsn_he_expand_a(const fsn_he_ctx *ctx, uint64_t *a_hat, const uint8_t seed[32], uint64_t index);
/* Forward / inverse NTT of both residues. */
void fsn_he_ntt(const fsn_he_ctx *ctx, uint64_t *a);
void fsn_he_intt(const fsn_he_ctx *ctx, uint64_t *a);

/* The client's secret s (NTT domain, 2N). */
void fsn_he_keygen(const fsn_he_ctx *ctx, fsn_prg *prg, uint64_t *s_hat);
/* c0 (2N, coefficient domain) = -a s + e + Delta m: m (N values mod t), a_hat from fsn_he_expand_a. scratch: 2N. */
void fsn_he_encrypt(const fsn_he_ctx *ctx, fsn_prg *prg, uint64_t *c0, const uint64_t *a_hat, const uint64_t *s_hat,
                    const uint64_t *m, uint64_t *scratch);
/* m (N values mod t) = round(t (c0 + c1 s) / q), c0 and c1 in the coefficient domain. scratch: 2N. */
void fsn_he_decrypt(const fsn_he_ctx *ctx, uint64_t *m, const uint64_t *c0, const uint64_t *c1, const uint64_t *s_hat,
                    uint64_t *scratch);
/* Add a fresh encryption of zero under the public key (b_hat, a_hat, NTT domain) to (acc0, acc1) in the NTT domain,
 * and return both in the coefficient domain: acc += (u b + e0, u a + e1), u ternary. scratch: 2N. */
void fsn_he_rerandomise(const fsn_he_ctx *ctx, fsn_prg *prg, uint64_t *acc0, uint64_t *acc1, const uint64_t *pk_b_hat,
                        const uint64_t *pk_a_hat, uint64_t *scratch);

/* Modulus switching to p1 then dropping d low bits: out[i] = round(round(x_i p1 / q) / 2^d) for the residues x (2N
 * array) at the given coefficient positions (all N when pos is NULL). */
void fsn_he_switch_drop(const fsn_he_ctx *ctx, uint64_t *out, const uint64_t *x, const uint32_t *pos, size_t m,
                        unsigned d, uint64_t *scratch);
/* Largest value fsn_he_switch_drop returns for d, and its bit width on the wire. */
uint64_t fsn_he_dropped_max(const fsn_he_ctx *ctx, unsigned d);
unsigned fsn_he_dropped_bits(const fsn_he_ctx *ctx, unsigned d);
/* Client: the plaintext at positions pos[0..m) of a switched ciphertext: c1 (N dropped values, overwritten), c0 (m
 * dropped values). s_hat is the secret's NTT (only its p1 half is read). */
void fsn_he_decrypt_switched(const fsn_he_ctx *ctx, uint64_t *out, const uint64_t *c0, uint64_t *c1,
                             const uint32_t *pos, size_t m, const uint64_t *s_hat);

/* Wire form of a 2N residue array: each half packed at its prime's bit length. Unpack checks every residue is below
 * its prime (FSN_E_PROTOCOL otherwise). */
size_t fsn_he_rns_bytes(const fsn_he_ctx *ctx);
void fsn_he_rns_pack(const fsn_he_ctx *ctx, uint8_t *out, const uint64_t *a);
FSN_NODISCARD fsn_status fsn_he_rns_unpack(const fsn_he_ctx *ctx, uint64_t *a, const uint8_t *in);
/* The same for the coefficients (lo + k) mod N, k < count, of each residue (an input ciphertext's window,
 * he_encode.h); unpack writes 0 outside the window. scratch: count words (unused for the whole array). */
size_t fsn_he_rns_window_bytes(const fsn_he_ctx *ctx, size_t count);
void fsn_he_rns_pack_window(const fsn_he_ctx *ctx, uint8_t *out, const uint64_t *a, size_t lo, size_t count,
                            uint64_t *scratch);
FSN_NODISCARD fsn_status fsn_he_rns_unpack_window(const fsn_he_ctx *ctx, uint64_t *a, const uint8_t *in, size_t lo,
                                                  size_t count, uint64_t *scratch);

#endif
