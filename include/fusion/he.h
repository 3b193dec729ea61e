/* RLWE linear layers (BFV-style, coefficient encoding, no rotations): the `he` backend of conv2d / FC.
 *
 * Scheme (docs/PROTOCOLS.md, "RLWE linear layers"): plaintext modulus t = 2^ell (ell <= 40), ring degree N = 4096,
 * ciphertext modulus q = p1 p2 with primes p_i < 2^50, p_i = 1 mod 2^max(ell, 13), so q = 1 mod t and
 * Delta = (q - 1) / t exactly; log2 q <= 100 <= 109, the HomomorphicEncryption.org bound for 128-bit security at
 * N = 4096 with a ternary secret and error of standard deviation 3.2 (here: centred binomial, eta = 21, sd 3.24).
 *
 * Protocol of one layer (one round trip): the client encrypts its share of every input block under its session
 * secret (only c0, at the coefficients that can reach an output, and a 32-byte seed travel); the server multiplies by
 * its filters in the NTT domain, sums over channel blocks, re-randomises with a fresh encryption of zero under the
 * client's public key, floods with uniform noise, subtracts its random output share, switches to p1, drops low bits and
 * returns c1 and the coefficients of c0 that carry outputs. The client decrypts its share. Shares add to conv(x, W) +
 * bias mod 2^ell bit for bit. Layers with a 1 x 1 kernel whose outputs would fill few coefficients return packed
 * ciphertexts instead (2^k products merged by automorphisms and key switching, keys sent once at key setup), where
 * the cost model says so. */
#ifndef FUSION_HE_H
#define FUSION_HE_H

#include <fusion/conv.h>
#include <fusion/twopc.h>

#ifdef __cplusplus
extern "C" {
#endif

#define FSN_HE_N       4096
#define FSN_HE_MAX_ELL 40
#define FSN_HE_ETA     21 /* centred binomial error: |e| <= 21, variance 10.5 */

/* The public parameters both parties derive from ell (and check against each other at key setup). */
typedef struct fsn_he_params {
  uint32_t n, ell;
  uint64_t p1, p2;           /* p1 is kept after modulus switching */
  uint32_t drop_c0, drop_c1; /* low bits of c0 / c1 (mod p1) not sent back */
  uint32_t bits_p1, bits_p2; /* bit lengths: residues travel packed to these widths */
  double budget;             /* p1 / (2t): decryption is correct while the noise at p1 stays below it */
  double switch_bound;       /* bound on the noise modulus switching and dropped bits add at p1 (2^-50 per coeff) */
  double max_noise;          /* the noise the ciphertext may carry at q before switching: (budget - switch) * p2 */
  uint32_t max_pack_k;       /* 1 x 1 layers may return packs of up to 2^max_pack_k products (0: never; the noise
                                bound may allow fewer); set by fsn_he_create_ex, 0 from fsn_he_params_make */
} fsn_he_params;

/* The parameter set for plaintext modulus 2^ell; FSN_E_UNSUPPORTED for ell > FSN_HE_MAX_ELL or ell < 2. */
FSN_NODISCARD fsn_status fsn_he_params_make(fsn_he_params *out, unsigned ell);

/* Flooding for a layer whose output polynomial's filter holds at most `fan` weights (ob output channels stacked
 * per polynomial times in_c k_h k_w; FC: ob rows times the inputs), every weight taken at its worst
 * |w| <= 2^(ell-1): the honest noise bound H and the flooding half-width F = max_noise - H (uniform in [-F, F]).
 * FSN_E_UNSUPPORTED when H leaves no room. The bound is public (shape and ell only), so F reveals nothing about the
 * weights. */
FSN_NODISCARD fsn_status fsn_he_flooding(const fsn_he_params *par, double fan, double *honest, double *flood);

/* Per-session keys: the client's fresh ternary secret (client side) or the client's public key (server side). */
typedef struct fsn_he fsn_he;

/* Key setup on the context's channel 0, once per fsn_2pc context: the client draws its secret and sends the
 * parameters and its public key (a 32-byte seed and b = -a s + e); the server checks the parameters and the key's
 * form and answers accept or refuse. Parameters the parties disagree on are FSN_E_MISMATCH on both sides. */
FSN_NODISCARD fsn_status fsn_he_create(fsn_he **out, fsn_2pc *p);
/* The same with packed outputs allowed (docs/PROTOCOLS.md, "Output packing"): packs of up to 2^max_pack_k products
 * (at most 2^6) for 1 x 1 layers wherever they cost fewer bytes; the client then also sends the key switching keys
 * (3 x 51,200 bytes each). Fewer bytes, more computation (about 2x on ResNet-50). Both parties must ask for the same
 * max_pack_k (FSN_E_MISMATCH at key setup otherwise). */
FSN_NODISCARD fsn_status fsn_he_create_ex(fsn_he **out, fsn_2pc *p, unsigned max_pack_k);
void fsn_he_destroy(fsn_he *he);
const fsn_he_params *fsn_he_params_of(const fsn_he *he);

/* The contract of fsn_linear_conv2d_narrow (include/fusion/linear.h): y (N x O x OH x OW shares) = conv(x, W) + bias
 * mod 2^ell; the server passes the OIHW weights and the bias (may be NULL), the client NULL for both; the client's
 * share is read modulo 2^client_bits (1 <= client_bits <= ell). One round trip; the ciphertexts are split over the
 * context's threads and channels. A peer message that does not match the layer (count, size, header, out-of-range
 * residues) is an error on both sides, never a share. */
FSN_NODISCARD fsn_status fsn_he_conv2d(fsn_he *he, fsn_2pc *p, uint64_t *y, const uint64_t *x, const uint64_t *weight,
                                       const uint64_t *bias, const fsn_conv2d_shape *s, unsigned client_bits);
/* y (batch x out) = x (batch x in) W^T + bias, W row-major out x in. */
FSN_NODISCARD fsn_status fsn_he_fc(fsn_he *he, fsn_2pc *p, uint64_t *y, const uint64_t *x, const uint64_t *weight,
                                   const uint64_t *bias, size_t batch, size_t in, size_t out);

/* What a layer moves (exact, headers and framing payload included; frame headers of the channel excluded). */
typedef struct fsn_he_layer_cost {
  uint64_t in_cts, out_cts, out_coeffs; /* over the batch */
  uint64_t client_bytes, server_bytes;  /* payload each party sends */
  uint64_t in_coeffs;                   /* coefficients of c0 one input ciphertext carries (N, or fewer when only
                                           a window of them reaches an output) */
  uint64_t pack;                        /* products per returned ciphertext: 1, or 2^k for packed outputs */
} fsn_he_layer_cost;
FSN_NODISCARD fsn_status fsn_he_conv2d_cost(const fsn_he_params *par, const fsn_conv2d_shape *s,
                                            fsn_he_layer_cost *out);
FSN_NODISCARD fsn_status fsn_he_fc_cost(const fsn_he_params *par, size_t batch, size_t in, size_t out,
                                        fsn_he_layer_cost *out_cost);

#ifdef __cplusplus
}
#endif
#endif
