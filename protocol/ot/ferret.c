/* Ferret silent OT, semi-honest (include/fusion/ferret.h; docs/PROTOCOLS.md, "Ferret"). One iteration:
 *   sender    t correlated GGM trees (Half-Tree, kernels/ggm) into the output vector: level 1 is (q, q ^ Delta) for
 *             the tree's first base COT q, so every level's nodes XOR to Delta and its right sum K^1 is its left sum
 *             K^0 ^ Delta; for every level below it sends K^0 ^ q' with q' that level's base COT; the leaves' lowest
 *             bits cleared; then out ^= A v (the LPN code on the first k base COTs).
 *   receiver  with w = q ^ b Delta it holds level 1's node on side b, and learns K^0 ^ b Delta = K^b below, so at
 *             every level it knows the sibling of its path node, whose direction is NOT b; it grows each tree with a
 *             zero in the hole, repairs the sibling from K^b, and at the leaves puts the XOR of its own leaves, lowest
 *             bit set, into the hole: the leaves XOR to Delta, so that is the leaf the sender has, ^ Delta. Then
 *             out ^= A w.
 * So out_receiver = out_sender ^ (A u + e) Delta, u the base choice bits, e the regular noise (one hole per tree),
 * and the lowest bit of each receiver output is its choice bit (every sender block has it clear, Delta has it set). */
#include <fusion/bits.h>
#include <fusion/ferret.h>
#include <fusion/prg.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "kernels/ggm/ggm_ops.h"
#include "kernels/lpn/lpn_ops.h"
#include "protocol/ot/ot_testing.h"
#include "protocol/ot/ferret_internal.h"

/* ---- parameter sets ---------------------------------------------------------------------------------------------- */

static const fsn_ferret_params sets[] = {
    {"small", 649728, 36288, 1269, 9},    /* the paper's setup set */
    {"medium", 2097152, 589760, 256, 13}, /* the main set's first 256 noise blocks */
    {"main", 10805248, 589760, 1319, 13}, /* the paper's main set */
    /* emp-ot's ferret_b10/_b11/_b12 (emp-ot/tuning.h): k = 2^16, 2^17, 2^18, LPN inputs of 1, 2 and 4 MiB that stay
     * in cache; each t the largest at ~128-bit security for its k and h (docs/PROTOCOLS.md) */
    {"b10", 870400, 65536, 850, 10},
    {"b11", 2396160, 131072, 1170, 11},
    {"b12", 6225920, 262144, 1520, 12},
};
#define SMALL (&sets[0])
#define DEFAULT_SET                                                                                                    \
  (&sets[4]) /* b11: between b10 (least CPU here) and b12 (under 0.5 bit per COT); docs/BENCHMARKS.md */

const fsn_ferret_params *fsn_ferret_params_named(const char *name) {
  for (size_t i = 0; name && i < sizeof sets / sizeof sets[0]; i++)
    if (!strcmp(name, sets[i].name)) return &sets[i];
  return NULL;
}

uint64_t fsn_ferret_reserve(const fsn_ferret_params *p) { return p->k + p->t * p->h; }
uint64_t fsn_ferret_usable(const fsn_ferret_params *p) { return p->n - fsn_ferret_reserve(p); }
uint64_t fsn_ferret_iteration_bytes(const fsn_ferret_params *p) { return 16 * p->t * (uint64_t)(p->h - 1); }

static fsn_status check_params(const fsn_ferret_params *p) {
  if (p->h < 2 || p->h > 24 || p->t < 1 || p->t > ((uint64_t)1 << 32) || p->n != p->t << p->h)
    return fsn_fail(FSN_E_INVALID, "Ferret parameters: n = %llu is not t 2^h (t = %llu, h = %u, 2 <= h <= 24)",
                    (unsigned long long)p->n, (unsigned long long)p->t, p->h);
  if (p->k < 1 || p->k > ((uint64_t)1 << 32) || fsn_ferret_reserve(p) >= p->n)
    return fsn_fail(FSN_E_INVALID, "Ferret parameters: k = %llu outside 1 .. 2^32 or k + t h >= n = %llu",
                    (unsigned long long)p->k, (unsigned long long)p->n);
  return FSN_OK;
}

/* ---- the object -------------------------------------------------------------------------------------------------- */

/* Working buffers for a set: the frame and the receiver's noise positions (base and out are the caller's). */
typedef struct bufs {
  uint8_t *msg;
  uint32_t *holes; /* receiver: the leaf of each tree it does not know (the noise position in that block) */
} bufs;

struct fsn_ferret {
  fsn_channel *ch;
  fsn_ot_role role;
  fsn_ferret_params p;
  size_t threads;               /* each iteration's trees and LPN rows split over this many */
  bool broken;                  /* a failed call leaves the pool out of step with the peer */
  bool checked;                 /* the MPCOT consistency check of Ferret's malicious variant */
  size_t tamper_at, tamper_len; /* tests: the frame bytes whose lowest bit the sender flips before sending */
  _Alignas(16) uint8_t delta[16];
  fsn_prg rng;             /* sender: Delta; receiver: bootstrap choice bits, the check's seeds */
  fsn_aes128_key ggm, lpn; /* public fixed keys */
  uint8_t *base;           /* R blocks: the COTs the next iteration consumes */
  uint8_t *out;            /* n blocks: the current iteration's outputs */
  size_t pos;              /* the pool is out[pos .. n) */
  bufs bufs;               /* of the set p */
  uint64_t iterations;
};

static void *alloc64(size_t bytes) { return aligned_alloc(64, (bytes + 63) / 64 * 64); }

/* The bytes alloc_blocks takes for nblocks blocks: whole 2 MiB pages. */
static uint64_t blocks_bytes(uint64_t nblocks) {
  const uint64_t huge = (uint64_t)1 << 21;
  return (16 * nblocks + huge - 1) / huge * huge;
}

/* Block vectors of an iteration on 2 MiB pages where the OS grants them: the LPN encoding reads the base COTs at
 * random, and with 4 KiB pages nearly every read also misses the TLB (1.7 times slower at k = 589,760 here). */
static void *alloc_blocks(uint64_t nblocks) {
  const size_t huge = (size_t)1 << 21, bytes = blocks_bytes(nblocks);
  void *p = aligned_alloc(huge, bytes);
#ifdef MADV_HUGEPAGE
  if (p) (void)madvise(p, bytes, MADV_HUGEPAGE); /* a hint: without it the pages are small, nothing else changes */
#endif
  return p;
}

/* A public fixed AES key: the first 16 bytes of BLAKE2b(label). */
static void public_key(fsn_aes128_key *key, const char *label) {
  uint8_t k[16];
  crypto_generichash(k, sizeof k, (const uint8_t *)label, strlen(label), NULL, 0);
  fsn_aes128_expand(key, k);
}

/* The bytes bufs_alloc takes for p (each rounded up to 64). */
static uint64_t bufs_bytes(const fsn_ferret_params *p) {
  return (16 * p->t * (2 * p->h + 1) + 63) / 64 * 64 + (32 * p->t * p->h + 63) / 64 * 64 + (4 * p->t + 63) / 64 * 64;
}

static fsn_status bufs_alloc(bufs *b, const fsn_ferret_params *p) {
  b->msg = alloc64(fsn_ferret_iteration_bytes(p));
  b->holes = alloc64(4 * p->t);
  if (!b->msg || !b->holes)
    return fsn_fail(FSN_E_NOMEM, "Ferret: frame buffers for t = %llu", (unsigned long long)p->t);
  return FSN_OK;
}

static void bufs_free(bufs *b, const fsn_ferret_params *p) {
  if (b->msg) sodium_memzero(b->msg, fsn_ferret_iteration_bytes(p));
  if (b->holes) sodium_memzero(b->holes, 4 * p->t);
  free(b->msg), free(b->holes);
  *b = (bufs){0};
}

/* The base COTs an iteration of p consumes: k for the LPN, t h for the trees' levels, and the check's 128. */
static uint64_t reserve_of(const fsn_ferret *f, const fsn_ferret_params *p) {
  return fsn_ferret_reserve(p) + (f->checked ? FSN_FERRET_CHECK_COTS : 0);
}

static void free_blocks(uint8_t *blocks, uint64_t n) {
  if (blocks) sodium_memzero(blocks, 16 * n);
  free(blocks);
}

/* ---- one iteration ----------------------------------------------------------------------------------------------- */

static inline unsigned lsb(const uint8_t *block) { return block[0] & 1u; }

static void xor_into(uint8_t *restrict acc, const uint8_t *restrict x) {
  for (int b = 0; b < 16; b++) acc[b] ^= x[b];
}

/* Clear the lowest bit of every leaf and return their XOR in acc (16 bytes). Each leaf is read and written as two
 * words (a byte store then a wide load of the same leaf would stall store forwarding on every leaf). */
static void finish_leaves(uint8_t *leaves, size_t count, uint8_t acc[16]) {
  static const uint8_t clear_lowest[8] = {0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
  uint64_t mask, a0 = 0, a1 = 0;
  memcpy(&mask, clear_lowest, 8); /* byte 0's lowest bit, in either byte order */
  for (size_t i = 0; i < count; i++) {
    uint64_t w0, w1;
    memcpy(&w0, leaves + 16 * i, 8);
    memcpy(&w1, leaves + 16 * i + 8, 8);
    w0 &= mask;
    memcpy(leaves + 16 * i, &w0, 8);
    a0 ^= w0, a1 ^= w1;
  }
  memcpy(acc, &a0, 8);
  memcpy(acc + 8, &a1, 8);
}

/* Sender: trees [j0, j1) into out, their part of the frame into b->msg (per tree: K^0_i ^ q_i for each level i >= 2,
 * q_i the level's base COT). Level 1 is (q_1, q_1 ^ Delta) itself: a random COT is a COT of a random message, and the
 * tree's seed is one, so the receiver's w_1 = q_1 ^ b Delta is already its node K^b_1 and level 1 sends nothing. */
static void sender_trees(const fsn_ferret *f, const fsn_ferret_params *p, const uint8_t *cots, uint8_t *out, bufs *b,
                         size_t j0, size_t j1) {
  const size_t leaves = (size_t)1 << p->h;
  for (size_t j = j0; j < j1; j++) {
    uint8_t *tree = out + 16 * leaves * j, *m = b->msg + 16 * (p->h - 1) * j, sums[32], acc[16];
    const uint8_t *q = cots + 16 * j * p->h;
    memcpy(tree, q, 16);
    memcpy(tree + 16, q, 16);
    xor_into(tree + 16, f->delta);
    for (unsigned i = 1; i < p->h; i++) {
      fsn_ggm_expand(tree, sums, tree, (size_t)1 << i, &f->ggm);
      memcpy(m + 16 * (i - 1), sums, 16);
      xor_into(m + 16 * (i - 1), q + 16 * i);
    }
    finish_leaves(tree, leaves, acc);
  }
}

/* Receiver: trees [j0, j1) from the frame in b->msg and the level COTs w (choice bit b = lowest bit). */
static void receiver_trees(const fsn_ferret *f, const fsn_ferret_params *p, const uint8_t *cots, uint8_t *out, bufs *b,
                           size_t j0, size_t j1) {
  const size_t leaves = (size_t)1 << p->h;
  for (size_t j = j0; j < j1; j++) {
    uint8_t *tree = out + 16 * leaves * j;
    const uint8_t *m = b->msg + 16 * (p->h - 1) * j, *w = cots + 16 * j * p->h;
    /* level 1: w_1 is the node on side b itself */
    size_t hole = 1 - lsb(w);
    memset(tree + 16 * hole, 0, 16);
    memcpy(tree + 16 * (1 - hole), w, 16);
    for (unsigned i = 1; i < p->h; i++) {
      uint8_t sums[32];
      const unsigned bit = lsb(w + 16 * i); /* we learn K^bit: the sibling goes that way */
      fsn_ggm_expand(tree, sums, tree, (size_t)1 << i, &f->ggm);
      uint8_t *sibling = tree + 16 * (2 * hole + bit);
      /* K^bit = (the level's sum of that parity, without the garbage child under the hole) ^ the true sibling. */
      xor_into(sibling, sums + 16 * bit);
      xor_into(sibling, m + 16 * (i - 1));
      xor_into(sibling, w + 16 * i);
      hole = 2 * hole + (1 - bit);
      memset(tree + 16 * hole, 0, 16);
    }
    /* The sender's cleared leaves XOR to Delta with its lowest bit cleared: ours (hole zero) to that ^ its leaf. */
    uint8_t acc[16];
    finish_leaves(tree, leaves, acc);
    acc[0] |= 1;
    memcpy(tree + 16 * hole, acc, 16);
    b->holes[j] = (uint32_t)hole;
  }
}

/* An iteration's work that splits over threads: by tree, then by output row. */
typedef struct work {
  const fsn_ferret *f;
  const fsn_ferret_params *p;
  const uint8_t *cots;
  uint8_t *out;
  bufs *b;
  fsn_aes128_key chi;                                    /* the check's coefficients: chi_i = AES_chi(i) */
  _Alignas(16) uint8_t part[FSN_FERRET_MAX_THREADS][16]; /* per thread: sum of chi_i leaf_i over its trees */
} work;

static fsn_status trees_range(size_t thread, size_t j0, size_t j1, void *arg) {
  (void)thread;
  const work *w = arg;
  const uint8_t *level_cots = w->cots + 16 * w->p->k;
  if (w->f->role == FSN_OT_SENDER)
    sender_trees(w->f, w->p, level_cots, w->out, w->b, j0, j1);
  else
    receiver_trees(w->f, w->p, level_cots, w->out, w->b, j0, j1);
  return FSN_OK;
}

/* The check's coefficients chi_i, i in [i0, i0 + m): AES-CTR blocks under w->chi from counter i0. */
static void coefficients(uint8_t *chi, const work *w, uint64_t i0, size_t m) {
  uint8_t ctr[16] = {0};
  for (int b = 0; b < 8; b++) ctr[15 - b] = (uint8_t)(i0 >> (8 * b));
  fsn_aes128_ctr(chi, NULL, m, &w->chi, ctr);
}

/* part[thread] = sum over the leaves of trees [j0, j1) of chi_i leaf_i in GF(2^128). */
static fsn_status check_range(size_t thread, size_t j0, size_t j1, void *arg) {
  work *w = arg;
  enum { CHUNK = 512 };
  _Alignas(16) uint8_t chi[16 * CHUNK], sum[16];
  memset(w->part[thread], 0, 16);
  const uint64_t end = (uint64_t)j1 << w->p->h;
  for (uint64_t i = (uint64_t)j0 << w->p->h; i < end; i += CHUNK) {
    const size_t m = end - i < CHUNK ? (size_t)(end - i) : CHUNK;
    coefficients(chi, w, i, m);
    fsn_bits_gf128_inner(sum, chi, w->out + 16 * i, m);
    xor_into(w->part[thread], sum);
  }
  sodium_memzero(chi, sizeof chi);
  return FSN_OK;
}

/* sum_i chi_i leaf_i over all leaves of the iteration, split over the object's threads (the XOR of the parts does not
 * depend on the split). */
static fsn_status leaf_sum(work *w, uint8_t sum[16]) {
  memset(w->part, 0, sizeof w->part); /* a thread with no trees leaves its part alone */
  fsn_status st = fsn_ot_parallel(w->f->threads, w->p->t, check_range, w);
  memset(sum, 0, 16);
  for (size_t t = 0; st == FSN_OK && t < w->f->threads; t++) xor_into(sum, w->part[t]);
  return st;
}

/* sum_k e_k c_k over the check's 128 COTs c_k, e_k the field element whose bit k alone is set. */
static void unit_sum(uint8_t sum[16], const uint8_t *check_cots) {
  _Alignas(16) uint8_t units[16 * FSN_FERRET_CHECK_COTS] = {0};
  for (int k = 0; k < FSN_FERRET_CHECK_COTS; k++) units[16 * k + k / 8] = (uint8_t)(1u << (k % 8));
  fsn_bits_gf128_inner(sum, units, check_cots, FSN_FERRET_CHECK_COTS);
}

/* The MPCOT consistency check (the check of Ferret's malicious Pi_spCOT, done once for all trees, with 128 extra base
 * COTs as the F_COT instance it consumes). The receiver draws the seed of the coefficients chi_i and holds W = sum
 * chi_i w_i = V + X Delta, V = sum chi_i v_i the sender's sum and X = sum over trees of chi at its hole. With the check
 * COTs z_k = y_k ^ b_k Delta it sends x' = X + B (B the element with bits b_k): the sender learns nothing of X. The
 * sender answers H(V + sum e_k y_k + x' Delta), which equals H(W + sum e_k z_k) exactly when the trees are consistent
 * with one Delta (except with probability about 2^-128 per iteration over chi); a receiver that lies in x' only fails
 * its own check, and sees a hash, not V + error Delta. */
static fsn_status check_send(fsn_ferret *f, work *w) {
  _Alignas(16) uint8_t msg[32], v[16], y[16], xd[16], digest[32];
  fsn_status st = fsn_channel_recv(f->ch, msg, sizeof msg);
  if (st != FSN_OK) return st;
  fsn_aes128_expand(&w->chi, msg);
  if ((st = leaf_sum(w, v)) != FSN_OK) return st;
  unit_sum(y, w->cots + 16 * fsn_ferret_reserve(w->p));
  fsn_bits_gf128_inner(xd, msg + 16, f->delta, 1);
  xor_into(v, y);
  xor_into(v, xd);
  crypto_generichash(digest, sizeof digest, v, sizeof v, NULL, 0);
  sodium_memzero(v, sizeof v);
  if ((st = fsn_channel_send(f->ch, digest, sizeof digest)) != FSN_OK) return st;
  return fsn_channel_flush(f->ch);
}

/* The receiver's first half: the seed and x' to the sender; `expect` gets H(W + sum e_k z_k) for check_finish. */
static fsn_status check_recv(fsn_ferret *f, work *w, uint8_t expect[32]) {
  _Alignas(16) uint8_t msg[32], wsum[16], z[16], x[16] = {0}, chi[16];
  fsn_prg_bytes(&f->rng, msg, 16);
  fsn_aes128_expand(&w->chi, msg);
  fsn_status st = leaf_sum(w, wsum);
  if (st != FSN_OK) return st;
  for (size_t j = 0; j < w->p->t; j++) {
    coefficients(chi, w, ((uint64_t)j << w->p->h) + w->b->holes[j], 1);
    xor_into(x, chi);
  }
  const uint8_t *zc = w->cots + 16 * fsn_ferret_reserve(w->p);
  for (int k = 0; k < FSN_FERRET_CHECK_COTS; k++) x[k / 8] ^= (uint8_t)(lsb(zc + 16 * k) << (k % 8)); /* x' = X + B */
  memcpy(msg + 16, x, 16);
  unit_sum(z, zc);
  xor_into(wsum, z);
  crypto_generichash(expect, 32, wsum, sizeof wsum, NULL, 0);
  sodium_memzero(wsum, sizeof wsum);
  if ((st = fsn_channel_send(f->ch, msg, sizeof msg)) != FSN_OK) return st;
  return fsn_channel_flush(f->ch);
}

static fsn_status check_finish(fsn_ferret *f, const uint8_t expect[32]) {
  uint8_t got[32];
  fsn_status st = fsn_channel_recv(f->ch, got, sizeof got);
  if (st != FSN_OK) return st;
  if (sodium_memcmp(got, expect, 32))
    return fsn_fail(FSN_E_CHEATING, "Ferret: the sender's GGM trees are not consistent with one Delta (MPCOT check)");
  return FSN_OK;
}

static fsn_status lpn_range(size_t thread, size_t row0, size_t row1, void *arg) {
  (void)thread;
  const work *w = arg;
  fsn_lpn_encode(w->out + 16 * row0, w->cots, &w->f->lpn, w->p->k, row0, row1 - row0);
  return FSN_OK;
}

/* One iteration of set p from the base COTs `cots` (R blocks) into out (n blocks). The sender sends its frame as
 * soon as the trees are grown, so the receiver grows its trees while the sender encodes. */
static fsn_status iterate(fsn_ferret *f, const fsn_ferret_params *p, const uint8_t *cots, uint8_t *out, bufs *b) {
  const size_t frame = fsn_ferret_iteration_bytes(p);
  work w = {.f = f, .p = p, .cots = cots, .out = out, .b = b};
  uint8_t expect[32];
  fsn_status st;
  if (f->role == FSN_OT_SENDER) {
    if ((st = fsn_ot_parallel(f->threads, p->t, trees_range, &w)) != FSN_OK) return st;
    for (size_t i = 0; i < f->tamper_len && f->tamper_at + i < frame; i++) b->msg[f->tamper_at + i] ^= 1;
    f->tamper_len = 0;
    if ((st = fsn_channel_send(f->ch, b->msg, frame)) != FSN_OK || (st = fsn_channel_flush(f->ch)) != FSN_OK ||
        (f->checked && (st = check_send(f, &w)) != FSN_OK))
      return st;
  } else {
    if ((st = fsn_channel_recv(f->ch, b->msg, frame)) != FSN_OK ||
        (st = fsn_ot_parallel(f->threads, p->t, trees_range, &w)) != FSN_OK ||
        (f->checked && (st = check_recv(f, &w, expect)) != FSN_OK))
      return st;
  }
  if ((st = fsn_ot_parallel(f->threads, p->n, lpn_range, &w)) != FSN_OK) return st;
  return f->checked && f->role == FSN_OT_RECEIVER ? check_finish(f, expect) : FSN_OK;
}

/* ---- bootstrap --------------------------------------------------------------------------------------------------- */

/* m COTs under this object's Delta from IKNP random OTs: the sender sends d = m0 ^ m1 ^ Delta and keeps m0; the
 * receiver with choice c has mc ^ c d = m0 ^ c Delta. Then the lowest bits: clear on the sender, c on the receiver. */
static fsn_status iknp_cots(fsn_ferret *f, uint8_t *cots, size_t m, const uint8_t *seed) {
  fsn_cot *ot = NULL;
  uint8_t *other = alloc64(16 * m), *choice = alloc64((m + 7) / 8);
  fsn_status st = other && choice ? FSN_OK : fsn_fail(FSN_E_NOMEM, "Ferret bootstrap: %zu OTs", m);
  if (st == FSN_OK) /* checked IKNP (KOS15): a malicious receiver's columns are caught here too */
    st = seed ? fsn_cot_create_test(&ot, "iknp", f->ch, f->role, NULL, seed)
              : fsn_cot_create(&ot, "iknp", f->ch, f->role, NULL);
  if (st == FSN_OK && f->role == FSN_OT_SENDER) {
    st = fsn_ot_rot_send(ot, cots, other, m);
    for (size_t i = 0; st == FSN_OK && i < m; i++) {
      xor_into(other + 16 * i, cots + 16 * i);
      xor_into(other + 16 * i, f->delta);
      cots[16 * i] &= 0xfe;
    }
    if (st == FSN_OK && (st = fsn_channel_send(f->ch, other, 16 * m)) == FSN_OK) st = fsn_channel_flush(f->ch);
  } else if (st == FSN_OK) {
    fsn_prg_bytes(&f->rng, choice, (m + 7) / 8);
    st = fsn_ot_rot_recv(ot, cots, choice, m);
    if (st == FSN_OK) st = fsn_channel_recv(f->ch, other, 16 * m);
    for (size_t i = 0; st == FSN_OK && i < m; i++) {
      const unsigned c = choice[i / 8] >> (i % 8) & 1u;
      if (c) xor_into(cots + 16 * i, other + 16 * i);
      cots[16 * i] = (uint8_t)((cots[16 * i] & 0xfe) | c);
    }
  }
  fsn_cot_destroy(ot);
  free_blocks(other, m);
  free(choice);
  return st;
}

/* The first base COTs of f's set: from IKNP if the small set's reserve covers them, else from small-set iterations
 * (themselves bootstrapped from IKNP), each adding its usable outputs. */
static fsn_status bootstrap(fsn_ferret *f, const uint8_t *seed) {
  const uint64_t need = reserve_of(f, &f->p), rs = reserve_of(f, SMALL), usable = SMALL->n - rs;
  if (need <= rs) return iknp_cots(f, f->base, need, seed);
  uint8_t *sbase = alloc_blocks(rs), *sout = alloc_blocks(SMALL->n);
  bufs b = {0};
  fsn_status st = sbase && sout ? bufs_alloc(&b, SMALL) : fsn_fail(FSN_E_NOMEM, "Ferret bootstrap buffers");
  if (st == FSN_OK) st = iknp_cots(f, sbase, rs, seed);
  for (uint64_t have = 0; st == FSN_OK && have < need;) {
    if ((st = iterate(f, SMALL, sbase, sout, &b)) != FSN_OK) break;
    const uint64_t take = need - have < usable ? need - have : usable;
    memcpy(f->base + 16 * have, sout + 16 * rs, 16 * take);
    memcpy(sbase, sout, 16 * rs);
    have += take;
  }
  bufs_free(&b, SMALL);
  free_blocks(sbase, rs);
  free_blocks(sout, SMALL->n);
  return st;
}

/* ---- life cycle -------------------------------------------------------------------------------------------------- */

static fsn_status create(fsn_ferret **out, fsn_channel *ch, fsn_ot_role role, const fsn_ferret_params *params,
                         const fsn_ferret_options *opt, const uint8_t *seed) {
  if (out) *out = NULL;
  if (!out || !ch) return fsn_fail(FSN_E_INVALID, "fsn_ferret_create: NULL argument");
  if (role != FSN_OT_SENDER && role != FSN_OT_RECEIVER)
    return fsn_fail(FSN_E_INVALID, "fsn_ferret_create: role %d is neither sender nor receiver", (int)role);
  const size_t threads = opt && opt->threads ? opt->threads : 1;
  if (threads > FSN_FERRET_MAX_THREADS)
    return fsn_fail(FSN_E_INVALID, "fsn_ferret_create: %zu threads (at most %d)", threads, FSN_FERRET_MAX_THREADS);
  const fsn_ferret_params *p = params ? params : DEFAULT_SET;
  fsn_status st = check_params(p);
  if (st != FSN_OK) return st;
  if (opt && opt->checked && fsn_ferret_reserve(p) + FSN_FERRET_CHECK_COTS >= p->n)
    return fsn_fail(FSN_E_INVALID, "Ferret parameters: no room for the check's base COTs (n = %llu)",
                    (unsigned long long)p->n);
  fsn_ferret *f = calloc(1, sizeof *f);
  if (!f) return fsn_fail(FSN_E_NOMEM, "fsn_ferret_create: %zu bytes", sizeof *f);
  f->ch = ch, f->role = role, f->p = *p, f->pos = p->n, f->threads = threads, f->checked = opt && opt->checked;
  public_key(&f->ggm, "fusion/ferret/ggm/half-tree"); /* its own pi: domain-separated from fsn_ccrh's */
  public_key(&f->lpn, "fusion/ferret/lpn/code");
  uint8_t rng_seed[16], iknp_seed[32];
  if (seed) {
    crypto_generichash(rng_seed, sizeof rng_seed, seed, 32, (const uint8_t *)"fusion/ferret/rng", 17);
    crypto_generichash(iknp_seed, sizeof iknp_seed, seed, 32, (const uint8_t *)"fusion/ferret/iknp", 18);
  } else {
    randombytes_buf(rng_seed, sizeof rng_seed);
  }
  fsn_prg_seed(&f->rng, rng_seed);
  sodium_memzero(rng_seed, sizeof rng_seed);
  if (role == FSN_OT_SENDER) {
    fsn_prg_bytes(&f->rng, f->delta, 16);
    f->delta[0] |= 1; /* choice bit = lowest bit */
  }
  f->base = alloc_blocks(reserve_of(f, p));
  f->out = alloc_blocks(p->n);
  if (!f->base || !f->out) st = fsn_fail(FSN_E_NOMEM, "fsn_ferret_create: %llu blocks", (unsigned long long)p->n);
  if (st == FSN_OK) st = bufs_alloc(&f->bufs, p);
  if (st == FSN_OK) st = bootstrap(f, seed ? iknp_seed : NULL);
  sodium_memzero(iknp_seed, sizeof iknp_seed);
  if (st != FSN_OK) {
    fsn_ferret_destroy(f);
    return st;
  }
  *out = f;
  return FSN_OK;
}

fsn_status fsn_ferret_create(fsn_ferret **out, fsn_channel *ch, fsn_ot_role role, const fsn_ferret_params *params) {
  return create(out, ch, role, params, NULL, NULL);
}

fsn_status fsn_ferret_create_ex(fsn_ferret **out, fsn_channel *ch, fsn_ot_role role, const fsn_ferret_params *params,
                                const fsn_ferret_options *opt) {
  return create(out, ch, role, params, opt, NULL);
}

fsn_status fsn_ferret_create_seeded(fsn_ferret **out, fsn_channel *ch, fsn_ot_role role,
                                    const fsn_ferret_params *params, const fsn_ferret_options *opt,
                                    const uint8_t seed[32]) {
  if (!seed) return fsn_fail(FSN_E_INVALID, "fsn_ferret_create_seeded: NULL seed");
  return create(out, ch, role, params, opt, seed);
}

void fsn_ferret_destroy(fsn_ferret *f) {
  if (!f) return;
  bufs_free(&f->bufs, &f->p);
  free_blocks(f->base, reserve_of(f, &f->p));
  free_blocks(f->out, f->p.n);
  sodium_memzero(f, sizeof *f);
  free(f);
}

uint64_t fsn_ferret_memory_bytes(const fsn_ferret_params *params, uint64_t *bootstrap) {
  const fsn_ferret_params *p = params ? params : DEFAULT_SET;
  /* as create() and bootstrap() allocate, with the check's base COTs counted either way (an upper bound) */
  const uint64_t reserve = fsn_ferret_reserve(p) + FSN_FERRET_CHECK_COTS, rs = fsn_ferret_reserve(SMALL);
  if (bootstrap)
    *bootstrap = fsn_ferret_reserve(p) <= rs
                     ? 0
                     : blocks_bytes(rs + FSN_FERRET_CHECK_COTS) + blocks_bytes(SMALL->n) + bufs_bytes(SMALL);
  return sizeof(fsn_ferret) + blocks_bytes(reserve) + blocks_bytes(p->n) + bufs_bytes(p);
}

fsn_ot_role fsn_ferret_role(const fsn_ferret *f) { return f->role; }
uint64_t fsn_ferret_iterations(const fsn_ferret *f) { return f->iterations; }
uint64_t fsn_ferret_pool_size(const fsn_ferret *f) { return f->p.n - reserve_of(f, &f->p); }

void fsn_ferret_tamper_frame(fsn_ferret *f, size_t at, size_t len) { f->tamper_at = at, f->tamper_len = len; }

fsn_status fsn_ferret_delta(const fsn_ferret *f, uint8_t delta[16]) {
  if (!f || f->role != FSN_OT_SENDER) return fsn_fail(FSN_E_INVALID, "fsn_ferret_delta: not a sender");
  memcpy(delta, f->delta, 16);
  return FSN_OK;
}

/* ---- the pool ---------------------------------------------------------------------------------------------------- */

static fsn_status check(const fsn_ferret *f, fsn_ot_role role, size_t n, const char *what) {
  if (!f) return fsn_fail(FSN_E_INVALID, "%s: NULL Ferret object", what);
  if (f->role != role)
    return fsn_fail(FSN_E_INVALID, "%s: called on a %s object", what, f->role == FSN_OT_SENDER ? "sender" : "receiver");
  if (f->broken) return fsn_fail(FSN_E_INVALID, "%s: the Ferret object failed earlier and is out of step", what);
  if (n > SIZE_MAX / 64) return fsn_fail(FSN_E_INVALID, "%s: n = %zu too large", what, n);
  return FSN_OK;
}

/* A new iteration when the pool is empty; its first R outputs become the next base COTs. */
static fsn_status refill(fsn_ferret *f) {
  if (f->pos < f->p.n) return FSN_OK;
  fsn_status st = iterate(f, &f->p, f->base, f->out, &f->bufs);
  if (st != FSN_OK) {
    f->broken = true;
    return st;
  }
  const uint64_t r = reserve_of(f, &f->p);
  memcpy(f->base, f->out, 16 * r);
  f->pos = r;
  f->iterations++;
  return FSN_OK;
}

/* Take up to `want` COTs from the pool into dst; returns how many. */
static size_t take(fsn_ferret *f, uint8_t *dst, size_t want) {
  const size_t m = f->p.n - f->pos < want ? f->p.n - f->pos : want;
  memcpy(dst, f->out + 16 * f->pos, 16 * m);
  f->pos += m;
  return m;
}

fsn_status fsn_ferret_rcot_send(fsn_ferret *f, uint8_t *x0, size_t n) {
  fsn_status st = check(f, FSN_OT_SENDER, n, "fsn_ferret_rcot_send");
  for (size_t off = 0; st == FSN_OK && off < n;)
    if ((st = refill(f)) == FSN_OK) off += take(f, x0 + 16 * off, n - off);
  return st;
}

fsn_status fsn_ferret_rcot_recv(fsn_ferret *f, uint8_t *xc, uint8_t *choice, size_t n) {
  fsn_status st = check(f, FSN_OT_RECEIVER, n, "fsn_ferret_rcot_recv");
  if (st != FSN_OK) return st;
  memset(choice, 0, (n + 7) / 8);
  for (size_t off = 0; st == FSN_OK && off < n;)
    if ((st = refill(f)) == FSN_OK) off += take(f, xc + 16 * off, n - off);
  for (size_t i = 0; st == FSN_OK && i < n; i++) choice[i / 8] |= (uint8_t)(lsb(xc + 16 * i) << (i % 8));
  return st;
}
