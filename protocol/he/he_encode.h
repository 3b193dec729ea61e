/* Coefficient encodings of conv2d and fully connected layers into polynomials of Z[X] / (X^N + 1), with no
 * rotations (docs/PROTOCOLS.md, "RLWE linear layers"). Independent of the ciphertext arithmetic: the plaintext tests
 * multiply encodings with a schoolbook product mod 2^ell, the protocol with NTTs mod q.
 *
 * Every layer has the same shape of computation, per batch item:
 *   output polynomial (g, u) = sum over b < terms of  input polynomial (b, u) * filter polynomial (g, b)
 * for g < groups (output channels, or blocks of FC rows), u < per_group (spatial tiles, or 1 for FC). Input
 * polynomial k = b * per_group + u; output polynomial j = g * per_group + u. A filter (g, b) meets every tile and
 * every batch item: transform it once per layer. The outputs are known coefficients of the output polynomials. */
#ifndef FSN_HE_ENCODE_H
#define FSN_HE_ENCODE_H

#include <fusion/conv.h>
#include <fusion/status.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct fsn_he_layer {
  bool fc;  /* an FC layer: the conv of in x 1 x 1 by a 1 x 1 kernel (informational: the encoding is the same) */
  size_t n; /* ring degree */
  fsn_conv2d_shape s;
  /* after the polyphase split (encode.c): in_c x in_h x in_w encoded channels convolved at stride 1 by k_h x k_w;
   * ph x pw phases per input channel. */
  size_t in_c, in_h, in_w, k_h, k_w, ph, pw, out_h, out_w;
  /* blocks of C' x H' x W' (cb, hb, wb) encoded inputs, ob output channels per output polynomial
   * (ob C'H'W' <= N); tiles n_th x n_tw overlapping by k - 1; offset O of the first output. */
  size_t cb, hb, wb, ob, n_th, n_tw, offset;
  size_t groups, per_group, terms;
  /* the input coefficients that reach an output (encode.c): positions (in_lo + k) mod N, k < in_len; in_len = N but
   * for layers whose (2 ob - 1) C'H'W' < N */
  size_t in_lo, in_len;
  /* > 0: packed outputs (encode.c, "Packed layout"): a 1 x 1 conv (after the polyphase split) in channel-minor
   * blocks of C' = 2^pack_k channels x the whole plane; one product per output channel (groups = out_c, ob = 1),
   * returned in packs of 2^pack_k channels (fsn_he_pack) */
  unsigned pack_k;
} fsn_he_layer;

/* Bytes the protocol moves for one input / one output polynomial (outputs: how many coefficients it carries), as
 * the partition search weighs them, and the most weights one output polynomial's filter may hold (the noise bound:
 * ob C k_h k_w). */
typedef struct fsn_he_cost {
  double in_bytes, out_fixed_bytes, out_coeff_bytes, max_fan;
  unsigned max_pack_k; /* the largest pack the parameters allow (0: none) */
} fsn_he_cost;

/* Choose the partition that minimises in_cts * in_bytes * in_len / N + sum over out cts (out_fixed + coeffs *
 * out_coeff). A
 * shape the encoding cannot hold (a single kernel window of one channel above N, or above max_fan) is
 * FSN_E_INVALID. */
fsn_status fsn_he_layer_conv(fsn_he_layer *l, const fsn_conv2d_shape *s, size_t n, const fsn_he_cost *cost);
/* FC: y (out) = W (out x in, row-major) x (in); batch items. The conv of in x 1 x 1 inputs by out x in x 1 x 1. */
fsn_status fsn_he_layer_fc(fsn_he_layer *l, size_t batch, size_t in, size_t out, size_t n, const fsn_he_cost *cost);
/* Weights one output polynomial's filter holds at most: ob C k_h k_w. */
double fsn_he_layer_fan(const fsn_he_layer *l);

static inline size_t fsn_he_layer_in_cts(const fsn_he_layer *l) { return l->terms * l->per_group; }
/* Output ciphertexts one item returns: the products, or their packs. */
static inline size_t fsn_he_layer_out_cts(const fsn_he_layer *l) {
  return l->pack_k ? (l->groups + ((size_t)1 << l->pack_k) - 1) >> l->pack_k : l->groups * l->per_group;
}
/* Elements of one batch item's input (client share) and output. */
size_t fsn_he_layer_in_size(const fsn_he_layer *l);
size_t fsn_he_layer_out_size(const fsn_he_layer *l);

/* Input polynomial k of one item (x: in_size values, reduced mod 2^ell by the caller) into poly[0..N). */
void fsn_he_layer_encode_input(const fsn_he_layer *l, uint64_t *poly, const uint64_t *x, size_t k);
/* Filter (g, b) into poly[0..N) from the layer's weights (conv: OIHW; fc: out x in). */
void fsn_he_layer_encode_filter(const fsn_he_layer *l, uint64_t *poly, const uint64_t *w, size_t g, size_t b);
/* The outputs output polynomial (g, u) carries: coeff[i] (increasing) holds element dest[i] of the item's output.
 * Returns the count (at most N). Packed layers: the outputs of pack g (u = 0), whose coefficient j C' + t holds
 * product g C' + t's coefficient j C'. */
size_t fsn_he_layer_outputs(const fsn_he_layer *l, size_t g, size_t u, uint32_t *coeff, uint32_t *dest);

#endif
