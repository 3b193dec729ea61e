/* Negacyclic number-theoretic transforms modulo word-size primes for RLWE (issue 14): Z_p[X] / (X^N + 1) with
 * p < 2^50 prime, p = 1 mod 2N, N a power of two in [2^1, 2^17]. The 2^50 bound lets the AVX-512 IFMA path keep
 * every lazy value (< 4p) inside its 52-bit multiplier.
 *
 * Representation: a polynomial is N uint64_t coefficients, coefficient of X^i at index i, each in [0, p) unless a
 * function says otherwise. Buffers may be unaligned and are never allocated by the transforms.
 *
 * Transform order: fsn_ntt_forward leaves a[k] = A(psi^(2 bitrev(k) + 1)), the evaluations at the odd powers of the
 * 2N-th root psi in bit-reversed order of k (log2 N bits). Only consistency matters to callers: forward, pointwise
 * products, inverse give the negacyclic product.
 *
 * Every dispatch level (ref, avx2 in doubles, avx512 with IFMA) returns bit-identical results. */
#ifndef FUSION_NTT_H
#define FUSION_NTT_H

#include <fusion/prg.h>
#include <fusion/status.h>

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Largest modulus the kernels accept (exclusive), and the range of N. */
#define FSN_NTT_MAX_PRIME_BITS 50
#define FSN_NTT_MIN_LOG_N      1
#define FSN_NTT_MAX_LOG_N      17

/* Precomputed twiddles for one (p, N): opaque, immutable after creation, shareable between threads. */
typedef struct fsn_ntt_table fsn_ntt_table;

/* Build the table: p must be a prime below 2^50 with p = 1 mod 2N, N a power of two in [2^1, 2^17].
 * psi = g^((p - 1) / 2N) for the smallest g >= 2 that makes it a primitive 2N-th root of unity (psi^N = -1), so the
 * table is a deterministic function of p and N and both parties of a protocol get the same one.
 * FSN_E_INVALID (p not prime, p >= 2^50, p != 1 mod 2N, bad N) or FSN_E_NOMEM; *out is NULL on failure. */
FSN_NODISCARD fsn_status fsn_ntt_table_create(fsn_ntt_table **out, uint64_t p, size_t n);
void fsn_ntt_table_destroy(fsn_ntt_table *t);
uint64_t fsn_ntt_table_modulus(const fsn_ntt_table *t);
size_t fsn_ntt_table_degree(const fsn_ntt_table *t);
/* The 2N-th root psi the table was built from. */
uint64_t fsn_ntt_table_root(const fsn_ntt_table *t);

/* Deterministic Miller-Rabin, exact for every 64-bit n. */
int fsn_ntt_is_prime(uint64_t n);
/* a^-1 mod p for a prime p and a not a multiple of p (Fermat: a^(p-2)). */
uint64_t fsn_ntt_inv_mod(uint64_t a, uint64_t p);

/* The `count` largest primes p < bound with p = 1 mod 2^log2_mod, in decreasing order. For an NTT of size N take
 * log2_mod >= log2(2N); a larger log2_mod (e.g. 2^37 | p - 1) makes q = p1 p2 = 1 mod 2^ell for plaintext modulus
 * 2^ell with ell <= log2_mod. bound <= 2^63, 1 <= log2_mod <= 62. FSN_E_INVALID if fewer than `count` exist. */
FSN_NODISCARD fsn_status fsn_ntt_primes(uint64_t *out, size_t count, uint64_t bound, unsigned log2_mod);

/* ---- kernels: never fail, never allocate; every value argument in [0, p) unless stated ---- */

/* In-place negacyclic forward transform of one polynomial of t's degree N (Cooley-Tukey, Harvey's lazy butterflies:
 * values stay in [0, 4p) inside, outputs in [0, p)). Input coefficients in [0, p). Order: see the top of this file. */
void fsn_ntt_forward(uint64_t *a, const fsn_ntt_table *t);
/* fsn_ntt_forward of a polynomial of degree < len (len a power of two <= N): reads a[0, len) only (the rest is taken
 * as zero) and writes all N values, the same as the full transform. Its first log2(N / len) stages would only copy
 * the low half of each group into the high one, so it copies a[0, len) into every block of len and runs the last
 * log2(len) stages: a 1 x 1 filter of C' channels (protocol/he/filter.c) costs log2(C') / log2(N) of a transform. */
void fsn_ntt_forward_low(uint64_t *a, size_t len, const fsn_ntt_table *t);
/* In-place inverse of fsn_ntt_forward (Gentleman-Sande, including the factor N^-1): inputs in [0, p), outputs in
 * [0, p); inverse(forward(a)) == a. */
void fsn_ntt_inverse(uint64_t *a, const fsn_ntt_table *t);

/* Pointwise over n values (any n, e.g. count * N for `count` polynomials), modulo t's p:
 *   mul:     c[i] = a[i] * b[i] mod p
 *   mul_acc: acc[i] = (acc[i] + a[i] * b[i]) mod p (acc fully reduced in and out)
 *   add:     c[i] = (a[i] + b[i]) mod p
 *   sub:     c[i] = (a[i] - b[i]) mod p
 * Outputs may alias inputs exactly (c == a or c == b), not partially. */
void fsn_ntt_mul(uint64_t *c, const uint64_t *a, const uint64_t *b, size_t n, const fsn_ntt_table *t);
void fsn_ntt_mul_acc(uint64_t *acc, const uint64_t *a, const uint64_t *b, size_t n, const fsn_ntt_table *t);
void fsn_ntt_add(uint64_t *c, const uint64_t *a, const uint64_t *b, size_t n, const fsn_ntt_table *t);
/* A sum of products, reduced once: acc[i] = (acc[i] + sum over k < count of a[k][i] * b[k][i]) mod p, acc fully
 * reduced in and out, every a[k][i], b[k][i] in [0, p). The inner product of the RLWE layers (input ciphertexts times
 * filters, in the NTT domain): the levels keep the sum lazy across k. acc must not alias any a[k] or b[k]. */
void fsn_ntt_mul_acc_sum(uint64_t *acc, const uint64_t *const *a, const uint64_t *const *b, size_t count, size_t n,
                         const fsn_ntt_table *t);
void fsn_ntt_sub(uint64_t *c, const uint64_t *a, const uint64_t *b, size_t n, const fsn_ntt_table *t);

/* Modulus switching with rounding from q = p1 p2 (odd primes, p1 != p2, each < 2^50) given in RNS form.
 * For each i let x in [0, q) be the unique integer with x = x1[i] mod p1 and x = x2[i] mod p2 (x1[i] < p1,
 * x2[i] < p2). Then
 *   fsn_ntt_modswitch_prime: out[i] = round(x * p1 / q) mod p1 = round(x / p2) mod p1, in [0, p1);
 *   fsn_ntt_modswitch_pow2:  out[i] = round(x * 2^k / q) mod 2^k, in [0, 2^k), 1 <= k <= 64.
 * round() is to nearest; no ties occur (q is odd and p2 does not divide 2x unless x = 0). Taking x - q instead of x
 * (a centred representative) changes nothing mod p1 or mod 2^k, so the result is the rounding of the centred value.
 * out may equal x1 or x2. */
void fsn_ntt_modswitch_prime(uint64_t *out, const uint64_t *x1, const uint64_t *x2, size_t n, uint64_t p1, uint64_t p2);
void fsn_ntt_modswitch_pow2(uint64_t *out, const uint64_t *x1, const uint64_t *x2, size_t n, uint64_t p1, uint64_t p2,
                            unsigned k);

/* ---- sampling from the AES-CTR PRG (deterministic in the PRG's seed, the same at every ISA level) ---- */

/* n values uniform in [0, p), p < 2^50: each candidate is one 64-bit stream word masked to bits(p) bits, rejected
 * if >= p (so fewer than 2 words per value on average). */
void fsn_ntt_sample_uniform(fsn_prg *prg, uint64_t *out, size_t n, uint64_t p);
/* n values uniform in {-1, 0, 1}, stored mod p (p - 1 for -1): two stream bits per candidate, 3 rejected. */
void fsn_ntt_sample_ternary(fsn_prg *prg, uint64_t *out, size_t n, uint64_t p);
/* n values from the centred binomial distribution of parameter eta (1 <= eta <= 32): popcount of eta stream bits
 * minus popcount of eta more, in [-eta, eta], variance eta / 2, stored mod p. */
void fsn_ntt_sample_cbd(fsn_prg *prg, uint64_t *out, size_t n, uint64_t p, unsigned eta);

#ifdef __cplusplus
}
#endif
#endif
