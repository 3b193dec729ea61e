/* 1-out-of-N OT: the entry points, and the path for N = 2. For logn >= 2 the calls go to the KK13 extension
 * (kk13.c: 256 + N ell bits per instance). For N = 2 one IKNP correlated OT per instance is cheaper (128 + 2 ell):
 *
 * 1-out-of-N OT from logn correlated OTs per instance (Naor-Pinkas style over IKNP's correlated OT; written for any
 * logn, used for logn = 1 only). Instance i uses
 * the COTs i logn + j, j < logn, with choice bit j of the receiver's index. The pad of message x is
 *   pad_x = XOR_j H(q_{i,j} ^ x_j Delta ^ tweak(j, x))
 * with H the fixed-key CCR hash: the receiver knows t_{i,j} = q_{i,j} ^ c_j Delta, hence pad_c; every other pad has
 * at least one term H(t ^ Delta ^ tweak) with a tweak used nowhere else, which is pseudorandom without Delta.
 * Wire: 128 logn bits of u plus N ell bits of ciphertexts per instance. */
#include "protocol/ot/ot_internal.h"

#include <fusion/bits.h>
#include <string.h>

/* tweak(j, x): x in bytes 0-1 and j + 1 in byte 2 of the block's low 64 bits; injective in (j, x). */
static uint64_t tweak_word(unsigned j, unsigned x) { return (uint64_t)x | (uint64_t)(j + 1) << 16; }

static void tweak(uint8_t *block, unsigned j, unsigned x) {
  fsn_ot_store64(block, fsn_ot_low64(block) ^ tweak_word(j, x));
}

static fsn_status check_n1(unsigned logn, unsigned ell, const char *what) {
  if (logn < 1 || logn > 8) return fsn_fail(FSN_E_INVALID, "%s: logn = %u outside 1 .. 8", what, logn);
  if (ell < 1 || ell > 64) return fsn_fail(FSN_E_INVALID, "%s: ell = %u outside 1 .. 64", what, ell);
  return FSN_OK;
}

/* Instances per round trip: logn COTs each fit one chunk, N ciphertexts each fit the ring buffer. */
static size_t slice_len(unsigned logn) {
  const size_t by_cols = FSN_OT_CHUNK / logn, by_ring = 2 * FSN_OT_CHUNK >> logn;
  return by_cols < by_ring ? by_cols : by_ring;
}

static uint64_t mask_of(unsigned ell) { return ell >= 64 ? ~(uint64_t)0 : ((uint64_t)1 << ell) - 1; }

static fsn_status np_send(fsn_ot *ot, const uint64_t *msgs, fsn_ot_msgs_fn gen, void *arg, size_t n, unsigned logn,
                          unsigned ell) {
  fsn_status st;
  const size_t N = (size_t)1 << logn, S = slice_len(logn), per_group = FSN_OT_CHUNK / (N * logn);
  const uint64_t mask = mask_of(ell), d0 = fsn_ot_low64(ot->delta), d1 = fsn_ot_low64(ot->delta + 8);
  for (size_t off = 0; off < n; off += S) {
    const size_t s = n - off < S ? n - off : S;
    if ((st = fsn_ot_tx_chunk(ot, s * logn, ot->rows)) != FSN_OK) return fsn_ot_broke(ot, st);
    for (size_t g = 0; g < s; g += per_group) {
      const size_t gs = s - g < per_group ? s - g : per_group;
      uint8_t *blk = ot->rows2;
      for (size_t i = g; i < g + gs; i++)
        for (unsigned x = 0; x < N; x++)
          for (unsigned j = 0; j < logn; j++, blk += 16) {
            const uint8_t *q = ot->rows + 16 * (i * logn + j);
            const uint64_t d = 0 - (uint64_t)(x >> j & 1u);
            fsn_ot_store64(blk, fsn_ot_low64(q) ^ (d0 & d) ^ tweak_word(j, x));
            fsn_ot_store64(blk + 8, fsn_ot_low64(q + 8) ^ (d1 & d));
          }
      fsn_ccrh(ot->rows2, ot->rows2, gs * N * logn);
      /* gen's messages go to the u matrix, free after the transpose: gs N <= FSN_OT_CHUNK words fit. */
      const uint64_t *msg = msgs ? msgs + (off + g) * N : (const uint64_t *)(void *)ot->u;
      if (!msgs) gen((uint64_t *)(void *)ot->u, off + g, gs, arg);
      blk = ot->rows2;
      for (size_t i = g; i < g + gs; i++)
        for (unsigned x = 0; x < N; x++) {
          uint64_t pad = 0;
          for (unsigned j = 0; j < logn; j++, blk += 16) pad ^= fsn_ot_low64(blk);
          ot->ring[i * N + x] = (msg[(i - g) * N + x] ^ pad) & mask;
        }
    }
    if ((st = fsn_channel_send_ring(ot->ch, ot->ring, s * N, ell)) != FSN_OK ||
        (st = fsn_channel_flush(ot->ch)) != FSN_OK)
      return fsn_ot_broke(ot, st);
  }
  return FSN_OK;
}

static fsn_status np_recv(fsn_ot *ot, uint64_t *out, const uint8_t *idx, size_t n, unsigned logn, unsigned ell) {
  fsn_status st;
  const size_t N = (size_t)1 << logn, S = slice_len(logn);
  const uint64_t mask = mask_of(ell);
  for (size_t off = 0; off < n; off += S) {
    const size_t s = n - off < S ? n - off : S;
    uint8_t *bits = ot->rows2; /* packed choice bits of the s logn COTs */
    memset(bits, 0, (s * logn + 7) / 8);
    for (size_t i = 0; i < s; i++)
      for (unsigned j = 0; j < logn; j++) {
        const size_t b = i * logn + j;
        bits[b / 8] |= (uint8_t)((idx[off + i] >> j & 1u) << (b % 8));
      }
    if ((st = fsn_ot_rx_chunk(ot, bits, s * logn, ot->rows)) != FSN_OK) return fsn_ot_broke(ot, st);
    for (size_t i = 0; i < s; i++)
      for (unsigned j = 0; j < logn; j++) tweak(ot->rows + 16 * (i * logn + j), j, idx[off + i]);
    fsn_ccrh(ot->rows, ot->rows, s * logn);
    if ((st = fsn_channel_recv_ring(ot->ch, ot->ring, s * N, ell)) != FSN_OK) return fsn_ot_broke(ot, st);
    for (size_t i = 0; i < s; i++) {
      uint64_t pad = 0, ct = 0;
      for (unsigned j = 0; j < logn; j++) pad ^= fsn_ot_low64(ot->rows + 16 * (i * logn + j));
      /* Read every ciphertext so the memory access does not depend on the index. */
      for (size_t x = 0; x < N; x++) ct |= ot->ring[i * N + x] & (0 - (uint64_t)(x == idx[off + i]));
      out[off + i] = (ct ^ pad) & mask;
    }
  }
  return FSN_OK;
}

static fsn_status send(fsn_ot *ot, const uint64_t *msgs, fsn_ot_msgs_fn gen, void *arg, size_t n, unsigned logn,
                       unsigned ell, const char *what) {
  fsn_status st = fsn_ot_check(ot, FSN_OT_SENDER, n, what);
  if (st == FSN_OK) st = check_n1(logn, ell, what);
  if (st == FSN_OK && !msgs && !gen && n) st = fsn_fail(FSN_E_INVALID, "%s: no messages", what);
  if (st != FSN_OK) return st;
  return logn == 1 ? np_send(ot, msgs, gen, arg, n, logn, ell) : fsn_ot_kk_send(ot, msgs, gen, arg, n, logn, ell);
}

fsn_status fsn_ot_nchoose1_send(fsn_ot *ot, const uint64_t *msgs, size_t n, unsigned logn, unsigned ell) {
  return send(ot, msgs, NULL, NULL, n, logn, ell, "fsn_ot_nchoose1_send");
}

fsn_status fsn_ot_nchoose1_send_fn(fsn_ot *ot, fsn_ot_msgs_fn gen, void *arg, size_t n, unsigned logn, unsigned ell) {
  return send(ot, NULL, gen, arg, n, logn, ell, "fsn_ot_nchoose1_send_fn");
}

fsn_status fsn_ot_nchoose1_recv(fsn_ot *ot, uint64_t *out, const uint8_t *idx, size_t n, unsigned logn, unsigned ell) {
  fsn_status st = fsn_ot_check(ot, FSN_OT_RECEIVER, n, "fsn_ot_nchoose1_recv");
  if (st == FSN_OK) st = check_n1(logn, ell, "fsn_ot_nchoose1_recv");
  if (st != FSN_OK) return st;
  const size_t N = (size_t)1 << logn;
  for (size_t i = 0; i < n; i++)
    if (idx[i] >= N) return fsn_fail(FSN_E_INVALID, "fsn_ot_nchoose1_recv: idx[%zu] = %u >= N = %zu", i, idx[i], N);
  return logn == 1 ? np_recv(ot, out, idx, n, logn, ell) : fsn_ot_kk_recv(ot, out, idx, n, logn, ell);
}
