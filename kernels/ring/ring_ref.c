/* Portable ring kernels: the oracle every SIMD sibling must match bit for bit. */
#include <math.h>

#include "kernels/ring/ring_ops.h"

void fsn_ring_add__ref(uint64_t *z, const uint64_t *x, const uint64_t *y, size_t n, unsigned ell) {
  const uint64_t mask = fsn_ring_mask(ell);
  for (size_t i = 0; i < n; i++) z[i] = (x[i] + y[i]) & mask;
}

void fsn_ring_sub__ref(uint64_t *z, const uint64_t *x, const uint64_t *y, size_t n, unsigned ell) {
  const uint64_t mask = fsn_ring_mask(ell);
  for (size_t i = 0; i < n; i++) z[i] = (x[i] - y[i]) & mask;
}

void fsn_ring_neg__ref(uint64_t *z, const uint64_t *x, size_t n, unsigned ell) {
  const uint64_t mask = fsn_ring_mask(ell);
  for (size_t i = 0; i < n; i++) z[i] = (0 - x[i]) & mask;
}

void fsn_ring_mul__ref(uint64_t *z, const uint64_t *x, const uint64_t *y, size_t n, unsigned ell) {
  const uint64_t mask = fsn_ring_mask(ell);
  for (size_t i = 0; i < n; i++) z[i] = (x[i] * y[i]) & mask;
}

void fsn_ring_scale__ref(uint64_t *z, const uint64_t *x, uint64_t a, size_t n, unsigned ell) {
  const uint64_t mask = fsn_ring_mask(ell);
  for (size_t i = 0; i < n; i++) z[i] = (a * x[i]) & mask;
}

void fsn_ring_axpy__ref(uint64_t *y, const uint64_t *x, uint64_t a, size_t n, unsigned ell) {
  const uint64_t mask = fsn_ring_mask(ell);
  for (size_t i = 0; i < n; i++) y[i] = (y[i] + a * x[i]) & mask;
}

void fsn_ring_reduce__ref(uint64_t *z, const uint64_t *x, size_t n, unsigned ell) {
  const uint64_t mask = fsn_ring_mask(ell);
  for (size_t i = 0; i < n; i++) z[i] = x[i] & mask;
}

void fsn_ring_sum__ref(uint64_t *out, const uint64_t *x, size_t n, unsigned ell) {
  uint64_t acc = 0; /* wrapping mod 2^64 first and masking once is the same as reducing at every step */
  for (size_t i = 0; i < n; i++) acc += x[i];
  *out = acc & fsn_ring_mask(ell);
}

/* |v| mod 2^64 for an integral double |v| >= 2^63: v = m * 2^e with a 53-bit m and e >= 11. */
static uint64_t wrap_huge(double magnitude) {
  int exp;
  double frac = frexp(magnitude, &exp);
  uint64_t mant = (uint64_t)ldexp(frac, 53);
  int shift = exp - 53;
  return shift >= 64 ? 0 : mant << shift;
}

uint64_t fsn_ring_encode1(double x, double scale, unsigned ell) {
  double v = round(x * scale); /* x * 2^s is exact: a power-of-two scale only moves the exponent */
  if (isnan(v) || isinf(v)) return 0;
  uint64_t magnitude = fabs(v) < 0x1p63 ? (uint64_t)fabs(v) : wrap_huge(fabs(v));
  return (v < 0 ? 0 - magnitude : magnitude) & fsn_ring_mask(ell);
}

void fsn_ring_encode__ref(uint64_t *z, const double *x, size_t n, unsigned ell, unsigned s) {
  const double scale = ldexp(1.0, (int)s);
  for (size_t i = 0; i < n; i++) z[i] = fsn_ring_encode1(x[i], scale, ell);
}

void fsn_ring_decode__ref(double *z, const uint64_t *x, size_t n, unsigned ell, unsigned s) {
  const uint64_t mask = fsn_ring_mask(ell), half = (uint64_t)1 << (ell - 1);
  const double inv_scale = ldexp(1.0, -(int)s);
  for (size_t i = 0; i < n; i++) {
    uint64_t u = x[i] & mask;
    /* signed value without implementation-defined conversions: negative iff bit ell-1 is set */
    double v = (u & half) ? -(double)((0 - u) & mask) : (double)u;
    z[i] = v * inv_scale;
  }
}
