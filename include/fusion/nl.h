/* Non-linear two-party protocols on secret shares: boolean AND, B2A, MUX, the millionaires' comparison, MSB / wrap /
 * DReLU / ReLU, truncation, max pooling and argmax (docs/PROTOCOLS.md gives the semantics and the building blocks).
 *
 * Every function runs on a whole batch and is called by both parties with the same sizes and options, in the same
 * order. Shares follow <fusion/twopc.h>: arithmetic shares are uint64_t reduced mod 2^ell (ell = fsn_2pc_ell(p)),
 * boolean shares are uint8_t holding 0 or 1. Big batches are split over fsn_2pc_threads(p) worker threads, each on
 * its own channel and OT objects. Outputs never alias inputs unless a function says so. Any failure (network, peer)
 * leaves the context's OT objects unusable: destroy the context.
 *
 * The header is named after its prefix, fsn_nl_ (the context these functions run on is <fusion/twopc.h>'s fsn_2pc). */
#ifndef FUSION_NL_H
#define FUSION_NL_H

#include <fusion/conv.h>
#include <fusion/status.h>
#include <fusion/twopc.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* z = x AND y on boolean shares, n elements. Bit triples from random OT (one ROT each way per element), one round to
 * open the masked inputs. z may alias x or y. */
FSN_NODISCARD fsn_status fsn_nl_and(fsn_2pc *p, uint8_t *z, const uint8_t *x, const uint8_t *y, size_t n);

/* Boolean to arithmetic: out = b as an element of Z_2^ell (0 or 1). One arithmetic COT per element:
 * 128 + ell bits. */
FSN_NODISCARD fsn_status fsn_nl_b2a(fsn_2pc *p, uint64_t *out, const uint8_t *b, size_t n);

/* Multiplexer: out = b ? x : 0 on shares, n elements. One arithmetic COT per element in each direction:
 * 2 (128 + ell) bits. out may alias x. */
FSN_NODISCARD fsn_status fsn_nl_mux(fsn_2pc *p, uint64_t *out, const uint8_t *b, const uint64_t *x, size_t n);

/* Millionaires: boolean shares of lt = [a < b] (and, if eq is not NULL, of eq = [a == b]) for q-bit unsigned a
 * (the server's v) and b (the client's v), 0 <= q <= 64; bits of v above q are ignored. Radix-4 leaves by
 * 1-out-of-16 OT (KK13: 256 + 64 bits per leaf), the first level of the AND tree folded into the leaf messages,
 * then one AND round per level. On silent OT (the "ferret" pack) the leaves carry 2-bit messages (4 + 32 bits per
 * leaf), all in one round trip, and every level is an AND round on triples from random COTs (docs/PROTOCOLS.md). */
FSN_NODISCARD fsn_status fsn_nl_millionaire(fsn_2pc *p, uint8_t *lt, uint8_t *eq, const uint64_t *v, size_t n,
                                            unsigned q);

/* out = MSB of x (the sign bit of the ell-bit value) as boolean shares. */
FSN_NODISCARD fsn_status fsn_nl_msb(fsn_2pc *p, uint8_t *out, const uint64_t *x, size_t n);
/* out = wrap bit [x_server + x_client >= 2^ell] as boolean shares. */
FSN_NODISCARD fsn_status fsn_nl_wrap(fsn_2pc *p, uint8_t *out, const uint64_t *x, size_t n);
/* out = DReLU(x) = [x >= 0] (signed) = 1 XOR MSB(x), boolean shares. */
FSN_NODISCARD fsn_status fsn_nl_drelu(fsn_2pc *p, uint8_t *out, const uint64_t *x, size_t n);
/* out = max(x, 0) on the signed value = MUX(DReLU(x), x). out may alias x. If drelu is not NULL it receives the
 * boolean shares of DReLU(x). */
FSN_NODISCARD fsn_status fsn_nl_relu(fsn_2pc *p, uint64_t *out, uint8_t *drelu, const uint64_t *x, size_t n);

/* Truncation modes. EXACT: floor(x / 2^s) of the signed value, mod 2^ell, bit for bit. APPROX: the same minus 0 or 1
 * (never more than one ulp below, never above), cheaper. The NONNEG variants assume the signed value is >= 0
 * (e.g. right after a ReLU) and are much cheaper; on a negative input their result is undefined. */
typedef enum fsn_trunc_mode {
  FSN_TRUNC_EXACT = 0,
  FSN_TRUNC_APPROX = 1,
  FSN_TRUNC_NONNEG = 2,
  FSN_TRUNC_NONNEG_APPROX = 3,
} fsn_trunc_mode;

/* out = x >> s (arithmetic shift of the signed value) per `mode`, 0 <= s < ell. out may alias x. */
FSN_NODISCARD fsn_status fsn_nl_trunc(fsn_2pc *p, uint64_t *out, const uint64_t *x, size_t n, unsigned s,
                                      fsn_trunc_mode mode);

/* out = max(x >> s, 0): the exact truncation (FSN_TRUNC_EXACT) followed by ReLU, bit for bit, 0 <= s < ell, for
 * about the bits of a ReLU alone. One comparison split at bit s gives the carry out of the low s bits and, with one
 * AND, the sign; the truncated value is formed in Z_2^(ell-s), multiplexed there by DReLU and lifted to Z_2^ell by
 * one s-bit product (docs/PROTOCOLS.md). Cost: millionaires on s bits (lt) and on ell - 1 - s bits (lt and eq), one
 * AND, three arithmetic COTs of ell - s bits (the carry's B2A, the MUX) and one of s bits (the lift); on silent OT
 * 441 bits of protocol at ell = 37, s = 12 against a ReLU's 424. s = 0 is fsn_nl_relu. out may alias x. */
FSN_NODISCARD fsn_status fsn_nl_relu_trunc(fsn_2pc *p, uint64_t *out, const uint64_t *x, size_t n, unsigned s);

/* Signed comparison ge = [a >= b] of arbitrary ell-bit signed values (no overflow assumption), boolean shares. */
FSN_NODISCARD fsn_status fsn_nl_ge(fsn_2pc *p, uint8_t *ge, const uint64_t *a, const uint64_t *b, size_t n);

/* Max pooling over NCHW windows, the same semantics as fsn_maxpool2d: signed compare of the full ell-bit values,
 * padding positions skipped. in: batch x channels x in_h x in_w shares; out: batch x channels x out_h x out_w with
 * out_h = (in_h + 2 pad_h - k_h) / stride_h + 1 (likewise w). Every window must contain at least one input. All
 * windows go through each level of the comparison tree together. */
FSN_NODISCARD fsn_status fsn_nl_maxpool2d(fsn_2pc *p, uint64_t *out, const uint64_t *in, const fsn_pool_shape *s);

/* ArgMax of each of `batch` rows of `dim` shared logits (signed; the first maximum on ties, as fsn_nn_argmax_fixed),
 * revealed to the client: on the client label[i] is the index, on the server label is untouched (may be NULL). */
FSN_NODISCARD fsn_status fsn_nl_argmax(fsn_2pc *p, uint64_t *label, const uint64_t *logits, size_t batch, size_t dim);

/* Cost models: the number of blocks the busiest thread works through when a non-linear protocol above runs on n
 * elements. Each block runs the protocol's whole round structure, so its rounds grow in proportion (blocks of 2^13
 * elements; on silent OT a thread's whole range is one block, so a layer of any size pays the rounds of one). */
size_t fsn_nl_blocks(const fsn_2pc *p, size_t n);

#ifdef __cplusplus
}
#endif
#endif
