/* Shared harness of the non-linear protocol benchmarks (`fusion bench relu`, `fusion bench trunc`). */
#ifndef FSN_APPS_BENCH_NL_H
#define FSN_APPS_BENCH_NL_H

#include <fusion/nl.h>

typedef enum fsn_bench_nl_op { FSN_BENCH_NL_RELU, FSN_BENCH_NL_TRUNC } fsn_bench_nl_op;

/* Parse the common options (plus --s and --mode for trunc), run both parties over loopback, print the report. */
int fsn_bench_nl_main(fsn_bench_nl_op op, int argc, char **argv);

#endif
