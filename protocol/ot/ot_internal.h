/* State shared by the IKNP extension files (not installed). */
#ifndef FSN_PROTOCOL_OT_INTERNAL_H
#define FSN_PROTOCOL_OT_INTERNAL_H

#include <fusion/ot.h>
#include <fusion/prg.h>

#include <stdbool.h>
#include <string.h>

/* OTs per chunk: the column matrices are 128 x FSN_OT_CHUNK bits (512 KiB each), small enough to stay in L2/L3 and
 * bound memory for any n; a multiple of 128. */
#define FSN_OT_CHUNK ((size_t)1 << 15)
#define FSN_OT_KAPPA 128

struct fsn_ot {
  fsn_channel *ch;
  fsn_ot_role role;
  bool broken;              /* a failed call leaves the PRG counters out of step with the peer */
  fsn_prg g0[FSN_OT_KAPPA]; /* receiver: the seed of column j for bit 0; sender: the seed it chose, k_j^{s_j} */
  fsn_prg g1[FSN_OT_KAPPA]; /* receiver only: the seed for bit 1 */
  _Alignas(16) uint8_t delta[16];
  uint8_t *cols;   /* 128 x FSN_OT_CHUNK bits: t (receiver) or q (sender), one row per base OT */
  uint8_t *u;      /* 128 x FSN_OT_CHUNK bits: the receiver's correction matrix */
  uint8_t *rows;   /* FSN_OT_CHUNK x 128 bits: the transposed chunk */
  uint8_t *rows2;  /* FSN_OT_CHUNK x 128 bits: hashed rows */
  uint8_t *choice; /* FSN_OT_CHUNK bits: the receiver's padded choice bits */
  uint64_t *ring;  /* 2 FSN_OT_CHUNK ring elements: corrections and ciphertexts */
};

static inline size_t fsn_ot_round128(size_t m) { return (m + 127) / 128 * 128; }

/* Every entry point checks the role and the broken flag through this. */
fsn_status fsn_ot_check(fsn_ot *ot, fsn_ot_role role, size_t n, const char *what);

/* Receiver, one chunk of m <= FSN_OT_CHUNK OTs with packed choice bits (ceil(m / 8) bytes read): expand the
 * columns, send u = G(k0) ^ G(k1) ^ c, and write round128(m) rows t_i to t_rows. */
FSN_NODISCARD fsn_status fsn_ot_rx_chunk(fsn_ot *ot, const uint8_t *choice, size_t m, uint8_t *t_rows);
/* Sender, one chunk: receive u, write round128(m) rows q_i = t_i ^ c_i Delta to q_rows. */
FSN_NODISCARD fsn_status fsn_ot_tx_chunk(fsn_ot *ot, size_t m, uint8_t *q_rows);

/* Mark the object unusable and pass the status through. */
static inline fsn_status fsn_ot_broke(fsn_ot *ot, fsn_status st) {
  if (st != FSN_OK) ot->broken = true;
  return st;
}

/* Little-endian 64-bit loads and stores of block halves (one mov each on x86). */
static inline uint64_t fsn_ot_low64(const uint8_t *block) {
  uint64_t v;
  memcpy(&v, block, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
  v = __builtin_bswap64(v);
#endif
  return v;
}

static inline void fsn_ot_store64(uint8_t *block, uint64_t v) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
  v = __builtin_bswap64(v);
#endif
  memcpy(block, &v, 8);
}

static inline unsigned fsn_ot_bit(const uint8_t *packed, size_t i) { return packed[i / 8] >> (i % 8) & 1; }

#endif
