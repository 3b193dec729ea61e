/* `fusion bench trunc`: truncation by s bits in any mode, through the harness of apps/bench_relu.c. */
#include "apps/bench_nl.h"
#include "apps/commands.h"

int fsn_bench_trunc(int argc, char **argv) { return fsn_bench_nl_main(FSN_BENCH_NL_TRUNC, argc, argv); }
