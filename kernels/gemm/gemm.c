/* Dispatched entry points of the GEMM family. */
#include "kernels/gemm/gemm_ops.h"

FSN_FAMILY_DEFINE(u64, FSN_U64_OPS, FSN_U64_VARIANTS)
FSN_FAMILY_ENTRY_POINTS(u64, FSN_U64_OPS)
