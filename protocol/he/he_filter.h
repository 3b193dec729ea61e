/* Filters of an RLWE layer into the NTT domain (filter.c): once per layer and filter, shared by every tile, batch
 * item and thread. A 1 x 1 conv's filters (after the polyphase split) are polynomials P(X^d), d = H'W', and cost a
 * pruned NTT of size N / 2^a (2^a the power of two in d) of P read through a map; packed layers' filters a pruned NTT
 * of size N; every other filter a full NTT. Private to
 * protocol/he and its tests. */
#ifndef FSN_HE_FILTER_H
#define FSN_HE_FILTER_H

#include "protocol/he/he_encode.h"
#include "protocol/he/he_scheme.h"

typedef struct fsn_he_filters {
  size_t d, small_n; /* small_n == 0: full transforms */
  size_t p_len;      /* deg P < p_len (a power of two <= small_n): the small transform is fsn_ntt_forward_low's */
  /* > 1: map[i] depends on i / run only (the bit-reversed order keeps the N / N' big points over one small point
   * together), so filters are written a run at a time */
  size_t run;
  fsn_ntt_table *small[2]; /* size N' per prime */
  uint32_t *map[2];        /* N entries per prime */
  /* > 0, packed layers: the filters are transformed as Q = X^(low - 1) F, of degree < low = C' (fsn_ntt_forward_low),
   * and the inputs carry the other factor, shift_hat = NTT(X^-(low - 1)) (2N words, fsn_he_filters_shift_input) */
  size_t low;
  uint64_t *shift_hat;
} fsn_he_filters;

/* Set up the layer's transforms: the small ones when its filters allow (else small_n stays 0: full transforms).
 * FSN_E_NOMEM or a table error; *f is then empty. */
FSN_NODISCARD fsn_status fsn_he_filters_init(fsn_he_filters *f, const fsn_he_ctx *ctx, const fsn_he_layer *l);
void fsn_he_filters_free(fsn_he_filters *f);

/* Filter (g, b) of the layer's weights w (conv: OIHW; fc: out x in) into out (2N words, NTT domain, both primes):
 * the same values as fsn_he_lift then fsn_he_ntt of fsn_he_layer_encode_filter, times NTT(X^(low - 1)) when f->low
 * (packed layers; the inputs then go through fsn_he_filters_shift_input). poly, scratch: N words each. */
void fsn_he_filter_transform(const fsn_he_filters *f, const fsn_he_ctx *ctx, const fsn_he_layer *l, uint64_t *out,
                             const uint64_t *w, size_t g, size_t b, uint64_t *poly, uint64_t *scratch);

/* Packed layers: an input polynomial (2N words, NTT domain) times X^-(low - 1), so that input x Q = input x F. Once per
 * input instead of a full transform per filter. No-op for other layers. */
void fsn_he_filters_shift_input(const fsn_he_filters *f, const fsn_he_ctx *ctx, uint64_t *in_hat);

#endif
