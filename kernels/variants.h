/* The one list of kernel variants: what each needs of the CPU, and the dispatch level it belongs to (XNNPACK's
 * per-entry arch flags). A variant's code lives in kernels/<family>/<family>_<variant>.c and is compiled with exactly
 * the flags of its group (meson.build variant_flags), so it cannot execute an instruction it did not declare here.
 * A level caps the variants dispatch may choose (FSN_ISA=avx2 never runs an avx512_* variant); within the cap each
 * family runs the last variant of its own list (FSN_<FAMILY>_VARIANTS, in increasing preference) whose features the
 * CPU and the OS have. The choice is made once per family and level (by fsn_init for the active level, else on first
 * use) and cached. */
#ifndef FSN_KERNELS_VARIANTS_H
#define FSN_KERNELS_VARIANTS_H

#include <fusion/isa.h>

#include <stdbool.h>
#include <stddef.h>

/* X(variant, level, features it needs) */
#define FSN_KERNEL_VARIANTS(X)                                                                                         \
  X(ref, FSN_ISA_REF, 0u)                                                                                              \
  X(avx2, FSN_ISA_AVX2, FSN_CPU_LEVEL_AVX2)                                                                            \
  X(avx2_vaes, FSN_ISA_AVX2, FSN_CPU_LEVEL_AVX2 | FSN_CPU_VAES)                                                        \
  X(avx512, FSN_ISA_AVX512, FSN_CPU_LEVEL_AVX512)                                                                      \
  X(avx512_vaes, FSN_ISA_AVX512, FSN_CPU_LEVEL_AVX512 | FSN_CPU_VAES)                                                  \
  X(avx512_ifma, FSN_ISA_AVX512, FSN_CPU_LEVEL_AVX512 | FSN_CPU_AVX512IFMA)

#define FSN_VARIANT_ENUM(v, level, needs) FSN_VARIANT_##v,
typedef enum fsn_variant { FSN_KERNEL_VARIANTS(FSN_VARIANT_ENUM) FSN_VARIANT_COUNT } fsn_variant;
#undef FSN_VARIANT_ENUM

/* "avx2_vaes" etc. */
const char *fsn_variant_name(fsn_variant v);

/* The variant may run with dispatch capped at `level`: it belongs to that level or a lower one, and the CPU and the
 * OS have every feature it needs. */
bool fsn_variant_runs(fsn_variant v, fsn_isa level);

/* Index of the variant to run at `level` among n entries whose ids are `stride` bytes apart starting at `first`:
 * the last that runs (entry 0 is ref, which always runs). */
size_t fsn_variant_pick(const fsn_variant *first, size_t stride, size_t n, fsn_isa level);

#endif
