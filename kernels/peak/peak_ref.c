/* Portable multiply-add peak: what plain C gets from the scalar 64-bit multiplier. */
#include "kernels/peak/peak_ops.h"

void fsn_peak_mul_add_l1__ref(uint64_t *acc, const uint64_t *x, size_t iters) {
  uint64_t sum[FSN_PEAK_LANES];
  for (size_t j = 0; j < FSN_PEAK_LANES; j++) sum[j] = acc[j];
  for (size_t t = 0; t < iters; t++) {
    const uint64_t y = x[t % 32];
    for (size_t j = 0; j < FSN_PEAK_LANES; j++) sum[j] += x[j] * y;
  }
  for (size_t j = 0; j < FSN_PEAK_LANES; j++) acc[j] = sum[j];
}
