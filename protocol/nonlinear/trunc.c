/* Truncation by s bits (docs/PROTOCOLS.md): with u = x + 2^(ell-1) (unsigned),
 *   u >> s = (u_s >> s) + (u_c >> s) + c - w 2^(ell-s),
 * c = carry out of the low s bits, w = wrap of the whole sum. Rather than two full comparisons, c comes from the
 * millionaires on the low s bits and w = lt_h ^ (eq_h & c) from the one on the high ell - s bits (the high halves
 * overflow on their own, or are all ones and take the carry): s + (ell - s) = ell bits of leaves and one AND.
 * APPROX drops c (the result is then 0 or 1 below the exact one) and gets w from one ell-bit comparison.
 * w only ever enters as w 2^(ell-s) mod 2^ell, which depends on w mod 2^s alone: its B2A runs in Z_2^s, s bits of
 * correction instead of ell.
 * For a value known to be non-negative, x >> s < 2^(k-1) with k = ell - s, so the result is first formed in Z_2^k
 * (x >> s = (x_s >> s) + (x_c >> s) + c - W 2^k, so mod 2^k the wrap W drops out: c's B2A in k bits) and then lifted
 * to Z_2^ell: the wrap of the k-bit shares is MSB(r_s) OR MSB(r_c), a product of two private bits, one arithmetic
 * COT of s bits.
 * ReLU fused with the exact truncation (fsn_nl_relu_trunc) takes the same path after one comparison split at bit s:
 * the low s bits give c, the middle ones (lt, eq) and c the carry into the sign bit, so DReLU; the MUX of the k-bit
 * result by DReLU is non-negative too and is lifted the same way. */
#include "protocol/nonlinear/nl_internal.h"

#include <stdlib.h>
#include <string.h>

typedef struct trunc_args {
  uint64_t *out;
  const uint64_t *x;
  unsigned s;
  fsn_trunc_mode mode;
  bool relu; /* fsn_nl_relu_trunc: mode is ignored */
} trunc_args;

typedef struct trunc_buf {
  uint64_t *u, *hi, *v, *ar, *corr; /* n each, ar and corr 2n */
  uint8_t *c, *lt, *eq, *bits;      /* n each, bits 2n */
} trunc_buf;

static bool alloc_buf(trunc_buf *b, size_t n) {
  uint64_t *w = malloc(7 * n * sizeof *w);
  uint8_t *y = malloc(5 * n);
  if (!w || !y) {
    free(w), free(y);
    return false;
  }
  *b = (trunc_buf){.u = w,
                   .hi = w + n,
                   .v = w + 2 * n,
                   .ar = w + 3 * n,
                   .corr = w + 5 * n,
                   .c = y,
                   .lt = y + n,
                   .eq = y + 2 * n,
                   .bits = y + 3 * n};
  return true;
}

/* c: the carry out of the low s bits of u_s + u_c. */
static fsn_status low_carry(fsn_nl_thr *t, trunc_buf *b, size_t n, unsigned s) {
  const uint64_t lo = fsn_ring_mask(s);
  for (size_t i = 0; i < n; i++) b->v[i] = (fsn_nl_server(t) ? ~b->u[i] : b->u[i]) & lo;
  return fsn_nl_mill(t, b->c, NULL, b->v, n, s);
}

static fsn_status trunc_signed(fsn_nl_thr *t, uint64_t *out, const uint64_t *x, size_t n, unsigned s, bool exact,
                               trunc_buf *b) {
  const unsigned ell = t->ell;
  const uint64_t mask = fsn_ring_mask(ell), half = (uint64_t)1 << (ell - 1);
  const bool server = fsn_nl_server(t);
  for (size_t i = 0; i < n; i++) b->u[i] = (x[i] + (server ? half : 0)) & mask, b->hi[i] = b->u[i] >> s;
  fsn_status st;
  uint8_t *w = b->bits + n;
  if (exact) {
    if ((st = low_carry(t, b, n, s)) != FSN_OK) return st;
    const uint64_t hm = fsn_ring_mask(ell - s);
    for (size_t i = 0; i < n; i++) b->v[i] = (server ? ~b->hi[i] : b->hi[i]) & hm;
    if ((st = fsn_nl_mill(t, b->lt, b->eq, b->v, n, ell - s)) != FSN_OK) return st;
    fsn_nl_triples tr;
    if ((st = fsn_nl_triples_make(t, &tr, n)) != FSN_OK) return st;
    st = fsn_nl_and2(t, w, NULL, b->eq, b->c, NULL, n, &tr, 0);
    fsn_nl_triples_free(&tr);
    if (st != FSN_OK) return st;
    for (size_t i = 0; i < n; i++) w[i] ^= b->lt[i];
    memcpy(b->bits, b->c, n);
  } else {
    for (size_t i = 0; i < n; i++) b->v[i] = (server ? ~b->u[i] : b->u[i]) & mask;
    if ((st = fsn_nl_mill(t, w, NULL, b->v, n, ell)) != FSN_OK) return st;
    memset(b->bits, 0, n);
  }
  /* B2A of c (if exact) in Z_2^ell, of w in Z_2^s. */
  if (exact && (st = fsn_nl_thr_b2a(t, b->ar, b->bits, n, ell)) != FSN_OK) return st;
  if ((st = fsn_nl_thr_b2a(t, b->ar + n, w, n, s)) != FSN_OK) return st;
  if (!exact) memset(b->ar, 0, n * sizeof *b->ar);
  const uint64_t bias = server ? (uint64_t)1 << (ell - 1 - s) : 0;
  for (size_t i = 0; i < n; i++) out[i] = (b->hi[i] + b->ar[i] - (b->ar[n + i] << (ell - s)) - bias) & mask;
  return FSN_OK;
}

/* out = r lifted from Z_2^k to Z_2^ell, for k-bit shares r of a value in [0, 2^(k-1)): out may alias r. */
static fsn_status lift(fsn_nl_thr *t, uint64_t *out, const uint64_t *r, size_t n, unsigned k, trunc_buf *b) {
  const uint64_t mask = fsn_ring_mask(t->ell);
  uint64_t *prod = b->ar + n;
  for (size_t i = 0; i < n; i++) b->bits[i] = (uint8_t)(r[i] >> (k - 1) & 1), b->corr[i] = b->bits[i];
  /* w = m_s + m_c - m_s m_c, needed mod 2^(ell-k) only */
  fsn_status st = fsn_nl_acot(t, FSN_ROLE_SERVER, prod, b->corr, b->bits, n, t->ell - k);
  if (st != FSN_OK) return st;
  for (size_t i = 0; i < n; i++) out[i] = (r[i] - ((b->bits[i] - prod[i]) << k)) & mask;
  return FSN_OK;
}

/* r = (x >> s) + c in Z_2^k, k = ell - s (c = 0 unless exact): the truncation of a non-negative x before its lift. */
static fsn_status low_part(fsn_nl_thr *t, uint64_t *r, const uint64_t *x, size_t n, unsigned s, bool exact,
                           trunc_buf *b) {
  const unsigned k = t->ell - s;
  fsn_status st;
  memset(b->ar, 0, n * sizeof *b->ar);
  if (exact) {
    memcpy(b->u, x, n * sizeof *x);
    if ((st = low_carry(t, b, n, s)) != FSN_OK || (st = fsn_nl_thr_b2a(t, b->ar, b->c, n, k)) != FSN_OK) return st;
  }
  for (size_t i = 0; i < n; i++) r[i] = ((x[i] >> s) + b->ar[i]) & fsn_ring_mask(k);
  return FSN_OK;
}

static fsn_status trunc_nonneg(fsn_nl_thr *t, uint64_t *out, const uint64_t *x, size_t n, unsigned s, bool exact,
                               trunc_buf *b) {
  fsn_status st = low_part(t, b->hi, x, n, s, exact, b);
  return st == FSN_OK ? lift(t, out, b->hi, n, t->ell - s, b) : st;
}

/* out = max(x >> s, 0), exactly: DReLU from the carry into the sign bit, then MUX and lift in Z_2^k. */
static fsn_status relu_trunc(fsn_nl_thr *t, uint64_t *out, const uint64_t *x, size_t n, unsigned s, trunc_buf *b) {
  const unsigned ell = t->ell, k = ell - s;
  const bool server = fsn_nl_server(t);
  fsn_status st = low_part(t, b->hi, x, n, s, true, b); /* leaves c in b->c */
  if (st != FSN_OK) return st;
  for (size_t i = 0; i < n; i++) b->v[i] = (server ? ~(x[i] >> s) : x[i] >> s) & fsn_ring_mask(k - 1);
  if ((st = fsn_nl_mill(t, b->lt, b->eq, b->v, n, k - 1)) != FSN_OK) return st;
  uint8_t *drelu = b->bits + n;
  fsn_nl_triples tr;
  if ((st = fsn_nl_triples_make(t, &tr, n)) != FSN_OK) return st;
  st = fsn_nl_and2(t, drelu, NULL, b->eq, b->c, NULL, n, &tr, 0);
  fsn_nl_triples_free(&tr);
  if (st != FSN_OK) return st;
  /* DReLU = 1 ^ MSB(x_s) ^ MSB(x_c) ^ (lt ^ eq c), the carry into bit ell - 1 */
  for (size_t i = 0; i < n; i++) drelu[i] ^= b->lt[i] ^ (uint8_t)(x[i] >> (ell - 1) & 1) ^ server;
  if ((st = fsn_nl_thr_mux(t, b->hi, drelu, b->hi, n, k)) != FSN_OK) return st;
  return lift(t, out, b->hi, n, k, b);
}

static fsn_status trunc_worker(fsn_nl_thr *t, size_t begin, size_t end, void *arg) {
  const trunc_args *a = arg;
  const size_t bn = end - begin < fsn_nl_block(t) ? end - begin : fsn_nl_block(t);
  trunc_buf b;
  if (!alloc_buf(&b, bn)) return fsn_fail(FSN_E_NOMEM, "truncation block of %zu", bn);
  const bool exact = a->mode == FSN_TRUNC_EXACT || a->mode == FSN_TRUNC_NONNEG;
  const bool nonneg = a->mode == FSN_TRUNC_NONNEG || a->mode == FSN_TRUNC_NONNEG_APPROX;
  fsn_status st = FSN_OK;
  for (size_t off = begin; off < end && st == FSN_OK; off += bn) {
    const size_t m = end - off < bn ? end - off : bn;
    if (a->relu)
      st = relu_trunc(t, a->out + off, a->x + off, m, a->s, &b);
    else
      st = nonneg ? trunc_nonneg(t, a->out + off, a->x + off, m, a->s, exact, &b)
                  : trunc_signed(t, a->out + off, a->x + off, m, a->s, exact, &b);
  }
  free(b.u), free(b.c);
  return st;
}

fsn_status fsn_nl_trunc(fsn_2pc *p, uint64_t *out, const uint64_t *x, size_t n, unsigned s, fsn_trunc_mode mode) {
  const unsigned ell = fsn_2pc_ell(p);
  if (s >= ell || (unsigned)mode > FSN_TRUNC_NONNEG_APPROX)
    return fsn_fail(FSN_E_INVALID, "truncation by %u bits at ell = %u, mode %d", s, ell, (int)mode);
  if (s == 0) {
    if (out != x) memmove(out, x, n * sizeof *x);
    return FSN_OK;
  }
  trunc_args a = {.out = out, .x = x, .s = s, .mode = mode};
  return fsn_nl_run(p, n, trunc_worker, &a);
}

fsn_status fsn_nl_relu_trunc(fsn_2pc *p, uint64_t *out, const uint64_t *x, size_t n, unsigned s) {
  const unsigned ell = fsn_2pc_ell(p);
  if (s >= ell) return fsn_fail(FSN_E_INVALID, "ReLU and truncation by %u bits at ell = %u", s, ell);
  if (s == 0) return fsn_nl_relu(p, out, NULL, x, n);
  trunc_args a = {.out = out, .x = x, .s = s, .relu = true};
  return fsn_nl_run(p, n, trunc_worker, &a);
}
