/* Umbrella header of the Fusion toolkit: every public header, from the kernels up to the sessions. */
#ifndef FUSION_FUSION_H
#define FUSION_FUSION_H

#include <fusion/status.h>
#include <fusion/version.h>

#include <fusion/bits.h>
#include <fusion/conv.h>
#include <fusion/isa.h>
#include <fusion/gemm.h>
#include <fusion/prg.h>
#include <fusion/ring.h>
#include <fusion/trunc.h>

#include <fusion/channel.h>

#include <fusion/linear.h>
#include <fusion/nl.h>
#include <fusion/ot.h>
#include <fusion/twopc.h>

#include <fusion/sampleset.h>
#include <fusion/inference.h>
#include <fusion/mc.h>
#include <fusion/nn.h>
#include <fusion/secure.h>
#include <fusion/session.h>

#endif
