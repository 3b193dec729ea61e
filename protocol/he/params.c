/* The parameter set and the noise budget (include/fusion/he.h; the analysis is written out in docs/PROTOCOLS.md,
 * "RLWE linear layers: noise").
 *
 * Decryption after switching to p1 and dropping bits. The client computes x = c0 + c1 s mod p1 and outputs
 * round(t x / p1) mod t. With c0 + c1 s = Delta M + v (mod q) at q (M the plaintext with |M| < t, v the noise), the
 * switch gives c0' + c1' s = (p1 / q)(Delta M + v) + rho0 + rho1 s (mod p1) where rho are the rounding errors of
 * c0 and c1, and (p1 / q) Delta M = (p1 / t) M - p1 M / (q t) with |p1 M / (q t)| < 1. Dropping d bits of c0 and
 * of c1 adds eps0 + eps1 s. So decryption is correct while
 *   (p1 / q)|v| + 1 + |rho0 + eps0| + |(rho1 + eps1) s|  <  p1 / (2t)       ("budget").
 * |rho0 + eps0| <= 2^(d0-1) + 1/2. Each coefficient of (rho1 + eps1) s is a sum over at most N terms e_j s_j with
 * e_j in an interval of width R = 2^d1 + 1 (R = 1 for d1 = 0) and s_j in {-1, 0, 1}; Hoeffding bounds it by
 * R sqrt(N ln(2 / delta) / 2) except with probability delta = 2^-50 per coefficient (c1 is uniform and independent of
 * s: it carries a fresh encryption of zero). What is left of the budget, times p2 = q / p1, is the noise the
 * ciphertext may carry at q: the honest noise plus the flooding. */
#include <fusion/he.h>
#include <fusion/ntt.h>

#include <math.h>

static const double log_fail = 50; /* -log2 of the decryption failure allowed per output coefficient */

static unsigned bit_length(uint64_t v) { return v ? 64 - (unsigned)__builtin_clzll(v) : 0; }

/* Bound on |sum_j e_j s_j| for e_j in an interval of width `range`, except with probability 2^-log_fail. */
static double hoeffding(double range, double n) { return range * sqrt(n * (log_fail + 1) * log(2.0) / 2); }
static double c1_error(unsigned d1, double n) { return hoeffding(d1 ? ldexp(1, (int)d1) + 1 : 1, n); }
static double c0_error(unsigned d0) { return d0 ? ldexp(1, (int)d0 - 1) + 0.5 : 0.5; }

fsn_status fsn_he_params_make(fsn_he_params *out, unsigned ell) {
  if (ell < 2 || ell > FSN_HE_MAX_ELL)
    return fsn_fail(FSN_E_UNSUPPORTED, "he: ell = %u outside 2 .. %u (q = p1 p2 < 2^100 leaves no noise room above)",
                    ell, FSN_HE_MAX_ELL);
  *out = (fsn_he_params){.n = FSN_HE_N, .ell = ell};
  uint64_t p[2];
  /* p = 1 mod 2^ell makes q = 1 mod t; p = 1 mod 2N (2^13) makes the NTT of size N exist. */
  fsn_status st = fsn_ntt_primes(p, 2, (uint64_t)1 << FSN_NTT_MAX_PRIME_BITS, ell > 13 ? ell : 13);
  if (st != FSN_OK) return st;
  out->p1 = p[0], out->p2 = p[1];
  out->bits_p1 = bit_length(p[0]), out->bits_p2 = bit_length(p[1]);
  const double n = out->n;
  out->budget = (double)out->p1 / ldexp(2, (int)ell);
  /* Drop as many bits as keep each rounding term within a quarter of the budget; the rest bounds the noise. */
  unsigned d1 = 0, d0 = 0;
  while (d1 + 1 < out->bits_p1 && c1_error(d1 + 1, n) <= out->budget / 4) d1++;
  while (d0 + 1 < out->bits_p1 && c0_error(d0 + 1) <= out->budget / 4) d0++;
  out->drop_c0 = d0, out->drop_c1 = d1;
  out->switch_bound = 1 + c0_error(d0) + c1_error(d1, n);
  /* A relative margin of 2^-20 covers the rounding of these doubles. */
  out->max_noise = (out->budget - out->switch_bound) * (double)out->p2 * (1 - ldexp(1, -20));
  if (out->max_noise <= 0)
    return fsn_fail(FSN_E_UNSUPPORTED, "he: ell = %u leaves no noise budget at p1 = %llu", ell,
                    (unsigned long long)out->p1);
  return FSN_OK;
}

fsn_status fsn_he_flooding(const fsn_he_params *par, double fan, double *honest, double *flood) {
  /* |e w| <= eta ||w||_1; the carry of Delta (m w - r) is at most ||w||_1 / 2 + 2 (m and w centred); the fresh
   * encryption of zero adds u e_pk + e0 + e1 s, at most eta (2N + 1). */
  const double w1 = fan * ldexp(1, (int)par->ell - 1);
  const double h = FSN_HE_ETA * w1 + w1 / 2 + 2 + FSN_HE_ETA * (2.0 * par->n + 1);
  *honest = h;
  *flood = floor(par->max_noise - h);
  if (*flood < 1)
    return fsn_fail(FSN_E_UNSUPPORTED,
                    "he: a fan-in of %.0f weights at ell = %u exceeds the noise budget (%.3g > %.3g)", fan, par->ell, h,
                    par->max_noise);
  if (*flood > ldexp(1, 62)) *flood = ldexp(1, 62); /* sampled as a signed 64-bit value */
  return FSN_OK;
}
