/* Automorphisms, key switching and the packing of sparse ciphertexts (he_galois.h).
 *
 * Why the merge tree packs. Write R_j = Z_q[X^(2^j)]. A plaintext whose content sits at the multiples of 2^k is in
 * R_k plus junk in X^i R_k, i not a multiple of 2^k. Level l uses g = 1 + N / s with s = 2^(k - l): on a monomial
 * X^i with i a multiple of s, X^(i g) = X^i (X^N)^(i / s), so tau_g fixes the multiples of 2s and negates the odd
 * multiples of s; any other exponent keeps its residue mod s (N / s is a multiple of s), so junk stays junk. The
 * merge of E and O (both with content at the multiples of 2s, junk off the multiples of s... after level l - 1) is
 *   (E + X^s O) + tau_g(E - X^s O) = (E + tau_g E) + X^s (O + tau_g O)          (tau_g(X^s) = -X^s),
 * which doubles the content of E at the multiples of 2s, cancels what E has at the odd multiples of s, and does the
 * same for O shifted by s: content at every multiple of s afterwards. After level k (s = 1) ciphertext t's content
 * sits at its positions + t, times 2^k, which the initial scaling by 2^-k mod q (q odd) undoes exactly. */
#include "protocol/he/he_galois.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

static uint64_t mulmod(uint64_t a, uint64_t b, uint64_t p) { return (uint64_t)((unsigned __int128)a * b % p); }

void fsn_he_automorphism(const fsn_he_ctx *ctx, uint64_t *out, const uint64_t *in, uint32_t g) {
  const size_t n = ctx->par.n, mask = 2 * n - 1;
  for (int i = 0; i < 2; i++) {
    const uint64_t p = ctx->p[i], *a = in + i * n;
    uint64_t *o = out + i * n;
    for (size_t j = 0; j < n; j++) {
      const size_t e = j * g & mask; /* X^(j g) = X^e, X^N = -1 */
      if (e < n)
        o[e] = a[j];
      else
        o[e - n] = a[j] ? p - a[j] : 0;
    }
  }
}

void fsn_he_monomial_mul(const fsn_he_ctx *ctx, uint64_t *out, const uint64_t *in, size_t k) {
  const size_t n = ctx->par.n;
  for (int i = 0; i < 2; i++) {
    const uint64_t p = ctx->p[i], *a = in + i * n;
    uint64_t *o = out + i * n;
    for (size_t j = 0; j < n; j++) {
      const size_t e = (j + k) % (2 * n);
      const bool neg = e >= n;
      o[neg ? e - n : e] = neg && a[j] ? p - a[j] : a[j];
    }
  }
}

void fsn_he_galois_key_free(fsn_he_galois_key *key) {
  free(key->b_hat), free(key->a_hat);
  *key = (fsn_he_galois_key){0};
}

fsn_status fsn_he_galois_key_from(const fsn_he_ctx *ctx, fsn_he_galois_key *key, const uint64_t *b_hat,
                                  const uint8_t seed[32], uint64_t index, uint32_t g) {
  const size_t words = 2 * (size_t)ctx->par.n;
  *key = (fsn_he_galois_key){.g = g};
  key->b_hat = malloc(FSN_HE_KS_DIGITS * words * 8), key->a_hat = malloc(FSN_HE_KS_DIGITS * words * 8);
  if (!key->b_hat || !key->a_hat) {
    fsn_he_galois_key_free(key);
    return fsn_fail(FSN_E_NOMEM, "he keys");
  }
  memcpy(key->b_hat, b_hat, FSN_HE_KS_DIGITS * words * 8);
  for (size_t d = 0; d < FSN_HE_KS_DIGITS; d++) fsn_he_expand_a(ctx, key->a_hat + d * words, seed, index + d);
  return FSN_OK;
}

fsn_status fsn_he_galois_keygen(const fsn_he_ctx *ctx, fsn_prg *prg, fsn_he_galois_key *key, const uint64_t *s_hat,
                                const uint8_t seed[32], uint64_t index, uint32_t g) {
  const size_t n = ctx->par.n, words = 2 * n;
  *key = (fsn_he_galois_key){.g = g};
  key->b_hat = malloc(FSN_HE_KS_DIGITS * words * 8), key->a_hat = malloc(FSN_HE_KS_DIGITS * words * 8);
  uint64_t *s = malloc(words * 8), *ts = malloc(words * 8), *zero = calloc(n, 8), *scratch = malloc(words * 8);
  fsn_status st = key->b_hat && key->a_hat && s && ts && zero && scratch ? FSN_OK : fsn_fail(FSN_E_NOMEM, "he keys");
  if (st == FSN_OK) {
    memcpy(s, s_hat, words * 8);
    fsn_he_intt(ctx, s);
    fsn_he_automorphism(ctx, ts, s, g);
    for (size_t d = 0; d < FSN_HE_KS_DIGITS; d++) {
      uint64_t *b = key->b_hat + d * words, *a = key->a_hat + d * words;
      fsn_he_expand_a(ctx, a, seed, index + d);
      fsn_he_encrypt(ctx, prg, b, a, s_hat, zero, scratch); /* -a s + e */
      for (int i = 0; i < 2; i++) {
        const uint64_t p = ctx->p[i], scale = mulmod(((uint64_t)1 << (FSN_HE_KS_BITS / 2)) % p,
                                                     ((uint64_t)1 << (FSN_HE_KS_BITS - FSN_HE_KS_BITS / 2)) % p, p);
        uint64_t power = 1; /* 2^(w d) mod p */
        for (size_t e = 0; e < d; e++) power = mulmod(power, scale, p);
        for (size_t j = 0; j < n; j++) {
          const uint64_t v = b[i * n + j] + mulmod(ts[i * n + j], power, p);
          b[i * n + j] = v >= p ? v - p : v;
        }
      }
      fsn_he_ntt(ctx, b);
    }
  }
  free(s), free(ts), free(zero), free(scratch);
  if (st != FSN_OK) fsn_he_galois_key_free(key);
  return st;
}

/* dig (FSN_HE_KS_DIGITS x 2N) = the base-2^w digits of every coefficient of x (2N residues) as an integer in
 * [0, q), each written mod both primes (a digit is below 2^w < p_i). One CRT per coefficient:
 * v = x1 + p1 ((x2 - x1) p1^-1 mod p2), the product by the constant p1^-1 a Shoup multiply. */
static void gadget_digits(const fsn_he_ctx *ctx, uint64_t *dig, const uint64_t *x) {
  const size_t n = ctx->par.n, words = 2 * n;
  const uint64_t p1 = ctx->p[0], p2 = ctx->p[1], mask = ((uint64_t)1 << FSN_HE_KS_BITS) - 1;
  const uint64_t w = fsn_ntt_inv_mod(p1 % p2, p2), w_shoup = (uint64_t)(((unsigned __int128)w << 64) / p2);
  for (size_t j = 0; j < n; j++) {
    const uint64_t x1 = x[j] % p2;
    const uint64_t diff = x[n + j] >= x1 ? x[n + j] - x1 : x[n + j] + p2 - x1;
    uint64_t k = w * diff - (uint64_t)(((unsigned __int128)w_shoup * diff) >> 64) * p2; /* in [0, 2 p2) */
    k = k >= p2 ? k - p2 : k;
    const unsigned __int128 v = (unsigned __int128)p1 * k + x[j];
    for (size_t d = 0; d < FSN_HE_KS_DIGITS; d++) {
      const uint64_t digit = (uint64_t)(v >> (FSN_HE_KS_BITS * d)) & mask;
      dig[d * words + j] = digit, dig[d * words + n + j] = digit;
    }
  }
}

static void rns_mul_acc(const fsn_he_ctx *ctx, uint64_t *acc, const uint64_t *a, const uint64_t *b) {
  const size_t n = ctx->par.n;
  for (int i = 0; i < 2; i++) fsn_ntt_mul_acc(acc + i * n, a + i * n, b + i * n, n, ctx->tab[i]);
}

static void rns_add(const fsn_he_ctx *ctx, uint64_t *c, const uint64_t *a, const uint64_t *b) {
  const size_t n = ctx->par.n;
  for (int i = 0; i < 2; i++) fsn_ntt_add(c + i * n, a + i * n, b + i * n, n, ctx->tab[i]);
}

static void rns_sub(const fsn_he_ctx *ctx, uint64_t *c, const uint64_t *a, const uint64_t *b) {
  const size_t n = ctx->par.n;
  for (int i = 0; i < 2; i++) fsn_ntt_sub(c + i * n, a + i * n, b + i * n, n, ctx->tab[i]);
}

void fsn_he_apply_galois(const fsn_he_ctx *ctx, const fsn_he_galois_key *key, uint64_t *c0, uint64_t *c1,
                         uint64_t *scratch) {
  const size_t n = ctx->par.n, words = 2 * n;
  uint64_t *t0 = scratch, *t1 = scratch + words, *dig = scratch + 2 * words;
  fsn_he_automorphism(ctx, t0, c0, key->g);
  fsn_he_automorphism(ctx, t1, c1, key->g);
  gadget_digits(ctx, dig, t1);
  memset(c0, 0, words * 8), memset(c1, 0, words * 8);
  for (size_t d = 0; d < FSN_HE_KS_DIGITS; d++) {
    fsn_he_ntt(ctx, dig + d * words);
    rns_mul_acc(ctx, c0, dig + d * words, key->b_hat + d * words);
    rns_mul_acc(ctx, c1, dig + d * words, key->a_hat + d * words);
  }
  fsn_he_intt(ctx, c0);
  fsn_he_intt(ctx, c1);
  rns_add(ctx, c0, c0, t0);
}

uint32_t fsn_he_pack_galois(const fsn_he_ctx *ctx, unsigned k, unsigned l) {
  return 1 + ctx->par.n / ((uint32_t)1 << (k - l));
}

/* ct[e] <- (E + X^s O) + key switched tau_g(E - X^s O), O = ct[o]. */
static void merge(const fsn_he_ctx *ctx, const fsn_he_galois_key *key, uint64_t *e, const uint64_t *o, size_t s,
                  uint64_t *scratch) {
  const size_t words = 2 * ctx->par.n;
  uint64_t *shifted = scratch, *diff = scratch + 2 * words, *rest = scratch + 4 * words; /* rest: 10N */
  for (int h = 0; h < 2; h++) {                                                          /* c0, then c1 */
    fsn_he_monomial_mul(ctx, shifted + h * words, o + h * words, s);
    rns_sub(ctx, diff + h * words, e + h * words, shifted + h * words);
    rns_add(ctx, e + h * words, e + h * words, shifted + h * words);
  }
  fsn_he_apply_galois(ctx, key, diff, diff + words, rest);
  for (int h = 0; h < 2; h++) rns_add(ctx, e + h * words, e + h * words, diff + h * words);
}

void fsn_he_pack(const fsn_he_ctx *ctx, const fsn_he_galois_key *keys, unsigned k, uint64_t *const *ct,
                 uint64_t *scratch) {
  const size_t n = ctx->par.n, count = (size_t)1 << k;
  for (int i = 0; i < 2; i++) { /* scale by 2^-k mod p_i: a Shoup product by the constant (no 128-bit division) */
    const uint64_t p = ctx->p[i], inv = fsn_ntt_inv_mod(((uint64_t)1 << k) % p, p);
    const uint64_t inv_shoup = (uint64_t)(((unsigned __int128)inv << 64) / p);
    for (size_t t = 0; t < count; t++)
      for (int h = 0; h < 2; h++) {
        uint64_t *x = ct[t] + h * 2 * n + i * n;
        for (size_t j = 0; j < n; j++) x[j] = fsn_he_mul_shoup(x[j], inv, inv_shoup, p);
      }
  }
  for (unsigned l = 1; l <= k; l++) {
    const size_t s = count >> l;
    for (size_t t = 0; t < s; t++) merge(ctx, &keys[l - 1], ct[t], ct[t + s], s, scratch);
  }
}
