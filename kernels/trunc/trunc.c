/* Dispatched entry points of the trunc family. */
#include "kernels/trunc/trunc_ops.h"

FSN_FAMILY_DEFINE(trunc, FSN_TRUNC_OPS)
