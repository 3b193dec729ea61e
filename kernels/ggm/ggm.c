/* Dispatched entry points of the ggm family. There is no AVX-512 variant (AES on zmm needs VAES, which the avx512
 * level does not require, and the AES-NI path already keeps the AES units busy): the avx512 level runs the avx2
 * code, which every avx512 machine can. */
#include "kernels/ggm/ggm_ops.h"

FSN_FAMILY_DEFINE(ggm, FSN_GGM_OPS, FSN_GGM_VARIANTS)
