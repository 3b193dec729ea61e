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
 * FC (Cheetah's matrix-vector encoding). The inputs x[j], j < n_i, are sum x[j] X^j; n_o rows of W go into one
 * filter sum_r sum_j w[r, j] X^(r n_i + n_i - 1 - j) with n_i n_o <= N; output r is the coefficient r n_i + n_i - 1:
 * j1 + r2 n_i + n_i - 1 - j2 = r n_i + n_i - 1 forces j1 - j2 = (r - r2) n_i, so r2 = r and j1 = j2 (|j1 - j2| <
 * n_i); a wrapped term lands on at most (n_i - 1) + (n_o n_i - 1) - N <= n_i - 2, below the first output n_i - 1. */
#include "protocol/he/he_encode.h"

#include <fusion/status.h>
#include <string.h>

static size_t ceil_div(size_t a, size_t b) { return (a + b - 1) / b; }

static size_t min_size(size_t a, size_t b) { return a < b ? a : b; }

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
  /* Cost: in_cts * in_bytes + out_cts * out_fixed; the output coefficients are the same for every partition (each
   * output lies in exactly one tile). C' is as large as the tile allows: more channels per block never costs more. */
  const size_t h1 = l->in_h - l->k_h + 1, w1 = l->in_w - l->k_w + 1;
  double best = -1;
  for (size_t hb = l->k_h; hb <= l->in_h; hb++)
    for (size_t wb = l->k_w; wb <= l->in_w && hb * wb <= n; wb++) {
      size_t cb = n / (hb * wb) < l->in_c ? n / (hb * wb) : l->in_c;
      size_t tiles = ceil_div(h1, hb - l->k_h + 1) * ceil_div(w1, wb - l->k_w + 1);
      size_t in_cts = ceil_div(l->in_c, cb) * tiles, out_cts = s->out_c * tiles;
      double c = (double)in_cts * cost->in_bytes + (double)out_cts * cost->out_fixed_bytes;
      if (best < 0 || c < best) best = c, l->cb = cb, l->hb = hb, l->wb = wb;
    }
  l->n_th = ceil_div(h1, l->hb - l->k_h + 1), l->n_tw = ceil_div(w1, l->wb - l->k_w + 1);
  l->terms = ceil_div(l->in_c, l->cb);
  l->cb = ceil_div(l->in_c, l->terms); /* same block count, blocks as even as they go */
  l->offset = (l->cb - 1) * l->hb * l->wb + (l->k_h - 1) * l->wb + (l->k_w - 1);
  l->groups = s->out_c, l->per_group = l->n_th * l->n_tw;
  return FSN_OK;
}

fsn_status fsn_he_layer_fc(fsn_he_layer *l, size_t batch, size_t in, size_t out, size_t n, const fsn_he_cost *cost) {
  *l = (fsn_he_layer){.fc = true, .n = n, .per_group = 1};
  l->s = (fsn_conv2d_shape){
      .batch = batch, .in_c = in, .in_h = 1, .in_w = 1, .out_c = out, .k_h = 1, .k_w = 1, .stride_h = 1, .stride_w = 1};
  if (in == 0 || out == 0) return fsn_fail(FSN_E_INVALID, "he fc: %zu inputs, %zu outputs", in, out);
  double best = -1;
  for (size_t ni = 1; ni <= in && ni <= n; ni++) {
    size_t no = n / ni < out ? n / ni : out;
    double c = (double)ceil_div(in, ni) * cost->in_bytes + (double)ceil_div(out, no) * cost->out_fixed_bytes;
    if (best < 0 || c < best) best = c, l->ni = ni, l->no = no;
  }
  l->terms = ceil_div(in, l->ni), l->groups = ceil_div(out, l->no);
  return FSN_OK;
}

size_t fsn_he_layer_in_size(const fsn_he_layer *l) { return l->s.in_c * l->s.in_h * l->s.in_w; }
size_t fsn_he_layer_out_size(const fsn_he_layer *l) { return l->fc ? l->s.out_c : l->s.out_c * l->out_h * l->out_w; }

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
  if (l->fc) {
    for (size_t j = 0; j < l->ni && b * l->ni + j < l->s.in_c; j++) poly[j] = x[b * l->ni + j];
    return;
  }
  const size_t r0 = u / l->n_tw * (l->hb - l->k_h + 1), c0 = u % l->n_tw * (l->wb - l->k_w + 1);
  for (size_t c = 0; c < l->cb && b * l->cb + c < l->in_c; c++)
    for (size_t i = 0; i < l->hb && r0 + i < l->in_h; i++)
      for (size_t j = 0; j < l->wb && c0 + j < l->in_w; j++)
        poly[(c * l->hb + i) * l->wb + j] = conv_input_at(l, x, b * l->cb + c, r0 + i, c0 + j);
}

void fsn_he_layer_encode_filter(const fsn_he_layer *l, uint64_t *poly, const uint64_t *w, size_t g, size_t b) {
  memset(poly, 0, l->n * sizeof *poly);
  if (l->fc) {
    for (size_t r = 0; r < l->no && g * l->no + r < l->s.out_c; r++)
      for (size_t j = 0; j < l->ni && b * l->ni + j < l->s.in_c; j++)
        poly[r * l->ni + l->ni - 1 - j] = w[(g * l->no + r) * l->s.in_c + b * l->ni + j];
    return;
  }
  const fsn_conv2d_shape *s = &l->s;
  for (size_t c = 0; c < l->cb && b * l->cb + c < l->in_c; c++) {
    const size_t ce = b * l->cb + c, ci = ce / (l->ph * l->pw), a = ce / l->pw % l->ph, bb = ce % l->pw;
    for (size_t u = 0; u < l->k_h && u * s->stride_h + a < s->k_h; u++)
      for (size_t v = 0; v < l->k_w && v * s->stride_w + bb < s->k_w; v++)
        poly[l->offset - (c * l->hb + u) * l->wb - v] =
            w[((g * s->in_c + ci) * s->k_h + u * s->stride_h + a) * s->k_w + v * s->stride_w + bb];
  }
}

size_t fsn_he_layer_outputs(const fsn_he_layer *l, size_t g, size_t u, uint32_t *coeff, uint32_t *dest) {
  size_t m = 0;
  if (l->fc) {
    for (size_t r = 0; r < l->no && g * l->no + r < l->s.out_c; r++, m++)
      coeff[m] = (uint32_t)(r * l->ni + l->ni - 1), dest[m] = (uint32_t)(g * l->no + r);
    return m;
  }
  const size_t ho = l->hb - l->k_h + 1, wo = l->wb - l->k_w + 1, h1 = l->in_h - l->k_h + 1, w1 = l->in_w - l->k_w + 1;
  const size_t r0 = u / l->n_tw * ho, c0 = u % l->n_tw * wo;
  for (size_t i = 0; i < ho && r0 + i < h1; i++)
    for (size_t j = 0; j < wo && c0 + j < w1; j++) {
      coeff[m] = (uint32_t)(l->offset + i * l->wb + j);
      dest[m++] = (uint32_t)((g * l->out_h + r0 + i) * l->out_w + c0 + j);
    }
  return m;
}
