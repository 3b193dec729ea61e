/* Portable AES-128, the oracle of the aes128 family, and the FIPS-197 key expansion.
 * Constant time: no table is indexed by data. Four blocks at a time are bitsliced into eight 64-bit planes (plane b
 * holds bit b of all 64 state bytes; lane 16 * block + byte index), SubBytes is inversion in GF(2^8) as x^254
 * followed by the affine map, computed with AND/XOR on whole planes, and ShiftRows/MixColumns are fixed lane moves. */
#include <string.h>

#include "kernels/prg/prg_ops.h"

enum { BATCH = 4 }; /* blocks per bitsliced batch: 4 x 16 bytes = 64 lanes */

/* Reduce a product of degree <= 14 modulo x^8 + x^4 + x^3 + x + 1. */
static void gf_reduce(uint64_t r[8], uint64_t t[15]) {
  for (int k = 14; k >= 8; k--) {
    t[k - 4] ^= t[k];
    t[k - 5] ^= t[k];
    t[k - 7] ^= t[k];
    t[k - 8] ^= t[k];
  }
  memcpy(r, t, 8 * sizeof *t);
}

static void gf_mul(uint64_t r[8], const uint64_t a[8], const uint64_t b[8]) {
  uint64_t t[15] = {0};
  for (int i = 0; i < 8; i++)
    for (int j = 0; j < 8; j++) t[i + j] ^= a[i] & b[j];
  gf_reduce(r, t);
}

static void gf_square(uint64_t r[8], const uint64_t a[8]) {
  uint64_t t[15] = {0};
  for (int i = 0; i < 8; i++) t[2 * i] = a[i];
  gf_reduce(r, t);
}

/* s <- S(s) on every lane: x^254 by the chain 2, 3, 12, 15, 240, 252, 254; then the affine map with 0x63. */
static void sub_bytes(uint64_t s[8]) {
  uint64_t x2[8], x3[8], x12[8], t[8];
  gf_square(x2, s);
  gf_mul(x3, x2, s);
  gf_square(t, x3);
  gf_square(x12, t);
  gf_mul(t, x12, x3); /* x^15 */
  for (int i = 0; i < 4; i++) gf_square(t, t);
  gf_mul(t, t, x12); /* x^252 */
  gf_mul(t, t, x2);  /* x^254 = x^-1, and 0 -> 0 */
  for (int i = 0; i < 8; i++)
    s[i] = t[i] ^ t[(i + 4) % 8] ^ t[(i + 5) % 8] ^ t[(i + 6) % 8] ^ t[(i + 7) % 8] ^ -(uint64_t)((0x63 >> i) & 1);
}

static uint64_t rep16(unsigned v) { return (uint64_t)(v & 0xffff) * 0x0001000100010001ull; }
static uint64_t rep4(unsigned v) { return (uint64_t)(v & 0xf) * 0x1111111111111111ull; }

/* Byte r + 4c of a block takes byte r + 4((c + r) mod 4): row r rotates right by 4r lanes in each 16-lane group. */
static void shift_rows(uint64_t s[8]) {
  for (int b = 0; b < 8; b++) {
    uint64_t x = s[b], out = x & rep16(0x1111);
    for (int r = 1; r < 4; r++) {
      uint64_t row = x & rep16(0x1111u << r);
      int k = 4 * r;
      out |= ((row >> k) & rep16(0xffffu >> k)) | ((row << (16 - k)) & rep16(0xffffu << (16 - k)));
    }
    s[b] = out;
  }
}

/* Lane r of each 4-lane column takes lane (r + j) mod 4. */
static uint64_t column_rot(uint64_t x, int j) {
  return ((x >> j) & rep4(0xfu >> j)) | ((x << (4 - j)) & rep4(0xfu << (4 - j)));
}

/* b_r = 2 (a_r + a_r+1) + a_r+1 + a_r+2 + a_r+3 in GF(2^8), per column. */
static void mix_columns(uint64_t s[8]) {
  uint64_t a1[8], rest[8], u[8];
  for (int b = 0; b < 8; b++) {
    a1[b] = column_rot(s[b], 1);
    rest[b] = a1[b] ^ column_rot(s[b], 2) ^ column_rot(s[b], 3);
    u[b] = s[b] ^ a1[b];
  }
  uint64_t top = u[7];
  s[0] = top ^ rest[0];
  s[1] = u[0] ^ top ^ rest[1];
  s[2] = u[1] ^ rest[2];
  s[3] = u[2] ^ top ^ rest[3];
  s[4] = u[3] ^ top ^ rest[4];
  s[5] = u[4] ^ rest[5];
  s[6] = u[5] ^ rest[6];
  s[7] = u[6] ^ rest[7];
}

static void load_planes(uint64_t s[8], const uint8_t bytes[64]) {
  memset(s, 0, 8 * sizeof *s);
  for (int lane = 0; lane < 64; lane++)
    for (int b = 0; b < 8; b++) s[b] |= (uint64_t)((bytes[lane] >> b) & 1) << lane;
}

static void store_planes(uint8_t bytes[64], const uint64_t s[8]) {
  for (int lane = 0; lane < 64; lane++) {
    unsigned v = 0;
    for (int b = 0; b < 8; b++) v |= (unsigned)((s[b] >> lane) & 1) << b;
    bytes[lane] = (uint8_t)v;
  }
}

typedef struct key_planes {
  uint64_t p[11][8];
} key_planes;

static void make_key_planes(key_planes *kp, const fsn_aes128_key *key) {
  uint8_t rep[64];
  for (int r = 0; r < 11; r++) {
    for (int blk = 0; blk < BATCH; blk++) memcpy(rep + 16 * blk, key->rk[r], 16);
    load_planes(kp->p[r], rep);
  }
}

static void add_round_key(uint64_t s[8], const uint64_t k[8]) {
  for (int b = 0; b < 8; b++) s[b] ^= k[b];
}

/* Encrypt the four blocks of `blocks` in place. */
static void encrypt_batch(uint8_t blocks[64], const key_planes *kp) {
  uint64_t s[8];
  load_planes(s, blocks);
  add_round_key(s, kp->p[0]);
  for (int round = 1; round <= 10; round++) {
    sub_bytes(s);
    shift_rows(s);
    if (round < 10) mix_columns(s);
    add_round_key(s, kp->p[round]);
  }
  store_planes(blocks, s);
}

void fsn_aes128_expand(fsn_aes128_key *key, const uint8_t k[16]) {
  memcpy(key->rk[0], k, 16);
  unsigned rcon = 1;
  for (int r = 1; r <= 10; r++) {
    const uint8_t *prev = key->rk[r - 1];
    uint8_t lanes[64] = {prev[13], prev[14], prev[15], prev[12]}; /* RotWord of the last word */
    uint64_t s[8];
    load_planes(s, lanes);
    sub_bytes(s);
    store_planes(lanes, s);
    lanes[0] ^= (uint8_t)rcon;
    rcon = ((rcon << 1) ^ ((rcon >> 7) * 0x11b)) & 0xff;
    for (int i = 0; i < 4; i++) key->rk[r][i] = prev[i] ^ lanes[i];
    for (int i = 4; i < 16; i++) key->rk[r][i] = prev[i] ^ key->rk[r][i - 4];
  }
}

static size_t min_size(size_t a, size_t b) { return a < b ? a : b; }

void fsn_aes128_ecb__ref(uint8_t *out, const uint8_t *in, size_t nblocks, const fsn_aes128_key *key) {
  key_planes kp;
  make_key_planes(&kp, key);
  uint8_t buf[16 * BATCH];
  for (size_t i = 0; i < nblocks; i += BATCH) {
    size_t m = min_size(nblocks - i, BATCH);
    memset(buf, 0, sizeof buf);
    memcpy(buf, in + 16 * i, 16 * m);
    encrypt_batch(buf, &kp);
    memcpy(out + 16 * i, buf, 16 * m);
  }
}

void fsn_aes128_ctr__ref(uint8_t *out, const uint8_t *in, size_t nblocks, const fsn_aes128_key *key, uint8_t ctr[16]) {
  key_planes kp;
  make_key_planes(&kp, key);
  uint64_t hi = fsn_aes128_load_be64(ctr), lo = fsn_aes128_load_be64(ctr + 8);
  uint8_t buf[16 * BATCH];
  for (size_t i = 0; i < nblocks; i += BATCH) {
    size_t m = min_size(nblocks - i, BATCH);
    fsn_aes128_counter_blocks(buf, &hi, &lo, m);
    encrypt_batch(buf, &kp);
    for (size_t j = 0; j < 16 * m; j++) out[16 * i + j] = (uint8_t)((in ? in[16 * i + j] : 0) ^ buf[j]);
  }
  fsn_aes128_store_be64(ctr, hi);
  fsn_aes128_store_be64(ctr + 8, lo);
}

void fsn_aes128_ccrh__ref(uint8_t *out, const uint8_t *in, size_t nblocks, const fsn_aes128_key *key) {
  key_planes kp;
  make_key_planes(&kp, key);
  uint8_t sigma[16 * BATCH], buf[16 * BATCH];
  for (size_t i = 0; i < nblocks; i += BATCH) {
    size_t m = min_size(nblocks - i, BATCH);
    memset(sigma, 0, sizeof sigma);
    for (size_t blk = 0; blk < m; blk++) {
      const uint8_t *x = in + 16 * (i + blk);
      for (int j = 0; j < 8; j++) {
        sigma[16 * blk + j] = x[j] ^ x[8 + j];
        sigma[16 * blk + 8 + j] = x[j];
      }
    }
    memcpy(buf, sigma, sizeof buf);
    encrypt_batch(buf, &kp);
    for (size_t j = 0; j < 16 * m; j++) out[16 * i + j] = buf[j] ^ sigma[j];
  }
}
