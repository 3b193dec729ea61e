/* Portable NTT kernels, the oracle of the SIMD levels: Harvey's lazy butterflies with 64-bit Shoup constants for the
 * transforms (exactly the arithmetic of the SIMD levels, lane by lane), unsigned __int128 remainders for everything
 * else, so the pointwise ops and modulus switching are plainly right. */
#include "kernels/ntt/ntt_ops.h"

/* The stages from group count m (half = N / 2m) on; values in [0, 4p) in, in [0, p) out. */
static void forward_stages(uint64_t *a, const fsn_ntt_table *t, size_t m) {
  const uint64_t p = t->p, two_p = 2 * p;
  for (size_t half = t->n / (2 * m); half >= 1; m *= 2, half /= 2) {
    for (size_t i = 0; i < m; i++) {
      const uint64_t w = t->w[m + i], ws = t->w_shoup[m + i];
      uint64_t *x = a + 2 * i * half, *y = x + half;
      for (size_t j = 0; j < half; j++) { /* x, y in [0, 4p) -> x + wy, x - wy in [0, 4p) */
        uint64_t u = x[j] >= two_p ? x[j] - two_p : x[j];
        uint64_t v = fsn_ntt_mul_shoup_lazy(y[j], w, ws, p);
        x[j] = u + v;
        y[j] = u - v + two_p;
      }
    }
  }
  for (size_t j = 0; j < t->n; j++) {
    uint64_t u = a[j] >= two_p ? a[j] - two_p : a[j];
    a[j] = u >= p ? u - p : u;
  }
}

void fsn_ntt_forward__ref(uint64_t *a, const fsn_ntt_table *t) { forward_stages(a, t, 1); }

/* The skipped stages would map (x, 0) to (x, x + 2p): the same residues as the copy. */
void fsn_ntt_forward_low__ref(uint64_t *a, size_t len, const fsn_ntt_table *t) {
  for (size_t j = len; j < t->n; j++) a[j] = a[j - len];
  forward_stages(a, t, t->n / len);
}

void fsn_ntt_inverse__ref(uint64_t *a, const fsn_ntt_table *t) {
  const uint64_t p = t->p, two_p = 2 * p;
  for (size_t m = t->n / 2, half = 1; m >= 1; m /= 2, half *= 2) {
    for (size_t i = 0; i < m; i++) {
      const uint64_t w = t->iw[m + i], ws = t->iw_shoup[m + i];
      uint64_t *x = a + 2 * i * half, *y = x + half;
      for (size_t j = 0; j < half; j++) { /* x, y in [0, 2p) -> x + y, (x - y) / w in [0, 2p) */
        uint64_t u = x[j], v = y[j], s = u + v;
        x[j] = s >= two_p ? s - two_p : s;
        y[j] = fsn_ntt_mul_shoup_lazy(u - v + two_p, w, ws, p);
      }
    }
  }
  for (size_t j = 0; j < t->n; j++) {
    uint64_t u = fsn_ntt_mul_shoup_lazy(a[j], t->n_inv, t->n_inv_shoup, p);
    a[j] = u >= p ? u - p : u;
  }
}

static uint64_t mulmod(uint64_t a, uint64_t b, uint64_t p) { return (uint64_t)((unsigned __int128)a * b % p); }

void fsn_ntt_mul__ref(uint64_t *c, const uint64_t *a, const uint64_t *b, size_t n, const fsn_ntt_table *t) {
  for (size_t i = 0; i < n; i++) c[i] = mulmod(a[i], b[i], t->p);
}

void fsn_ntt_mul_acc__ref(uint64_t *acc, const uint64_t *a, const uint64_t *b, size_t n, const fsn_ntt_table *t) {
  for (size_t i = 0; i < n; i++) acc[i] = (uint64_t)(((unsigned __int128)a[i] * b[i] + acc[i]) % t->p);
}

void fsn_ntt_mul_acc_sum__ref(uint64_t *acc, const uint64_t *const *a, const uint64_t *const *b, size_t count, size_t n,
                              const fsn_ntt_table *t) {
  for (size_t i = 0; i < n; i++) {
    unsigned __int128 s = acc[i]; /* count < 2^27 products below 2^100 each: no overflow */
    for (size_t k = 0; k < count; k++) s += (unsigned __int128)a[k][i] * b[k][i];
    acc[i] = (uint64_t)(s % t->p);
  }
}

void fsn_ntt_add__ref(uint64_t *c, const uint64_t *a, const uint64_t *b, size_t n, const fsn_ntt_table *t) {
  for (size_t i = 0; i < n; i++) c[i] = (a[i] + b[i]) % t->p;
}

void fsn_ntt_sub__ref(uint64_t *c, const uint64_t *a, const uint64_t *b, size_t n, const fsn_ntt_table *t) {
  for (size_t i = 0; i < n; i++) c[i] = (a[i] + t->p - b[i]) % t->p;
}

/* The x in [0, p1 p2) with x = x1 mod p1 and x = x2 mod p2 (Garner): x = x2 + p2 ((x1 - x2) p2^-1 mod p1). */
static unsigned __int128 crt(uint64_t x1, uint64_t x2, uint64_t p1, uint64_t p2, uint64_t p2_inv) {
  uint64_t h = mulmod((x1 + p1 - x2 % p1) % p1, p2_inv, p1);
  return x2 + (unsigned __int128)p2 * h;
}

void fsn_ntt_modswitch_prime__ref(uint64_t *out, const uint64_t *x1, const uint64_t *x2, size_t n, uint64_t p1,
                                  uint64_t p2) {
  const uint64_t p2_inv = fsn_ntt_inv_mod(p2 % p1, p1);
  for (size_t i = 0; i < n; i++) /* round(x / p2) = floor((x + (p2 - 1) / 2) / p2): p2 is odd, so no ties */
    out[i] = (uint64_t)((crt(x1[i], x2[i], p1, p2, p2_inv) + p2 / 2) / p2 % p1);
}

void fsn_ntt_modswitch_pow2__ref(uint64_t *out, const uint64_t *x1, const uint64_t *x2, size_t n, uint64_t p1,
                                 uint64_t p2, unsigned k) {
  const uint64_t p2_inv = fsn_ntt_inv_mod(p2 % p1, p1);
  const unsigned __int128 q = (unsigned __int128)p1 * p2; /* < 2^100: the remainder below stays under 2^101 */
  const uint64_t mask = k >= 64 ? UINT64_MAX : ((uint64_t)1 << k) - 1;
  for (size_t i = 0; i < n; i++) { /* long division x 2^k / q, one quotient bit at a time, then round */
    unsigned __int128 r = crt(x1[i], x2[i], p1, p2, p2_inv);
    uint64_t quot = 0;
    for (unsigned b = 0; b < k; b++) {
      r <<= 1;
      quot = quot << 1 | (r >= q);
      r -= r >= q ? q : 0;
    }
    quot += 2 * r >= q; /* 2r = q never happens (q odd, r < q) */
    out[i] = quot & mask;
  }
}
