/* Dispatched entry points of the peak family. */
#include "kernels/peak/peak_ops.h"

FSN_FAMILY_DEFINE(peak, FSN_PEAK_OPS)
