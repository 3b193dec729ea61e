/* Dispatched entry points of the lpn family. */
#include "kernels/lpn/lpn_ops.h"

FSN_FAMILY_DEFINE(lpn, FSN_LPN_OPS)
