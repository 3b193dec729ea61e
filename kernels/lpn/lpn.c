/* Dispatched entry points of the lpn family. There is no AVX-512 variant (the encoding is bound by its random 16-byte
 * loads, which zmm registers do not speed up, and its AES would need VAES, which the avx512 level does not require):
 * the avx512 level runs the avx2 code, which every avx512 machine can. */
#include "kernels/lpn/lpn_ops.h"

FSN_FAMILY_DEFINE(lpn, FSN_LPN_OPS, FSN_LPN_VARIANTS)
