/* Dispatched entry points of the ggm family. */
#include "kernels/ggm/ggm_ops.h"

FSN_FAMILY_DEFINE(ggm, FSN_GGM_OPS)
