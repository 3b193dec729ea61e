/* C side of the Google Benchmark shim: C bodies, registered by name, timed by the C++ shim (bench/shim.cc).
 * A body loops `while (fsn_bench_running(st)) { ... }` and reports throughput per iteration afterwards. */
#ifndef FSN_BENCH_H
#define FSN_BENCH_H

#include <fusion/cpu.h>
#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct fsn_bench_state fsn_bench_state;

/* Parameters a body receives; what they mean is the body's business (sizes, shapes, a level). */
typedef struct fsn_bench_args {
  fsn_isa isa;
  int64_t n, m, k;
} fsn_bench_args;

typedef void (*fsn_bench_fn)(fsn_bench_state *st, const fsn_bench_args *args);

enum {
  FSN_BENCH_REAL_TIME = 1,   /* wall clock: OpenMP runs inside */
  FSN_BENCH_MANUAL_TIME = 2, /* the body reports each iteration's time (two-party runs) */
};

/* Register a benchmark named `<family>/<op>/<isa>/<size>`. */
void fsn_bench_add(const char *name, fsn_bench_fn fn, fsn_bench_args args, unsigned flags);

bool fsn_bench_running(fsn_bench_state *st);
void fsn_bench_pause(fsn_bench_state *st);
void fsn_bench_resume(fsn_bench_state *st);
void fsn_bench_manual_time(fsn_bench_state *st, double seconds);
void fsn_bench_bytes_per_iter(fsn_bench_state *st, double bytes); /* call after the loop */
void fsn_bench_items_per_iter(fsn_bench_state *st, double items); /* call after the loop */
void fsn_bench_counter(fsn_bench_state *st, const char *name, double value);
void fsn_bench_skip(fsn_bench_state *st, const char *why);

/* Register one benchmark per level this machine runs; `name` gets `/<isa>` and `/<size>` appended if given. */
void fsn_bench_add_per_isa(const char *family_op, fsn_bench_fn fn, fsn_bench_args args, unsigned flags,
                           const char *size);

/* Each family's registration function, listed once in bench/families.h. */
#define FSN_BENCH_FAMILY(name) void fsn_bench_register_##name(void);
#include "bench/families.h"
#undef FSN_BENCH_FAMILY

#ifdef __cplusplus
}
#endif
#endif
