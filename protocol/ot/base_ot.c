/* Base OT: Chou-Orlandi "simplest OT" over ristretto255 (libsodium), random-OT form, all n OTs batched into one
 * message each way. Sender: A = aG. Receiver: B_i = b_i G + c_i A. Keys are BLAKE2b of (index, A, B_i, point):
 * the sender's k0 from a B_i, k1 from a (B_i - A) = a B_i - a A; the receiver's from b_i A. Semi-honest only; see
 * docs/SECURITY.md for the caveats. */
#include "protocol/ot/ot_internal.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

enum { POINT = crypto_core_ristretto255_BYTES, SCALAR = crypto_core_ristretto255_SCALARBYTES };

static const char kdf_domain[16] = "fusion/base-ot/1";

/* Randomness: libsodium, or (tests only) an AES-CTR stream from a seed. */
typedef struct rng {
  fsn_prg prg;
  int seeded;
} rng;

static void rng_init(rng *r, const uint8_t *seed, uint8_t tag) {
  r->seeded = seed != NULL;
  if (!seed) return;
  uint8_t key[16];
  crypto_generichash(key, sizeof key, seed, 32, &tag, 1);
  fsn_prg_seed(&r->prg, key);
  sodium_memzero(key, sizeof key);
}

static void rng_scalar(rng *r, uint8_t s[SCALAR]) {
  uint8_t wide[crypto_core_ristretto255_NONREDUCEDSCALARBYTES];
  if (r->seeded)
    fsn_prg_bytes(&r->prg, wide, sizeof wide);
  else
    randombytes_buf(wide, sizeof wide);
  crypto_core_ristretto255_scalar_reduce(s, wide);
  sodium_memzero(wide, sizeof wide);
}

static void rng_done(rng *r) { sodium_memzero(r, sizeof *r); }

static void derive_key(uint8_t key[16], size_t i, const uint8_t A[POINT], const uint8_t B[POINT],
                       const uint8_t P[POINT]) {
  uint8_t in[sizeof kdf_domain + 8 + 3 * POINT];
  memcpy(in, kdf_domain, sizeof kdf_domain);
  for (int b = 0; b < 8; b++) in[sizeof kdf_domain + b] = (uint8_t)((uint64_t)i >> (8 * b));
  memcpy(in + sizeof kdf_domain + 8, A, POINT);
  memcpy(in + sizeof kdf_domain + 8 + POINT, B, POINT);
  memcpy(in + sizeof kdf_domain + 8 + 2 * POINT, P, POINT);
  crypto_generichash(key, 16, in, sizeof in, NULL, 0);
  sodium_memzero(in, sizeof in);
}

static fsn_status check_args(fsn_channel *ch, const void *a, const void *b, size_t n) {
  if (!ch || !a || !b) return fsn_fail(FSN_E_INVALID, "base OT: NULL channel or buffer");
  if (n == 0 || n > ((size_t)1 << 20))
    return fsn_fail(FSN_E_INVALID, "base OT: n = %zu outside 1 .. 2^20 (use OT extension for more)", n);
  return FSN_OK;
}

fsn_status fsn_base_ot_send(fsn_channel *ch, uint8_t *k0, uint8_t *k1, size_t n, const uint8_t *seed) {
  fsn_status st = check_args(ch, k0, k1, n);
  if (st != FSN_OK) return st;
  uint8_t *B = malloc(n * POINT);
  if (!B) return fsn_fail(FSN_E_NOMEM, "base OT: %zu bytes for the receiver's points", n * POINT);
  rng r;
  rng_init(&r, seed, 's');
  uint8_t a[SCALAR], A[POINT], aA[POINT], P0[POINT], P1[POINT];
  rng_scalar(&r, a);
  if (crypto_scalarmult_ristretto255_base(A, a) != 0) {
    st = fsn_fail(FSN_E_CRYPTO, "base OT: zero sender scalar");
    goto out;
  }
  if ((st = fsn_channel_send(ch, A, POINT)) != FSN_OK || (st = fsn_channel_flush(ch)) != FSN_OK) goto out;
  if ((st = fsn_channel_recv(ch, B, n * POINT)) != FSN_OK) goto out;
  if (crypto_scalarmult_ristretto255(aA, a, A) != 0) {
    st = fsn_fail(FSN_E_CRYPTO, "base OT: a A is the identity");
    goto out;
  }
  for (size_t i = 0; i < n; i++) {
    const uint8_t *Bi = B + i * POINT;
    /* scalarmult fails on an invalid encoding and on an identity result (B_i = 0); sub on B_i = A. */
    if (crypto_scalarmult_ristretto255(P0, a, Bi) != 0 || crypto_core_ristretto255_sub(P1, P0, aA) != 0 ||
        sodium_is_zero(P1, POINT)) {
      st = fsn_fail(FSN_E_CRYPTO, "base OT: receiver point %zu of %zu is invalid or degenerate", i, n);
      goto out;
    }
    derive_key(k0 + 16 * i, i, A, Bi, P0);
    derive_key(k1 + 16 * i, i, A, Bi, P1);
  }
out:
  sodium_memzero(a, sizeof a);
  sodium_memzero(P0, sizeof P0);
  sodium_memzero(P1, sizeof P1);
  rng_done(&r);
  free(B);
  return st;
}

fsn_status fsn_base_ot_recv(fsn_channel *ch, uint8_t *kc, const uint8_t *choice, size_t n, const uint8_t *seed) {
  fsn_status st = check_args(ch, kc, choice, n);
  if (st != FSN_OK) return st;
  uint8_t *B = malloc(n * POINT), *b = malloc(n * SCALAR);
  if (!B || !b) {
    free(B);
    free(b);
    return fsn_fail(FSN_E_NOMEM, "base OT: %zu bytes for points and scalars", n * (POINT + SCALAR));
  }
  rng r;
  rng_init(&r, seed, 'r');
  uint8_t A[POINT], bG[POINT], bGA[POINT], P[POINT];
  if ((st = fsn_channel_recv(ch, A, POINT)) != FSN_OK) goto out;
  if (!crypto_core_ristretto255_is_valid_point(A) || sodium_is_zero(A, POINT)) {
    st = fsn_fail(FSN_E_CRYPTO, "base OT: the sender's point is invalid or the identity");
    goto out;
  }
  for (size_t i = 0; i < n; i++) {
    uint8_t *bi = b + i * SCALAR, *Bi = B + i * POINT;
    rng_scalar(&r, bi);
    if (crypto_scalarmult_ristretto255_base(bG, bi) != 0 || crypto_core_ristretto255_add(bGA, bG, A) != 0) {
      st = fsn_fail(FSN_E_CRYPTO, "base OT: degenerate receiver scalar %zu", i);
      goto out;
    }
    /* B_i = c_i ? bG + A : bG, selected without a branch on the choice bit. */
    uint8_t mask = (uint8_t)(0u - ((choice[i / 8] >> (i % 8)) & 1u));
    for (int k = 0; k < POINT; k++) Bi[k] = (uint8_t)(bG[k] ^ (mask & (bG[k] ^ bGA[k])));
  }
  if ((st = fsn_channel_send(ch, B, n * POINT)) != FSN_OK || (st = fsn_channel_flush(ch)) != FSN_OK) goto out;
  for (size_t i = 0; i < n; i++) {
    if (crypto_scalarmult_ristretto255(P, b + i * SCALAR, A) != 0) {
      st = fsn_fail(FSN_E_CRYPTO, "base OT: b_%zu A is the identity", i);
      goto out;
    }
    derive_key(kc + 16 * i, i, A, B + i * POINT, P);
  }
out:
  sodium_memzero(b, n * SCALAR);
  sodium_memzero(bG, sizeof bG);
  sodium_memzero(bGA, sizeof bGA);
  sodium_memzero(P, sizeof P);
  rng_done(&r);
  free(B);
  free(b);
  return st;
}

/* ---- base OTs of an extension ------------------------------------------------------------------------------------ */

void fsn_ot_local_prg(fsn_prg *prg, const uint8_t *seed, const char domain[16]) {
  uint8_t key[16];
  if (seed)
    crypto_generichash(key, sizeof key, seed, 32, (const uint8_t *)domain, 16);
  else
    randombytes_buf(key, sizeof key);
  fsn_prg_seed(prg, key);
  sodium_memzero(key, sizeof key);
}

fsn_status fsn_ot_base_setup(fsn_channel *ch, fsn_ot_role role, size_t k, fsn_prg *g0, fsn_prg *g1, uint8_t *choice,
                             const uint8_t *seed, const char domain[16]) {
  uint8_t *k0 = malloc(16 * k), *k1 = malloc(16 * k), base_seed[32];
  if (!k0 || !k1) {
    free(k0), free(k1);
    return fsn_fail(FSN_E_NOMEM, "base OTs: %zu keys", 2 * k);
  }
  fsn_prg local;
  fsn_ot_local_prg(&local, seed, domain);
  fsn_prg_bytes(&local, base_seed, sizeof base_seed);
  const uint8_t *bseed = seed ? base_seed : NULL;
  fsn_status st;
  if (role == FSN_OT_RECEIVER) {
    st = fsn_base_ot_send(ch, k0, k1, k, bseed);
    if (st == FSN_OK)
      for (size_t j = 0; j < k; j++) {
        fsn_prg_seed(&g0[j], k0 + 16 * j);
        fsn_prg_seed(&g1[j], k1 + 16 * j);
      }
  } else {
    fsn_prg_bytes(&local, choice, k / 8);
    st = fsn_base_ot_recv(ch, k0, choice, k, bseed);
    if (st == FSN_OK)
      for (size_t j = 0; j < k; j++) fsn_prg_seed(&g0[j], k0 + 16 * j);
  }
  sodium_memzero(k0, 16 * k);
  sodium_memzero(k1, 16 * k);
  sodium_memzero(base_seed, sizeof base_seed);
  sodium_memzero(&local, sizeof local);
  free(k0), free(k1);
  return st;
}
