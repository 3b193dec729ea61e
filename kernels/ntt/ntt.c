/* The NTT family's library part: dispatched entry points, tables (the only allocation), the prime finder and the
 * samplers (their cost is the AES stream, which is dispatched already). */
#include <stdlib.h>

#include "kernels/ntt/ntt_ops.h"

FSN_FAMILY_DEFINE(ntt, FSN_NTT_OPS, FSN_NTT_VARIANTS)

static uint64_t mulmod(uint64_t a, uint64_t b, uint64_t p) { return (uint64_t)((unsigned __int128)a * b % p); }

static uint64_t powmod(uint64_t a, uint64_t e, uint64_t p) {
  uint64_t r = 1 % p;
  for (a %= p; e; e >>= 1, a = mulmod(a, a, p))
    if (e & 1) r = mulmod(r, a, p);
  return r;
}

/* a^-1 mod p for a prime p and a != 0 mod p (Fermat). */
uint64_t fsn_ntt_inv_mod(uint64_t a, uint64_t p) { return powmod(a, p - 2, p); }

int fsn_ntt_is_prime(uint64_t n) {
  static const uint64_t bases[] = {2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37}; /* exact below 3.3e24 */
  if (n < 2) return 0;
  for (size_t i = 0; i < sizeof bases / sizeof bases[0]; i++)
    if (n % bases[i] == 0) return n == bases[i];
  uint64_t d = n - 1;
  unsigned s = 0;
  for (; d % 2 == 0; d /= 2) s++;
  for (size_t i = 0; i < sizeof bases / sizeof bases[0]; i++) {
    uint64_t x = powmod(bases[i], d, n);
    if (x == 1 || x == n - 1) continue;
    unsigned r = 1;
    for (; r < s && (x = mulmod(x, x, n)) != n - 1; r++) {
    }
    if (r == s) return 0;
  }
  return 1;
}

fsn_status fsn_ntt_primes(uint64_t *out, size_t count, uint64_t bound, unsigned log2_mod) {
  if (log2_mod < 1 || log2_mod > 62 || bound > (uint64_t)1 << 63)
    return fsn_fail(FSN_E_INVALID, "ntt primes: log2_mod %u or bound %llu out of range", log2_mod,
                    (unsigned long long)bound);
  const uint64_t step = (uint64_t)1 << log2_mod;
  size_t found = 0;
  for (uint64_t c = bound >= 2 ? (bound - 2) / step : 0; c >= 1 && found < count; c--)
    if (fsn_ntt_is_prime(c * step + 1)) out[found++] = c * step + 1;
  if (found < count)
    return fsn_fail(FSN_E_INVALID, "ntt primes: only %zu primes below %llu are 1 mod 2^%u, %zu asked", found,
                    (unsigned long long)bound, log2_mod, count);
  return FSN_OK;
}

static unsigned bit_reverse(size_t j, unsigned bits) {
  unsigned r = 0;
  for (unsigned b = 0; b < bits; b++) r |= (unsigned)((j >> b) & 1) << (bits - 1 - b);
  return r;
}

/* psi = g^((p - 1) / 2N) for the smallest g >= 2 with psi^N = -1 (a primitive 2N-th root, since 2N is a power of 2). */
static uint64_t find_root(uint64_t p, size_t n) {
  for (uint64_t g = 2;; g++) {
    uint64_t psi = powmod(g, (p - 1) / (2 * n), p);
    if (powmod(psi, n, p) == p - 1) return psi;
  }
}

static uint64_t shoup64(uint64_t w, uint64_t p) { return (uint64_t)(((unsigned __int128)w << 64) / p); }
static uint64_t shoup52(uint64_t w, uint64_t p) { return (uint64_t)(((unsigned __int128)w << 52) / p); }

fsn_status fsn_ntt_table_create(fsn_ntt_table **out, uint64_t p, size_t n) {
  *out = NULL;
  unsigned log_n = 0;
  while (log_n < 63 && ((size_t)1 << log_n) < n) log_n++;
  if (((size_t)1 << log_n) != n || log_n < FSN_NTT_MIN_LOG_N || log_n > FSN_NTT_MAX_LOG_N)
    return fsn_fail(FSN_E_INVALID, "ntt table: N = %zu is not a power of two in [2^%d, 2^%d]", n, FSN_NTT_MIN_LOG_N,
                    FSN_NTT_MAX_LOG_N);
  if (p >= (uint64_t)1 << FSN_NTT_MAX_PRIME_BITS || p % (2 * n) != 1 || !fsn_ntt_is_prime(p))
    return fsn_fail(FSN_E_INVALID, "ntt table: p = %llu is not a prime below 2^%d with p = 1 mod 2N = %zu",
                    (unsigned long long)p, FSN_NTT_MAX_PRIME_BITS, 2 * n);
  fsn_ntt_table *t = calloc(1, sizeof *t);
  const size_t bytes = (10 * n * sizeof(uint64_t) + 63) / 64 * 64; /* aligned_alloc wants a multiple of 64 */
  uint64_t *block = aligned_alloc(64, bytes);
  if (!t || !block) {
    free(t), free(block);
    return fsn_fail(FSN_E_NOMEM, "ntt table: %zu bytes", bytes);
  }
  *t = (fsn_ntt_table){.p = p, .psi = find_root(p, n), .n = n, .log_n = log_n, .block = block};
  t->w = block, t->w_shoup = block + n, t->w_shoup52 = block + 2 * n;
  t->iw = block + 3 * n, t->iw_shoup = block + 4 * n, t->iw_shoup52 = block + 5 * n;
  double *fp = (double *)(block + 6 * n);
  t->w_fp = fp, t->w_over_p = fp + n, t->iw_fp = fp + 2 * n, t->iw_over_p = fp + 3 * n;
  const uint64_t psi_inv = fsn_ntt_inv_mod(t->psi, p);
  for (size_t j = 0; j < n; j++) {
    unsigned e = bit_reverse(j, log_n);
    t->w[j] = powmod(t->psi, e, p), t->iw[j] = powmod(psi_inv, e, p);
    t->w_shoup[j] = shoup64(t->w[j], p), t->w_shoup52[j] = shoup52(t->w[j], p);
    t->iw_shoup[j] = shoup64(t->iw[j], p), t->iw_shoup52[j] = shoup52(t->iw[j], p);
    t->w_fp[j] = (double)t->w[j], t->w_over_p[j] = (double)t->w[j] / (double)p;
    t->iw_fp[j] = (double)t->iw[j], t->iw_over_p[j] = (double)t->iw[j] / (double)p;
  }
  t->n_inv = fsn_ntt_inv_mod(n % p, p);
  t->n_inv_shoup = shoup64(t->n_inv, p), t->n_inv_shoup52 = shoup52(t->n_inv, p);
  t->iw1_n_inv = mulmod(t->iw[1], t->n_inv, p), t->iw1_n_inv_shoup52 = shoup52(t->iw1_n_inv, p);
  t->iw1_n_inv_over_p = (double)t->iw1_n_inv / (double)p;
  t->p_fp = (double)p, t->p_inv = 1.0 / (double)p, t->n_inv_over_p = (double)t->n_inv / (double)p;
  while (t->bits < 64 && (p >> t->bits)) t->bits++;
  t->barrett = (uint64_t)(((unsigned __int128)1 << (2 * t->bits)) / p);
  *out = t;
  return FSN_OK;
}

void fsn_ntt_table_destroy(fsn_ntt_table *t) {
  if (!t) return;
  free(t->block);
  free(t);
}

uint64_t fsn_ntt_table_modulus(const fsn_ntt_table *t) { return t->p; }
size_t fsn_ntt_table_degree(const fsn_ntt_table *t) { return t->n; }
uint64_t fsn_ntt_table_root(const fsn_ntt_table *t) { return t->psi; }

void fsn_ntt_modswitch_prime_fast(uint64_t *out, const uint64_t *x1, const uint64_t *x2, size_t n, uint64_t p1,
                                  uint64_t p2) {
  const uint64_t inv = fsn_ntt_inv_mod(p2 % p1, p1), inv_shoup = (uint64_t)(((unsigned __int128)inv << 64) / p1);
  const uint64_t zero = p1 * (((uint64_t)1 << 63) / p1); /* a multiple of p1 in [2^62, 2^63]: keeps x1 - x2 positive */
  for (size_t i = 0; i < n; i++) {
    /* x1 - [x2]_p2 mod p1, as a value below 2^64 */
    uint64_t d = x2[i] <= p2 / 2 ? x1[i] + zero - x2[i] : x1[i] + (p2 - x2[i]);
    uint64_t r = fsn_ntt_mul_shoup_lazy(d, inv, inv_shoup, p1);
    out[i] = r >= p1 ? r - p1 : r;
  }
}

/* x y mod p for x < 2^64 with a Shoup constant, fully reduced. */
static uint64_t mul_shoup(uint64_t x, uint64_t y, uint64_t y_shoup, uint64_t p) {
  uint64_t r = fsn_ntt_mul_shoup_lazy(x, y, y_shoup, p);
  return r >= p ? r - p : r;
}

/* round(x 2^k / q) = (x 2^k - c) / q with c the centred residue of x 2^k mod q (|c| < q / 2; q odd, so no ties).
 * Mod 2^k that is -c q^-1, so only c's low 64 bits and its sign are needed, and both come from the RNS residues
 * c1 = x1 2^k mod p1, c2 = x2 2^k mod p2: c = c2 + p2 h (Garner, h = (c1 - c2) p2^-1 mod p1) is above q / 2 exactly
 * when h > (p1 - 1) / 2, or h = (p1 - 1) / 2 and 2 c2 > p2. No 128-bit arithmetic per coefficient. */
void fsn_ntt_modswitch_pow2_fast(uint64_t *out, const uint64_t *x1, const uint64_t *x2, size_t n, uint64_t p1,
                                 uint64_t p2, unsigned k) {
  const uint64_t s1 = powmod(2, k, p1), s1_shoup = shoup64(s1, p1), s2 = powmod(2, k, p2), s2_shoup = shoup64(s2, p2);
  const uint64_t inv = fsn_ntt_inv_mod(p2 % p1, p1), inv_shoup = shoup64(inv, p1);
  const uint64_t zero = p1 * (((uint64_t)1 << 63) / p1); /* a multiple of p1 in [2^62, 2^63]: keeps c1 - c2 positive */
  const uint64_t q_low = p1 * p2, half1 = (p1 - 1) / 2, mask = k >= 64 ? UINT64_MAX : ((uint64_t)1 << k) - 1;
  uint64_t q_inv = q_low; /* q^-1 mod 2^64 by Newton: q q = 1 mod 8, each step doubles the correct bits */
  for (int i = 0; i < 5; i++) q_inv *= 2 - q_low * q_inv;
  for (size_t i = 0; i < n; i++) {
    uint64_t c1 = mul_shoup(x1[i], s1, s1_shoup, p1), c2 = mul_shoup(x2[i], s2, s2_shoup, p2);
    uint64_t h = mul_shoup(c1 + zero - c2, inv, inv_shoup, p1);
    uint64_t c = c2 + p2 * h - (h > half1 || (h == half1 && 2 * c2 > p2) ? q_low : 0); /* mod 2^64 */
    out[i] = (0 - c * q_inv) & mask;
  }
}

/* ---- samplers: the stream in batches of 64 words (32 AES blocks) ---- */

enum { WORDS = 64 };

void fsn_ntt_sample_uniform(fsn_prg *prg, uint64_t *out, size_t n, uint64_t p) {
  unsigned bits = 0;
  while (bits < 64 && ((p - 1) >> bits)) bits++;
  const uint64_t mask = bits >= 64 ? UINT64_MAX : ((uint64_t)1 << bits) - 1;
  uint64_t word[WORDS];
  for (size_t i = 0; i < n;) {
    fsn_prg_bytes(prg, word, sizeof word);
    for (size_t k = 0; k < WORDS && i < n; k++)
      if ((word[k] & mask) < p) out[i++] = word[k] & mask;
  }
}

void fsn_ntt_sample_ternary(fsn_prg *prg, uint64_t *out, size_t n, uint64_t p) {
  const uint64_t value[3] = {0, 1, p - 1};
  uint64_t word[WORDS];
  for (size_t i = 0; i < n;) {
    fsn_prg_bytes(prg, word, sizeof word);
    for (size_t k = 0; k < 32 * WORDS && i < n; k++) {
      unsigned two = (unsigned)(word[k / 32] >> (2 * (k % 32))) & 3;
      if (two < 3) out[i++] = value[two];
    }
  }
}

/* Bits set in x < 2^32, inline: this file is built for the baseline ISA, where __builtin_popcountll is a libgcc call
 * (a few % of an he layer's server time went there). */
static inline int popcount32(uint64_t x) {
  x -= (x >> 1) & 0x55555555u;
  x = (x & 0x33333333u) + ((x >> 2) & 0x33333333u);
  x = (x + (x >> 4)) & 0x0f0f0f0fu;
  return (int)((x * 0x01010101u) >> 24 & 0xff);
}

void fsn_ntt_sample_cbd(fsn_prg *prg, uint64_t *out, size_t n, uint64_t p, unsigned eta) {
  const uint64_t mask = eta >= 32 ? 0xffffffffu : ((uint64_t)1 << eta) - 1;
  uint64_t word[WORDS];
  for (size_t i = 0; i < n; i += WORDS) {
    fsn_prg_bytes(prg, word, sizeof word);
    for (size_t k = 0; k < WORDS && i + k < n; k++) { /* one word per value: eta bits from each half */
      int v = popcount32(word[k] & mask) - popcount32((word[k] >> 32) & mask);
      out[i + k] = v < 0 ? p - (uint64_t)-v : (uint64_t)v;
    }
  }
}
