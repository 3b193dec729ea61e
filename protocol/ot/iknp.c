/* IKNP OT extension (semi-honest), chunked. The extension receiver is the base-OT sender with seed pairs (k_j^0,
 * k_j^1), the extension sender the base-OT receiver with choice bits s = Delta. Per chunk of m OTs (padded to a
 * multiple of 128) the receiver sends u_j = G(k_j^0) ^ G(k_j^1) ^ c for each of the 128 columns; the sender forms
 * q_j = G(k_j^{s_j}) ^ s_j u_j, and after the 128 x m -> m x 128 transposes q_i = t_i ^ c_i Delta: a correlated OT.
 * Random and chosen-message OT hash the rows with the fixed-key CCR hash; the arithmetic form sends ell-bit
 * corrections. */
#include "protocol/ot/ot_internal.h"

#include <fusion/bits.h>
#include <fusion/ring.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

/* ---- life cycle -------------------------------------------------------------------------------------------------- */

static void *alloc64(size_t bytes) { return aligned_alloc(64, (bytes + 63) / 64 * 64); }

static fsn_status alloc_buffers(fsn_ot *ot) {
  const size_t mat = FSN_OT_KAPPA * FSN_OT_CHUNK / 8, rows = FSN_OT_CHUNK * 16;
  ot->cols = alloc64(mat);
  ot->u = alloc64(mat);
  ot->rows = alloc64(rows);
  ot->rows2 = alloc64(rows);
  ot->choice = alloc64(FSN_OT_CHUNK / 8);
  ot->ring = alloc64(2 * FSN_OT_CHUNK * sizeof(uint64_t));
  if (!ot->cols || !ot->u || !ot->rows || !ot->rows2 || !ot->choice || !ot->ring)
    return fsn_fail(FSN_E_NOMEM, "OT extension: %zu bytes of working buffers", 2 * mat + 2 * rows);
  return FSN_OK;
}

fsn_status fsn_ot_base_setup(fsn_ot *ot, size_t k, fsn_prg *g0, fsn_prg *g1, uint8_t *choice, const char domain[16]) {
  uint8_t *k0 = malloc(16 * k), *k1 = malloc(16 * k), base_seed[32];
  if (!k0 || !k1) {
    free(k0), free(k1);
    return fsn_fail(FSN_E_NOMEM, "base OTs: %zu keys", 2 * k);
  }
  const uint8_t *bseed = NULL;
  fsn_prg seeded;
  if (ot->seeded) {
    uint8_t key[16];
    crypto_generichash(key, sizeof key, ot->seed, 32, (const uint8_t *)domain, 16);
    fsn_prg_seed(&seeded, key);
    sodium_memzero(key, sizeof key);
    fsn_prg_bytes(&seeded, base_seed, sizeof base_seed);
    bseed = base_seed;
  }
  fsn_status st;
  if (ot->role == FSN_OT_RECEIVER) {
    st = fsn_base_ot_send(ot->ch, k0, k1, k, bseed);
    if (st == FSN_OK)
      for (size_t j = 0; j < k; j++) {
        fsn_prg_seed(&g0[j], k0 + 16 * j);
        fsn_prg_seed(&g1[j], k1 + 16 * j);
      }
  } else {
    if (ot->seeded)
      fsn_prg_bytes(&seeded, choice, k / 8);
    else
      randombytes_buf(choice, k / 8);
    st = fsn_base_ot_recv(ot->ch, k0, choice, k, bseed);
    if (st == FSN_OK)
      for (size_t j = 0; j < k; j++) fsn_prg_seed(&g0[j], k0 + 16 * j);
  }
  sodium_memzero(k0, 16 * k);
  sodium_memzero(k1, 16 * k);
  sodium_memzero(base_seed, sizeof base_seed);
  sodium_memzero(&seeded, sizeof seeded);
  free(k0), free(k1);
  return st;
}

static fsn_status create(fsn_ot **out, fsn_channel *ch, fsn_ot_role role, const uint8_t *seed) {
  if (!out || !ch) return fsn_fail(FSN_E_INVALID, "fsn_ot_create: NULL argument");
  if (role != FSN_OT_SENDER && role != FSN_OT_RECEIVER)
    return fsn_fail(FSN_E_INVALID, "fsn_ot_create: role %d is neither sender nor receiver", (int)role);
  *out = NULL;
  fsn_ot *ot = calloc(1, sizeof *ot);
  if (!ot) return fsn_fail(FSN_E_NOMEM, "fsn_ot_create: %zu bytes", sizeof *ot);
  ot->ch = ch;
  ot->role = role;
  if (seed) {
    ot->seeded = true;
    memcpy(ot->seed, seed, 32);
  }
  fsn_status st = alloc_buffers(ot);
  /* Base OTs with reversed roles: the extension receiver sends, the extension sender receives with choice Delta. */
  if (st == FSN_OK) st = fsn_ot_base_setup(ot, FSN_OT_KAPPA, ot->g0, ot->g1, ot->delta, "fusion/iknp/seed");
  if (st != FSN_OK) {
    fsn_ot_destroy(ot);
    return st;
  }
  *out = ot;
  return FSN_OK;
}

fsn_status fsn_ot_create(fsn_ot **out, fsn_channel *ch, fsn_ot_role role) { return create(out, ch, role, NULL); }

fsn_status fsn_ot_create_seeded(fsn_ot **out, fsn_channel *ch, fsn_ot_role role, const uint8_t seed[32]) {
  if (!seed) return fsn_fail(FSN_E_INVALID, "fsn_ot_create_seeded: NULL seed");
  return create(out, ch, role, seed);
}

void fsn_ot_destroy(fsn_ot *ot) {
  if (!ot) return;
  free(ot->cols);
  free(ot->u);
  free(ot->rows);
  free(ot->rows2);
  free(ot->choice);
  free(ot->ring);
  fsn_ot_kk_free(ot);
  sodium_memzero(ot, sizeof *ot);
  free(ot);
}

fsn_ot_role fsn_ot_get_role(const fsn_ot *ot) { return ot->role; }

fsn_status fsn_ot_delta(const fsn_ot *ot, uint8_t delta[16]) {
  if (!ot || ot->role != FSN_OT_SENDER) return fsn_fail(FSN_E_INVALID, "fsn_ot_delta: not a sender");
  memcpy(delta, ot->delta, 16);
  return FSN_OK;
}

fsn_status fsn_ot_check(fsn_ot *ot, fsn_ot_role role, size_t n, const char *what) {
  if (!ot) return fsn_fail(FSN_E_INVALID, "%s: NULL OT object", what);
  if (ot->role != role)
    return fsn_fail(FSN_E_INVALID, "%s: called on a %s object", what,
                    ot->role == FSN_OT_SENDER ? "sender" : "receiver");
  if (ot->broken) return fsn_fail(FSN_E_INVALID, "%s: the OT object failed earlier and is out of step", what);
  if (n > SIZE_MAX / 64) return fsn_fail(FSN_E_INVALID, "%s: n = %zu too large", what, n);
  return FSN_OK;
}

/* ---- one chunk --------------------------------------------------------------------------------------------------- */

/* The receiver's chunk in three steps, so a caller can compute the next chunk while the peer works on this one. */
static void rx_columns(fsn_ot *ot, const uint8_t *choice, size_t m) {
  const size_t len = fsn_ot_round128(m) / 8, blocks = len / 16;
  memset(ot->choice, 0, len);
  memcpy(ot->choice, choice, (m + 7) / 8);
  for (int j = 0; j < FSN_OT_KAPPA; j++) {
    uint8_t *t = ot->cols + j * len, *u = ot->u + j * len;
    fsn_aes128_ctr(t, NULL, blocks, &ot->g0[j].key, ot->g0[j].ctr);
    fsn_bits_xor(u, t, ot->choice, len);
    fsn_aes128_ctr(u, u, blocks, &ot->g1[j].key, ot->g1[j].ctr);
  }
}

static fsn_status rx_send(fsn_ot *ot, size_t m) {
  fsn_status st = fsn_channel_send(ot->ch, ot->u, FSN_OT_KAPPA * fsn_ot_round128(m) / 8);
  return st == FSN_OK ? fsn_channel_flush(ot->ch) : st;
}

static void rx_rows(fsn_ot *ot, size_t m, uint8_t *t_rows) {
  fsn_bits_transpose(t_rows, ot->cols, FSN_OT_KAPPA, fsn_ot_round128(m));
}

fsn_status fsn_ot_rx_chunk(fsn_ot *ot, const uint8_t *choice, size_t m, uint8_t *t_rows) {
  rx_columns(ot, choice, m);
  fsn_status st = rx_send(ot, m); /* before the transpose, so the sender starts on the chunk meanwhile */
  if (st == FSN_OK) rx_rows(ot, m, t_rows);
  return st;
}

fsn_status fsn_ot_tx_chunk(fsn_ot *ot, size_t m, uint8_t *q_rows) {
  const size_t mp = fsn_ot_round128(m), len = mp / 8, blocks = len / 16;
  fsn_status st = fsn_channel_recv(ot->ch, ot->u, FSN_OT_KAPPA * len);
  if (st != FSN_OK) return st;
  for (int j = 0; j < FSN_OT_KAPPA; j++) {
    uint8_t *q = ot->cols + j * len;
    const uint8_t *u = ot->u + j * len;
    fsn_aes128_ctr(q, NULL, blocks, &ot->g0[j].key, ot->g0[j].ctr);
    fsn_ot_xor_masked(q, u, len, 0 - (uint64_t)((ot->delta[j / 8] >> (j % 8)) & 1u));
  }
  fsn_bits_transpose(q_rows, ot->cols, FSN_OT_KAPPA, mp);
  return FSN_OK;
}

/* Rows straight into the caller's buffer when the chunk needs no padding, else through the scratch rows. */
static uint8_t *rows_target(fsn_ot *ot, uint8_t *out, size_t m) { return m % 128 == 0 && out ? out : ot->rows; }

static void xor_delta(uint8_t *restrict dst, const uint8_t *restrict src, const uint8_t delta[16], size_t m) {
  uint64_t d0, d1;
  memcpy(&d0, delta, 8);
  memcpy(&d1, delta + 8, 8);
  for (size_t i = 0; i < m; i++) {
    uint64_t a, b;
    memcpy(&a, src + 16 * i, 8);
    memcpy(&b, src + 16 * i + 8, 8);
    a ^= d0, b ^= d1;
    memcpy(dst + 16 * i, &a, 8);
    memcpy(dst + 16 * i + 8, &b, 8);
  }
}

static size_t chunk_len(size_t n, size_t off) { return n - off < FSN_OT_CHUNK ? n - off : FSN_OT_CHUNK; }

/* ---- correlated and random OT ------------------------------------------------------------------------------------ */

fsn_status fsn_ot_cot_send(fsn_ot *ot, uint8_t *x0, size_t n) {
  fsn_status st = fsn_ot_check(ot, FSN_OT_SENDER, n, "fsn_ot_cot_send");
  if (st != FSN_OK) return st;
  for (size_t off = 0; off < n; off += FSN_OT_CHUNK) {
    const size_t m = chunk_len(n, off);
    uint8_t *q = rows_target(ot, x0 + 16 * off, m);
    if ((st = fsn_ot_tx_chunk(ot, m, q)) != FSN_OK) return fsn_ot_broke(ot, st);
    if (q != x0 + 16 * off) memcpy(x0 + 16 * off, q, 16 * m);
  }
  return FSN_OK;
}

fsn_status fsn_ot_cot_recv(fsn_ot *ot, uint8_t *xc, const uint8_t *choice, size_t n) {
  fsn_status st = fsn_ot_check(ot, FSN_OT_RECEIVER, n, "fsn_ot_cot_recv");
  if (st != FSN_OK) return st;
  for (size_t off = 0; off < n; off += FSN_OT_CHUNK) {
    const size_t m = chunk_len(n, off);
    uint8_t *t = rows_target(ot, xc + 16 * off, m);
    if ((st = fsn_ot_rx_chunk(ot, choice + off / 8, m, t)) != FSN_OK) return fsn_ot_broke(ot, st);
    if (t != xc + 16 * off) memcpy(xc + 16 * off, t, 16 * m);
  }
  return FSN_OK;
}

fsn_status fsn_ot_rot_send(fsn_ot *ot, uint8_t *m0, uint8_t *m1, size_t n) {
  fsn_status st = fsn_ot_check(ot, FSN_OT_SENDER, n, "fsn_ot_rot_send");
  if (st != FSN_OK) return st;
  for (size_t off = 0; off < n; off += FSN_OT_CHUNK) {
    const size_t m = chunk_len(n, off);
    if ((st = fsn_ot_tx_chunk(ot, m, ot->rows)) != FSN_OK) return fsn_ot_broke(ot, st);
    xor_delta(m1 + 16 * off, ot->rows, ot->delta, m);
    fsn_ccrh(m0 + 16 * off, ot->rows, m);
    fsn_ccrh(m1 + 16 * off, m1 + 16 * off, m);
  }
  return FSN_OK;
}

fsn_status fsn_ot_rot_recv(fsn_ot *ot, uint8_t *mc, const uint8_t *choice, size_t n) {
  fsn_status st = fsn_ot_check(ot, FSN_OT_RECEIVER, n, "fsn_ot_rot_recv");
  if (st != FSN_OK) return st;
  for (size_t off = 0; off < n; off += FSN_OT_CHUNK) {
    const size_t m = chunk_len(n, off);
    if ((st = fsn_ot_rx_chunk(ot, choice + off / 8, m, ot->rows)) != FSN_OK) return fsn_ot_broke(ot, st);
    fsn_ccrh(mc + 16 * off, ot->rows, m);
  }
  return FSN_OK;
}

/* ---- chosen-message and arithmetic OT ---------------------------------------------------------------------------- */

static fsn_status check_ell(unsigned ell, const char *what) {
  if (ell < 1 || ell > 64) return fsn_fail(FSN_E_INVALID, "%s: ell = %u outside 1 .. 64", what, ell);
  return FSN_OK;
}

/* The sender's two pads for a chunk: pad0[i] = H(q_i), pad1[i] = H(q_i ^ Delta), low 64 bits. */
static void sender_pads(fsn_ot *ot, size_t m) {
  xor_delta(ot->rows2, ot->rows, ot->delta, m);
  fsn_ccrh(ot->rows, ot->rows, m);
  fsn_ccrh(ot->rows2, ot->rows2, m);
}

fsn_status fsn_ot_send(fsn_ot *ot, const uint64_t *m0, const uint64_t *m1, size_t n, unsigned ell) {
  fsn_status st = fsn_ot_check(ot, FSN_OT_SENDER, n, "fsn_ot_send");
  if (st == FSN_OK) st = check_ell(ell, "fsn_ot_send");
  if (st != FSN_OK) return st;
  const uint64_t mask = fsn_ring_mask(ell);
  for (size_t off = 0; off < n; off += FSN_OT_CHUNK) {
    const size_t m = chunk_len(n, off);
    if ((st = fsn_ot_tx_chunk(ot, m, ot->rows)) != FSN_OK) return fsn_ot_broke(ot, st);
    sender_pads(ot, m);
    for (size_t i = 0; i < m; i++) {
      ot->ring[i] = (m0[off + i] ^ fsn_ot_low64(ot->rows + 16 * i)) & mask;
      ot->ring[m + i] = (m1[off + i] ^ fsn_ot_low64(ot->rows2 + 16 * i)) & mask;
    }
    if ((st = fsn_channel_send_ring(ot->ch, ot->ring, 2 * m, ell)) != FSN_OK ||
        (st = fsn_channel_flush(ot->ch)) != FSN_OK)
      return fsn_ot_broke(ot, st);
  }
  return FSN_OK;
}

/* Receiver side of the chosen and arithmetic OTs: each chunk is a round trip (u out, ciphertexts back). The next
 * chunk's columns and hashed rows are computed while the sender works on this one; u of the next chunk is sent only
 * after this chunk's reply has been read, so the two directions never both hold a large unread frame. The hashed
 * rows (low 64 bits of H(t_i)) wait in the output array until the reply arrives. */
typedef void (*rx_finish_fn)(uint64_t *out, const uint64_t *reply, const uint8_t *choice, size_t off, size_t m,
                             uint64_t mask);

static void rx_stash(fsn_ot *ot, uint64_t *out, size_t off, size_t m) {
  rx_rows(ot, m, ot->rows);
  fsn_ccrh(ot->rows, ot->rows, m);
  for (size_t i = 0; i < m; i++) out[off + i] = fsn_ot_low64(ot->rows + 16 * i);
}

static fsn_status rx_round_trips(fsn_ot *ot, uint64_t *out, const uint8_t *choice, size_t n, unsigned ell,
                                 size_t reply_per_ot, rx_finish_fn finish) {
  const uint64_t mask = fsn_ring_mask(ell);
  size_t off = 0, m = chunk_len(n, 0);
  fsn_status st;
  if (n == 0) return FSN_OK;
  rx_columns(ot, choice, m);
  rx_stash(ot, out, 0, m);
  while (off < n) {
    if ((st = rx_send(ot, m)) != FSN_OK) return fsn_ot_broke(ot, st);
    const size_t next = off + m, mn = next < n ? chunk_len(n, next) : 0;
    if (mn) {
      rx_columns(ot, choice + next / 8, mn);
      rx_stash(ot, out, next, mn);
    }
    if ((st = fsn_channel_recv_ring(ot->ch, ot->ring, reply_per_ot * m, ell)) != FSN_OK) return fsn_ot_broke(ot, st);
    finish(out, ot->ring, choice, off, m, mask);
    off = next, m = mn;
  }
  return FSN_OK;
}

/* The reply holds m ciphertexts of m0 then m of m1; take the chosen one without a branch on the choice bit. */
static void finish_chosen(uint64_t *out, const uint64_t *ct, const uint8_t *choice, size_t off, size_t m,
                          uint64_t mask) {
  for (size_t i = 0; i < m; i++) {
    const uint64_t c = 0 - (uint64_t)fsn_ot_bit(choice, off + i);
    out[off + i] = (out[off + i] ^ ct[i] ^ (c & (ct[i] ^ ct[m + i]))) & mask;
  }
}

/* The reply holds the corrections d_i; the receiver with c_i = 1 adds its own. */
static void finish_acot(uint64_t *out, const uint64_t *d, const uint8_t *choice, size_t off, size_t m, uint64_t mask) {
  for (size_t i = 0; i < m; i++) {
    const uint64_t c = 0 - (uint64_t)fsn_ot_bit(choice, off + i);
    out[off + i] = (out[off + i] + (c & d[i])) & mask;
  }
}

fsn_status fsn_ot_recv(fsn_ot *ot, uint64_t *mc, const uint8_t *choice, size_t n, unsigned ell) {
  fsn_status st = fsn_ot_check(ot, FSN_OT_RECEIVER, n, "fsn_ot_recv");
  if (st == FSN_OK) st = check_ell(ell, "fsn_ot_recv");
  if (st != FSN_OK) return st;
  return rx_round_trips(ot, mc, choice, n, ell, 2, finish_chosen);
}

fsn_status fsn_ot_acot_send(fsn_ot *ot, uint64_t *x0, const uint64_t *corr, size_t n, unsigned ell) {
  fsn_status st = fsn_ot_check(ot, FSN_OT_SENDER, n, "fsn_ot_acot_send");
  if (st == FSN_OK) st = check_ell(ell, "fsn_ot_acot_send");
  if (st != FSN_OK) return st;
  const uint64_t mask = fsn_ring_mask(ell);
  for (size_t off = 0; off < n; off += FSN_OT_CHUNK) {
    const size_t m = chunk_len(n, off);
    if ((st = fsn_ot_tx_chunk(ot, m, ot->rows)) != FSN_OK) return fsn_ot_broke(ot, st);
    sender_pads(ot, m);
    for (size_t i = 0; i < m; i++) {
      const uint64_t r0 = fsn_ot_low64(ot->rows + 16 * i), r1 = fsn_ot_low64(ot->rows2 + 16 * i);
      ot->ring[i] = (r0 + corr[off + i] - r1) & mask; /* the receiver with c = 1 adds this to r1 */
      x0[off + i] = r0 & mask;
    }
    if ((st = fsn_channel_send_ring(ot->ch, ot->ring, m, ell)) != FSN_OK || (st = fsn_channel_flush(ot->ch)) != FSN_OK)
      return fsn_ot_broke(ot, st);
  }
  return FSN_OK;
}

fsn_status fsn_ot_acot_recv(fsn_ot *ot, uint64_t *xc, const uint8_t *choice, size_t n, unsigned ell) {
  fsn_status st = fsn_ot_check(ot, FSN_OT_RECEIVER, n, "fsn_ot_acot_recv");
  if (st == FSN_OK) st = check_ell(ell, "fsn_ot_acot_recv");
  if (st != FSN_OK) return st;
  return rx_round_trips(ot, xc, choice, n, ell, 1, finish_acot);
}
