/* Coefficient encodings of conv2d and FC (he_encode.h).
 *
 * Conv. A block of C' x H' x W' input values (channel c, row i, column j of the tile) is the polynomial
 *   x(X) = sum x[c, i, j] X^(c H'W' + i W' + j),
 * the filter of output channel o over the block's channels is reversed,
 *   w(X) = sum w[o, c, u, v] X^(O - c H'W' - u W' - v),   O = (C' - 1) H'W' + (k_h - 1) W' + (k_w - 1),
 * and the stride-1 output (i, j) of the tile, i <= H' - k_h, j <= W' - k_w, is the coefficient O + i W' + j of x w.
 * Why nothing else lands there: a product term has exponent a + b with a = c H'W' + i1 W' + j1 in [0, C'H'W') and
 * b = O - (c2 H'W' + u W' + v) in [0, O].
 *  - Without wrap (a + b < N): a + b = O + i W' + j means (c - c2) H'W' + (i1 - u) W' + (j1 - v) = i W' + j. Since
 *    j1 - v lies in (-k_w, W') and j in [0, W' - k_w], the two sides agree mod W' only with j1 - v = j (any other
 *    choice is off by a multiple of W' that leaves one of the ranges); then (c - c2) H' + (i1 - u) = i, and the same
 *    argument with i1 - u in (-k_h, H'), i in [0, H' - k_h] gives i1 = i + u and c = c2. So the coefficient is
 *    sum_c sum_u,v x[c, i + u, j + v] w[o, c, u, v]: the correlation conv2d computes.
 *  - With wrap (a + b >= N): the term lands, negated, on a + b - N <= (C'H'W' - 1) + O - N <= O - 1 because
 *    C'H'W' <= N, below every output coefficient (>= O). No wrap ever reaches an output.
 * The largest output coefficient is O + (H' - k_h) W' + (W' - k_w) = C'H'W' - 1 < N.
 *
 * Strides: polyphase. With stride s, kernel row u = s u' + a (phase a < s) reads padded row s (oh + u') + a, so a
 * stride-s conv of C channels is the stride-1 conv of C s_h s_w phase channels X_(c,a,b)[i, j] = x_pad[c, s_h i + a,
 * s_w j + b] by the sub-kernels w[o, c, s_h u' + a, s_w v' + b] of ceil(k / s) taps: every stride-1 output is
 * needed. Phases a >= k have no taps and are left out, so a strided 1 x 1 conv keeps phase (0, 0) only: the input
 * subsampled. Padding: the client encodes its share zero padded (public), the server's term is computed in the clear.
 *
 * Several output channels per polynomial. With ob C'H'W' <= N, the filter of output channels g ob + r, r < ob,
 * is sum_r X^(r C'H'W') w_r(X), and output (r, i, j) is the coefficient O + r C'H'W' + i W' + j. With
 * a - (c2 H'W' + u W' + v) = (r - r2) C'H'W' + i W' + j, the left side lies in (-O, C'H'W') and the right side is
 * >= C'H'W' for r > r2 and <= -C'H'W' + (C'H'W' - 1 - O) < -O for r < r2, so r2 = r and the argument above applies;
 * a wrapped term lands on at most (C'H'W' - 1) + O + (ob - 1) C'H'W' - N <= O - 1.
 *
 * Input coefficients that reach an output. Output (R, i, j) is at p = O + R blk + i W' + j; a filter term of stacked
 * channel r sits at f = O + r blk - (c H'W' + u W' + v), so p - f = (R - r) blk + c H'W' + (i + u) W' + (j + v) with
 * the last three terms in [0, blk): the input coefficient it meets lies in [0, ob blk) for R >= r, and for R < r
 * at p - f + N in [N - (ob - 1) blk, N) (the wrap, negated). So only the cyclic window of (2 ob - 1) blk coefficients
 * from N - (ob - 1) blk reaches an output; when it is shorter than N the client sends c0 there only and the server
 * takes c0 as 0 elsewhere: every output coefficient is the same sum as with the whole c0, its noise unchanged (the
 * positions left out never meet a filter term that lands on an output).
 *
 * Packed layout (1 x 1 kernels after the polyphase split; FC included). Channel-minor blocks of C' = 2^k channels by
 * the whole P-pixel plane, P C' <= N: x = sum x[c, pix] X^(pix C' + c), and one filter per output channel,
 * w = sum_c w[c] X^(-c) (X^(-c) = -X^(N - c)). The product's coefficient pix C' is sum_c x[c, pix] w[c]; every
 * other term sits at pix C' + (c - c'), 0 < |c - c'| < C' (a wrap adds N, a multiple of C'), never at a multiple of
 * C'. That is what fsn_he_pack needs: 2^k products become one ciphertext, product t's output pix at pix C' + t. The
 * input coefficients that meet a filter term on the way to an output are [0, P C'): the window.
 *
 * FC is the conv of in x 1 x 1 inputs by a 1 x 1 kernel: n_i = C' inputs sum x[j] X^j, n_o = ob rows in
 * sum_r sum_j w[r, j] X^(r n_i + n_i - 1 - j), output r at coefficient r n_i + n_i - 1 (Cheetah's matrix-vector
 * encoding). */
#include "protocol/he/he_encode.h"

#include <fusion/status.h>
#include <string.h>

static size_t ceil_div(size_t a, size_t b) { return (a + b - 1) / b; }

static size_t min_size(size_t a, size_t b) { return a < b ? a : b; }

/* The input coefficients that reach an output: (2 ob - 1) blk of them from *lo (cyclically), or all n. */
static size_t in_window(size_t n, size_t ob, size_t blk, size_t *lo) {
  const size_t len = (2 * ob - 1) * blk;
  if (lo) *lo = len < n ? n - (ob - 1) * blk : 0;
  return len < n ? len : n;
}

fsn_status fsn_he_layer_conv(fsn_he_layer *l, const fsn_conv2d_shape *s, size_t n, const fsn_he_cost *cost) {
  *l = (fsn_he_layer){.n = n, .s = *s};
  if (s->stride_h == 0 || s->stride_w == 0 || s->k_h == 0 || s->k_w == 0 || s->in_c == 0 || s->out_c == 0 ||
      s->in_h + 2 * s->pad_h < s->k_h || s->in_w + 2 * s->pad_w < s->k_w)
    return fsn_fail(FSN_E_INVALID, "he conv2d: kernel %zux%zu, stride %zux%zu does not fit %zux%zu (pad %zu, %zu)",
                    s->k_h, s->k_w, s->stride_h, s->stride_w, s->in_h, s->in_w, s->pad_h, s->pad_w);
  l->out_h = fsn_conv2d_out_h(s), l->out_w = fsn_conv2d_out_w(s);
  l->ph = min_size(s->stride_h, s->k_h), l->pw = min_size(s->stride_w, s->k_w);
  l->k_h = ceil_div(s->k_h, s->stride_h), l->k_w = ceil_div(s->k_w, s->stride_w);
  l->in_c = s->in_c * l->ph * l->pw;
  l->in_h = l->out_h + l->k_h - 1, l->in_w = l->out_w + l->k_w - 1;
  if (l->k_h * l->k_w > n)
    return fsn_fail(FSN_E_INVALID, "he conv2d: a %zux%zu kernel does not fit N = %zu", l->k_h, l->k_w, n);
  /* Cost: in_cts * in_bytes (scaled to the coefficients sent, see in_window) + out_cts * out_fixed; the output
   * coefficients are the same for every partition (each output lies in exactly one tile). C' is as large as the tile
   * and ob allow: more channels per block never costs more. */
  const size_t h1 = l->out_h, w1 = l->out_w;
  const double fan1 = (double)s->in_c * (double)(s->k_h * s->k_w);
  double best = -1;
  for (size_t hb = l->k_h; hb <= l->in_h; hb++)
    for (size_t wb = l->k_w; wb <= l->in_w && hb * wb <= n; wb++) {
      const size_t tiles = ceil_div(h1, hb - l->k_h + 1) * ceil_div(w1, wb - l->k_w + 1);
      for (size_t ob = 1; ob <= s->out_c && ob * hb * wb <= n && ob * fan1 <= cost->max_fan; ob++) {
        const size_t cb = min_size(n / (ob * hb * wb), l->in_c), terms = ceil_div(l->in_c, cb);
        const size_t groups = ceil_div(s->out_c, ob), in_cts = terms * tiles, out_cts = groups * tiles;
        const size_t sent = in_window(n, ceil_div(s->out_c, groups), ceil_div(l->in_c, terms) * hb * wb, NULL);
        const double c =
            (double)in_cts * cost->in_bytes * (double)sent / (double)n + (double)out_cts * cost->out_fixed_bytes;
        if (best < 0 || c < best) best = c, l->cb = cb, l->hb = hb, l->wb = wb, l->ob = ob;
      }
    }
  if (best < 0)
    return fsn_fail(FSN_E_INVALID, "he conv2d: one output channel's %.0f weights exceed the noise bound of %.0f", fan1,
                    cost->max_fan);
  /* Packed outputs where they cost less: C' = 2^k input channels per block, ceil(O / C') returned ciphertexts. Only
   * where the packed inputs fill at least a quarter of the ring (plane C' >= N / 4): a product meets C' channels of
   * every input, so a sparser one (an FC: plane 1, C' <= 64) would multiply the server's products and filter
   * transforms by up to N / (plane C') against the unpacked partition, to save a few KiB. */
  const size_t plane = h1 * w1;
  unsigned pack_k = 0;
  for (unsigned k = 1;
       k <= cost->max_pack_k && l->k_h == 1 && l->k_w == 1 && plane << k <= n && fan1 <= 0.7 * cost->max_fan; k++) {
    if ((plane << k) * 4 < n) continue;
    const size_t cb = (size_t)1 << k, in_cts = ceil_div(l->in_c, cb), out_cts = ceil_div(s->out_c, cb);
    const double c =
        (double)in_cts * cost->in_bytes * (double)(plane * cb) / (double)n + (double)out_cts * cost->out_fixed_bytes;
    if (c < best) best = c, pack_k = k;
  }
  if (pack_k) {
    l->pack_k = pack_k, l->cb = (size_t)1 << pack_k, l->hb = h1, l->wb = w1, l->ob = 1, l->n_th = l->n_tw = 1;
    l->terms = ceil_div(l->in_c, l->cb), l->groups = s->out_c, l->per_group = 1, l->offset = 0;
    l->in_lo = 0, l->in_len = plane * l->cb;
    return FSN_OK;
  }
  l->n_th = ceil_div(h1, l->hb - l->k_h + 1), l->n_tw = ceil_div(w1, l->wb - l->k_w + 1);
  l->terms = ceil_div(l->in_c, l->cb);
  l->cb = ceil_div(l->in_c, l->terms); /* same block count, blocks as even as they go */
  l->groups = ceil_div(s->out_c, l->ob);
  l->ob = ceil_div(s->out_c, l->groups);
  l->offset = (l->cb - 1) * l->hb * l->wb + (l->k_h - 1) * l->wb + (l->k_w - 1);
  l->per_group = l->n_th * l->n_tw;
  l->in_len = in_window(n, l->ob, l->cb * l->hb * l->wb, &l->in_lo);
  return FSN_OK;
}

fsn_status fsn_he_layer_fc(fsn_he_layer *l, size_t batch, size_t in, size_t out, size_t n, const fsn_he_cost *cost) {
  const fsn_conv2d_shape s = {
      .batch = batch, .in_c = in, .in_h = 1, .in_w = 1, .out_c = out, .k_h = 1, .k_w = 1, .stride_h = 1, .stride_w = 1};
  if (in == 0 || out == 0) return fsn_fail(FSN_E_INVALID, "he fc: %zu inputs, %zu outputs", in, out);
  fsn_status st = fsn_he_layer_conv(l, &s, n, cost);
  l->fc = true;
  return st;
}

double fsn_he_layer_fan(const fsn_he_layer *l) {
  return (double)l->ob * (double)l->s.in_c * (double)(l->s.k_h * l->s.k_w);
}

size_t fsn_he_layer_in_size(const fsn_he_layer *l) { return l->s.in_c * l->s.in_h * l->s.in_w; }
size_t fsn_he_layer_out_size(const fsn_he_layer *l) { return l->s.out_c * l->out_h * l->out_w; }

/* The client's input at encoded channel c (input channel, phase a, b), row r, column col; 0 in the padding. */
static uint64_t conv_input_at(const fsn_he_layer *l, const uint64_t *x, size_t c, size_t r, size_t col) {
  const fsn_conv2d_shape *s = &l->s;
  const size_t a = c / l->pw % l->ph, b = c % l->pw;
  const size_t pr = r * s->stride_h + a, pc = col * s->stride_w + b; /* row / column of the padded input */
  if (pr < s->pad_h || pc < s->pad_w || pr - s->pad_h >= s->in_h || pc - s->pad_w >= s->in_w) return 0;
  return x[(c / (l->ph * l->pw) * s->in_h + pr - s->pad_h) * s->in_w + pc - s->pad_w];
}

void fsn_he_layer_encode_input(const fsn_he_layer *l, uint64_t *poly, const uint64_t *x, size_t k) {
  memset(poly, 0, l->n * sizeof *poly);
  const size_t b = k / l->per_group, u = k % l->per_group;
  if (l->pack_k) { /* channel-minor: pixel pix, channel c at pix C' + c */
    for (size_t c = 0; c < l->cb && b * l->cb + c < l->in_c; c++)
      for (size_t i = 0; i < l->out_h; i++)
        for (size_t j = 0; j < l->out_w; j++)
          poly[(i * l->out_w + j) * l->cb + c] = conv_input_at(l, x, b * l->cb + c, i, j);
    return;
  }
  const size_t r0 = u / l->n_tw * (l->hb - l->k_h + 1), c0 = u % l->n_tw * (l->wb - l->k_w + 1);
  for (size_t c = 0; c < l->cb && b * l->cb + c < l->in_c; c++)
    for (size_t i = 0; i < l->hb && r0 + i < l->in_h; i++)
      for (size_t j = 0; j < l->wb && c0 + j < l->in_w; j++)
        poly[(c * l->hb + i) * l->wb + j] = conv_input_at(l, x, b * l->cb + c, r0 + i, c0 + j);
}

/* Weight of output channel o at encoded channel ce (input channel, phase a, b), sub-kernel tap (u, v); 0 past the
 * kernel. */
static uint64_t weight_at(const fsn_he_layer *l, const uint64_t *w, size_t o, size_t ce, size_t u, size_t v) {
  const fsn_conv2d_shape *s = &l->s;
  const size_t ci = ce / (l->ph * l->pw), a = ce / l->pw % l->ph, bb = ce % l->pw;
  const size_t row = u * s->stride_h + a, col = v * s->stride_w + bb;
  return row < s->k_h && col < s->k_w ? w[((o * s->in_c + ci) * s->k_h + row) * s->k_w + col] : 0;
}

void fsn_he_layer_encode_filter(const fsn_he_layer *l, uint64_t *poly, const uint64_t *w, size_t g, size_t b) {
  memset(poly, 0, l->n * sizeof *poly);
  const fsn_conv2d_shape *s = &l->s;
  const size_t blk = l->cb * l->hb * l->wb;
  if (l->pack_k) { /* output channel g: sum_c w[c] X^(-c) */
    for (size_t c = 0; c < l->cb && b * l->cb + c < l->in_c; c++) {
      const uint64_t v = weight_at(l, w, g, b * l->cb + c, 0, 0);
      if (c == 0)
        poly[0] = v;
      else
        poly[l->n - c] = 0 - v; /* X^(-c) = -X^(N - c); reduced mod 2^ell by the caller */
    }
    return;
  }
  for (size_t r = 0; r < l->ob && g * l->ob + r < s->out_c; r++)
    for (size_t c = 0; c < l->cb && b * l->cb + c < l->in_c; c++) {
      const size_t ce = b * l->cb + c, ci = ce / (l->ph * l->pw), a = ce / l->pw % l->ph, bb = ce % l->pw;
      const uint64_t *wo = w + ((g * l->ob + r) * s->in_c + ci) * s->k_h * s->k_w;
      for (size_t u = 0; u < l->k_h && u * s->stride_h + a < s->k_h; u++)
        for (size_t v = 0; v < l->k_w && v * s->stride_w + bb < s->k_w; v++)
          poly[l->offset + r * blk - (c * l->hb + u) * l->wb - v] =
              wo[(u * s->stride_h + a) * s->k_w + v * s->stride_w + bb];
    }
}

size_t fsn_he_layer_outputs(const fsn_he_layer *l, size_t g, size_t u, uint32_t *coeff, uint32_t *dest) {
  size_t m = 0;
  if (l->pack_k) {
    const size_t plane = l->out_h * l->out_w;
    for (size_t pix = 0; pix < plane; pix++)
      for (size_t t = 0; t < l->cb && g * l->cb + t < l->s.out_c; t++) {
        coeff[m] = (uint32_t)(pix * l->cb + t);
        dest[m++] = (uint32_t)((g * l->cb + t) * plane + pix);
      }
    return m;
  }
  const size_t ho = l->hb - l->k_h + 1, wo = l->wb - l->k_w + 1, blk = l->cb * l->hb * l->wb;
  const size_t r0 = u / l->n_tw * ho, c0 = u % l->n_tw * wo;
  for (size_t r = 0; r < l->ob && g * l->ob + r < l->s.out_c; r++)
    for (size_t i = 0; i < ho && r0 + i < l->out_h; i++)
      for (size_t j = 0; j < wo && c0 + j < l->out_w; j++) {
        coeff[m] = (uint32_t)(l->offset + r * blk + i * l->wb + j);
        dest[m++] = (uint32_t)(((g * l->ob + r) * l->out_h + r0 + i) * l->out_w + c0 + j);
      }
  return m;
}
