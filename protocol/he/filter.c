/* Filters into the NTT domain (he_filter.h). Filters of a 1 x 1 (after the polyphase split) conv are polynomials in Y =
 * X^d, d = hb wb: every exponent O + r C'H'W' - c H'W' is a multiple of H'W'. With d = 2^a h (h odd), F(X) = P(X^d)
 * evaluates at the N odd powers psi_i of psi to P(psi_i^d), and psi_i^d = (psi^(2^a))^(h (2 bitrev(i) + 1)) runs over
 * the N' = N / 2^a odd powers of omega = psi^(2^a), the points of the negacyclic NTT of size N' (deg P < C' ob <= N / d
 * <= N'). So F's NTT is P's NTT of size N' read through a map i -> j, and as deg P < ceil(N / d) that NTT needs only
 * its last log2 of that many stages (fsn_ntt_forward_low): for ResNet's 56 x 56 and 28 x 28 stages (a = 6, 4) the
 * filters cost next to nothing to transform, and an odd d (the 7 x 7 stage, d = 49: N' = N, the map a permutation)
 * 7 of 12 stages. The map is found by matching the points themselves (NTT of X^d
 * against the small NTT of Y), so it needs nothing of either table's internal order; a point without a match leaves the
 * full transform. */
#include "protocol/he/he_filter.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

void fsn_he_filters_free(fsn_he_filters *f) {
  for (int i = 0; i < 2; i++) fsn_ntt_table_destroy(f->small[i]), free(f->map[i]);
  free(f->shift_hat);
  *f = (fsn_he_filters){0};
}

typedef struct point {
  uint64_t value;
  uint32_t index;
} point;

static int point_cmp(const void *a, const void *b) {
  const uint64_t x = ((const point *)a)->value, y = ((const point *)b)->value;
  return (x > y) - (x < y);
}

/* The map of prime i: big[k] = psi_k^d (NTT of X^d), y[j] = omega_j (small NTT of Y), matched by value. */
static bool filter_map(fsn_he_filters *f, const fsn_he_ctx *ctx, int i, uint64_t *big, uint64_t *y, point *pts) {
  const size_t n = ctx->par.n, m = f->small_n;
  memset(big, 0, n * 8), big[f->d] = 1;
  fsn_ntt_forward(big, ctx->tab[i]);
  memset(y, 0, m * 8), y[1] = 1;
  fsn_ntt_forward(y, f->small[i]);
  for (size_t j = 0; j < m; j++) pts[j] = (point){.value = y[j], .index = (uint32_t)j};
  qsort(pts, m, sizeof *pts, point_cmp);
  for (size_t k = 0; k < n; k++) {
    const point key = {.value = big[k]}, *hit = bsearch(&key, pts, m, sizeof *pts, point_cmp);
    if (!hit) return false;
    f->map[i][k] = hit->index;
  }
  for (size_t k = 0; k < n && f->run > 1; k++)
    if (f->map[i][k] != f->map[i][k / f->run * f->run]) f->run = 1;
  return true;
}

/* Packed layers: shift_hat = NTT(X^-(C' - 1)), X^-j = -X^(N - j). */
static fsn_status packed_init(fsn_he_filters *f, const fsn_he_ctx *ctx, const fsn_he_layer *l) {
  const size_t n = ctx->par.n;
  f->low = (size_t)1 << l->pack_k;
  if (!(f->shift_hat = calloc(2 * n, sizeof *f->shift_hat))) {
    f->low = 0;
    return fsn_fail(FSN_E_NOMEM, "he layer: filter shift");
  }
  for (int i = 0; i < 2; i++) {
    uint64_t *s = f->shift_hat + i * n;
    if (f->low == 1)
      s[0] = 1;
    else
      s[n - (f->low - 1)] = ctx->p[i] - 1;
    fsn_ntt_forward(s, ctx->tab[i]);
  }
  return FSN_OK;
}

/* Set up the small transforms when the layer's filters allow them (else small_n stays 0). */
fsn_status fsn_he_filters_init(fsn_he_filters *f, const fsn_he_ctx *ctx, const fsn_he_layer *l) {
  *f = (fsn_he_filters){0};
  const size_t n = ctx->par.n, d = l->hb * l->wb;
  if (l->pack_k) return packed_init(f, ctx, l);
  if (l->k_h != 1 || l->k_w != 1 || d < 2 || d >= n) return FSN_OK;
  f->d = d, f->small_n = n >> __builtin_ctzll(d);
  if (f->small_n < 2) f->small_n = 2; /* the smallest table (N' >= 2); deg P < N / d still fits */
  f->run = n / f->small_n;
  for (f->p_len = 1; f->p_len * d < n && f->p_len < f->small_n;) f->p_len *= 2; /* deg P < ceil(N / d) <= p_len */
  uint64_t *big = malloc(n * 8), *y = malloc(f->small_n * 8);
  point *pts = malloc(f->small_n * sizeof *pts);
  fsn_status st = big && y && pts ? FSN_OK : fsn_fail(FSN_E_NOMEM, "he layer: filter maps");
  for (int i = 0; i < 2 && st == FSN_OK; i++) {
    if (!(f->map[i] = malloc(n * sizeof *f->map[i]))) st = fsn_fail(FSN_E_NOMEM, "he layer: filter maps");
    if (st == FSN_OK) st = fsn_ntt_table_create(&f->small[i], ctx->p[i], f->small_n);
    if (st == FSN_OK && !filter_map(f, ctx, i, big, y, pts)) {
      fsn_he_filters_free(f); /* no match: full transforms */
      break;
    }
  }
  free(big), free(y), free(pts);
  if (st != FSN_OK) fsn_he_filters_free(f);
  return st;
}

void fsn_he_filter_transform(const fsn_he_filters *f, const fsn_he_ctx *ctx, const fsn_he_layer *l, uint64_t *out,
                             const uint64_t *w, size_t g, size_t b, uint64_t *poly, uint64_t *scratch) {
  const size_t n = ctx->par.n;
  fsn_he_layer_encode_filter(l, poly, w, g, b);
  const uint64_t t = (uint64_t)1 << ctx->par.ell;
  if (f->low) { /* Q = X^(C' - 1) F: its coefficient C' - 1 - c is F's at X^-c, i.e. -F_(N - c) for c > 0 */
    for (int i = 0; i < 2; i++) {
      uint64_t *o = out + i * n;
      for (size_t j = 0; j < f->low; j++) {
        const size_t c = f->low - 1 - j;
        const uint64_t v = (c == 0 ? poly[0] : 0 - poly[n - c]) & (t - 1);
        o[j] = v < t / 2 ? v : ctx->p[i] - (t - v); /* as fsn_he_lift: p > t */
      }
      fsn_ntt_forward_low(o, f->low, ctx->tab[i]);
    }
    return;
  }
  if (!f->small_n) {
    fsn_he_lift(ctx, out, poly, NULL);
    fsn_he_ntt(ctx, out);
    return;
  }
  for (int i = 0; i < 2; i++) { /* P (coefficients m d of F, centred) through the small transform and the map */
    uint64_t *small = scratch;
    for (size_t m = 0; m < f->p_len; m++) {
      const uint64_t v = m * f->d < n ? poly[m * f->d] & (t - 1) : 0;
      small[m] = v < t / 2 ? v : ctx->p[i] - (t - v); /* as fsn_he_lift: p > t */
    }
    fsn_ntt_forward_low(small, f->p_len, f->small[i]);
    uint64_t *o = out + i * n;
    const uint32_t *map = f->map[i];
    const size_t run = f->run; /* locals: the stores cannot alias them */
    for (size_t k = 0; k < n; k += run) {
      const uint64_t v = small[map[k]];
      for (size_t r = 0; r < run; r++) o[k + r] = run > 1 ? v : small[map[k + r]];
    }
  }
}

void fsn_he_filters_shift_input(const fsn_he_filters *f, const fsn_he_ctx *ctx, uint64_t *in_hat) {
  if (!f->low) return;
  const size_t n = ctx->par.n;
  for (int i = 0; i < 2; i++) fsn_ntt_mul(in_hat + i * n, in_hat + i * n, f->shift_hat + i * n, n, ctx->tab[i]);
}
