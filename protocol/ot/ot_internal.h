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

/* The KK13 1-out-of-N extension (kk13.c): code length K = 256 (two 128-column halves), chunks of FSN_KK_CHUNK
 * instances, so that its 256 x FSN_KK_CHUNK column matrices and FSN_KK_CHUNK x 256 row matrices fit the IKNP
 * buffers above. */
#define FSN_KK_K     256
#define FSN_KK_CHUNK (FSN_OT_CHUNK / 2)

typedef struct fsn_ot_kk {
  fsn_prg g0[FSN_KK_K]; /* receiver: the seed of column j for bit 0; sender: the seed it chose, k_j^{s_j} */
  fsn_prg g1[FSN_KK_K]; /* receiver only: the seed for bit 1 */
  /* Sender: C(x) AND s for every x < 256, C the code (kk13.c): columns 0-127 in dlo[x], 128-255 in dhi[x]. */
  _Alignas(64) uint8_t dlo[256][16];
  _Alignas(64) uint8_t dhi[256][16];
  _Alignas(16) uint8_t s[32]; /* sender: the base-OT choice vector */
  uint64_t count;             /* 1-out-of-N instances run so far: instance j's hash tweak */
} fsn_ot_kk;

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
  fsn_ot_kk *kk;   /* the 1-out-of-N extension, once fsn_ot_nchoose1_setup has run */
  bool seeded;     /* tests only: created by fsn_ot_create_seeded; every base OT draws from `seed` */
  uint8_t seed[32];
};

static inline size_t fsn_ot_round128(size_t m) { return (m + 127) / 128 * 128; }

/* Base OTs with reversed roles for an extension of k columns: the extension receiver (base-OT sender) seeds g0[j]
 * and g1[j] with the pair of keys of base OT j; the extension sender draws the choice vector `choice` (k bits) and
 * seeds g0[j] with the key it chose. Randomness from libsodium, or (ot->seeded) from an AES-CTR stream keyed by
 * BLAKE2b(ot->seed, domain), domain 16 bytes. */
FSN_NODISCARD fsn_status fsn_ot_base_setup(fsn_ot *ot, size_t k, fsn_prg *g0, fsn_prg *g1, uint8_t *choice,
                                           const char domain[16]);

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

/* The little-endian reading of a word loaded in native order, and back (the identity on x86). */
static inline uint64_t fsn_ot_le64(uint64_t v) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
  v = __builtin_bswap64(v);
#endif
  return v;
}

static inline uint64_t fsn_ot_high64(const uint8_t *block) { return fsn_ot_low64(block + 8); }

/* q ^= u & mask, 64 bits at a time: the sender's s_j u_j without a branch on the bit of s. The buffers are 64-byte
 * aligned and len is a multiple of 16. */
static inline void fsn_ot_xor_masked(uint8_t *restrict q, const uint8_t *restrict u, size_t len, uint64_t mask) {
  uint64_t *restrict q64 = (uint64_t *)(void *)q;
  const uint64_t *restrict u64 = (const uint64_t *)(const void *)u;
  for (size_t k = 0; k < len / 8; k++) q64[k] ^= u64[k] & mask;
}

/* KK13 state: free it (wiped). */
void fsn_ot_kk_free(fsn_ot *ot);

/* The KK13 path of fsn_ot_nchoose1_send / _recv for 2 <= logn <= 8, arguments already checked (kk13.c). The
 * sender's messages come from msgs, or (msgs NULL) from gen. */
FSN_NODISCARD fsn_status fsn_ot_kk_send(fsn_ot *ot, const uint64_t *msgs, fsn_ot_msgs_fn gen, void *arg, size_t n,
                                        unsigned logn, unsigned ell);
FSN_NODISCARD fsn_status fsn_ot_kk_recv(fsn_ot *ot, uint64_t *out, const uint8_t *idx, size_t n, unsigned logn,
                                        unsigned ell);

static inline unsigned fsn_ot_bit(const uint8_t *packed, size_t i) { return packed[i / 8] >> (i % 8) & 1; }

#endif
