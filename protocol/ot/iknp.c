/* IKNP OT extension with the KOS15 consistency check, chunked; an implementation of the COT interface.
 *
 * IKNP. The extension receiver is the base-OT sender with seed pairs (k_j^0, k_j^1), the extension sender the
 * base-OT receiver with choice bits s = Delta. Per chunk of m OTs (padded to mp rows, a multiple of 128) the
 * receiver sends u_j = G(k_j^0) ^ G(k_j^1) ^ c for each of the 128 columns; the sender forms
 * q_j = G(k_j^{s_j}) ^ s_j u_j, and after the 128 x mp -> mp x 128 transposes q_i = t_i ^ c_i Delta.
 *
 * KOS15 (Keller-Orsini-Scholl, CRYPTO 2015). A malicious receiver may use a different c in each column (flip bits of
 * u_j): then q_i = t_i ^ c_i Delta ^ (e_i AND Delta) and whether its outputs still match tells it bits of Delta. The
 * check: the chunk gets at least kappa + s = 128 + 64 extra rows with uniform choice bits (they mask the proof);
 * after u is sent the sender picks a seed, chi_1 .. chi_mp = AES-CTR(seed) are uniform in GF(2^128), and the
 * receiver proves x = sum chi_i c_i, t = sum chi_i t_i; the sender accepts iff sum chi_i q_i = t + x Delta. A
 * receiver with a column error passes only by guessing the Delta bits under it, and is otherwise caught before the
 * sender has used the chunk (the outputs a caller sees are those of a checked chunk). The padding rows are never
 * output. Unchecked objects (benchmarks) pad to 128 only and skip the exchange: the wire of the original IKNP. */
#include "protocol/ot/ot_internal.h"
#include "protocol/ot/ot_testing.h"

#include <fusion/bits.h>
#include <sodium.h>
#include <stdlib.h>

enum {
  CHECK_ROWS = 128 + 64, /* kappa + s extra rows of a checked chunk */
};
#define ROWS_MAX (FSN_OT_CHUNK + 256) /* round128(FSN_OT_CHUNK + CHECK_ROWS) */

typedef struct iknp {
  fsn_cot base;
  bool checked;
  fsn_prg g0[FSN_OT_KAPPA]; /* receiver: the seed of column j for bit 0; sender: the seed it chose, k_j^{s_j} */
  fsn_prg g1[FSN_OT_KAPPA]; /* receiver only: the seed for bit 1 */
  fsn_prg local;            /* receiver: padding and random choice bits; sender: challenge seeds */
  uint8_t *cols;            /* 128 x ROWS_MAX bits: t (receiver) or q (sender), one row per base OT */
  uint8_t *u;               /* 128 x ROWS_MAX bits: the receiver's correction matrix */
  uint8_t *rows;            /* ROWS_MAX x 128 bits: the transposed chunk */
  uint8_t *chi;             /* ROWS_MAX challenge blocks */
  uint8_t *choice;          /* ROWS_MAX bits: the receiver's padded choice bits */
  bool flip;                /* tests: corrupt the next u (fsn_iknp_test_flip) */
  unsigned flip_col;
  size_t flip_row;
} iknp;

static iknp *of(fsn_cot *cot) { return (iknp *)(void *)cot; }

/* Rows in a chunk of m OTs: padded to 128, and checked with the KOS15 rows. */
static size_t padded(const iknp *k, size_t m) { return fsn_ot_round128(k->checked ? m + CHECK_ROWS : m); }

static size_t chunk_len(size_t n, size_t off) { return n - off < FSN_OT_CHUNK ? n - off : FSN_OT_CHUNK; }

/* ---- the KOS15 check --------------------------------------------------------------------------------------------- */

static void challenge(iknp *k, const uint8_t seed[16], size_t mp) {
  fsn_prg g;
  fsn_prg_seed(&g, seed);
  fsn_prg_bytes(&g, k->chi, 16 * mp);
  sodium_memzero(&g, sizeof g);
}

/* Receiver: read the seed, send x = sum chi_i c_i (a masked XOR: no branch on choice bits) and t = sum chi_i t_i. */
static fsn_status rx_prove(iknp *k, size_t mp) {
  uint8_t seed[16], proof[32] = {0};
  fsn_status st = fsn_channel_recv(k->base.ch, seed, sizeof seed);
  if (st != FSN_OK) return st;
  challenge(k, seed, mp);
  uint64_t x0 = 0, x1 = 0;
  for (size_t i = 0; i < mp; i++) {
    const uint64_t mask = 0 - (uint64_t)fsn_ot_bit(k->choice, i);
    x0 ^= fsn_ot_low64(k->chi + 16 * i) & mask, x1 ^= fsn_ot_high64(k->chi + 16 * i) & mask;
  }
  fsn_ot_store64(proof, x0), fsn_ot_store64(proof + 8, x1);
  fsn_bits_gf128_inner(proof + 16, k->chi, k->rows, mp);
  st = fsn_channel_send(k->base.ch, proof, sizeof proof);
  return st == FSN_OK ? fsn_channel_flush(k->base.ch) : st;
}

/* Sender: the seed goes out as soon as u is in (before the sender's own work on the chunk). */
static fsn_status tx_challenge(iknp *k, uint8_t seed[16]) {
  fsn_prg_bytes(&k->local, seed, 16);
  fsn_status st = fsn_channel_send(k->base.ch, seed, 16);
  return st == FSN_OK ? fsn_channel_flush(k->base.ch) : st;
}

static fsn_status tx_verify(iknp *k, const uint8_t seed[16], size_t mp) {
  uint8_t proof[32], q[16], xd[16];
  fsn_status st = fsn_channel_recv(k->base.ch, proof, sizeof proof);
  if (st != FSN_OK) return st;
  challenge(k, seed, mp);
  fsn_bits_gf128_inner(q, k->chi, k->rows, mp);
  fsn_bits_gf128_inner(xd, proof, k->base.delta, 1);
  for (int b = 0; b < 16; b++) xd[b] ^= proof[16 + b];
  if (sodium_memcmp(q, xd, 16) != 0) {
    sodium_memzero(k->rows, 16 * mp);
    return fsn_fail(FSN_E_CHEATING, "IKNP: the receiver failed the KOS15 consistency check (its correction matrix is "
                                    "not one choice vector): the peer deviated, OTs refused");
  }
  return FSN_OK;
}

/* ---- one chunk --------------------------------------------------------------------------------------------------- */

/* Receiver: m choice bits from `choice` (or, choice NULL, uniform ones, written back to rchoice), then the padding. */
static fsn_status rx_chunk(iknp *k, const uint8_t *choice, uint8_t *rchoice, size_t m) {
  const size_t mp = padded(k, m), len = mp / 8, blocks = len / 16;
  if (choice) {
    memcpy(k->choice, choice, (m + 7) / 8);
  } else {
    fsn_prg_bytes(&k->local, k->choice, (m + 7) / 8);
  }
  /* Padding bits: uniform when checked (they hide the proof's x), zero otherwise. */
  if (m % 8) k->choice[m / 8] &= (uint8_t)((1u << (m % 8)) - 1);
  if (rchoice) memcpy(rchoice, k->choice, (m + 7) / 8);
  memset(k->choice + (m + 7) / 8, 0, len - (m + 7) / 8);
  if (k->checked) {
    uint8_t pad[48];
    fsn_prg_bytes(&k->local, pad, sizeof pad); /* 384 bits >= the padding */
    for (size_t i = m; i < mp; i++) k->choice[i / 8] |= (uint8_t)(fsn_ot_bit(pad, i - m) << (i % 8));
    sodium_memzero(pad, sizeof pad);
  }
  for (int j = 0; j < FSN_OT_KAPPA; j++) {
    uint8_t *t = k->cols + j * len, *u = k->u + j * len;
    fsn_aes128_ctr(t, NULL, blocks, &k->g0[j].key, k->g0[j].ctr);
    fsn_bits_xor(u, t, k->choice, len);
    fsn_aes128_ctr(u, u, blocks, &k->g1[j].key, k->g1[j].ctr);
  }
  if (k->flip && k->flip_row < mp) {
    k->u[k->flip_col * len + k->flip_row / 8] ^= (uint8_t)(1u << (k->flip_row % 8));
    k->flip = false;
  }
  fsn_status st = fsn_channel_send(k->base.ch, k->u, FSN_OT_KAPPA * len);
  if (st == FSN_OK) st = fsn_channel_flush(k->base.ch);
  if (st != FSN_OK) return st;
  fsn_bits_transpose(k->rows, k->cols, FSN_OT_KAPPA, mp);
  return k->checked ? rx_prove(k, mp) : FSN_OK;
}

static fsn_status tx_chunk(iknp *k, size_t m) {
  const size_t mp = padded(k, m), len = mp / 8, blocks = len / 16;
  uint8_t seed[16];
  fsn_status st = fsn_channel_recv(k->base.ch, k->u, FSN_OT_KAPPA * len);
  if (st == FSN_OK && k->checked) st = tx_challenge(k, seed);
  if (st != FSN_OK) return st;
  for (int j = 0; j < FSN_OT_KAPPA; j++) {
    uint8_t *q = k->cols + j * len;
    fsn_aes128_ctr(q, NULL, blocks, &k->g0[j].key, k->g0[j].ctr);
    fsn_ot_xor_masked(q, k->u + j * len, len, 0 - (uint64_t)((k->base.delta[j / 8] >> (j % 8)) & 1u));
  }
  fsn_bits_transpose(k->rows, k->cols, FSN_OT_KAPPA, mp);
  return k->checked ? tx_verify(k, seed, mp) : FSN_OK;
}

/* ---- the interface ----------------------------------------------------------------------------------------------- */

static fsn_status send(fsn_cot *cot, uint8_t *x0, size_t n) {
  iknp *k = of(cot);
  for (size_t off = 0; off < n; off += FSN_OT_CHUNK) {
    const size_t m = chunk_len(n, off);
    fsn_status st = tx_chunk(k, m);
    if (st != FSN_OK) return st;
    memcpy(x0 + 16 * off, k->rows, 16 * m);
  }
  return FSN_OK;
}

static fsn_status recv_any(fsn_cot *cot, uint8_t *xc, const uint8_t *choice, uint8_t *rchoice, size_t n) {
  iknp *k = of(cot);
  for (size_t off = 0; off < n; off += FSN_OT_CHUNK) {
    const size_t m = chunk_len(n, off);
    fsn_status st = rx_chunk(k, choice ? choice + off / 8 : NULL, rchoice ? rchoice + off / 8 : NULL, m);
    if (st != FSN_OK) return st;
    memcpy(xc + 16 * off, k->rows, 16 * m);
  }
  return FSN_OK;
}

static fsn_status recv(fsn_cot *cot, uint8_t *xc, const uint8_t *choice, size_t n) {
  return recv_any(cot, xc, choice, NULL, n);
}

static fsn_status rcot_recv(fsn_cot *cot, uint8_t *xc, uint8_t *choice, size_t n) {
  return recv_any(cot, xc, NULL, choice, n);
}

static void destroy(fsn_cot *cot) {
  iknp *k = of(cot);
  const size_t mat = FSN_OT_KAPPA * ROWS_MAX / 8;
  if (k->cols) sodium_memzero(k->cols, mat);
  if (k->rows) sodium_memzero(k->rows, 16 * ROWS_MAX);
  if (k->choice) sodium_memzero(k->choice, ROWS_MAX / 8);
  free(k->cols), free(k->u), free(k->rows), free(k->chi), free(k->choice);
  sodium_memzero(k, sizeof *k);
  free(k);
}

static const fsn_cot_ops iknp_ops = {
    .name = "iknp", .send = send, .recv = recv, .rcot_send = send, .rcot_recv = rcot_recv, .destroy = destroy};
static const fsn_cot_ops iknp_rcot_ops = {
    .name = "iknp-rcot", .send = NULL, .recv = NULL, .rcot_send = send, .rcot_recv = rcot_recv, .destroy = destroy};

fsn_status fsn_iknp_create(fsn_cot **out, fsn_channel *ch, fsn_ot_role role, const fsn_cot_config *cfg) {
  iknp *k = calloc(1, sizeof *k);
  if (!k) return fsn_fail(FSN_E_NOMEM, "IKNP: %zu bytes", sizeof *k);
  k->checked = !cfg->unchecked;
  fsn_status st = fsn_cot_init(&k->base, cfg->rcot_only ? &iknp_rcot_ops : &iknp_ops, ch, role);
  k->base.checked = k->checked;
  const size_t mat = FSN_OT_KAPPA * ROWS_MAX / 8;
  k->cols = fsn_ot_alloc64(mat), k->u = fsn_ot_alloc64(mat), k->rows = fsn_ot_alloc64(16 * ROWS_MAX);
  k->chi = fsn_ot_alloc64(16 * ROWS_MAX), k->choice = fsn_ot_alloc64(ROWS_MAX / 8);
  if (st == FSN_OK && (!k->cols || !k->u || !k->rows || !k->chi || !k->choice))
    st = fsn_fail(FSN_E_NOMEM, "IKNP: %zu bytes of working buffers", 2 * mat + 32 * ROWS_MAX);
  fsn_ot_local_prg(&k->local, cfg->seed, "fusion/iknp/locl");
  /* Base OTs with reversed roles: the extension receiver sends, the extension sender receives with choice Delta. */
  if (st == FSN_OK)
    st = fsn_ot_base_setup(ch, role, FSN_OT_KAPPA, k->g0, k->g1, k->base.delta, cfg->seed, "fusion/iknp/seed");
  if (st != FSN_OK) {
    fsn_cot_destroy(&k->base);
    return st;
  }
  *out = &k->base;
  return FSN_OK;
}

fsn_status fsn_iknp_test_flip(fsn_cot *receiver, unsigned column, size_t row) {
  if (!receiver || receiver->role != FSN_OT_RECEIVER || receiver->ops->destroy != destroy || column >= FSN_OT_KAPPA)
    return fsn_fail(FSN_E_INVALID, "fsn_iknp_test_flip: not an IKNP receiver, or column %u", column);
  iknp *k = of(receiver);
  k->flip = true, k->flip_col = column, k->flip_row = row;
  return FSN_OK;
}
