/* Dispatched entry points of the peak family. */
#include "kernels/peak/peak_ops.h"

FSN_FAMILY_DEFINE(peak, FSN_PEAK_OPS, FSN_PEAK_VARIANTS)
FSN_FAMILY_ENTRY_POINTS(peak, FSN_PEAK_OPS)
