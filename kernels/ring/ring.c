/* Dispatched entry points of the ring family. */
#include "kernels/ring/ring_ops.h"

FSN_FAMILY_DEFINE(ring, FSN_RING_OPS)
