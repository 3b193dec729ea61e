/* Umbrella header of the Fusion toolkit. */
#ifndef FUSION_FUSION_H
#define FUSION_FUSION_H

#include <fusion/bits.h>
#include <fusion/channel.h>
#include <fusion/nonlinear.h>
#include <fusion/cpu.h>
#include <fusion/prg.h>
#include <fusion/conv.h>
#include <fusion/cpu.h>
#include <fusion/gemm.h>
#include <fusion/ot.h>
#include <fusion/ring.h>
#include <fusion/status.h>
#include <fusion/trunc.h>
#include <fusion/version.h>

#endif
