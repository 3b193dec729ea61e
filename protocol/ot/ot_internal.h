/* Internals of protocol/ot (not installed): the COT and 1-out-of-N object headers with their tables of functions,
 * the extensions' constructors, the base-OT set-up every extension shares, and small block helpers.
 *
 * Who calls whom (no cycle): cot.c (the interface, derandomisation) <- iknp.c (an extension) and derived.c (OTs on
 * the interface); nchoose1.c (the 1-out-of-N interface and the "rot" construction, on the COT interface) <- kk13.c;
 * pack.c on top of both; base_ot.c below all. */
#ifndef FSN_PROTOCOL_OT_INTERNAL_H
#define FSN_PROTOCOL_OT_INTERNAL_H

#include <fusion/ot.h>
#include <fusion/prg.h>

#include <stdbool.h>
#include <string.h>

/* OTs per chunk of every extension and derived OT: the column matrices are 128 x FSN_OT_CHUNK bits (512 KiB each),
 * small enough to stay in L2/L3 and bound memory for any n; a multiple of 128. */
#define FSN_OT_CHUNK ((size_t)1 << 15)
#define FSN_OT_KAPPA 128

/* ---- the COT interface ------------------------------------------------------------------------------------------- */

/* An extension's table (libsodium's implementation structs, emp-ot's COT virtuals). send/recv: chosen-choice COT, or
 * NULL when the extension makes random-choice COTs only (cot.c then derandomises); rcot_send/rcot_recv: random
 * choice. Every entry gets checked arguments (role, n, not broken) and may assume n > 0. */
typedef struct fsn_cot_ops {
  const char *name;
  fsn_status (*send)(fsn_cot *cot, uint8_t *x0, size_t n);
  fsn_status (*recv)(fsn_cot *cot, uint8_t *xc, const uint8_t *choice, size_t n);
  fsn_status (*rcot_send)(fsn_cot *cot, uint8_t *x0, size_t n);
  fsn_status (*rcot_recv)(fsn_cot *cot, uint8_t *xc, uint8_t *choice, size_t n);
  void (*destroy)(fsn_cot *cot); /* the extension's own state; cot.c frees the header */
} fsn_cot_ops;

/* The header every extension's object starts with. */
struct fsn_cot {
  const fsn_cot_ops *ops;
  fsn_channel *ch;
  fsn_ot_role role;
  bool broken;  /* a failed call leaves the PRG counters out of step with the peer */
  bool checked; /* the extension checks a malicious receiver (IKNP's KOS15): constructions on it check theirs too */
  _Alignas(16) uint8_t delta[16];
  uint64_t tweak; /* derived OTs made so far: the next one's hash tweak */
  /* Scratch of the derived OTs (derived.c): FSN_OT_CHUNK rows each, 2 FSN_OT_CHUNK ring elements. */
  uint8_t *rows, *rows2;
  uint64_t *ring;
};

/* How an extension is created: cot.c's registry maps names to these. seed: NULL, or 32 bytes from which every random
 * choice of the object is derived (tests only). */
typedef struct fsn_cot_config {
  bool unchecked; /* without the extension's consistency check: IKNP's KOS15, Ferret's MPCOT check */
  size_t threads;
  const char *ferret_set;
  bool rcot_only; /* tests: hide the native chosen-choice entries, so cot.c derandomises */
  const uint8_t *seed;
} fsn_cot_config;

FSN_NODISCARD fsn_status fsn_iknp_create(fsn_cot **out, fsn_channel *ch, fsn_ot_role role, const fsn_cot_config *cfg);
/* Ferret (protocol/ot/ferret_cot.c, the b11 parameter set by default): random-choice COTs natively. */
FSN_NODISCARD fsn_status fsn_ferret_cot_create(fsn_cot **out, fsn_channel *ch, fsn_ot_role role,
                                               const fsn_cot_config *cfg);

/* For extensions: fill the header and allocate the derived OTs' scratch; free it (cot.c). */
FSN_NODISCARD fsn_status fsn_cot_init(fsn_cot *cot, const fsn_cot_ops *ops, fsn_channel *ch, fsn_ot_role role);
void fsn_cot_fini(fsn_cot *cot);

/* Every entry point checks the role and the broken flag through this. */
FSN_NODISCARD fsn_status fsn_cot_check(const fsn_cot *cot, fsn_ot_role role, size_t n, const char *what);

/* Mark the object unusable and pass the status through. */
static inline fsn_status fsn_cot_broke(fsn_cot *cot, fsn_status st) {
  if (st != FSN_OK) cot->broken = true;
  return st;
}

/* ---- the 1-out-of-N interface ------------------------------------------------------------------------------------ */

typedef struct fsn_ot_n1_ops {
  const char *name;
  /* Arguments checked (role, logn, ell, indices < N, messages present). msgs NULL: from gen. */
  fsn_status (*send)(fsn_ot_n1 *n1, const uint64_t *msgs, fsn_ot_msgs_fn gen, void *arg, size_t n, unsigned logn,
                     unsigned ell);
  fsn_status (*recv)(fsn_ot_n1 *n1, uint64_t *out, const uint8_t *idx, size_t n, unsigned logn, unsigned ell);
  void (*destroy)(fsn_ot_n1 *n1); /* the construction's own state; nchoose1.c frees the header */
} fsn_ot_n1_ops;

struct fsn_ot_n1 {
  const fsn_ot_n1_ops *ops;
  fsn_cot *cot; /* not owned */
  fsn_ot_role role;
  bool broken;
};

/* KK13 on cot's channel and role (kk13.c); it keeps a "rot" object on the same COT for logn = 1. */
FSN_NODISCARD fsn_status fsn_kk13_create(fsn_ot_n1 **out, fsn_cot *cot, const uint8_t *seed);
/* The "rot" construction (nchoose1.c). */
FSN_NODISCARD fsn_status fsn_n1rot_create(fsn_ot_n1 **out, fsn_cot *cot);
/* For constructions: the header; and the generic send / recv entry with checked arguments, for KK13's logn = 1. */
void fsn_ot_n1_init(fsn_ot_n1 *n1, const fsn_ot_n1_ops *ops, fsn_cot *cot);

static inline fsn_status fsn_n1_broke(fsn_ot_n1 *n1, fsn_status st) {
  if (st != FSN_OK) n1->broken = true;
  return st;
}

/* ---- shared pieces ----------------------------------------------------------------------------------------------- */

/* Base OTs with reversed roles for an extension of k columns (k a multiple of 8): the extension receiver (base-OT
 * sender) seeds g0[j] and g1[j] with the pair of keys of base OT j; the extension sender draws the choice vector
 * `choice` (k bits) and seeds g0[j] with the key it chose. Randomness from libsodium, or (seed not NULL) from an
 * AES-CTR stream keyed by BLAKE2b(seed, domain), domain 16 bytes. */
FSN_NODISCARD fsn_status fsn_ot_base_setup(fsn_channel *ch, fsn_ot_role role, size_t k, fsn_prg *g0, fsn_prg *g1,
                                           uint8_t *choice, const uint8_t *seed, const char domain[16]);

/* A PRG for an object's local randomness: from libsodium, or from BLAKE2b(seed, domain) (tests). */
void fsn_ot_local_prg(fsn_prg *prg, const uint8_t *seed, const char domain[16]);

static inline size_t fsn_ot_round128(size_t m) { return (m + 127) / 128 * 128; }

void *fsn_ot_alloc64(size_t bytes);

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

/* dst[i] = src[i] ^ delta for m blocks (dst may equal src). */
static inline void fsn_ot_xor_delta(uint8_t *dst, const uint8_t *src, const uint8_t delta[16], size_t m) {
  const uint64_t d0 = fsn_ot_low64(delta), d1 = fsn_ot_high64(delta);
  for (size_t i = 0; i < m; i++) {
    fsn_ot_store64(dst + 16 * i, fsn_ot_low64(src + 16 * i) ^ d0);
    fsn_ot_store64(dst + 16 * i + 8, fsn_ot_high64(src + 16 * i) ^ d1);
  }
}

static inline unsigned fsn_ot_bit(const uint8_t *packed, size_t i) { return packed[i / 8] >> (i % 8) & 1; }

#endif
