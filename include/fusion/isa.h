/* Dispatch levels: the ISA level every kernel family follows, and the variant each family runs at it. */
#ifndef FUSION_ISA_H
#define FUSION_ISA_H

#include <fusion/cpu.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Dispatch levels, in increasing order; each includes the ones below it. A level caps the kernel variants dispatch may
 * choose: within it, each family runs its most preferred variant whose CPU features are present (e.g. VAES). */
typedef enum fsn_isa {
  FSN_ISA_REF = 0,    /* portable C17, the oracle */
  FSN_ISA_AVX2 = 1,   /* AVX2 + FMA + BMI2 + AES-NI + PCLMUL, OS saves ymm state */
  FSN_ISA_AVX512 = 2, /* AVX-512 F/BW/VL/DQ on top of avx2, OS saves zmm and opmask state */
  FSN_ISA_COUNT = 3,
} fsn_isa;

/* Kernel families and the variant dispatch chose for each at the active level, for reports such as `fusion info`:
 * family i < fsn_isa_family_count() is named fsn_isa_family_name(i) and runs fsn_isa_family_variant(i)
 * ("ref", "avx2", "avx2_vaes", "avx512", ...). */
size_t fsn_isa_family_count(void);
const char *fsn_isa_family_name(size_t i);
const char *fsn_isa_family_variant(size_t i);

/* The highest level the machine supports. */
fsn_isa fsn_isa_best(void);

/* The level kernels dispatch to: FSN_ISA from the environment (ref|avx2|avx512) if set, else the best.
 * If FSN_ISA asks for a level the machine lacks, a warning is printed once and the best level is used;
 * call fsn_init() to get that as an error instead. */
fsn_isa fsn_isa_active(void);

/* Force a level for this process (e.g. from a --isa flag); fails with FSN_E_UNSUPPORTED if the machine lacks it. */
FSN_NODISCARD fsn_status fsn_isa_force(fsn_isa isa);

/* "ref", "avx2", "avx512". */
const char *fsn_isa_name(fsn_isa isa);

/* Parse a level name; FSN_E_INVALID for an unknown name. */
FSN_NODISCARD fsn_status fsn_isa_parse(const char *name, fsn_isa *out);

#ifdef __cplusplus
}
#endif
#endif
