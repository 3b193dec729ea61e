/* OTs derived once from the COT interface, for every extension: random OT, chosen-message OT of ell-bit messages and
 * arithmetic correlated OT over Z_2^ell.
 *
 * From a COT (sender x0_i, x1_i = x0_i ^ Delta; receiver x_{c_i}) the pads are H(x0_i ^ T_i) and H(x1_i ^ T_i), H the
 * fixed-key circular-correlation-robust hash and T_i the object's running tweak (the count of derived OTs before
 * this one, in the block's low 64 bits): the receiver knows its pad, the other is pseudorandom without Delta. The
 * tweak keeps hash inputs distinct even when a malicious receiver makes two COT rows equal (KOS15 permits that). */
#include "protocol/ot/ot_internal.h"

#include <fusion/bits.h>
#include <fusion/ring.h>
#include <stdlib.h>

/* out_i = H(in_i ^ (t0 + i)) for m blocks; out may equal in. */
static void tweaked_hash(uint8_t *out, const uint8_t *in, size_t m, uint64_t t0) {
  for (size_t i = 0; i < m; i++) {
    fsn_ot_store64(out + 16 * i, fsn_ot_low64(in + 16 * i) ^ (t0 + i));
    if (out != in) memcpy(out + 16 * i + 8, in + 16 * i + 8, 8);
  }
  fsn_ccrh(out, out, m);
}

/* Sender: pad0 = H(x0 ^ T) into p0, pad1 = H(x0 ^ Delta ^ T) into p1 (x0 in p0 on entry). */
static void sender_pads(const fsn_cot *cot, uint8_t *p0, uint8_t *p1, size_t m, uint64_t t0) {
  fsn_ot_xor_delta(p1, p0, cot->delta, m);
  tweaked_hash(p0, p0, m, t0);
  tweaked_hash(p1, p1, m, t0);
}

static size_t chunk_len(size_t n, size_t off) { return n - off < FSN_OT_CHUNK ? n - off : FSN_OT_CHUNK; }

static fsn_status check_ell(unsigned ell, const char *what) {
  if (ell < 1 || ell > 64) return fsn_fail(FSN_E_INVALID, "%s: ell = %u outside 1 .. 64", what, ell);
  return FSN_OK;
}

/* ---- random OT --------------------------------------------------------------------------------------------------- */

/* Random OTs from COTs x0 (sender) / xc (receiver) just made with status st: the tweaked hashes are the messages. */
static fsn_status sender_rot(fsn_cot *cot, fsn_status st, uint8_t *m0, uint8_t *m1, size_t n) {
  if (st != FSN_OK) return st;
  sender_pads(cot, m0, m1, n, cot->tweak);
  cot->tweak += n;
  return FSN_OK;
}

static fsn_status receiver_rot(fsn_cot *cot, fsn_status st, uint8_t *mc, size_t n) {
  if (st != FSN_OK) return st;
  tweaked_hash(mc, mc, n, cot->tweak);
  cot->tweak += n;
  return FSN_OK;
}

fsn_status fsn_ot_rot_send(fsn_cot *cot, uint8_t *m0, uint8_t *m1, size_t n) {
  fsn_status st = fsn_cot_check(cot, FSN_OT_SENDER, n, "fsn_ot_rot_send");
  return sender_rot(cot, st == FSN_OK ? fsn_cot_send(cot, m0, n) : st, m0, m1, n);
}

fsn_status fsn_ot_rot_recv(fsn_cot *cot, uint8_t *mc, const uint8_t *choice, size_t n) {
  fsn_status st = fsn_cot_check(cot, FSN_OT_RECEIVER, n, "fsn_ot_rot_recv");
  return receiver_rot(cot, st == FSN_OK ? fsn_cot_recv(cot, mc, choice, n) : st, mc, n);
}

/* Random OT with random choice bits, straight from the extension's random-choice COTs: no correction bit, so on a
 * silent extension it costs the COTs only. */
fsn_status fsn_ot_rrot_send(fsn_cot *cot, uint8_t *m0, uint8_t *m1, size_t n) {
  fsn_status st = fsn_cot_check(cot, FSN_OT_SENDER, n, "fsn_ot_rrot_send");
  return sender_rot(cot, st == FSN_OK ? fsn_cot_rcot_send(cot, m0, n) : st, m0, m1, n);
}

fsn_status fsn_ot_rrot_recv(fsn_cot *cot, uint8_t *mc, uint8_t *choice, size_t n) {
  fsn_status st = fsn_cot_check(cot, FSN_OT_RECEIVER, n, "fsn_ot_rrot_recv");
  return receiver_rot(cot, st == FSN_OK ? fsn_cot_rcot_recv(cot, mc, choice, n) : st, mc, n);
}

/* ---- chosen-message and arithmetic OT ---------------------------------------------------------------------------- */

/* One flight per call: the COTs of every chunk go first, then the sender's words of the whole call in one frame, so
 * that on an extension without per-chunk interaction (Ferret) a call costs one round trip however many chunks it
 * has (a non-linear layer's rounds do not grow with its size). The frame buffer holds per_ot words per OT, no more
 * than the caller's own arrays. */

/* The sender's side: per chunk the COTs, the pads, and `per_ot` ell-bit words per OT made by `fill` from the pads'
 * low 64 bits; then all the words in one frame. */
typedef void (*fill_fn)(uint64_t *ring, uint64_t *out, const uint64_t *a, const uint64_t *b, const uint8_t *p0,
                        const uint8_t *p1, size_t off, size_t m, uint64_t mask);

/* On an extension that makes random-choice COTs only (Ferret; cot.c would derandomise chunk by chunk), both sides
 * draw every COT of the call first, so that the extension's refills (one-way frames, sender to receiver) all fall
 * before the call's first turn: the sender keeps both pads' low words of every OT and swaps them by the correction,
 * the receiver its pad and the corrections d = choice ^ r, sent in one frame (the same bytes as chunk by chunk). */
static bool draws_first(const fsn_cot *cot) { return !cot->ops->send; }

static fsn_status tx_drawn(fsn_cot *cot, uint64_t *out, const uint64_t *a, const uint64_t *b, size_t n, unsigned ell,
                           size_t per_ot, fill_fn fill) {
  const uint64_t mask = fsn_ring_mask(ell);
  uint64_t *ring = malloc(per_ot * n * sizeof *ring + 8), *pads = malloc(2 * n * sizeof *pads + 8);
  uint8_t *d = malloc(n / 8 + 1);
  fsn_status st = ring && pads && d ? FSN_OK : fsn_fail(FSN_E_NOMEM, "derived OTs: a frame of %zu", n);
  for (size_t off = 0; off < n && st == FSN_OK; off += FSN_OT_CHUNK) {
    const size_t m = chunk_len(n, off);
    if ((st = fsn_cot_rcot_send(cot, cot->rows, m)) != FSN_OK) break;
    sender_pads(cot, cot->rows, cot->rows2, m, cot->tweak);
    cot->tweak += m;
    for (size_t i = 0; i < m; i++)
      pads[2 * (off + i)] = fsn_ot_low64(cot->rows + 16 * i),
                      pads[2 * (off + i) + 1] = fsn_ot_low64(cot->rows2 + 16 * i);
  }
  if (st == FSN_OK) st = fsn_cot_broke(cot, fsn_channel_recv(cot->ch, d, (n + 7) / 8));
  for (size_t off = 0; off < n && st == FSN_OK; off += FSN_OT_CHUNK) {
    const size_t m = chunk_len(n, off);
    for (size_t i = 0; i < m; i++) { /* correction 1: the derandomised pad 0 is the drawn pad 1 */
      const unsigned c = fsn_ot_bit(d, off + i);
      fsn_ot_store64(cot->rows + 16 * i, pads[2 * (off + i) + c]);
      fsn_ot_store64(cot->rows2 + 16 * i, pads[2 * (off + i) + (c ^ 1)]);
    }
    fill(cot->ring, out, a, b, cot->rows, cot->rows2, off, m, mask);
    for (size_t k = 0; k < per_ot; k++) memcpy(ring + k * n + off, cot->ring + k * m, m * sizeof *ring);
  }
  if (st == FSN_OK && ((st = fsn_channel_send_ring(cot->ch, ring, per_ot * n, ell)) != FSN_OK ||
                       (st = fsn_channel_flush(cot->ch)) != FSN_OK))
    st = fsn_cot_broke(cot, st);
  free(ring), free(pads), free(d);
  return st;
}

static fsn_status tx_chunks(fsn_cot *cot, uint64_t *out, const uint64_t *a, const uint64_t *b, size_t n, unsigned ell,
                            size_t per_ot, fill_fn fill) {
  if (draws_first(cot)) return tx_drawn(cot, out, a, b, n, ell, per_ot, fill);
  const uint64_t mask = fsn_ring_mask(ell);
  uint64_t *ring = malloc(per_ot * n * sizeof *ring + 8);
  if (!ring) return fsn_fail(FSN_E_NOMEM, "derived OTs: a frame of %zu", n);
  fsn_status st = FSN_OK;
  for (size_t off = 0; off < n && st == FSN_OK; off += FSN_OT_CHUNK) {
    const size_t m = chunk_len(n, off);
    if ((st = fsn_cot_send(cot, cot->rows, m)) != FSN_OK) break;
    sender_pads(cot, cot->rows, cot->rows2, m, cot->tweak);
    cot->tweak += m;
    fill(cot->ring, out, a, b, cot->rows, cot->rows2, off, m, mask);
    for (size_t k = 0; k < per_ot; k++) /* word k of chunk OT i to the frame at k n + i */
      memcpy(ring + k * n + off, cot->ring + k * m, m * sizeof *ring);
  }
  if (st == FSN_OK && ((st = fsn_channel_send_ring(cot->ch, ring, per_ot * n, ell)) != FSN_OK ||
                       (st = fsn_channel_flush(cot->ch)) != FSN_OK))
    st = fsn_cot_broke(cot, st);
  free(ring);
  return st;
}

/* The receiver's side: per chunk the COTs and its pad; then the sender's frame and per chunk `finish`. */
typedef void (*finish_fn)(uint64_t *out, const uint64_t *reply, const uint8_t *choice, size_t off, size_t m,
                          uint64_t mask);

static fsn_status rx_chunks(fsn_cot *cot, uint64_t *out, const uint8_t *choice, size_t n, unsigned ell, size_t per_ot,
                            finish_fn finish) {
  const uint64_t mask = fsn_ring_mask(ell);
  const bool drawn = draws_first(cot);
  uint64_t *ring = malloc(per_ot * n * sizeof *ring + 8);
  uint8_t *d = drawn ? malloc(n / 8 + 1) : NULL;
  if (!ring || (drawn && !d)) {
    free(ring), free(d);
    return fsn_fail(FSN_E_NOMEM, "derived OTs: a frame of %zu", n);
  }
  fsn_status st = FSN_OK;
  for (size_t off = 0; off < n && st == FSN_OK; off += FSN_OT_CHUNK) {
    const size_t m = chunk_len(n, off);
    if (drawn && (st = fsn_cot_rcot_recv(cot, cot->rows, d + off / 8, m)) == FSN_OK) /* d = r ^ choice */
      fsn_bits_xor(d + off / 8, d + off / 8, choice + off / 8, (m + 7) / 8);
    else if (!drawn)
      st = fsn_cot_recv(cot, cot->rows, choice + off / 8, m);
    if (st != FSN_OK) break;
    tweaked_hash(cot->rows, cot->rows, m, cot->tweak);
    cot->tweak += m;
    for (size_t i = 0; i < m; i++) out[off + i] = fsn_ot_low64(cot->rows + 16 * i);
  }
  if (drawn && st == FSN_OK) {
    if (n % 8) d[n / 8] &= (uint8_t)((1u << (n % 8)) - 1);
    if ((st = fsn_channel_send(cot->ch, d, (n + 7) / 8)) != FSN_OK || (st = fsn_channel_flush(cot->ch)) != FSN_OK)
      st = fsn_cot_broke(cot, st);
  }
  if (st == FSN_OK && (st = fsn_channel_recv_ring(cot->ch, ring, per_ot * n, ell)) != FSN_OK)
    st = fsn_cot_broke(cot, st);
  for (size_t off = 0; off < n && st == FSN_OK; off += FSN_OT_CHUNK) {
    const size_t m = chunk_len(n, off);
    for (size_t k = 0; k < per_ot; k++) memcpy(cot->ring + k * m, ring + k * n + off, m * sizeof *ring);
    finish(out, cot->ring, choice, off, m, mask);
  }
  free(ring), free(d);
  return st;
}

/* Chosen: m ciphertexts of m0 then m of m1. */
static void fill_chosen(uint64_t *ring, uint64_t *out, const uint64_t *m0, const uint64_t *m1, const uint8_t *p0,
                        const uint8_t *p1, size_t off, size_t m, uint64_t mask) {
  (void)out;
  for (size_t i = 0; i < m; i++) {
    ring[i] = (m0[off + i] ^ fsn_ot_low64(p0 + 16 * i)) & mask;
    ring[m + i] = (m1[off + i] ^ fsn_ot_low64(p1 + 16 * i)) & mask;
  }
}

/* Take the chosen ciphertext without a branch on the choice bit. */
static void finish_chosen(uint64_t *out, const uint64_t *ct, const uint8_t *choice, size_t off, size_t m,
                          uint64_t mask) {
  for (size_t i = 0; i < m; i++) {
    const uint64_t c = 0 - (uint64_t)fsn_ot_bit(choice, off + i);
    out[off + i] = (out[off + i] ^ ct[i] ^ (c & (ct[i] ^ ct[m + i]))) & mask;
  }
}

/* Arithmetic: x0 = pad0, correction d = pad0 + corr - pad1 (the receiver with c = 1 adds it to pad1). */
static void fill_acot(uint64_t *ring, uint64_t *x0, const uint64_t *corr, const uint64_t *unused, const uint8_t *p0,
                      const uint8_t *p1, size_t off, size_t m, uint64_t mask) {
  (void)unused;
  for (size_t i = 0; i < m; i++) {
    const uint64_t r0 = fsn_ot_low64(p0 + 16 * i), r1 = fsn_ot_low64(p1 + 16 * i);
    ring[i] = (r0 + corr[off + i] - r1) & mask;
    x0[off + i] = r0 & mask;
  }
}

static void finish_acot(uint64_t *out, const uint64_t *d, const uint8_t *choice, size_t off, size_t m, uint64_t mask) {
  for (size_t i = 0; i < m; i++) {
    const uint64_t c = 0 - (uint64_t)fsn_ot_bit(choice, off + i);
    out[off + i] = (out[off + i] + (c & d[i])) & mask;
  }
}

fsn_status fsn_ot_send(fsn_cot *cot, const uint64_t *m0, const uint64_t *m1, size_t n, unsigned ell) {
  fsn_status st = fsn_cot_check(cot, FSN_OT_SENDER, n, "fsn_ot_send");
  if (st == FSN_OK) st = check_ell(ell, "fsn_ot_send");
  return st == FSN_OK ? tx_chunks(cot, NULL, m0, m1, n, ell, 2, fill_chosen) : st;
}

fsn_status fsn_ot_recv(fsn_cot *cot, uint64_t *mc, const uint8_t *choice, size_t n, unsigned ell) {
  fsn_status st = fsn_cot_check(cot, FSN_OT_RECEIVER, n, "fsn_ot_recv");
  if (st == FSN_OK) st = check_ell(ell, "fsn_ot_recv");
  return st == FSN_OK ? rx_chunks(cot, mc, choice, n, ell, 2, finish_chosen) : st;
}

fsn_status fsn_ot_acot_send(fsn_cot *cot, uint64_t *x0, const uint64_t *corr, size_t n, unsigned ell) {
  fsn_status st = fsn_cot_check(cot, FSN_OT_SENDER, n, "fsn_ot_acot_send");
  if (st == FSN_OK) st = check_ell(ell, "fsn_ot_acot_send");
  return st == FSN_OK ? tx_chunks(cot, x0, corr, NULL, n, ell, 1, fill_acot) : st;
}

fsn_status fsn_ot_acot_recv(fsn_cot *cot, uint64_t *xc, const uint8_t *choice, size_t n, unsigned ell) {
  fsn_status st = fsn_cot_check(cot, FSN_OT_RECEIVER, n, "fsn_ot_acot_recv");
  if (st == FSN_OK) st = check_ell(ell, "fsn_ot_acot_recv");
  return st == FSN_OK ? rx_chunks(cot, xc, choice, n, ell, 1, finish_acot) : st;
}
