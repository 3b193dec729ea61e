/* C side of the Google Benchmark shim: C bodies, registered by name, timed by the C++ shim (bench/shim.cc).
 * A body loops `while (fsn_bench_running(st)) { ... }` and reports throughput per iteration afterwards. */
#ifndef FSN_BENCH_H
#define FSN_BENCH_H

#include <fusion/isa.h>
#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#include "kernels/families.h"
#include "kernels/variants.h"

typedef struct fsn_bench_state fsn_bench_state;

/* Parameters a body receives; what they mean is the body's business (sizes, shapes, a variant). */
typedef struct fsn_bench_args {
  size_t variant; /* index in the family's fsn_<family>_variants (FSN_BENCH_ADD_VARIANTS) */
  int64_t n, m, k;
} fsn_bench_args;

typedef void (*fsn_bench_fn)(fsn_bench_state *st, const fsn_bench_args *args);

enum {
  FSN_BENCH_REAL_TIME = 1,   /* wall clock: OpenMP runs inside */
  FSN_BENCH_MANUAL_TIME = 2, /* the body reports each iteration's time (two-party runs) */
};

/* Register a benchmark named `<family>/<op>/<variant>/<size>`. */
void fsn_bench_add(const char *name, fsn_bench_fn fn, fsn_bench_args args, unsigned flags);

bool fsn_bench_running(fsn_bench_state *st);
void fsn_bench_pause(fsn_bench_state *st);
void fsn_bench_resume(fsn_bench_state *st);
void fsn_bench_manual_time(fsn_bench_state *st, double seconds);
void fsn_bench_bytes_per_iter(fsn_bench_state *st, double bytes); /* call after the loop */
void fsn_bench_items_per_iter(fsn_bench_state *st, double items); /* call after the loop */
void fsn_bench_counter(fsn_bench_state *st, const char *name, double value);
void fsn_bench_skip(fsn_bench_state *st, const char *why);

/* Register one benchmark per variant this machine runs at the active level (FSN_ISA caps it), among n variant entries
 * `stride` bytes apart from `first`; `family_op` gets `/<variant>` and `/<size>` appended if given, and args.variant
 * is the entry's index. FSN_BENCH_ADD_VARIANTS passes a family's list; a body reaches the variant's table with
 * FSN_BENCH_IMPL. */
void fsn_bench_add_variants(const char *family_op, fsn_bench_fn fn, fsn_bench_args args, unsigned flags,
                            const char *size, const fsn_variant *first, size_t stride, size_t n);
/* FSN_BENCH_ADD_VARIANTS(fam, family_op, fn, args, flags, size); variadic since args is often a compound literal. */
#define FSN_BENCH_ADD_VARIANTS(fam, family_op, fn, ...)                                                                \
  fsn_bench_add_variants(family_op, fn, __VA_ARGS__, &fsn_##fam##_variants[0].id, sizeof fsn_##fam##_variants[0],      \
                         fsn_##fam##_variant_count)
#define FSN_BENCH_IMPL(fam, a) (&fsn_##fam##_variants[(a)->variant].impl)

/* Each family's registration function (bench/bench_<folder>.c), from the one family list; weak, since a family need
 * not have benchmarks (the shim skips a missing one). */
#define FSN_BENCH_FAMILY(folder, prefix) __attribute__((weak)) void fsn_bench_register_##folder(void);
FSN_KERNEL_FAMILIES(FSN_BENCH_FAMILY)
#undef FSN_BENCH_FAMILY

#ifdef __cplusplus
}
#endif
#endif
