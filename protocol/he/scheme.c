/* The BFV-style scheme of the he backend (he_scheme.h) over the NTT kernels (include/fusion/ntt.h). */
#include "protocol/he/he_scheme.h"

#include <fusion/channel.h>
#include <sodium.h>
#include <stdbool.h>
#include <string.h>

fsn_status fsn_he_ctx_init(fsn_he_ctx *ctx, unsigned ell) {
  *ctx = (fsn_he_ctx){0};
  fsn_status st = fsn_he_params_make(&ctx->par, ell);
  if (st != FSN_OK) return st;
  ctx->p[0] = ctx->par.p1, ctx->p[1] = ctx->par.p2;
  if (ctx->p[0] >> ell == 0 || ctx->p[1] >> ell == 0) /* fsn_he_lift relies on p > t */
    return fsn_fail(FSN_E_UNSUPPORTED, "he: ell = %u: a prime of q is below t = 2^ell", ell);
  for (int i = 0; i < 2 && st == FSN_OK; i++) {
    st = fsn_ntt_table_create(&ctx->tab[i], ctx->p[i], ctx->par.n);
    /* Delta t = q - 1 = -1 mod p_i, so Delta = -t^-1 = -(t^(p-2)) mod p_i. */
    uint64_t t_inv = fsn_ntt_inv_mod(((uint64_t)1 << ell) % ctx->p[i], ctx->p[i]);
    ctx->delta[i] = (ctx->p[i] - t_inv) % ctx->p[i];
  }
  if (st != FSN_OK) fsn_he_ctx_free(ctx);
  return st;
}

void fsn_he_ctx_free(fsn_he_ctx *ctx) {
  for (int i = 0; i < 2; i++) fsn_ntt_table_destroy(ctx->tab[i]), ctx->tab[i] = NULL;
}

void fsn_he_prg_fresh(fsn_prg *prg) {
  uint8_t seed[16];
  randombytes_buf(seed, sizeof seed);
  fsn_prg_seed(prg, seed);
  sodium_memzero(seed, sizeof seed);
}

void fsn_he_lift(const fsn_he_ctx *ctx, uint64_t *out, const uint64_t *v, const uint64_t *mult) {
  const size_t n = ctx->par.n;
  const uint64_t t = (uint64_t)1 << ctx->par.ell, half = t / 2;
  for (int i = 0; i < 2; i++) {
    const uint64_t p = ctx->p[i]; /* > 2^49 > t: the centred value needs no reduction */
    const uint64_t w = mult ? mult[i] % p : 1, w_shoup = (uint64_t)(((unsigned __int128)w << 64) / p);
    uint64_t *o = out + i * n;
    for (size_t j = 0; j < n; j++) {
      const uint64_t x = v[j] & (t - 1);
      o[j] = x < half ? x : p - (t - x); /* the centred value x - t when x >= t / 2 */
    }
    if (mult)
      for (size_t j = 0; j < n; j++) o[j] = fsn_he_mul_shoup(o[j], w, w_shoup, p);
  }
}

/* Sampled mod p1; the same small integer written mod p2. */
static void copy_small_to_p2(const fsn_he_ctx *ctx, uint64_t *out) {
  const size_t n = ctx->par.n;
  const uint64_t p1 = ctx->p[0], p2 = ctx->p[1];
  for (size_t j = 0; j < n; j++) out[n + j] = out[j] > p1 / 2 ? p2 - (p1 - out[j]) : out[j];
}

void fsn_he_sample_ternary(const fsn_he_ctx *ctx, fsn_prg *prg, uint64_t *out) {
  fsn_ntt_sample_ternary(prg, out, ctx->par.n, ctx->p[0]);
  copy_small_to_p2(ctx, out);
}

void fsn_he_sample_error(const fsn_he_ctx *ctx, fsn_prg *prg, uint64_t *out) {
  fsn_ntt_sample_cbd(prg, out, ctx->par.n, ctx->p[0], FSN_HE_ETA);
  copy_small_to_p2(ctx, out);
}

void fsn_he_expand_a(const fsn_he_ctx *ctx, uint64_t *a_hat, const uint8_t seed[32], uint64_t index) {
  for (int i = 0; i < 2; i++) {
    uint8_t msg[9], key[16];
    for (int b = 0; b < 8; b++) msg[b] = (uint8_t)(index >> (8 * b));
    msg[8] = (uint8_t)i;
    crypto_generichash(key, sizeof key, msg, sizeof msg, seed, 32);
    fsn_prg prg;
    fsn_prg_seed(&prg, key);
    fsn_ntt_sample_uniform(&prg, a_hat + i * ctx->par.n, ctx->par.n, ctx->p[i]);
  }
}

void fsn_he_ntt(const fsn_he_ctx *ctx, uint64_t *a) {
  for (int i = 0; i < 2; i++) fsn_ntt_forward(a + i * ctx->par.n, ctx->tab[i]);
}

void fsn_he_intt(const fsn_he_ctx *ctx, uint64_t *a) {
  for (int i = 0; i < 2; i++) fsn_ntt_inverse(a + i * ctx->par.n, ctx->tab[i]);
}

void fsn_he_keygen(const fsn_he_ctx *ctx, fsn_prg *prg, uint64_t *s_hat) {
  fsn_he_sample_ternary(ctx, prg, s_hat);
  fsn_he_ntt(ctx, s_hat);
}

/* c = c op b over both residues (op: fsn_ntt_add / fsn_ntt_sub / fsn_ntt_mul / fsn_ntt_mul_acc). */
typedef void (*rns_op)(uint64_t *, const uint64_t *, const uint64_t *, size_t, const fsn_ntt_table *);
static void rns(const fsn_he_ctx *ctx, rns_op op, uint64_t *c, const uint64_t *a, const uint64_t *b) {
  const size_t n = ctx->par.n;
  for (int i = 0; i < 2; i++) op(c + i * n, a + i * n, b + i * n, n, ctx->tab[i]);
}

void fsn_he_encrypt(const fsn_he_ctx *ctx, fsn_prg *prg, uint64_t *c0, const uint64_t *a_hat, const uint64_t *s_hat,
                    const uint64_t *m, uint64_t *scratch) {
  fsn_he_lift(ctx, c0, m, ctx->delta);
  fsn_he_sample_error(ctx, prg, scratch);
  rns(ctx, fsn_ntt_add, c0, c0, scratch);
  rns(ctx, fsn_ntt_mul, scratch, a_hat, s_hat);
  fsn_he_intt(ctx, scratch);
  rns(ctx, fsn_ntt_sub, c0, c0, scratch);
}

void fsn_he_decrypt(const fsn_he_ctx *ctx, uint64_t *m, const uint64_t *c0, const uint64_t *c1, const uint64_t *s_hat,
                    uint64_t *scratch) {
  const size_t n = ctx->par.n;
  memcpy(scratch, c1, 2 * n * sizeof *scratch);
  fsn_he_ntt(ctx, scratch);
  rns(ctx, fsn_ntt_mul, scratch, scratch, s_hat);
  fsn_he_intt(ctx, scratch);
  rns(ctx, fsn_ntt_add, scratch, scratch, c0);
  fsn_ntt_modswitch_pow2(m, scratch, scratch + n, n, ctx->p[0], ctx->p[1], ctx->par.ell);
}

void fsn_he_rerandomise(const fsn_he_ctx *ctx, fsn_prg *prg, uint64_t *acc0, uint64_t *acc1, const uint64_t *pk_b_hat,
                        const uint64_t *pk_a_hat, uint64_t *scratch) {
  fsn_he_sample_ternary(ctx, prg, scratch);
  fsn_he_ntt(ctx, scratch);
  rns(ctx, fsn_ntt_mul_acc, acc0, scratch, pk_b_hat);
  rns(ctx, fsn_ntt_mul_acc, acc1, scratch, pk_a_hat);
  fsn_he_intt(ctx, acc0);
  fsn_he_intt(ctx, acc1);
  fsn_he_sample_error(ctx, prg, scratch);
  rns(ctx, fsn_ntt_add, acc0, acc0, scratch);
  fsn_he_sample_error(ctx, prg, scratch);
  rns(ctx, fsn_ntt_add, acc1, acc1, scratch);
}

void fsn_he_switch_drop(const fsn_he_ctx *ctx, uint64_t *out, const uint64_t *x, const uint32_t *pos, size_t m,
                        unsigned d, uint64_t *scratch) {
  const size_t n = ctx->par.n;
  const uint64_t *x1 = x, *x2 = x + n;
  if (pos) {
    for (size_t k = 0; k < m; k++) scratch[k] = x[pos[k]], scratch[m + k] = x[n + pos[k]];
    x1 = scratch, x2 = scratch + m;
  }
  fsn_ntt_modswitch_prime(out, x1, x2, m, ctx->p[0], ctx->p[1]);
  if (d)
    for (size_t k = 0; k < m; k++) out[k] = (out[k] + ((uint64_t)1 << (d - 1))) >> d;
}

uint64_t fsn_he_dropped_max(const fsn_he_ctx *ctx, unsigned d) {
  return d ? (ctx->p[0] - 1 + ((uint64_t)1 << (d - 1))) >> d : ctx->p[0] - 1;
}

unsigned fsn_he_dropped_bits(const fsn_he_ctx *ctx, unsigned d) {
  return 64 - (unsigned)__builtin_clzll(fsn_he_dropped_max(ctx, d));
}

/* A dropped value back at its scale, mod p1. */
static uint64_t undrop(uint64_t v, unsigned d, uint64_t p) {
  uint64_t x = v << d;
  return x >= p ? x - p : x;
}

void fsn_he_decrypt_switched(const fsn_he_ctx *ctx, uint64_t *out, const uint64_t *c0, uint64_t *c1,
                             const uint32_t *pos, size_t m, const uint64_t *s_hat) {
  const size_t n = ctx->par.n;
  const uint64_t p = ctx->p[0];
  const unsigned ell = ctx->par.ell;
  for (size_t j = 0; j < n; j++) c1[j] = undrop(c1[j], ctx->par.drop_c1, p);
  fsn_ntt_forward(c1, ctx->tab[0]);
  fsn_ntt_mul(c1, c1, s_hat, n, ctx->tab[0]);
  fsn_ntt_inverse(c1, ctx->tab[0]);
  for (size_t k = 0; k < m; k++) {
    uint64_t x = undrop(c0[k], ctx->par.drop_c0, p) + c1[pos[k]];
    if (x >= p) x -= p;
    /* round(t x / p1) mod t */
    out[k] = (uint64_t)((((unsigned __int128)x << ell) + p / 2) / p) & (((uint64_t)1 << ell) - 1);
  }
}

size_t fsn_he_rns_window_bytes(const fsn_he_ctx *ctx, size_t count) {
  return fsn_wire_packed_bytes(count, ctx->par.bits_p1) + fsn_wire_packed_bytes(count, ctx->par.bits_p2);
}

size_t fsn_he_rns_bytes(const fsn_he_ctx *ctx) { return fsn_he_rns_window_bytes(ctx, ctx->par.n); }

void fsn_he_rns_pack_window(const fsn_he_ctx *ctx, uint8_t *out, const uint64_t *a, size_t lo, size_t count,
                            uint64_t *scratch) {
  const size_t n = ctx->par.n;
  const bool whole = lo == 0 && count == n;
  for (int i = 0; i < 2; i++) {
    const uint64_t *v = a + i * n;
    if (!whole) {
      for (size_t k = 0; k < count; k++) scratch[k] = v[(lo + k) % n];
      v = scratch;
    }
    const unsigned bits = i ? ctx->par.bits_p2 : ctx->par.bits_p1;
    fsn_wire_pack(out, v, count, bits);
    out += fsn_wire_packed_bytes(count, bits);
  }
}

void fsn_he_rns_pack(const fsn_he_ctx *ctx, uint8_t *out, const uint64_t *a) {
  fsn_he_rns_pack_window(ctx, out, a, 0, ctx->par.n, NULL);
}

fsn_status fsn_he_rns_unpack_window(const fsn_he_ctx *ctx, uint64_t *a, const uint8_t *in, size_t lo, size_t count,
                                    uint64_t *scratch) {
  const size_t n = ctx->par.n;
  const bool whole = lo == 0 && count == n;
  for (int i = 0; i < 2; i++) {
    uint64_t *v = whole ? a + i * n : scratch;
    const unsigned bits = i ? ctx->par.bits_p2 : ctx->par.bits_p1;
    fsn_status st = fsn_wire_unpack(v, in, count, bits);
    if (st != FSN_OK) return st;
    in += fsn_wire_packed_bytes(count, bits);
    for (size_t k = 0; k < count; k++)
      if (v[k] >= ctx->p[i])
        return fsn_fail(FSN_E_PROTOCOL, "he: residue %zu of prime %d is %llu, not below p = %llu", (lo + k) % n, i + 1,
                        (unsigned long long)v[k], (unsigned long long)ctx->p[i]);
    if (!whole) {
      memset(a + i * n, 0, n * sizeof *a);
      for (size_t k = 0; k < count; k++) a[i * n + (lo + k) % n] = v[k];
    }
  }
  return FSN_OK;
}

fsn_status fsn_he_rns_unpack(const fsn_he_ctx *ctx, uint64_t *a, const uint8_t *in) {
  return fsn_he_rns_unpack_window(ctx, a, in, 0, ctx->par.n, NULL);
}
