/* Generators for kernel families (XNNPACK-style single lists). Each family keeps two list macros
 *   #define FSN_<FAMILY>_OPS(X, v)        X(family, v, op, (parameters), (arguments)) ...
 *   #define FSN_<FAMILY>_VARIANTS(V, a)   V(a, ref) V(a, avx2) ...   (kernels/variants.h names, increasing preference)
 * (a family on the plain ladder ref < avx2 < avx512 leaves the second out: FSN_LEVEL_VARIANTS is the default)
 * and everything else is generated from them, so prototypes, tables, dispatch, tests and benchmarks cannot drift:
 *   FSN_OP_PROTO     the per-variant prototype  void fsn_<family>_<op>__<variant>(parameters);
 *   FSN_OP_FIELD     the impl-table field       void (*op)(parameters);
 *   FSN_OP_INIT      the table initialiser      .op = fsn_<family>_<op>__<variant>,
 *   FSN_OP_DISPATCH  the public entry point     void fsn_<family>_<op>(parameters), through the chosen variant.
 * Every variant file defines every op of its family (delegating to a lower variant where it has nothing better).
 * Generated per family: fsn_<family>_variants[] ({id, impl} for every variant, ref first) and _variant_count, which
 * tests and benchmarks iterate; fsn_<family>_impl_for(level), the variant dispatch runs at a level (picked once per
 * level, then cached); fsn_<family>_variant_chosen(level), its name. */
#ifndef FSN_KERNELS_DISPATCH_H
#define FSN_KERNELS_DISPATCH_H

#include <fusion/isa.h>

#include <stdatomic.h>

#include "kernels/variants.h"

#define FSN_OP_PROTO(fam, v, op, params, args) void fsn_##fam##_##op##__##v params;
#define FSN_OP_FIELD(fam, v, op, params, args) void(*op) params;
#define FSN_OP_INIT(fam, v, op, params, args)  .op = fsn_##fam##_##op##__##v,
#define FSN_OP_DISPATCH(fam, v, op, params, args)                                                                      \
  void fsn_##fam##_##op params { fsn_##fam##_impl_for(fsn_isa_active())->op args; }
#define FSN_OP_NAME(fam, v, op, params, args) #op,

#define FSN_VARIANT_PROTOS(OPS, v) OPS(FSN_OP_PROTO, v)
#define FSN_VARIANT_ENTRY(OPS, v)  {FSN_VARIANT_##v, {OPS(FSN_OP_INIT, v)}},

/* The default variant list: one variant per level. */
#define FSN_LEVEL_VARIANTS(V, a) V(a, ref) V(a, avx2) V(a, avx512)

/* FSN_FAMILY_DECLARE(fam, OPS[, VARIANTS]) etc.: the variant list is optional. */
#define FSN_ARGS_2_OR_3(a, b, c, name, ...) name
#define FSN_WITH_VARIANTS(macro, ...)       FSN_ARGS_2_OR_3(__VA_ARGS__, macro, macro##_LEVELS, unused)(__VA_ARGS__)

/* Declare a family's table types, its per-variant prototypes, its variant list and its lookups. */
#define FSN_FAMILY_DECLARE(...)              FSN_WITH_VARIANTS(FSN_FAMILY_DECLARE_, __VA_ARGS__)
#define FSN_FAMILY_DECLARE__LEVELS(fam, OPS) FSN_FAMILY_DECLARE_(fam, OPS, FSN_LEVEL_VARIANTS)
#define FSN_FAMILY_DECLARE_(fam, OPS, VARIANTS)                                                                        \
  typedef struct fsn_##fam##_impl {                                                                                    \
    OPS(FSN_OP_FIELD, _)                                                                                               \
  } fsn_##fam##_impl;                                                                                                  \
  typedef struct fsn_##fam##_variant {                                                                                 \
    fsn_variant id;                                                                                                    \
    fsn_##fam##_impl impl;                                                                                             \
  } fsn_##fam##_variant;                                                                                               \
  VARIANTS(FSN_VARIANT_PROTOS, OPS)                                                                                    \
  extern const fsn_##fam##_variant fsn_##fam##_variants[];                                                             \
  extern const size_t fsn_##fam##_variant_count;                                                                       \
  const fsn_##fam##_impl *fsn_##fam##_impl_for(fsn_isa level);                                                         \
  const char *fsn_##fam##_variant_chosen(fsn_isa level);

/* Define the variant list, the cached choice per level and the dispatched entry points (in the family's portable
 * dispatch file); FSN_FAMILY_TABLES leaves the entry points out, for a family that writes its own (conv). The cache
 * holds pointers to constant tables, so a race only repeats the same choice. */
#define FSN_FAMILY_DEFINE(...)                 FSN_WITH_VARIANTS(FSN_FAMILY_DEFINE_, __VA_ARGS__)
#define FSN_FAMILY_DEFINE__LEVELS(fam, OPS)    FSN_FAMILY_DEFINE_(fam, OPS, FSN_LEVEL_VARIANTS)
#define FSN_FAMILY_DEFINE_(fam, OPS, VARIANTS) FSN_FAMILY_TABLES(fam, OPS, VARIANTS) OPS(FSN_OP_DISPATCH, _)
#define FSN_FAMILY_TABLES(fam, OPS, VARIANTS)                                                                          \
  const fsn_##fam##_variant fsn_##fam##_variants[] = {VARIANTS(FSN_VARIANT_ENTRY, OPS)};                               \
  const size_t fsn_##fam##_variant_count = sizeof fsn_##fam##_variants / sizeof fsn_##fam##_variants[0];               \
  static const fsn_##fam##_variant *fsn_##fam##_variant_at(fsn_isa level) {                                            \
    static _Atomic(const fsn_##fam##_variant *) chosen[FSN_ISA_COUNT];                                                 \
    const fsn_##fam##_variant *v = atomic_load_explicit(&chosen[level], memory_order_relaxed);                         \
    if (!v) {                                                                                                          \
      v = &fsn_##fam##_variants[fsn_variant_pick(&fsn_##fam##_variants[0].id, sizeof fsn_##fam##_variants[0],          \
                                                 fsn_##fam##_variant_count, level)];                                   \
      atomic_store_explicit(&chosen[level], v, memory_order_relaxed);                                                  \
    }                                                                                                                  \
    return v;                                                                                                          \
  }                                                                                                                    \
  const fsn_##fam##_impl *fsn_##fam##_impl_for(fsn_isa level) { return &fsn_##fam##_variant_at(level)->impl; }         \
  const char *fsn_##fam##_variant_chosen(fsn_isa level) { return fsn_variant_name(fsn_##fam##_variant_at(level)->id); }

#endif
