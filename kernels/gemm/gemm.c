/* Dispatched entry points of the GEMM family. */
#include "kernels/gemm/gemm_ops.h"

FSN_FAMILY_DEFINE(gemm, FSN_GEMM_OPS)
