/* Dispatched entry points of the GEMM family. */
#include "kernels/gemm/gemm_ops.h"

FSN_FAMILY_DEFINE(u64, FSN_U64_OPS)
