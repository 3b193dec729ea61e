/* Dispatched entry points of the bits family. */
#include "kernels/bits/bits_ops.h"

FSN_FAMILY_DEFINE(bits, FSN_BITS_OPS, FSN_BITS_VARIANTS)
FSN_FAMILY_ENTRY_POINTS(bits, FSN_BITS_OPS)
