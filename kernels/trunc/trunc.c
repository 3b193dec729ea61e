/* Dispatched entry points of the trunc family. */
#include "kernels/trunc/trunc_ops.h"

FSN_FAMILY_DEFINE(trunc, FSN_TRUNC_OPS, FSN_TRUNC_VARIANTS)
FSN_FAMILY_ENTRY_POINTS(trunc, FSN_TRUNC_OPS)
