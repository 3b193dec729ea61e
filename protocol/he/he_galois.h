/* Automorphisms, key switching and the packing of sparse ciphertexts (galois.c): the building blocks of output
 * packing (docs/PROTOCOLS.md, "Output packing: the design"). Not yet used by the layer protocol. Private to
 * protocol/he and its tests.
 *
 * tau_g: a(X) -> a(X^g) mod X^N + 1 for odd g, a ring automorphism: tau_g(c0) + tau_g(c1) tau_g(s) = tau_g(m), so
 * (tau_g(c0), tau_g(c1)) decrypts under tau_g(s). A key switching key for g brings it back under s:
 *   ksk_d = (-a_d s + e_d + 2^(w d) tau_g(s), a_d),  d < FSN_HE_KS_DIGITS, a_d from a seed,
 * and (tau_g c0 + sum_d g_d ksk_d.0, sum_d g_d a_d), g_d the base-2^w digits of tau_g(c1) mod q, decrypts under s to
 * tau_g(m) + sum_d g_d e_d. No special prime: the digits are small instead (w = 34, three digits cover q < 2^102),
 * so the added noise is |sum_d g_d e_d| < 3 N 2^34 eta in the worst case and about 2^43 in practice, far below the
 * 2^61 the parameters leave (params.c). */
#ifndef FSN_HE_GALOIS_H
#define FSN_HE_GALOIS_H

#include "protocol/he/he_scheme.h"

#define FSN_HE_KS_DIGITS 3
#define FSN_HE_KS_BITS   34

typedef struct fsn_he_galois_key {
  uint32_t g;      /* the automorphism X -> X^g, g odd, g < 2N */
  uint64_t *b_hat; /* FSN_HE_KS_DIGITS x 2N, NTT domain: -a_d s + e_d + 2^(w d) tau_g(s) */
  uint64_t *a_hat; /* FSN_HE_KS_DIGITS x 2N, NTT domain: a_d */
} fsn_he_galois_key;

/* out (2N, coefficient domain) = in(X^g) mod X^N + 1, both residues; out != in. */
void fsn_he_automorphism(const fsn_he_ctx *ctx, uint64_t *out, const uint64_t *in, uint32_t g);
/* out (2N, coefficient domain) = X^k in mod X^N + 1, k < 2N; out != in. */
void fsn_he_monomial_mul(const fsn_he_ctx *ctx, uint64_t *out, const uint64_t *in, size_t k);

/* Client: the key switching key of tau_g for the secret s_hat (NTT domain), a_d = fsn_he_expand_a(seed, index + d).
 * FSN_E_NOMEM. */
FSN_NODISCARD fsn_status fsn_he_galois_keygen(const fsn_he_ctx *ctx, fsn_prg *prg, fsn_he_galois_key *key,
                                              const uint64_t *s_hat, const uint8_t seed[32], uint64_t index,
                                              uint32_t g);
/* Server: the same key from the client's b_d (FSN_HE_KS_DIGITS x 2N, NTT domain, copied) and the seed. */
FSN_NODISCARD fsn_status fsn_he_galois_key_from(const fsn_he_ctx *ctx, fsn_he_galois_key *key, const uint64_t *b_hat,
                                                const uint8_t seed[32], uint64_t index, uint32_t g);
void fsn_he_galois_key_free(fsn_he_galois_key *key);

/* (c0, c1) (coefficient domain, 2N each) <- tau_g(c0, c1) switched back under s. scratch: 10N words; c0, c1 and
 * scratch distinct. */
void fsn_he_apply_galois(const fsn_he_ctx *ctx, const fsn_he_galois_key *key, uint64_t *c0, uint64_t *c1,
                         uint64_t *scratch);

/* The automorphism that level l (1 <= l <= k) of a pack of 2^k ciphertexts uses: g = 1 + N / 2^(k - l). */
uint32_t fsn_he_pack_galois(const fsn_he_ctx *ctx, unsigned k, unsigned l);

/* Pack 2^k ciphertexts (ct[t] = c0 then c1, 4N words each, coefficient domain; overwritten) whose plaintexts m_t
 * carry what matters at the multiples of 2^k (anything elsewhere) into ct[0]: it decrypts to the polynomial with
 * m_t[j 2^k] at coefficient j 2^k + t. keys[l - 1] is the key of fsn_he_pack_galois(ctx, k, l). 2^k - 1 key
 * switches (a merge tree: level l pairs t and t + 2^(k - l)), each ciphertext first scaled by 2^-k mod q, which the
 * traces' factor 2^k undoes. scratch: 18N words. */
void fsn_he_pack(const fsn_he_ctx *ctx, const fsn_he_galois_key *keys, unsigned k, uint64_t *const *ct,
                 uint64_t *scratch);

#endif
