/* Dispatched entry points of the bits family. */
#include "kernels/bits/bits_ops.h"

FSN_FAMILY_DEFINE(bits, FSN_BITS_OPS)
