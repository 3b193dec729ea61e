/* KK13 1-out-of-N OT extension (Kolesnikov-Kumaresan 2013) for N = 2^logn with 2 <= logn <= 8, with the code
 * consistency check of OOS17 when the COT it is made on is checked: an implementation of the 1-out-of-N interface
 * with its own 256 base OTs (run at creation) and its own buffers; logn = 1 goes to the "rot" construction on the COT
 * the object was made on.
 *
 * The code. C(x) for an index x < 256 is the 256-bit word with bit p = parity(x AND p), p = 0 .. 255: the
 * Walsh-Hadamard code of the 8-bit index. For x < N only the low logn bits of p matter, so C(x) is the
 * Walsh-Hadamard code of the logn-bit index (length N) repeated 256 / N times. It is linear, and every nonzero
 * codeword has weight exactly 128 (parity(y AND p) = 1 for exactly half of all p when y != 0): minimum distance 128.
 *
 * The extension is IKNP with 256 columns and the codeword in place of the choice bit. The receiver (base-OT sender)
 * holds seed pairs (k_j^0, k_j^1), the sender (base-OT receiver) k_j^{s_j} for a uniform s of 256 bits. Per chunk
 * of m instances the receiver sends u_j = G(k_j^0) ^ G(k_j^1) ^ c_j, c_j column j of the matrix whose rows are
 * C(r_i); the sender forms q_j = G(k_j^{s_j}) ^ s_j u_j, so that after the transpose q_i = t_i ^ (C(r_i) AND s).
 * The pad of message x of instance i is H_j(q_i ^ (C(x) AND s)), j the instance's index in the object's session;
 * the receiver knows H_j(t_i), the pad of r_i. For x != r_i the input differs from t_i by C(x ^ r_i) AND s: 128
 * bits of s the receiver does not know.
 *
 * The hash of a 256-bit value a || b (a: columns 0-127) with tweak j, from the fixed-key CCR hash H of <fusion/prg.h>:
 *   H_j(a || b) = H(b ^ tau(j, 1) ^ H(a ^ tau(j, 0))),   tau(j, h) = the block (j, h) (low 64 bits j, high 64 bits h)
 * chained, not H(a ^ ..) ^ H(b ^ ..): the code puts (for logn <= 7) 64 of the 128 unknown bits in each half, and a
 * XOR of two independent half hashes could be attacked half by half (meet in the middle, 2^64); here the outer input
 * depends on both halves at once. docs/SECURITY.md gives the argument. Pads are the low ell bits of H_j.
 *
 * The check (Orru-Orsini-Scholl, CT-RSA 2017). A malicious receiver may put rows c'_i in u that are not codewords;
 * then q_i = t_i ^ (c'_i AND s), and whether its outputs still decrypt tells it bits of s. A checked chunk of m
 * instances gets CHECKS = 40 padding instances with uniform indices. After u is in, the sender sends a 16-byte seed;
 * from it both derive CHECKS bit vectors chi^k over the chunk's rows: uniform bits on the m instances, and on the
 * padding only the bit of padding instance k. The receiver answers, per k, tau^k = XOR of chi^k_i t_i (256 bits) and
 * w^k = XOR of chi^k_i r_i (one byte); the sender accepts iff XOR of chi^k_i q_i = tau^k ^ (C(w^k) AND s) for every
 * k, by linearity of C, before it sends any ciphertext of the chunk. If some row is not a codeword, a random subset
 * sum is one with probability at most 1/2, and then passing needs the s bits where it differs from C(w^k): a
 * receiver that learns b bits of s this way passes with probability 2^-b, and b <= 40 leaves every message but its
 * choice at least 128 - 40 = 88 unknown bits of s under the hash (the code's distance minus s, OOS17's bound). The
 * padding index k masks w^k and t of the padding row masks tau^k; padding instances are never output.
 *
 * Wire, per call: per chunk of up to FSN_KK_CHUNK instances (FSN_KK_CHUNK - 128 when checked) one frame of
 * 256 round128(rows) / 8 bytes of u (receiver to sender; rows = m, or m + 40 when checked); checked, the sender's
 * 16-byte seed and the receiver's 40 x 33 bytes of proof; then the ciphertexts in frames of at most RING values
 * (sender to receiver): 256 + N ell bits per instance. The receiver computes the next chunk's columns and its pads
 * while the sender works on this one; it sends the next u only after this chunk's ciphertexts are read. */
#include "protocol/ot/ot_internal.h"
#include "protocol/ot/ot_testing.h"

#include <fusion/bits.h>
#include <fusion/ring.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

/* Code length K = 256 (two 128-column halves), chunks of KK_CHUNK instances. */
#define FSN_KK_K     256
#define FSN_KK_CHUNK (FSN_OT_CHUNK / 2)

enum {
  K = FSN_KK_K,
  RING = 2 * FSN_OT_CHUNK, /* ciphertexts per frame: the ring buffer */
  GROUP = 1024,            /* hash inputs per pass on the sender: 16 KiB, L1-resident */
  CHECKS = 40,             /* the check's subset sums (and padding instances): 2^-40 to pass with a non-codeword */
  PROOF = 33,              /* bytes per subset sum: tau (256 bits) and w */
};

typedef struct kk13 {
  fsn_ot_n1 base;
  fsn_ot_n1 *small; /* "rot" on the same COT, for logn = 1 (128 + 2 ell bits beat 256 + 2 ell) */
  fsn_channel *ch;  /* the COT's */
  fsn_ot_role role;
  fsn_prg g0[FSN_KK_K]; /* receiver: the seed of column j for bit 0; sender: the seed it chose, k_j^{s_j} */
  fsn_prg g1[FSN_KK_K]; /* receiver only: the seed for bit 1 */
  /* Sender: C(x) AND s for every x < 256, C the code: columns 0-127 in dlo[x], 128-255 in dhi[x]. */
  _Alignas(64) uint8_t dlo[256][16];
  _Alignas(64) uint8_t dhi[256][16];
  _Alignas(16) uint8_t s[32]; /* sender: the base-OT choice vector */
  uint64_t count;             /* 1-out-of-N instances run so far: instance j's hash tweak */
  uint8_t *cols;              /* 256 x FSN_KK_CHUNK bits: t or q */
  uint8_t *u;                 /* 256 x FSN_KK_CHUNK bits: the receiver's columns; the sender's packed ciphertexts */
  uint8_t *rows;              /* FSN_KK_CHUNK x 256 bits, two halves (rows_hi) */
  uint8_t *rows2;             /* hash inputs and gen's messages (sender); index bit planes (receiver) */
  uint64_t *ring;             /* RING ciphertexts */
  bool checked;               /* the OOS17 check runs on every chunk */
  fsn_prg local;              /* the sender's challenge seeds, the receiver's padding indices */
  uint8_t *chi;               /* CHECKS challenge vectors of a chunk, FSN_KK_CHUNK bits each */
  bool flip;                  /* tests: corrupt the next u (fsn_kk13_test_flip) */
  unsigned flip_col;
  size_t flip_row;
} kk13;

/* Rows of a chunk: columns 0-127 of row i at rows + 16 i, columns 128-255 at rows + 16 (FSN_KK_CHUNK + i). */
static uint8_t *rows_hi(kk13 *kk) { return kk->rows + 16 * FSN_KK_CHUNK; }

/* C(x) AND s for every x < 256: C(2^b) is the code's generator b (bit p set iff bit b of p is), the rest by
 * linearity, C(x) = C(x & (x - 1)) ^ C(lowest bit of x). */
static void code_table(kk13 *kk) {
  uint8_t d[256][32];
  memset(d[0], 0, 32);
  for (unsigned b = 0; b < 8; b++) {
    uint8_t *row = d[1u << b];
    memset(row, 0, 32);
    for (unsigned p = 0; p < K; p++) row[p / 8] |= (uint8_t)((p >> b & 1u) << (p % 8));
    for (int k = 0; k < 32; k++) row[k] &= kk->s[k];
  }
  for (unsigned x = 3; x < 256; x++)
    if (x & (x - 1))
      for (int k = 0; k < 32; k++) d[x][k] = d[x & (x - 1)][k] ^ d[x & (0u - x)][k];
  for (unsigned x = 0; x < 256; x++) memcpy(kk->dlo[x], d[x], 16), memcpy(kk->dhi[x], d[x] + 16, 16);
  sodium_memzero(d, sizeof d);
}

/* Instances per chunk: a checked chunk keeps room for its padding rows within FSN_KK_CHUNK. */
static size_t chunk_len(const kk13 *kk, size_t n, size_t off) {
  const size_t cap = kk->checked ? FSN_KK_CHUNK - 128 : FSN_KK_CHUNK;
  return n - off < cap ? n - off : cap;
}

/* The rows of a chunk of m instances, padded to 128: the check's padding instances follow the m. */
static size_t chunk_mp(const kk13 *kk, size_t m) { return fsn_ot_round128(kk->checked ? m + CHECKS : m); }

/* ---- the OOS17 check --------------------------------------------------------------------------------------------- */

/* The challenge vectors of a chunk of m instances from the sender's seed. */
static void challenges(kk13 *kk, const uint8_t seed[16], size_t m) {
  const size_t len = chunk_mp(kk, m) / 8;
  fsn_prg g;
  fsn_prg_seed(&g, seed);
  fsn_prg_bytes(&g, kk->chi, CHECKS * len);
  for (size_t k = 0; k < CHECKS; k++) {
    uint8_t *chi = kk->chi + k * len;
    chi[m / 8] &= (uint8_t)((1u << (m % 8)) - 1);
    memset(chi + m / 8 + 1, 0, len - m / 8 - 1);
    chi[(m + k) / 8] |= (uint8_t)(1u << ((m + k) % 8));
  }
}

/* Bit j of out (32 bytes) = parity of column j AND chi: the rows' subset sum, computed on the columns. */
static void subset_sum(uint8_t out[32], const uint8_t *cols, const uint8_t *chi, size_t len) {
  const uint64_t *c = (const uint64_t *)(const void *)cols, *x = (const uint64_t *)(const void *)chi;
  memset(out, 0, 32);
  for (unsigned j = 0; j < K; j++) {
    uint64_t acc = 0;
    for (size_t w = 0; w < len / 8; w++) acc ^= c[j * (len / 8) + w] & x[w];
    out[j / 8] |= (uint8_t)((unsigned)__builtin_parityll(acc) << (j % 8));
  }
}

/* Receiver, after sending u: read the seed, send tau^k and w^k (a masked XOR of the indices: no branch on them). The
 * columns t and the chunk's indices (kk->rows2, written by rx_columns) are still in place. */
static fsn_status rx_prove(kk13 *kk, size_t m) {
  const size_t mp = chunk_mp(kk, m), len = mp / 8;
  uint8_t seed[16], proof[CHECKS * PROOF];
  fsn_status st = fsn_channel_recv(kk->ch, seed, sizeof seed);
  if (st != FSN_OK) return st;
  challenges(kk, seed, m);
  for (size_t k = 0; k < CHECKS; k++) {
    const uint8_t *chi = kk->chi + k * len;
    subset_sum(proof + k * PROOF, kk->cols, chi, len);
    uint8_t w = 0;
    for (size_t i = 0; i < m + CHECKS; i++) w ^= kk->rows2[i] & (uint8_t)(0 - ((chi[i / 8] >> (i % 8)) & 1u));
    proof[k * PROOF + 32] = w;
  }
  st = fsn_channel_send(kk->ch, proof, sizeof proof);
  sodium_memzero(proof, sizeof proof);
  return st == FSN_OK ? fsn_channel_flush(kk->ch) : st;
}

/* Sender, once the rows are formed and before any ciphertext: challenge, read the proof, verify every subset sum. */
static fsn_status tx_verify(kk13 *kk, size_t m) {
  const size_t len = chunk_mp(kk, m) / 8;
  uint8_t seed[16], proof[CHECKS * PROOF], sum[32];
  fsn_prg_bytes(&kk->local, seed, sizeof seed);
  fsn_status st = fsn_channel_send(kk->ch, seed, sizeof seed);
  if (st == FSN_OK) st = fsn_channel_flush(kk->ch);
  if (st == FSN_OK) st = fsn_channel_recv(kk->ch, proof, sizeof proof);
  if (st != FSN_OK) return st;
  challenges(kk, seed, m);
  bool ok = true;
  for (size_t k = 0; k < CHECKS; k++) {
    const uint8_t *p = proof + k * PROOF, w = p[32];
    subset_sum(sum, kk->cols, kk->chi + k * len, len);
    for (int b = 0; b < 16; b++) sum[b] ^= kk->dlo[w][b], sum[16 + b] ^= kk->dhi[w][b];
    ok &= sodium_memcmp(sum, p, 32) == 0;
  }
  if (ok) return FSN_OK;
  sodium_memzero(kk->cols, K * len), sodium_memzero(kk->rows, 32 * FSN_KK_CHUNK);
  return fsn_fail(FSN_E_CHEATING, "KK13: the receiver failed the OOS17 code check (its correction matrix has rows "
                                  "that are not codewords): the peer deviated, OTs refused");
}

/* ---- sender ------------------------------------------------------------------------------------------------------ */

/* Receive u for m instances and leave the rows q_i in kk->rows (two halves). */
static fsn_status tx_rows(kk13 *kk, size_t m) {
  const size_t mp = chunk_mp(kk, m), len = mp / 8;
  fsn_status st = fsn_channel_recv(kk->ch, kk->u, K * len);
  if (st != FSN_OK) return st;
  for (unsigned j = 0; j < K; j++) {
    uint8_t *q = kk->cols + j * len;
    fsn_aes128_ctr(q, NULL, len / 16, &kk->g0[j].key, kk->g0[j].ctr);
    fsn_ot_xor_masked(q, kk->u + j * len, len, 0 - (uint64_t)(kk->s[j / 8] >> (j % 8) & 1u));
  }
  fsn_bits_transpose(kk->rows, kk->cols, 128, mp);
  fsn_bits_transpose(rows_hi(kk), kk->cols + 128 * len, 128, mp);
  return kk->checked ? tx_verify(kk, m) : FSN_OK;
}

/* The ciphertexts of instances [i0, i0 + g) of the chunk (global index j0 + i0 ...): ct[i N + x] = msg[i N + x] ^
 * H_j(q_i ^ (C(x) AND s)), low ell bits. Two passes over one buffer of g N blocks build the inner and the outer hash
 * inputs, 64-bit words in native order (the tweak converted to it), in loops the compiler vectorises. */
static void tx_cipher(kk13 *kk, uint64_t *restrict ct, const uint64_t *restrict msg, size_t i0, size_t g, size_t N,
                      uint64_t j0, uint64_t mask) {
  uint64_t *restrict blk = (uint64_t *)(void *)kk->rows2;
  const uint64_t *restrict dlo = (const uint64_t *)(const void *)kk->dlo[0];
  const uint64_t *restrict dhi = (const uint64_t *)(const void *)kk->dhi[0];
  const uint64_t *lo = (const uint64_t *)(const void *)kk->rows + 2 * i0;
  const uint64_t *hi = (const uint64_t *)(const void *)rows_hi(kk) + 2 * i0;
  const uint64_t one = fsn_ot_le64(1);
  for (size_t i = 0; i < g; i++) {
    const uint64_t a0 = lo[2 * i] ^ fsn_ot_le64(j0 + i0 + i), a1 = lo[2 * i + 1];
    uint64_t *restrict out = blk + 2 * N * i;
    for (size_t x = 0; x < N; x++) out[2 * x] = dlo[2 * x] ^ a0, out[2 * x + 1] = dlo[2 * x + 1] ^ a1;
  }
  fsn_ccrh((uint8_t *)blk, (const uint8_t *)blk, g * N);
  for (size_t i = 0; i < g; i++) {
    const uint64_t b0 = hi[2 * i] ^ fsn_ot_le64(j0 + i0 + i), b1 = hi[2 * i + 1] ^ one;
    uint64_t *restrict out = blk + 2 * N * i;
    for (size_t x = 0; x < N; x++) out[2 * x] ^= dhi[2 * x] ^ b0, out[2 * x + 1] ^= dhi[2 * x + 1] ^ b1;
  }
  fsn_ccrh((uint8_t *)blk, (const uint8_t *)blk, g * N);
  for (size_t k = 0; k < g * N; k++) ct[k] = (fsn_ot_le64(blk[2 * k]) ^ msg[k]) & mask;
}

/* Ciphertexts that fill whole bytes, at most 64 bits per instance (the millionaires' 16 x 4, 8 x 4 and 4 x 4 bits):
 * the wire form of fsn_channel_send_ring, built here one 64-bit word per instance, and read back by the receiver
 * with one shift instead of unpacking all N. */
static bool packed_words(size_t N, unsigned ell) { return N * ell % 8 == 0 && N * ell <= 64; }

/* Instance i's N ell-bit ciphertexts as bytes [i B, (i + 1) B) of out, B = N ell / 8 (little-endian bit stream).
 * Each store writes 8 bytes: out needs 8 bytes of room past the last instance. */
static void pack_words(uint8_t *out, const uint64_t *ct, size_t g, size_t N, unsigned ell) {
  const size_t B = N * ell / 8;
  for (size_t i = 0; i < g; i++) {
    uint64_t w = 0;
    for (size_t x = 0; x < N; x++) w |= ct[i * N + x] << (x * ell);
    fsn_ot_store64(out + i * B, w);
  }
}

static fsn_status kk_send(kk13 *kk, const uint64_t *msgs, fsn_ot_msgs_fn gen, void *arg, size_t n, unsigned logn,
                          unsigned ell) {
  fsn_status st;
  const size_t N = (size_t)1 << logn, frame = RING / N, group = GROUP / N > 0 ? GROUP / N : 1;
  const uint64_t mask = fsn_ring_mask(ell), j0 = kk->count;
  const bool words = packed_words(N, ell);
  uint8_t *bytes = kk->u;                                        /* free once the rows are formed */
  uint64_t *made = (uint64_t *)(void *)(kk->rows2 + 16 * GROUP); /* gen's messages, one group at a time */
  for (size_t off = 0, m; off < n; off += m) {
    m = chunk_len(kk, n, off);
    if ((st = tx_rows(kk, m)) != FSN_OK) return st;
    for (size_t f = 0; f < m; f += frame) {
      const size_t fl = m - f < frame ? m - f : frame;
      for (size_t g = f; g < f + fl; g += group) {
        const size_t gl = f + fl - g < group ? f + fl - g : group;
        uint64_t *ct = kk->ring + (g - f) * N;
        if (!msgs) gen(made, off + g, gl, arg);
        tx_cipher(kk, ct, msgs ? msgs + (off + g) * N : made, g, gl, N, j0 + off, mask);
        if (words) pack_words(bytes + (g - f) * N * ell / 8, ct, gl, N, ell);
      }
      st = words ? fsn_channel_send(kk->ch, bytes, fl * N * ell / 8)
                 : fsn_channel_send_ring(kk->ch, kk->ring, fl * N, ell);
      if (st != FSN_OK) return st;
    }
    if ((st = fsn_channel_flush(kk->ch)) != FSN_OK) return st;
  }
  kk->count += n;
  return FSN_OK;
}

/* ---- receiver ---------------------------------------------------------------------------------------------------- */

/* Columns of a chunk of m instances with indices idx[0 .. m): t_j = G(k_j^0) into kk->cols, u_j into kk->u. The
 * chunk's indices, the check's uniform padding indices included, stay in kk->rows2 for rx_prove. */
static void rx_columns(kk13 *kk, const uint8_t *idx, size_t m, unsigned logn) {
  const size_t mp = chunk_mp(kk, m), len = mp / 8, rows = kk->checked ? m + CHECKS : m;
  const unsigned N = 1u << logn;
  /* Bit planes of the indices (row b: bit b of every index), through the scratch rows. */
  uint8_t *pad_idx = kk->rows2, *planes = kk->rows2 + mp;
  memcpy(pad_idx, idx, m);
  fsn_prg_bytes(&kk->local, pad_idx + m, rows - m);
  for (size_t i = m; i < rows; i++) pad_idx[i] &= (uint8_t)(N - 1);
  memset(pad_idx + rows, 0, mp - rows);
  fsn_bits_transpose(planes, pad_idx, mp, 8);
  /* Code column p < N is the XOR of the planes of the bits set in p; column j of the code is column j mod N. */
  memset(kk->u, 0, len);
  for (unsigned p = 1; p < N; p++)
    fsn_bits_xor(kk->u + p * len, kk->u + (p & (p - 1)) * len, planes + (size_t)__builtin_ctz(p) * len, len);
  /* Downwards, so that code column j mod N is still in place when column j >= N reads it. */
  for (unsigned j = K; j-- > 0;) {
    uint8_t *t = kk->cols + j * len, *u = kk->u + j * len;
    fsn_aes128_ctr(t, NULL, len / 16, &kk->g0[j].key, kk->g0[j].ctr);
    fsn_bits_xor(u, t, kk->u + (j & (N - 1)) * len, len);
    fsn_aes128_ctr(u, u, len / 16, &kk->g1[j].key, kk->g1[j].ctr);
  }
  if (kk->flip && kk->flip_row < mp) {
    kk->u[kk->flip_col * len + kk->flip_row / 8] ^= (uint8_t)(1u << (kk->flip_row % 8));
    kk->flip = false;
  }
}

static fsn_status rx_send(kk13 *kk, size_t m) {
  fsn_status st = fsn_channel_send(kk->ch, kk->u, K * chunk_mp(kk, m) / 8);
  if (st == FSN_OK) st = fsn_channel_flush(kk->ch);
  return st == FSN_OK && kk->checked ? rx_prove(kk, m) : st;
}

/* The rows t_i of the chunk and the pads of the chosen messages, H_j(t_i), low 64 bits into pad[0 .. m). */
static void rx_pads(kk13 *kk, uint64_t *pad, size_t m, uint64_t j0) {
  const size_t mp = chunk_mp(kk, m), len = mp / 8;
  uint8_t *lo = kk->rows, *hi = rows_hi(kk);
  fsn_bits_transpose(lo, kk->cols, 128, mp);
  fsn_bits_transpose(hi, kk->cols + 128 * len, 128, mp);
  for (size_t i = 0; i < m; i++) fsn_ot_store64(lo + 16 * i, fsn_ot_low64(lo + 16 * i) ^ (j0 + i));
  fsn_ccrh(lo, lo, m);
  for (size_t i = 0; i < m; i++) {
    fsn_ot_store64(lo + 16 * i, fsn_ot_low64(lo + 16 * i) ^ fsn_ot_low64(hi + 16 * i) ^ (j0 + i));
    fsn_ot_store64(lo + 16 * i + 8, fsn_ot_high64(lo + 16 * i) ^ fsn_ot_high64(hi + 16 * i) ^ 1);
  }
  fsn_ccrh(lo, lo, m);
  for (size_t i = 0; i < m; i++) pad[i] = fsn_ot_low64(lo + 16 * i);
}

/* Read this chunk's ciphertexts frame by frame; out holds the pads and receives the messages. Every ciphertext of
 * an instance is read, so the memory accesses do not depend on the index (in the packed-word form, one word per
 * instance and a shift by r ell). */
static fsn_status rx_finish(kk13 *kk, uint64_t *out, const uint8_t *idx, size_t m, size_t N, unsigned ell) {
  const size_t frame = RING / N;
  const uint64_t mask = fsn_ring_mask(ell);
  const bool words = packed_words(N, ell);
  uint8_t *bytes = (uint8_t *)kk->ring;
  for (size_t f = 0; f < m; f += frame) {
    const size_t fl = m - f < frame ? m - f : frame;
    if (words) {
      const size_t B = N * ell / 8;
      fsn_status st = fsn_channel_recv(kk->ch, bytes, fl * B);
      if (st != FSN_OK) return st;
      memset(bytes + fl * B, 0, 8); /* the last word's load reads up to 8 bytes */
      for (size_t i = 0; i < fl; i++)
        out[f + i] = (out[f + i] ^ fsn_ot_low64(bytes + i * B) >> (idx[f + i] * ell)) & mask;
      continue;
    }
    fsn_status st = fsn_channel_recv_ring(kk->ch, kk->ring, fl * N, ell);
    if (st != FSN_OK) return st;
    for (size_t i = 0; i < fl; i++) {
      const uint64_t *ct = kk->ring + i * N;
      const unsigned r = idx[f + i];
      uint64_t c = 0;
      for (unsigned x = 0; x < N; x++) c |= ct[x] & (0 - (uint64_t)(x == r));
      out[f + i] = (out[f + i] ^ c) & mask;
    }
  }
  return FSN_OK;
}

static fsn_status kk_recv(kk13 *kk, uint64_t *out, const uint8_t *idx, size_t n, unsigned logn, unsigned ell) {
  fsn_status st;
  const uint64_t j0 = kk->count;
  size_t off = 0, m = chunk_len(kk, n, 0);
  rx_columns(kk, idx, m, logn);
  rx_pads(kk, out, m, j0);
  while (off < n) {
    if ((st = rx_send(kk, m)) != FSN_OK) return st;
    const size_t next = off + m, mn = next < n ? chunk_len(kk, n, next) : 0;
    if (mn) {
      rx_columns(kk, idx + next, mn, logn);
      rx_pads(kk, out + next, mn, j0 + next);
    }
    if ((st = rx_finish(kk, out + off, idx + off, m, (size_t)1 << logn, ell)) != FSN_OK) return st;
    off = next, m = mn;
  }
  kk->count += n;
  return FSN_OK;
}

/* ---- the 1-out-of-N interface ------------------------------------------------------------------------------------ */

static kk13 *of(fsn_ot_n1 *n1) { return (kk13 *)(void *)n1; }

static fsn_status send(fsn_ot_n1 *n1, const uint64_t *msgs, fsn_ot_msgs_fn gen, void *arg, size_t n, unsigned logn,
                       unsigned ell) {
  kk13 *kk = of(n1);
  return logn == 1 ? kk->small->ops->send(kk->small, msgs, gen, arg, n, logn, ell)
                   : kk_send(kk, msgs, gen, arg, n, logn, ell);
}

static fsn_status recv(fsn_ot_n1 *n1, uint64_t *out, const uint8_t *idx, size_t n, unsigned logn, unsigned ell) {
  kk13 *kk = of(n1);
  return logn == 1 ? kk->small->ops->recv(kk->small, out, idx, n, logn, ell) : kk_recv(kk, out, idx, n, logn, ell);
}

static void destroy(fsn_ot_n1 *n1) {
  kk13 *kk = of(n1);
  fsn_ot_n1_destroy(kk->small);
  if (kk->cols) sodium_memzero(kk->cols, K * FSN_KK_CHUNK / 8);
  if (kk->rows) sodium_memzero(kk->rows, 32 * FSN_KK_CHUNK);
  free(kk->cols), free(kk->u), free(kk->rows), free(kk->rows2), free(kk->ring), free(kk->chi);
  sodium_memzero(kk, sizeof *kk);
  free(kk);
}

static const fsn_ot_n1_ops kk13_ops = {.name = "kk13", .send = send, .recv = recv, .destroy = destroy};

fsn_status fsn_kk13_create(fsn_ot_n1 **out, fsn_cot *cot, const uint8_t *seed) {
  kk13 *kk = aligned_alloc(64, (sizeof(kk13) + 63) / 64 * 64);
  if (!kk) return fsn_fail(FSN_E_NOMEM, "KK13: %zu bytes", sizeof *kk);
  memset(kk, 0, sizeof *kk);
  fsn_ot_n1_init(&kk->base, &kk13_ops, cot);
  kk->ch = cot->ch, kk->role = cot->role;
  kk->cols = fsn_ot_alloc64(K * FSN_KK_CHUNK / 8), kk->u = fsn_ot_alloc64(K * FSN_KK_CHUNK / 8);
  kk->rows = fsn_ot_alloc64(32 * FSN_KK_CHUNK), kk->rows2 = fsn_ot_alloc64(2 * FSN_KK_CHUNK + 24 * GROUP);
  kk->ring = fsn_ot_alloc64(RING * sizeof(uint64_t));
  kk->checked = cot->checked;
  kk->chi = kk->checked ? fsn_ot_alloc64(CHECKS * FSN_KK_CHUNK / 8) : NULL;
  fsn_ot_local_prg(&kk->local, seed, "fusion/kk13/locl");
  fsn_status st = FSN_OK;
  if (!kk->cols || !kk->u || !kk->rows || !kk->rows2 || !kk->ring || (kk->checked && !kk->chi))
    st = fsn_fail(FSN_E_NOMEM, "KK13: working buffers");
  if (st == FSN_OK) st = fsn_n1rot_create(&kk->small, cot);
  /* 256 base OTs with reversed roles, as IKNP's. */
  if (st == FSN_OK) st = fsn_ot_base_setup(kk->ch, kk->role, K, kk->g0, kk->g1, kk->s, seed, "fusion/kk13/seed");
  if (st != FSN_OK) {
    destroy(&kk->base);
    return st;
  }
  if (kk->role == FSN_OT_SENDER) code_table(kk);
  *out = &kk->base;
  return FSN_OK;
}

fsn_status fsn_kk13_test_flip(fsn_ot_n1 *receiver, unsigned column, size_t row) {
  if (!receiver || receiver->role != FSN_OT_RECEIVER || receiver->ops != &kk13_ops || column >= K)
    return fsn_fail(FSN_E_INVALID, "fsn_kk13_test_flip: not a KK13 receiver, or column %u", column);
  kk13 *kk = of(receiver);
  kk->flip = true, kk->flip_col = column, kk->flip_row = row;
  return FSN_OK;
}
