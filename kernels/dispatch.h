/* Generators for kernel families (XNNPACK-style single list). Each family keeps one list macro
 *   #define FSN_<FAMILY>_OPS(X, isa) X(family, isa, op, (parameters), (arguments)) ...
 * and everything else is generated from it, so prototypes, tables, dispatch, tests and benchmarks cannot drift:
 *   FSN_OP_PROTO     the per-ISA prototype   void fsn_<family>_<op>__<isa>(parameters);
 *   FSN_OP_FIELD     the impl-table field    void (*op)(parameters);
 *   FSN_OP_INIT      the table initialiser   .op = fsn_<family>_<op>__<isa>,
 *   FSN_OP_DISPATCH  the public entry point  void fsn_<family>_<op>(parameters), through the active table.
 * Every ISA file defines every op of its family (delegating to __ref where it has nothing better). */
#ifndef FSN_KERNELS_DISPATCH_H
#define FSN_KERNELS_DISPATCH_H

#include <fusion/cpu.h>

#define FSN_OP_PROTO(fam, isa, op, params, args) void fsn_##fam##_##op##__##isa params;
#define FSN_OP_FIELD(fam, isa, op, params, args) void(*op) params;
#define FSN_OP_INIT(fam, isa, op, params, args)  .op = fsn_##fam##_##op##__##isa,
#define FSN_OP_DISPATCH(fam, isa, op, params, args)                                                                    \
  void fsn_##fam##_##op params { fsn_##fam##_impl_for(fsn_isa_active())->op args; }
#define FSN_OP_NAME(fam, isa, op, params, args) #op,

/* Declare a family's table type, its per-ISA prototypes and its table lookup. */
#define FSN_FAMILY_DECLARE(fam, OPS)                                                                                   \
  typedef struct fsn_##fam##_impl {                                                                                    \
    OPS(FSN_OP_FIELD, _)                                                                                               \
  } fsn_##fam##_impl;                                                                                                  \
  OPS(FSN_OP_PROTO, ref)                                                                                               \
  OPS(FSN_OP_PROTO, avx2)                                                                                              \
  OPS(FSN_OP_PROTO, avx512)                                                                                            \
  const fsn_##fam##_impl *fsn_##fam##_impl_for(fsn_isa isa);

/* Define the tables and the dispatched entry points (in the family's portable dispatch file). */
#define FSN_FAMILY_DEFINE(fam, OPS)                                                                                    \
  static const fsn_##fam##_impl fam##_impls[FSN_ISA_COUNT] = {                                                         \
      {OPS(FSN_OP_INIT, ref)}, {OPS(FSN_OP_INIT, avx2)}, {OPS(FSN_OP_INIT, avx512)}};                                  \
  const fsn_##fam##_impl *fsn_##fam##_impl_for(fsn_isa isa) { return &fam##_impls[isa]; }                              \
  OPS(FSN_OP_DISPATCH, _)

#endif
