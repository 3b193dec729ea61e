/* The two-party protocol of one conv2d / FC layer under RLWE (include/fusion/he.h, docs/PROTOCOLS.md).
 *
 * Messages (one round trip per layer after the key setup; headers and status on channel 0, the ciphertexts split
 * over the context's channels, see split()):
 *   key setup  client -> server  key header (80 bytes: magic, version, N, ell, p1, p2, dropped bits, pk seed,
 *                                max_pack_k), b_pk, then pack_limit() key switching keys (g = 1 + N / 2^j), each
 *                                FSN_HE_KS_DIGITS frames of b_d in the NTT domain (their a_d from the pk seed)
 *              server -> client  status (8 bytes: magic, 0 or the negative fsn_status of the refusal)
 *   layer      client -> server  layer header (72 bytes: magic, version, kind, counts, seed of the a's), then one
 *                                frame per input ciphertext: c0 mod p1 and mod p2 at the coefficients that
 *                                reach an output (all N, or the layer's window: he_encode.h)
 *              server -> client  status, then one frame per output ciphertext: c1 and the output coefficients of
 *                                c0, both mod p1 with low bits dropped
 * Both parties derive the partition, the counts and every frame size from the public shape and parameters; the
 * server checks the header and every residue, answers a mismatch with a refusal (the client fails with it), and
 * never computes on a malformed ciphertext. The client checks the range of every returned value. */
#include "core/le.h"
#include "protocol/he/he_encode.h"
#include "protocol/he/he_filter.h"
#include "protocol/he/he_galois.h"
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
  WIRE_VERSION = 2,          /* 2: input ciphertexts carry only the coefficients that reach an output */
  HEADER_BYTES = 72,
  KEY_HEADER_BYTES = 80, /* the layer header's 72 + the pack limit asked for and 4 zero bytes */
  STATUS_BYTES = 8,
  PACK_KEYS = 6, /* packs of up to 2^6 ciphertexts */
};

/* The a_d of key j: fsn_he_expand_a(pk seed, KEY_INDEX + FSN_HE_KS_DIGITS j + d), apart from the pk's (UINT64_MAX). */
#define KEY_INDEX ((uint64_t)1 << 62)

static uint32_t key_galois(const fsn_he_params *par, unsigned j) { return 1 + par->n / ((uint32_t)1 << j); }

/* Worst case of the noise a pack of 2^k adds (galois.c): 2^k - 1 switches' worth (a switch at level l is doubled
 * k - l times), each at most FSN_HE_KS_DIGITS N 2^w eta. */
static double switch_noise(const fsn_he_params *par, unsigned k) {
  return (ldexp(1, (int)k) - 1) * FSN_HE_KS_DIGITS * par->n * ldexp(1, FSN_HE_KS_BITS) * FSN_HE_ETA;
}

/* The largest pack asked for (par->max_pack_k), at most PACK_KEYS, whose switch noise takes at most a quarter of the
 * budget: the number of keys the client sends and the packs the partition search may use. */
static unsigned pack_limit(const fsn_he_params *par) {
  unsigned k = 0;
  while (k < PACK_KEYS && k < par->max_pack_k && switch_noise(par, k + 1) <= par->max_noise / 4) k++;
  return k;
}

struct fsn_he {
  fsn_he_ctx ctx;
  fsn_role role;
  uint64_t *s_hat;                   /* client: the secret, NTT domain */
  uint64_t *pk_b_hat, *pk_a_hat;     /* server: the client's public key, NTT domain */
  fsn_he_galois_key keys[PACK_KEYS]; /* server: key j switches tau_(1 + N / 2^j) */
};

static fsn_status send_status(fsn_channel *ch, fsn_status code) {
  uint8_t b[STATUS_BYTES];
  fsn_le_put32(b, STATUS_MAGIC), fsn_le_put32(b + 4, (uint32_t)(int32_t)code);
  fsn_status st = fsn_channel_send(ch, b, sizeof b);
  return st == FSN_OK ? fsn_channel_flush(ch) : st;
}

/* The server's answer; a refusal is returned as the server's code. */
static fsn_status recv_status(fsn_channel *ch, const char *what) {
  uint8_t b[STATUS_BYTES];
  fsn_status st = fsn_channel_recv(ch, b, sizeof b);
  if (st != FSN_OK) return st;
  if (fsn_le_get32(b) != STATUS_MAGIC)
    return fsn_fail(FSN_E_PROTOCOL, "he %s: the server's status frame is malformed", what);
  int32_t code = (int32_t)fsn_le_get32(b + 4);
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
  fsn_le_put32(h, KEY_MAGIC), fsn_le_put32(h + 4, WIRE_VERSION), fsn_le_put32(h + 8, par->n),
      fsn_le_put32(h + 12, par->ell);
  fsn_le_put64(h + 16, par->p1), fsn_le_put64(h + 24, par->p2), fsn_le_put32(h + 32, par->drop_c0),
      fsn_le_put32(h + 36, par->drop_c1);
  memcpy(h + 40, seed, 32);
  fsn_le_put32(h + 72, par->max_pack_k), fsn_le_put32(h + 76, 0);
}

static fsn_status client_keys(fsn_he *he, fsn_channel *ch) {
  const fsn_he_ctx *ctx = &he->ctx;
  const size_t n = ctx->par.n;
  uint8_t h[KEY_HEADER_BYTES], seed[32];
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
  for (unsigned j = 0; j < pack_limit(&ctx->par) && st == FSN_OK; j++) {
    fsn_he_galois_key key;
    st = fsn_he_galois_keygen(ctx, &prg, &key, he->s_hat, seed, KEY_INDEX + FSN_HE_KS_DIGITS * j,
                              key_galois(&ctx->par, j));
    for (size_t d = 0; d < FSN_HE_KS_DIGITS && st == FSN_OK; d++) {
      fsn_he_rns_pack(ctx, wire, key.b_hat + d * 2 * n);
      st = fsn_channel_send(ch, wire, fsn_he_rns_bytes(ctx));
    }
    fsn_he_galois_key_free(&key);
  }
  if (st == FSN_OK) st = fsn_channel_flush(ch);
  if (st == FSN_OK) st = recv_status(ch, "key setup");
  free(a), free(b), free(scratch), free(zero), free(wire);
  sodium_memzero(&prg, sizeof prg);
  return st;
}

static fsn_status server_keys(fsn_he *he, fsn_channel *ch) {
  const fsn_he_ctx *ctx = &he->ctx;
  const fsn_he_params *par = &ctx->par;
  uint8_t h[KEY_HEADER_BYTES];
  fsn_status st = fsn_channel_recv(ch, h, sizeof h);
  if (st != FSN_OK) return st;
  if (fsn_le_get32(h) != KEY_MAGIC || fsn_le_get32(h + 4) != WIRE_VERSION) {
    fsn_fail(FSN_E_PROTOCOL, "he key setup: not a key header of version %d", WIRE_VERSION);
    return refuse(ch, FSN_E_PROTOCOL);
  }
  if (fsn_le_get32(h + 8) != par->n || fsn_le_get32(h + 12) != par->ell || fsn_le_get64(h + 16) != par->p1 ||
      fsn_le_get64(h + 24) != par->p2 || fsn_le_get32(h + 32) != par->drop_c0 || fsn_le_get32(h + 36) != par->drop_c1 ||
      fsn_le_get32(h + 72) != par->max_pack_k || fsn_le_get32(h + 76) != 0) {
    fsn_fail(FSN_E_MISMATCH,
             "he key setup: the client's parameters (N %u, ell %u, p1 %llu, p2 %llu, dropped %u/%u, packs 2^%u) differ "
             "from the server's (N %u, ell %u, p1 %llu, p2 %llu, dropped %u/%u, packs 2^%u)",
             fsn_le_get32(h + 8), fsn_le_get32(h + 12), (unsigned long long)fsn_le_get64(h + 16),
             (unsigned long long)fsn_le_get64(h + 24), fsn_le_get32(h + 32), fsn_le_get32(h + 36), fsn_le_get32(h + 72),
             par->n, par->ell, (unsigned long long)par->p1, (unsigned long long)par->p2, par->drop_c0, par->drop_c1,
             par->max_pack_k);
    return refuse(ch, FSN_E_MISMATCH);
  }
  const size_t words = 2 * (size_t)par->n;
  uint8_t *wire = malloc(fsn_he_rns_bytes(ctx));
  uint64_t *b = malloc(FSN_HE_KS_DIGITS * words * 8);
  if (!wire || !b) {
    free(wire), free(b);
    return fsn_fail(FSN_E_NOMEM, "he key setup");
  }
  /* read every frame (the stream stays in step), keep the first malformed one's reason */
  fsn_status bad = FSN_OK;
  st = fsn_channel_recv(ch, wire, fsn_he_rns_bytes(ctx));
  if (st == FSN_OK) bad = fsn_he_rns_unpack(ctx, he->pk_b_hat, wire);
  for (unsigned j = 0; j < pack_limit(par) && st == FSN_OK; j++) {
    for (size_t d = 0; d < FSN_HE_KS_DIGITS && st == FSN_OK; d++) {
      st = fsn_channel_recv(ch, wire, fsn_he_rns_bytes(ctx));
      fsn_status one = st == FSN_OK ? fsn_he_rns_unpack(ctx, b + d * words, wire) : FSN_OK;
      if (bad == FSN_OK) bad = one;
    }
    if (st == FSN_OK && bad == FSN_OK)
      st = fsn_he_galois_key_from(ctx, &he->keys[j], b, h + 40, KEY_INDEX + FSN_HE_KS_DIGITS * j, key_galois(par, j));
  }
  if (st == FSN_OK) {
    if (bad != FSN_OK) {
      st = refuse(ch, bad);
    } else {
      fsn_he_ntt(ctx, he->pk_b_hat);
      fsn_he_expand_a(ctx, he->pk_a_hat, h + 40, UINT64_MAX);
      st = send_status(ch, FSN_OK);
    }
  }
  free(wire), free(b);
  return st;
}

fsn_status fsn_he_create(fsn_he **out, fsn_2pc *p) { return fsn_he_create_ex(out, p, 0); }

fsn_status fsn_he_create_ex(fsn_he **out, fsn_2pc *p, unsigned max_pack_k) {
  *out = NULL;
  fsn_he *he = calloc(1, sizeof *he);
  if (!he) return fsn_fail(FSN_E_NOMEM, "he keys");
  he->role = fsn_2pc_role(p);
  fsn_status st = fsn_he_ctx_init(&he->ctx, fsn_2pc_ell(p));
  if (st != FSN_OK) {
    free(he);
    return st;
  }
  he->ctx.par.max_pack_k = max_pack_k;
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
  for (unsigned j = 0; j < PACK_KEYS; j++) fsn_he_galois_key_free(&he->keys[j]);
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
      .max_pack_k = pack_limit(par),
      .in_bytes = (double)fsn_he_rns_bytes(ctx),
      .out_fixed_bytes = (double)fsn_wire_packed_bytes(par->n, fsn_he_dropped_bits(ctx, par->drop_c1)),
      .out_coeff_bytes = fsn_he_dropped_bits(ctx, par->drop_c0) / 8.0,
      .max_fan = max_fan(par),
  };
}

typedef struct layer_run {
  const fsn_he_ctx *ctx;
  fsn_he_layer l;
  size_t in_total, out_total, out_coeffs; /* over the batch */
  size_t in_frame;                        /* bytes of one input ciphertext: its window of c0 */
  double flood;
  unsigned w0, w1; /* wire widths of returned c0 / c1 values */
} layer_run;

static size_t out_frame_bytes(const layer_run *r, size_t m) {
  return fsn_wire_packed_bytes(r->ctx->par.n, r->w1) + fsn_wire_packed_bytes(m, r->w0);
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
  if (r->l.pack_k && (r->flood = floor(r->flood - switch_noise(&ctx->par, r->l.pack_k))) < 1)
    return fsn_fail(FSN_E_UNSUPPORTED, "he layer: a pack of 2^%u leaves no flooding room", r->l.pack_k);
  r->in_total = s->batch * fsn_he_layer_in_cts(&r->l);
  r->out_total = s->batch * fsn_he_layer_out_cts(&r->l);
  r->out_coeffs = s->batch * fsn_he_layer_out_size(&r->l);
  r->w0 = fsn_he_dropped_bits(ctx, ctx->par.drop_c0), r->w1 = fsn_he_dropped_bits(ctx, ctx->par.drop_c1);
  r->in_frame = fsn_he_rns_window_bytes(ctx, r->l.in_len);
  if (fsn_he_layer_out_size(&r->l) > UINT32_MAX) return fsn_fail(FSN_E_INVALID, "he layer: too many outputs per item");
  return FSN_OK;
}

static void layer_header(const layer_run *r, uint8_t *h, const uint8_t seed[32]) {
  fsn_le_put32(h, LAYER_MAGIC), fsn_le_put32(h + 4, WIRE_VERSION), fsn_le_put32(h + 8, r->l.fc),
      fsn_le_put32(h + 12, r->ctx->par.n);
  fsn_le_put64(h + 16, r->in_total), fsn_le_put64(h + 24, r->out_total), fsn_le_put64(h + 32, r->out_coeffs);
  memcpy(h + 40, seed, 32);
}

/* Work split: input ciphertext i (item-major) and output ciphertext j (group, item, tile) go to thread
 * [count * t / T, count * (t + 1) / T); both parties cut the same way, each thread on its own channel. */
static size_t split(size_t count, size_t t, size_t threads) { return count * t / threads; }

/* One thread's buffers (shared inputs apart). */
typedef struct worker {
  uint64_t *filt; /* terms x 2N: the current group's filters, NTT domain (server) */
  size_t filt_group;
  uint64_t *acc0, *acc1, *scratch, *poly, *out1, *out0;
  uint32_t *coeff, *dest;
  uint8_t *wire;
  const uint64_t **in0, **in1, **filt_at;   /* per term: the operands of one residue's inner product */
  uint64_t *pack, **pack_ct, *pack_scratch; /* server, packed layers: 2^k products (c0, c1) and the pack's scratch */
  fsn_prg prg;
} worker;

static void worker_free(worker *w) {
  free(w->filt), free(w->acc0), free(w->acc1), free(w->scratch), free(w->poly), free(w->out1), free(w->out0);
  free(w->coeff), free(w->dest), free(w->wire);
  free(w->in0), free(w->in1), free(w->filt_at);
  free(w->pack), free(w->pack_ct), free(w->pack_scratch);
  sodium_memzero(&w->prg, sizeof w->prg);
}

static fsn_status worker_alloc(worker *w, const layer_run *r) {
  const size_t n = r->ctx->par.n, words = 2 * n * 8, rns_bytes = fsn_he_rns_bytes(r->ctx);
  *w = (worker){.filt_group = SIZE_MAX};
  w->filt = malloc(r->l.terms * words), w->acc0 = malloc(words), w->acc1 = malloc(words);
  w->scratch = malloc(words), w->poly = malloc(words), w->out1 = malloc(n * 8), w->out0 = malloc(n * 8);
  w->coeff = malloc(n * 4), w->dest = malloc(n * 4);
  w->in0 = malloc(r->l.terms * sizeof *w->in0), w->in1 = malloc(r->l.terms * sizeof *w->in1);
  w->filt_at = malloc(r->l.terms * sizeof *w->filt_at);
  w->wire = malloc(rns_bytes > out_frame_bytes(r, n) ? rns_bytes : out_frame_bytes(r, n));
  fsn_he_prg_fresh(&w->prg);
  bool packs = true;
  if (r->l.pack_k) {
    const size_t cp = (size_t)1 << r->l.pack_k;
    w->pack = malloc(cp * 2 * words), w->pack_ct = malloc(cp * sizeof *w->pack_ct);
    w->pack_scratch = malloc(18 * n * 8);
    packs = w->pack && w->pack_ct && w->pack_scratch;
    for (size_t t = 0; packs && t < cp; t++) w->pack_ct[t] = w->pack + t * 4 * n;
  }
  if (w->filt && w->acc0 && w->acc1 && w->scratch && w->poly && w->out1 && w->out0 && w->coeff && w->dest && w->wire &&
      w->in0 && w->in1 && w->filt_at && packs)
    return FSN_OK;
  worker_free(w);
  return fsn_fail(FSN_E_NOMEM, "he layer: buffers");
}

/* What both parties' thread tasks share. */
typedef struct layer_job {
  fsn_he *he;
  const layer_run *r;
  uint64_t *y;              /* this party's output share */
  const uint64_t *x, *w;    /* client: its share (reduced); server: the weights */
  uint8_t seed[32];         /* the a's of this layer */
  uint64_t *c0_hat, *a_hat; /* server: in_total x 2N each */
  fsn_he_filters fntt;      /* server: how filters are transformed */
  fsn_status *bad;          /* server: per thread, the first malformed input (stream still in step) */
} layer_job;

static void output_at(const layer_run *r, size_t j, size_t *g, size_t *item, size_t *u) {
  const size_t pg = r->l.per_group, batch = r->l.s.batch;
  *g = j / (batch * pg), *item = j / pg % batch, *u = j % pg;
}

/* Client, thread t: encrypt and send its input blocks. */
static fsn_status client_inputs(fsn_2pc *p, size_t t, void *arg) {
  const layer_job *job = arg;
  const layer_run *r = job->r;
  const fsn_he_ctx *ctx = &job->he->ctx;
  const fsn_he_layer *l = &r->l;
  const size_t T = fsn_2pc_threads(p), in_cts = fsn_he_layer_in_cts(l), in_size = fsn_he_layer_in_size(l);
  fsn_channel *ch = fsn_2pc_channel(p, t);
  worker w;
  fsn_status st = worker_alloc(&w, r);
  if (st != FSN_OK) return st;
  for (size_t i = split(r->in_total, t, T); i < split(r->in_total, t + 1, T) && st == FSN_OK; i++) {
    fsn_he_layer_encode_input(l, w.out0, job->x + i / in_cts * in_size, i % in_cts);
    fsn_he_expand_a(ctx, w.acc1, job->seed, i);
    fsn_he_encrypt(ctx, &w.prg, w.acc0, w.acc1, job->he->s_hat, w.out0, w.scratch);
    fsn_he_rns_pack_window(ctx, w.wire, w.acc0, l->in_lo, l->in_len, w.scratch);
    st = fsn_channel_send(ch, w.wire, r->in_frame);
  }
  if (st == FSN_OK) st = fsn_channel_flush(ch);
  worker_free(&w);
  return st;
}

/* Client, thread t: receive, check and decrypt its output ciphertexts into y. */
static fsn_status client_outputs(fsn_2pc *p, size_t t, void *arg) {
  const layer_job *job = arg;
  const layer_run *r = job->r;
  const fsn_he_ctx *ctx = &job->he->ctx;
  const fsn_he_layer *l = &r->l;
  const size_t n = ctx->par.n, T = fsn_2pc_threads(p), out_size = fsn_he_layer_out_size(l);
  const size_t c1_bytes = fsn_wire_packed_bytes(n, r->w1);
  const uint64_t max0 = fsn_he_dropped_max(ctx, ctx->par.drop_c0), max1 = fsn_he_dropped_max(ctx, ctx->par.drop_c1);
  fsn_channel *ch = fsn_2pc_channel(p, t);
  worker w;
  fsn_status st = worker_alloc(&w, r);
  if (st != FSN_OK) return st;
  for (size_t j = split(r->out_total, t, T); j < split(r->out_total, t + 1, T) && st == FSN_OK; j++) {
    size_t g, item, u;
    output_at(r, j, &g, &item, &u);
    const size_t cnt = fsn_he_layer_outputs(l, g, u, w.coeff, w.dest);
    if ((st = fsn_channel_recv(ch, w.wire, out_frame_bytes(r, cnt))) != FSN_OK) break;
    if ((st = fsn_wire_unpack(w.out1, w.wire, n, r->w1)) != FSN_OK) break;
    if ((st = fsn_wire_unpack(w.out0, w.wire + c1_bytes, cnt, r->w0)) != FSN_OK) break;
    for (size_t k = 0; k < n && st == FSN_OK; k++)
      if (w.out1[k] > max1 || (k < cnt && w.out0[k] > max0))
        st = fsn_fail(FSN_E_PROTOCOL, "he layer: output ciphertext %zu: value %zu out of range", j, k);
    if (st != FSN_OK) break;
    fsn_he_decrypt_switched(ctx, w.poly, w.out0, w.out1, w.coeff, cnt, job->he->s_hat);
    for (size_t k = 0; k < cnt; k++) job->y[item * out_size + w.dest[k]] = w.poly[k];
  }
  worker_free(&w);
  return st;
}

static fsn_status client_layer(fsn_he *he, fsn_2pc *p, const layer_run *r, uint64_t *y, const uint64_t *x) {
  layer_job job = {.he = he, .r = r, .y = y, .x = x};
  uint8_t h[HEADER_BYTES];
  randombytes_buf(job.seed, sizeof job.seed);
  layer_header(r, h, job.seed);
  fsn_channel *ch = fsn_2pc_channel(p, 0);
  fsn_status st = fsn_channel_send(ch, h, sizeof h);
  if (st == FSN_OK) st = fsn_2pc_run(p, client_inputs, &job);
  if (st == FSN_OK) st = recv_status(ch, "layer");
  if (st == FSN_OK) st = fsn_2pc_run(p, client_outputs, &job);
  return st;
}

/* A uniform integer in [-f, f] (f <= 2^62) written mod p1 and mod p2. */
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

/* Server, thread t: receive and check its input ciphertexts (NTT domain from here on). A bad residue is recorded and
 * the reading goes on, so the stream stays in step and the refusal reaches the client. */
static fsn_status server_inputs(fsn_2pc *p, size_t t, void *arg) {
  layer_job *job = arg;
  const layer_run *r = job->r;
  const fsn_he_ctx *ctx = &job->he->ctx;
  const size_t n = ctx->par.n, T = fsn_2pc_threads(p);
  fsn_channel *ch = fsn_2pc_channel(p, t);
  uint8_t *wire = malloc(r->in_frame);
  uint64_t *scratch = malloc(n * sizeof *scratch);
  fsn_status st = wire && scratch ? FSN_OK : fsn_fail(FSN_E_NOMEM, "he layer: input frame");
  for (size_t i = split(r->in_total, t, T); i < split(r->in_total, t + 1, T) && st == FSN_OK; i++) {
    uint64_t *c0 = job->c0_hat + i * 2 * n;
    if ((st = fsn_channel_recv(ch, wire, r->in_frame)) != FSN_OK) break;
    fsn_status one = fsn_he_rns_unpack_window(ctx, c0, wire, r->l.in_lo, r->l.in_len, scratch);
    if (one != FSN_OK && job->bad[t] == FSN_OK)
      job->bad[t] = fsn_fail(one, "he layer: input ciphertext %zu: %s", i, fsn_last_error());
    fsn_he_ntt(ctx, c0);
    fsn_he_expand_a(ctx, job->a_hat + i * 2 * n, job->seed, i);
    fsn_he_filters_shift_input(&job->fntt, ctx, c0),
        fsn_he_filters_shift_input(&job->fntt, ctx, job->a_hat + i * 2 * n);
  }
  free(wire), free(scratch);
  return st;
}

/* Each filter of group g into w->filt (NTT domain), once per thread for every tile and batch item it meets. */
static void load_filters(const layer_job *job, worker *w, size_t g) {
  if (w->filt_group == g) return;
  const size_t words = 2 * (size_t)job->he->ctx.par.n;
  for (size_t b = 0; b < job->r->l.terms; b++)
    fsn_he_filter_transform(&job->fntt, &job->he->ctx, &job->r->l, w->filt + b * words, job->w, g, b, w->poly,
                            w->scratch);
  w->filt_group = g;
}

/* Product (g, u) of an item into (w->acc0, w->acc1), coefficient domain: the sum of input x filter, re-randomised. */
static void server_product(const layer_job *job, worker *w, size_t g, size_t item, size_t u) {
  const fsn_he *he = job->he;
  const fsn_he_ctx *ctx = &he->ctx;
  const fsn_he_layer *l = &job->r->l;
  const size_t n = ctx->par.n, words = 2 * n;
  load_filters(job, w, g);
  memset(w->acc0, 0, words * 8), memset(w->acc1, 0, words * 8);
  for (int i = 0; i < 2; i++) { /* sum over the terms of input x filter, reduced once (fsn_ntt_mul_acc_sum) */
    for (size_t b = 0; b < l->terms; b++) {
      const size_t k = item * fsn_he_layer_in_cts(l) + b * l->per_group + u;
      w->in0[b] = job->c0_hat + k * words + i * n, w->in1[b] = job->a_hat + k * words + i * n;
      w->filt_at[b] = w->filt + b * words + i * n;
    }
    fsn_ntt_mul_acc_sum(w->acc0 + i * n, w->in0, w->filt_at, l->terms, n, ctx->tab[i]);
    fsn_ntt_mul_acc_sum(w->acc1 + i * n, w->in1, w->filt_at, l->terms, n, ctx->tab[i]);
  }
  fsn_he_rerandomise(ctx, &w->prg, w->acc0, w->acc1, he->pk_b_hat, he->pk_a_hat, w->scratch);
}

/* Packed layers: the products of output channels g 2^k + t into one ciphertext (fsn_he_pack), in (acc0, acc1).
 * Each product is re-randomised first, so the digits the key switches see are pseudorandom whatever the weights. */
static void server_pack(const layer_job *job, worker *w, size_t g, size_t item) {
  const fsn_he *he = job->he;
  const fsn_he_layer *l = &job->r->l;
  const size_t words = 2 * (size_t)he->ctx.par.n, cp = (size_t)1 << l->pack_k;
  for (size_t t = 0; t < cp; t++) {
    uint64_t *ct = w->pack_ct[t];
    if (g * cp + t >= l->s.out_c) { /* past the last channel: an encryption of 0 with no randomness is enough */
      memset(ct, 0, 2 * words * 8);
      continue;
    }
    server_product(job, w, g * cp + t, item, 0);
    memcpy(ct, w->acc0, words * 8), memcpy(ct + words, w->acc1, words * 8);
  }
  fsn_he_galois_key keys[PACK_KEYS]; /* level l of a pack of 2^k switches tau_(1 + N / 2^(k - l)) */
  for (unsigned lv = 1; lv <= l->pack_k; lv++) keys[lv - 1] = he->keys[l->pack_k - lv];
  fsn_he_pack(&he->ctx, keys, l->pack_k, w->pack_ct, w->pack_scratch);
  memcpy(w->acc0, w->pack_ct[0], words * 8), memcpy(w->acc1, w->pack_ct[0] + words, words * 8);
}

/* Output ciphertext j: the product (or pack), flooded, minus Delta r at the outputs (r added to the server's share
 * y), switched to p1, low bits dropped, sent. */
static fsn_status server_output(const layer_job *job, worker *w, fsn_channel *ch, size_t j) {
  const fsn_he_ctx *ctx = &job->he->ctx;
  const layer_run *r = job->r;
  const fsn_he_layer *l = &r->l;
  const size_t n = ctx->par.n, out_size = fsn_he_layer_out_size(l);
  const uint64_t tmask = ((uint64_t)1 << ctx->par.ell) - 1;
  size_t g, item, u;
  output_at(r, j, &g, &item, &u);
  if (l->pack_k)
    server_pack(job, w, g, item);
  else
    server_product(job, w, g, item, u);
  const size_t cnt = fsn_he_layer_outputs(l, g, u, w->coeff, w->dest);
  fsn_prg_ring(&w->prg, w->out0, cnt, ctx->par.ell); /* the server's output share r */
  uint64_t delta_shoup[2]; /* Delta r mod p_i by Shoup products (r < 2^64): no 128-bit division per output */
  for (int i = 0; i < 2; i++) delta_shoup[i] = (uint64_t)(((unsigned __int128)ctx->delta[i] << 64) / ctx->p[i]);
  for (size_t k = 0; k < cnt; k++) {
    uint64_t f1, f2, rr = w->out0[k];
    flood_sample(ctx, &w->prg, (uint64_t)r->flood, &f1, &f2);
    uint64_t *x1 = w->acc0 + w->coeff[k], *x2 = w->acc0 + n + w->coeff[k];
    *x1 = submod(addmod(*x1, f1, ctx->p[0]), fsn_he_mul_shoup(rr, ctx->delta[0], delta_shoup[0], ctx->p[0]), ctx->p[0]);
    *x2 = submod(addmod(*x2, f2, ctx->p[1]), fsn_he_mul_shoup(rr, ctx->delta[1], delta_shoup[1], ctx->p[1]), ctx->p[1]);
    uint64_t *share = job->y + item * out_size + w->dest[k]; /* outputs are disjoint across ciphertexts */
    *share = (*share + rr) & tmask;
  }
  fsn_he_switch_drop(ctx, w->out1, w->acc1, NULL, n, ctx->par.drop_c1, w->scratch);
  fsn_he_switch_drop(ctx, w->out0, w->acc0, w->coeff, cnt, ctx->par.drop_c0, w->scratch);
  fsn_wire_pack(w->wire, w->out1, n, r->w1);
  fsn_wire_pack(w->wire + fsn_wire_packed_bytes(n, r->w1), w->out0, cnt, r->w0);
  return fsn_channel_send(ch, w->wire, out_frame_bytes(r, cnt));
}

static fsn_status server_outputs(fsn_2pc *p, size_t t, void *arg) {
  const layer_job *job = arg;
  const size_t T = fsn_2pc_threads(p), total = job->r->out_total;
  fsn_channel *ch = fsn_2pc_channel(p, t);
  worker w;
  fsn_status st = worker_alloc(&w, job->r);
  if (st != FSN_OK) return st;
  for (size_t j = split(total, t, T); j < split(total, t + 1, T) && st == FSN_OK; j++)
    st = server_output(job, &w, ch, j);
  if (st == FSN_OK) st = fsn_channel_flush(ch);
  worker_free(&w);
  return st;
}

/* Server: check the header (refused at once if it does not match), read every input, refuse if one was malformed,
 * else accept and return the outputs. */
static fsn_status server_layer(fsn_he *he, fsn_2pc *p, const layer_run *r, uint64_t *y, const uint64_t *w) {
  const size_t n = he->ctx.par.n, T = fsn_2pc_threads(p);
  fsn_channel *ch = fsn_2pc_channel(p, 0);
  uint8_t h[HEADER_BYTES], want[HEADER_BYTES];
  fsn_status st = fsn_channel_recv(ch, h, sizeof h);
  if (st != FSN_OK) return st;
  layer_header(r, want, h + 40);
  if (memcmp(h, want, HEADER_BYTES) != 0) {
    fsn_fail(FSN_E_MISMATCH,
             "he layer: the client's header (kind %u, %llu input / %llu output ciphertexts, %llu outputs) does not "
             "match the layer (kind %u, %zu / %zu, %zu)",
             fsn_le_get32(h + 8), (unsigned long long)fsn_le_get64(h + 16), (unsigned long long)fsn_le_get64(h + 24),
             (unsigned long long)fsn_le_get64(h + 32), (unsigned)r->l.fc, r->in_total, r->out_total, r->out_coeffs);
    return refuse(ch, fsn_le_get32(h) == LAYER_MAGIC && fsn_le_get32(h + 4) == WIRE_VERSION ? FSN_E_MISMATCH
                                                                                            : FSN_E_PROTOCOL);
  }
  layer_job job = {.he = he, .r = r, .y = y, .w = w};
  memcpy(job.seed, h + 40, 32);
  job.c0_hat = malloc(r->in_total * 2 * n * 8 + 8), job.a_hat = malloc(r->in_total * 2 * n * 8 + 8);
  job.bad = calloc(T, sizeof *job.bad);
  if (!job.c0_hat || !job.a_hat || !job.bad) st = fsn_fail(FSN_E_NOMEM, "he layer: %zu input ciphertexts", r->in_total);
  if (st == FSN_OK) st = fsn_he_filters_init(&job.fntt, &he->ctx, &r->l);
  if (st == FSN_OK) st = fsn_2pc_run(p, server_inputs, &job);
  for (size_t t = 0; t < T && st == FSN_OK; t++)
    if (job.bad[t] != FSN_OK) {
      fsn_fail(job.bad[t], "he layer: a malformed input ciphertext (%s)", fsn_strerror(job.bad[t]));
      st = refuse(ch, job.bad[t]);
    }
  if (st == FSN_OK) st = send_status(ch, FSN_OK);
  if (st == FSN_OK) st = fsn_2pc_run(p, server_outputs, &job);
  free(job.c0_hat), free(job.a_hat), free(job.bad);
  fsn_he_filters_free(&job.fntt);
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
  if (server) {
    if ((st = local_term(y, x, weight, bias, s, ell)) != FSN_OK) return st;
    return server_layer(he, p, &r, y, weight);
  }
  const size_t nx = s->batch * s->in_c * s->in_h * s->in_w;
  uint64_t *xc = malloc(nx * sizeof *xc + 1);
  if (!xc) return fsn_fail(FSN_E_NOMEM, "he layer: input copy");
  for (size_t i = 0; i < nx; i++) xc[i] = x[i] & (((uint64_t)1 << client_bits) - 1) & (((uint64_t)1 << ell) - 1);
  st = client_layer(he, p, &r, y, xc);
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
  ctx.par.max_pack_k = par->max_pack_k;
  layer_run r;
  if ((st = layer_plan(&r, &ctx, s, fc)) == FSN_OK) {
    *out = (fsn_he_layer_cost){.in_cts = r.in_total,
                               .out_cts = r.out_total,
                               .out_coeffs = r.out_coeffs,
                               .in_coeffs = r.l.in_len,
                               .pack = (uint64_t)1 << r.l.pack_k};
    out->client_bytes = HEADER_BYTES + r.in_total * r.in_frame;
    out->server_bytes = STATUS_BYTES;
    uint32_t *coeff = malloc(ctx.par.n * 4), *dest = malloc(ctx.par.n * 4);
    if (!coeff || !dest) st = fsn_fail(FSN_E_NOMEM, "he cost");
    for (size_t j = 0; j < fsn_he_layer_out_cts(&r.l) && st == FSN_OK; j++) /* g = j / per_group, u = j % per_group */
      out->server_bytes +=
          s->batch * out_frame_bytes(&r, fsn_he_layer_outputs(&r.l, j / r.l.per_group, j % r.l.per_group, coeff, dest));
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
