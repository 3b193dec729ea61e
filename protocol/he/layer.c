/* The two-party protocol of one conv2d / FC layer under RLWE (include/fusion/he.h, docs/PROTOCOLS.md).
 *
 * Messages (all on channel 0, one round trip per layer after the key setup):
 *   key setup  client -> server  key header (72 bytes: magic, version, N, ell, p1, p2, dropped bits, pk seed), b_pk
 *              server -> client  status (8 bytes: magic, 0 or the negative fsn_status of the refusal)
 *   layer      client -> server  layer header (72 bytes: magic, version, kind, counts, seed of the a's), then one
 *                                frame per input ciphertext: c0 mod p1 and mod p2
 *              server -> client  status, then one frame per output ciphertext: c1 and the output coefficients of
 *                                c0, both mod p1 with low bits dropped
 * Both parties derive the partition, the counts and every frame size from the public shape and parameters; the
 * server checks the header and every residue, answers a mismatch with a refusal (the client fails with it), and
 * never computes on a malformed ciphertext. The client checks the range of every returned value. */
#include "protocol/he/he_encode.h"
#include "protocol/he/he_scheme.h"

#include <fusion/channel.h>
#include <fusion/linear.h>
#include <math.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
  KEY_MAGIC = 0x4b454846,    /* "FHEK" */
  LAYER_MAGIC = 0x4c454846,  /* "FHEL" */
  STATUS_MAGIC = 0x53454846, /* "FHES" */
  WIRE_VERSION = 1,
  HEADER_BYTES = 72,
  STATUS_BYTES = 8,
};

struct fsn_he {
  fsn_he_ctx ctx;
  fsn_role role;
  uint64_t *s_hat;               /* client: the secret, NTT domain */
  uint64_t *pk_b_hat, *pk_a_hat; /* server: the client's public key, NTT domain */
};

static void put32(uint8_t *p, uint32_t v) {
  for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static void put64(uint8_t *p, uint64_t v) {
  for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static uint32_t get32(const uint8_t *p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; i++) v |= (uint32_t)p[i] << (8 * i);
  return v;
}
static uint64_t get64(const uint8_t *p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; i++) v |= (uint64_t)p[i] << (8 * i);
  return v;
}

static fsn_status send_status(fsn_channel *ch, fsn_status code) {
  uint8_t b[STATUS_BYTES];
  put32(b, STATUS_MAGIC), put32(b + 4, (uint32_t)(int32_t)code);
  fsn_status st = fsn_channel_send(ch, b, sizeof b);
  return st == FSN_OK ? fsn_channel_flush(ch) : st;
}

/* The server's answer; a refusal is returned as the server's code. */
static fsn_status recv_status(fsn_channel *ch, const char *what) {
  uint8_t b[STATUS_BYTES];
  fsn_status st = fsn_channel_recv(ch, b, sizeof b);
  if (st != FSN_OK) return st;
  if (get32(b) != STATUS_MAGIC) return fsn_fail(FSN_E_PROTOCOL, "he %s: the server's status frame is malformed", what);
  int32_t code = (int32_t)get32(b + 4);
  if (code == 0) return FSN_OK;
  if (code > 0 || code < FSN_E_CHEATING) return fsn_fail(FSN_E_PROTOCOL, "he %s: unknown server status %d", what, code);
  return fsn_fail((fsn_status)code, "he %s: the server refused (%s)", what, fsn_strerror((fsn_status)code));
}

/* The server refuses: it tells the client, then fails itself with the reason already recorded. */
static fsn_status refuse(fsn_channel *ch, fsn_status why) {
  char reason[256];
  snprintf(reason, sizeof reason, "%s", fsn_last_error());
  (void)send_status(ch, why); /* best effort: the stream may already be out of step */
  return fsn_fail(why, "%s", reason);
}

/* ---- key setup ---- */

static void key_header(const fsn_he_params *par, uint8_t *h, const uint8_t seed[32]) {
  put32(h, KEY_MAGIC), put32(h + 4, WIRE_VERSION), put32(h + 8, par->n), put32(h + 12, par->ell);
  put64(h + 16, par->p1), put64(h + 24, par->p2), put32(h + 32, par->drop_c0), put32(h + 36, par->drop_c1);
  memcpy(h + 40, seed, 32);
}

static fsn_status client_keys(fsn_he *he, fsn_channel *ch) {
  const fsn_he_ctx *ctx = &he->ctx;
  const size_t n = ctx->par.n;
  uint8_t h[HEADER_BYTES], seed[32];
  fsn_prg prg;
  fsn_he_prg_fresh(&prg);
  randombytes_buf(seed, sizeof seed);
  key_header(&ctx->par, h, seed);
  uint64_t *a = malloc(2 * n * 8), *b = malloc(2 * n * 8), *scratch = malloc(2 * n * 8), *zero = calloc(n, 8);
  uint8_t *wire = malloc(fsn_he_rns_bytes(ctx));
  fsn_status st = a && b && scratch && zero && wire ? FSN_OK : fsn_fail(FSN_E_NOMEM, "he key setup");
  if (st == FSN_OK) {
    fsn_he_keygen(ctx, &prg, he->s_hat);
    fsn_he_expand_a(ctx, a, seed, UINT64_MAX); /* b = -a s + e: an encryption of zero under the pk seed */
    fsn_he_encrypt(ctx, &prg, b, a, he->s_hat, zero, scratch);
    fsn_he_rns_pack(ctx, wire, b);
    st = fsn_channel_send(ch, h, sizeof h);
  }
  if (st == FSN_OK) st = fsn_channel_send(ch, wire, fsn_he_rns_bytes(ctx));
  if (st == FSN_OK) st = fsn_channel_flush(ch);
  if (st == FSN_OK) st = recv_status(ch, "key setup");
  free(a), free(b), free(scratch), free(zero), free(wire);
  sodium_memzero(&prg, sizeof prg);
  return st;
}

static fsn_status server_keys(fsn_he *he, fsn_channel *ch) {
  const fsn_he_ctx *ctx = &he->ctx;
  const fsn_he_params *par = &ctx->par;
  uint8_t h[HEADER_BYTES];
  fsn_status st = fsn_channel_recv(ch, h, sizeof h);
  if (st != FSN_OK) return st;
  if (get32(h) != KEY_MAGIC || get32(h + 4) != WIRE_VERSION) {
    fsn_fail(FSN_E_PROTOCOL, "he key setup: not a key header of version %d", WIRE_VERSION);
    return refuse(ch, FSN_E_PROTOCOL);
  }
  if (get32(h + 8) != par->n || get32(h + 12) != par->ell || get64(h + 16) != par->p1 || get64(h + 24) != par->p2 ||
      get32(h + 32) != par->drop_c0 || get32(h + 36) != par->drop_c1) {
    fsn_fail(FSN_E_MISMATCH,
             "he key setup: the client's parameters (N %u, ell %u, p1 %llu, p2 %llu, dropped %u/%u) differ from the "
             "server's (N %u, ell %u, p1 %llu, p2 %llu, dropped %u/%u)",
             get32(h + 8), get32(h + 12), (unsigned long long)get64(h + 16), (unsigned long long)get64(h + 24),
             get32(h + 32), get32(h + 36), par->n, par->ell, (unsigned long long)par->p1, (unsigned long long)par->p2,
             par->drop_c0, par->drop_c1);
    return refuse(ch, FSN_E_MISMATCH);
  }
  uint8_t *wire = malloc(fsn_he_rns_bytes(ctx));
  if (!wire) return fsn_fail(FSN_E_NOMEM, "he key setup");
  st = fsn_channel_recv(ch, wire, fsn_he_rns_bytes(ctx));
  if (st == FSN_OK) {
    if ((st = fsn_he_rns_unpack(ctx, he->pk_b_hat, wire)) != FSN_OK) {
      st = refuse(ch, st);
    } else {
      fsn_he_ntt(ctx, he->pk_b_hat);
      fsn_he_expand_a(ctx, he->pk_a_hat, h + 40, UINT64_MAX);
      st = send_status(ch, FSN_OK);
    }
  }
  free(wire);
  return st;
}

fsn_status fsn_he_create(fsn_he **out, fsn_2pc *p) {
  *out = NULL;
  fsn_he *he = calloc(1, sizeof *he);
  if (!he) return fsn_fail(FSN_E_NOMEM, "he keys");
  he->role = fsn_2pc_role(p);
  fsn_status st = fsn_he_ctx_init(&he->ctx, fsn_2pc_ell(p));
  if (st != FSN_OK) {
    free(he);
    return st;
  }
  const size_t words = 2 * (size_t)he->ctx.par.n;
  if (he->role == FSN_ROLE_CLIENT) {
    he->s_hat = sodium_malloc(words * 8);
    st = he->s_hat ? client_keys(he, fsn_2pc_channel(p, 0)) : fsn_fail(FSN_E_NOMEM, "he secret key");
  } else {
    he->pk_b_hat = malloc(words * 8), he->pk_a_hat = malloc(words * 8);
    st = he->pk_b_hat && he->pk_a_hat ? server_keys(he, fsn_2pc_channel(p, 0)) : fsn_fail(FSN_E_NOMEM, "he keys");
  }
  if (st != FSN_OK) {
    fsn_he_destroy(he);
    return st;
  }
  *out = he;
  return FSN_OK;
}

void fsn_he_destroy(fsn_he *he) {
  if (!he) return;
  if (he->s_hat) sodium_free(he->s_hat); /* wiped on free */
  free(he->pk_b_hat), free(he->pk_a_hat);
  fsn_he_ctx_free(&he->ctx);
  free(he);
}

const fsn_he_params *fsn_he_params_of(const fsn_he *he) { return &he->ctx.par; }

/* ---- one layer ---- */

/* The largest fan (weights per output filter) whose honest noise fits the budget (fsn_he_flooding's bound). */
static double max_fan(const fsn_he_params *par) {
  return (par->max_noise - 4 - FSN_HE_ETA * (2.0 * par->n + 1)) / ((FSN_HE_ETA + 0.5) * ldexp(1, (int)par->ell - 1));
}

/* The partition search weighs ciphertexts by the bytes they move. */
static fsn_he_cost wire_cost(const fsn_he_ctx *ctx) {
  const fsn_he_params *par = &ctx->par;
  return (fsn_he_cost){
      .in_bytes = (double)fsn_he_rns_bytes(ctx),
      .out_fixed_bytes = (double)fsn_ring_packed_bytes(par->n, fsn_he_dropped_bits(ctx, par->drop_c1)),
      .out_coeff_bytes = fsn_he_dropped_bits(ctx, par->drop_c0) / 8.0,
      .max_fan = max_fan(par),
  };
}

typedef struct layer_run {
  const fsn_he_ctx *ctx;
  fsn_he_layer l;
  size_t in_total, out_total, out_coeffs; /* over the batch */
  double flood;
  unsigned w0, w1; /* wire widths of returned c0 / c1 values */
} layer_run;

static size_t out_frame_bytes(const layer_run *r, size_t m) {
  return fsn_ring_packed_bytes(r->ctx->par.n, r->w1) + fsn_ring_packed_bytes(m, r->w0);
}

/* Plan the layer the same way on both sides; a layer the parameters cannot hold fails before any message. */
static fsn_status layer_plan(layer_run *r, const fsn_he_ctx *ctx, const fsn_conv2d_shape *s, bool fc) {
  *r = (layer_run){.ctx = ctx};
  const fsn_he_cost cost = wire_cost(ctx);
  fsn_status st = fc ? fsn_he_layer_fc(&r->l, s->batch, s->in_c, s->out_c, ctx->par.n, &cost)
                     : fsn_he_layer_conv(&r->l, s, ctx->par.n, &cost);
  if (st != FSN_OK) return st;
  double honest;
  if ((st = fsn_he_flooding(&ctx->par, fsn_he_layer_fan(&r->l), &honest, &r->flood)) != FSN_OK) return st;
  r->in_total = s->batch * fsn_he_layer_in_cts(&r->l);
  r->out_total = s->batch * fsn_he_layer_out_cts(&r->l);
  r->out_coeffs = s->batch * fsn_he_layer_out_size(&r->l);
  r->w0 = fsn_he_dropped_bits(ctx, ctx->par.drop_c0), r->w1 = fsn_he_dropped_bits(ctx, ctx->par.drop_c1);
  if (fsn_he_layer_out_size(&r->l) > UINT32_MAX) return fsn_fail(FSN_E_INVALID, "he layer: too many outputs per item");
  return FSN_OK;
}

static void layer_header(const layer_run *r, uint8_t *h, const uint8_t seed[32]) {
  put32(h, LAYER_MAGIC), put32(h + 4, WIRE_VERSION), put32(h + 8, r->l.fc), put32(h + 12, r->ctx->par.n);
  put64(h + 16, r->in_total), put64(h + 24, r->out_total), put64(h + 32, r->out_coeffs);
  memcpy(h + 40, seed, 32);
}

/* Client: encrypt every input block, then decrypt the returned outputs into y. */
static fsn_status client_layer(fsn_he *he, fsn_channel *ch, const layer_run *r, uint64_t *y, const uint64_t *x) {
  const fsn_he_ctx *ctx = &he->ctx;
  const fsn_he_layer *l = &r->l;
  const size_t n = ctx->par.n, in_size = fsn_he_layer_in_size(l), out_size = fsn_he_layer_out_size(l);
  const size_t in_cts = fsn_he_layer_in_cts(l), rns_bytes = fsn_he_rns_bytes(ctx);
  uint8_t h[HEADER_BYTES], seed[32];
  randombytes_buf(seed, sizeof seed);
  layer_header(r, h, seed);
  fsn_prg prg;
  fsn_he_prg_fresh(&prg);
  uint64_t *m = malloc(n * 8), *a = malloc(2 * n * 8), *c = malloc(2 * n * 8), *scratch = malloc(2 * n * 8);
  uint32_t *coeff = malloc(n * 4), *dest = malloc(n * 4);
  uint8_t *wire = malloc(rns_bytes > out_frame_bytes(r, n) ? rns_bytes : out_frame_bytes(r, n));
  fsn_status st = m && a && c && scratch && coeff && dest && wire ? FSN_OK : fsn_fail(FSN_E_NOMEM, "he layer");
  if (st == FSN_OK) st = fsn_channel_send(ch, h, sizeof h);
  for (size_t i = 0; i < r->in_total && st == FSN_OK; i++) {
    fsn_he_layer_encode_input(l, m, x + i / in_cts * in_size, i % in_cts);
    fsn_he_expand_a(ctx, a, seed, i);
    fsn_he_encrypt(ctx, &prg, c, a, he->s_hat, m, scratch);
    fsn_he_rns_pack(ctx, wire, c);
    st = fsn_channel_send(ch, wire, rns_bytes);
  }
  if (st == FSN_OK) st = fsn_channel_flush(ch);
  if (st == FSN_OK) st = recv_status(ch, "layer");
  /* Outputs in the server's order: filter group, batch item, tile. */
  const uint64_t max0 = fsn_he_dropped_max(ctx, ctx->par.drop_c0), max1 = fsn_he_dropped_max(ctx, ctx->par.drop_c1);
  for (size_t g = 0; g < l->groups && st == FSN_OK; g++)
    for (size_t item = 0; item < l->s.batch && st == FSN_OK; item++)
      for (size_t u = 0; u < l->per_group && st == FSN_OK; u++) {
        const size_t cnt = fsn_he_layer_outputs(l, g, u, coeff, dest), c1_bytes = fsn_ring_packed_bytes(n, r->w1);
        if ((st = fsn_channel_recv(ch, wire, out_frame_bytes(r, cnt))) != FSN_OK) break;
        if ((st = fsn_ring_unpack(a, wire, n, r->w1)) != FSN_OK) break;
        if ((st = fsn_ring_unpack(c, wire + c1_bytes, cnt, r->w0)) != FSN_OK) break;
        for (size_t k = 0; k < n && st == FSN_OK; k++)
          if (a[k] > max1 || (k < cnt && c[k] > max0))
            st = fsn_fail(FSN_E_PROTOCOL, "he layer: returned value %zu out of range", k);
        if (st != FSN_OK) break;
        fsn_he_decrypt_switched(ctx, m, c, a, coeff, cnt, he->s_hat);
        for (size_t k = 0; k < cnt; k++) y[item * out_size + dest[k]] = m[k];
      }
  free(m), free(a), free(c), free(scratch), free(coeff), free(dest), free(wire);
  sodium_memzero(&prg, sizeof prg);
  return st;
}

/* A uniform integer in [-f, f] (f <= 2^62) written mod p1 and mod p2 at out[0], out[n]. */
static void flood_sample(const fsn_he_ctx *ctx, fsn_prg *prg, uint64_t f, uint64_t *v1, uint64_t *v2) {
  const uint64_t range = 2 * f + 1, limit = UINT64_MAX - UINT64_MAX % range;
  uint64_t x;
  do fsn_prg_bytes(prg, &x, sizeof x);
  while (x >= limit);
  x %= range;
  if (x >= f) { /* x - f >= 0 */
    *v1 = (x - f) % ctx->p[0], *v2 = (x - f) % ctx->p[1];
  } else {
    *v1 = (ctx->p[0] - (f - x) % ctx->p[0]) % ctx->p[0], *v2 = (ctx->p[1] - (f - x) % ctx->p[1]) % ctx->p[1];
  }
}

static uint64_t addmod(uint64_t a, uint64_t b, uint64_t p) { return a + b >= p ? a + b - p : a + b; }
static uint64_t submod(uint64_t a, uint64_t b, uint64_t p) { return a >= b ? a - b : a + p - b; }

typedef struct server_bufs {
  uint64_t *c0_hat, *a_hat; /* in_total x 2N each */
  uint64_t *filt;           /* terms x 2N: the current group's filters, NTT domain */
  uint64_t *acc0, *acc1, *scratch, *poly, *out1, *out0;
  uint32_t *coeff, *dest;
  uint8_t *wire;
} server_bufs;

static void server_bufs_free(server_bufs *b) {
  free(b->c0_hat), free(b->a_hat), free(b->filt), free(b->acc0), free(b->acc1), free(b->scratch), free(b->poly);
  free(b->out1), free(b->out0), free(b->coeff), free(b->dest), free(b->wire);
}

static fsn_status server_bufs_alloc(server_bufs *b, const layer_run *r) {
  const size_t n = r->ctx->par.n, w = 2 * n * 8, rns_bytes = fsn_he_rns_bytes(r->ctx);
  *b = (server_bufs){0};
  b->c0_hat = malloc(r->in_total * w), b->a_hat = malloc(r->in_total * w), b->filt = malloc(r->l.terms * w);
  b->acc0 = malloc(w), b->acc1 = malloc(w), b->scratch = malloc(w), b->poly = malloc(w);
  b->out1 = malloc(n * 8), b->out0 = malloc(n * 8), b->coeff = malloc(n * 4), b->dest = malloc(n * 4);
  b->wire = malloc(rns_bytes > out_frame_bytes(r, n) ? rns_bytes : out_frame_bytes(r, n));
  if (b->c0_hat && b->a_hat && b->filt && b->acc0 && b->acc1 && b->scratch && b->poly && b->out1 && b->out0 &&
      b->coeff && b->dest && b->wire)
    return FSN_OK;
  server_bufs_free(b);
  return fsn_fail(FSN_E_NOMEM, "he layer: %zu input ciphertexts", r->in_total);
}

/* Server: read and check every input ciphertext (NTT domain from here on). A bad header is refused at once, a bad
 * residue after the last frame (so the stream stays in step and the refusal reaches the client). */
static fsn_status server_inputs(const fsn_he *he, fsn_channel *ch, const layer_run *r, server_bufs *b) {
  const fsn_he_ctx *ctx = &he->ctx;
  const size_t n = ctx->par.n;
  uint8_t h[HEADER_BYTES], want[HEADER_BYTES];
  fsn_status st = fsn_channel_recv(ch, h, sizeof h);
  if (st != FSN_OK) return st;
  layer_header(r, want, h + 40);
  if (memcmp(h, want, HEADER_BYTES) != 0) {
    fsn_fail(FSN_E_MISMATCH,
             "he layer: the client's header (kind %u, %llu input / %llu output ciphertexts, %llu outputs) does not "
             "match the layer (kind %u, %zu / %zu, %zu)",
             get32(h + 8), (unsigned long long)get64(h + 16), (unsigned long long)get64(h + 24),
             (unsigned long long)get64(h + 32), (unsigned)r->l.fc, r->in_total, r->out_total, r->out_coeffs);
    return refuse(ch, get32(h) == LAYER_MAGIC && get32(h + 4) == WIRE_VERSION ? FSN_E_MISMATCH : FSN_E_PROTOCOL);
  }
  fsn_status bad = FSN_OK;
  for (size_t i = 0; i < r->in_total && st == FSN_OK; i++) {
    uint64_t *c0 = b->c0_hat + i * 2 * n;
    if ((st = fsn_channel_recv(ch, b->wire, fsn_he_rns_bytes(ctx))) != FSN_OK) break;
    fsn_status one = fsn_he_rns_unpack(ctx, c0, b->wire);
    if (one != FSN_OK && bad == FSN_OK) bad = fsn_fail(one, "he layer: input ciphertext %zu: %s", i, fsn_last_error());
    fsn_he_ntt(ctx, c0);
    fsn_he_expand_a(ctx, b->a_hat + i * 2 * n, h + 40, i);
  }
  if (st == FSN_OK && bad != FSN_OK) return refuse(ch, bad);
  return st == FSN_OK ? send_status(ch, FSN_OK) : st;
}

/* One output ciphertext (group g, item, tile u): sum of input x filter, re-randomised, flooded, minus Delta r at the
 * outputs (r added to the server's share y), switched to p1, low bits dropped, sent. */
static fsn_status server_output(const fsn_he *he, fsn_channel *ch, const layer_run *r, server_bufs *b, fsn_prg *prg,
                                size_t item, size_t g, size_t u, uint64_t *y) {
  const fsn_he_ctx *ctx = &he->ctx;
  const fsn_he_layer *l = &r->l;
  const size_t n = ctx->par.n, w = 2 * n, out_size = fsn_he_layer_out_size(l);
  const uint64_t tmask = ((uint64_t)1 << ctx->par.ell) - 1;
  memset(b->acc0, 0, w * 8), memset(b->acc1, 0, w * 8);
  for (size_t t = 0; t < l->terms; t++) {
    const size_t k = item * fsn_he_layer_in_cts(l) + t * l->per_group + u;
    for (int i = 0; i < 2; i++) {
      fsn_ntt_mul_acc(b->acc0 + i * n, b->c0_hat + k * w + i * n, b->filt + t * w + i * n, n, ctx->tab[i]);
      fsn_ntt_mul_acc(b->acc1 + i * n, b->a_hat + k * w + i * n, b->filt + t * w + i * n, n, ctx->tab[i]);
    }
  }
  fsn_he_rerandomise(ctx, prg, b->acc0, b->acc1, he->pk_b_hat, he->pk_a_hat, b->scratch);
  const size_t cnt = fsn_he_layer_outputs(l, g, u, b->coeff, b->dest);
  fsn_prg_ring(prg, b->out0, cnt, ctx->par.ell); /* the server's output share r */
  for (size_t k = 0; k < cnt; k++) {
    uint64_t f1, f2, rr = b->out0[k];
    flood_sample(ctx, prg, (uint64_t)r->flood, &f1, &f2);
    uint64_t *x1 = b->acc0 + b->coeff[k], *x2 = b->acc0 + n + b->coeff[k];
    *x1 = submod(addmod(*x1, f1, ctx->p[0]), (uint64_t)((unsigned __int128)ctx->delta[0] * rr % ctx->p[0]), ctx->p[0]);
    *x2 = submod(addmod(*x2, f2, ctx->p[1]), (uint64_t)((unsigned __int128)ctx->delta[1] * rr % ctx->p[1]), ctx->p[1]);
    uint64_t *share = y + item * out_size + b->dest[k];
    *share = (*share + rr) & tmask;
  }
  fsn_he_switch_drop(ctx, b->out1, b->acc1, NULL, n, ctx->par.drop_c1, b->scratch);
  fsn_he_switch_drop(ctx, b->out0, b->acc0, b->coeff, cnt, ctx->par.drop_c0, b->scratch);
  fsn_ring_pack(b->wire, b->out1, n, r->w1);
  fsn_ring_pack(b->wire + fsn_ring_packed_bytes(n, r->w1), b->out0, cnt, r->w0);
  return fsn_channel_send(ch, b->wire, out_frame_bytes(r, cnt));
}

static fsn_status server_layer(fsn_he *he, fsn_channel *ch, const layer_run *r, uint64_t *y, const uint64_t *w) {
  const fsn_he_ctx *ctx = &he->ctx;
  const fsn_he_layer *l = &r->l;
  const size_t n = ctx->par.n;
  server_bufs b;
  fsn_status st = server_bufs_alloc(&b, r);
  if (st != FSN_OK) return st;
  st = server_inputs(he, ch, r, &b);
  fsn_prg prg;
  fsn_he_prg_fresh(&prg);
  for (size_t g = 0; g < l->groups && st == FSN_OK; g++) {
    for (size_t t = 0; t < l->terms; t++) { /* each filter transformed once, for every tile and batch item */
      fsn_he_layer_encode_filter(l, b.poly, w, g, t);
      fsn_he_lift(ctx, b.filt + t * 2 * n, b.poly, NULL);
      fsn_he_ntt(ctx, b.filt + t * 2 * n);
    }
    for (size_t item = 0; item < l->s.batch && st == FSN_OK; item++)
      for (size_t u = 0; u < l->per_group && st == FSN_OK; u++) st = server_output(he, ch, r, &b, &prg, item, g, u, y);
  }
  if (st == FSN_OK) st = fsn_channel_flush(ch);
  server_bufs_free(&b);
  sodium_memzero(&prg, sizeof prg);
  return st;
}

/* The server's local term conv(x_server, W) + bias, mod 2^ell. */
static fsn_status local_term(uint64_t *y, const uint64_t *x, const uint64_t *w, const uint64_t *bias,
                             const fsn_conv2d_shape *s, unsigned ell) {
  void *scratch = aligned_alloc(64, (fsn_conv2d_scratch_bytes(s) + 64) / 64 * 64);
  if (!scratch) return fsn_fail(FSN_E_NOMEM, "he layer: conv scratch");
  fsn_conv2d(y, x, w, bias, s, scratch);
  free(scratch);
  const size_t ny = s->batch * s->out_c * fsn_conv2d_out_h(s) * fsn_conv2d_out_w(s);
  for (size_t i = 0; i < ny; i++) y[i] &= ((uint64_t)1 << ell) - 1;
  return FSN_OK;
}

static fsn_status run_layer(fsn_he *he, fsn_2pc *p, uint64_t *y, const uint64_t *x, const uint64_t *weight,
                            const uint64_t *bias, const fsn_conv2d_shape *s, bool fc, unsigned client_bits) {
  const unsigned ell = he->ctx.par.ell;
  if (fsn_2pc_ell(p) != ell || fsn_2pc_role(p) != he->role)
    return fsn_fail(FSN_E_INVALID, "he layer: the keys were made for another context");
  if (client_bits < 1 || client_bits > ell)
    return fsn_fail(FSN_E_INVALID, "he layer: %u client bits outside 1 .. ell = %u", client_bits, ell);
  const bool server = he->role == FSN_ROLE_SERVER;
  if (server && !weight) return fsn_fail(FSN_E_INVALID, "he layer: the server must pass the weights");
  layer_run r;
  fsn_status st = layer_plan(&r, &he->ctx, s, fc);
  if (st != FSN_OK) return st;
  fsn_channel *ch = fsn_2pc_channel(p, 0);
  if (server) {
    if ((st = local_term(y, x, weight, bias, s, ell)) != FSN_OK) return st;
    return server_layer(he, ch, &r, y, weight);
  }
  const size_t nx = s->batch * s->in_c * s->in_h * s->in_w;
  uint64_t *xc = malloc(nx * sizeof *xc + 1);
  if (!xc) return fsn_fail(FSN_E_NOMEM, "he layer: input copy");
  for (size_t i = 0; i < nx; i++) xc[i] = x[i] & (((uint64_t)1 << client_bits) - 1) & (((uint64_t)1 << ell) - 1);
  st = client_layer(he, ch, &r, y, xc);
  free(xc);
  return st;
}

fsn_status fsn_he_conv2d(fsn_he *he, fsn_2pc *p, uint64_t *y, const uint64_t *x, const uint64_t *weight,
                         const uint64_t *bias, const fsn_conv2d_shape *s, unsigned client_bits) {
  return run_layer(he, p, y, x, weight, bias, s, false, client_bits);
}

fsn_status fsn_he_fc(fsn_he *he, fsn_2pc *p, uint64_t *y, const uint64_t *x, const uint64_t *weight,
                     const uint64_t *bias, size_t batch, size_t in, size_t out) {
  const fsn_conv2d_shape s = fsn_linear_fc_shape(batch, in, out);
  return run_layer(he, p, y, x, weight, bias, &s, true, fsn_2pc_ell(p));
}

static fsn_status layer_cost(const fsn_he_params *par, const fsn_conv2d_shape *s, bool fc, fsn_he_layer_cost *out) {
  fsn_he_ctx ctx;
  fsn_status st = fsn_he_ctx_init(&ctx, par->ell);
  if (st != FSN_OK) return st;
  layer_run r;
  if ((st = layer_plan(&r, &ctx, s, fc)) == FSN_OK) {
    *out = (fsn_he_layer_cost){.in_cts = r.in_total, .out_cts = r.out_total, .out_coeffs = r.out_coeffs};
    out->client_bytes = HEADER_BYTES + r.in_total * fsn_he_rns_bytes(&ctx);
    out->server_bytes = STATUS_BYTES;
    uint32_t *coeff = malloc(ctx.par.n * 4), *dest = malloc(ctx.par.n * 4);
    if (!coeff || !dest) st = fsn_fail(FSN_E_NOMEM, "he cost");
    for (size_t g = 0; g < r.l.groups && st == FSN_OK; g++)
      for (size_t u = 0; u < r.l.per_group; u++)
        out->server_bytes += s->batch * out_frame_bytes(&r, fsn_he_layer_outputs(&r.l, g, u, coeff, dest));
    free(coeff), free(dest);
  }
  fsn_he_ctx_free(&ctx);
  return st;
}

fsn_status fsn_he_conv2d_cost(const fsn_he_params *par, const fsn_conv2d_shape *s, fsn_he_layer_cost *out) {
  return layer_cost(par, s, false, out);
}

fsn_status fsn_he_fc_cost(const fsn_he_params *par, size_t batch, size_t in, size_t out, fsn_he_layer_cost *cost) {
  const fsn_conv2d_shape s = fsn_linear_fc_shape(batch, in, out);
  return layer_cost(par, &s, true, cost);
}
