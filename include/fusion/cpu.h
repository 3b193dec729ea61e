/* Runtime ISA detection and the dispatch level every kernel family follows. */
#ifndef FUSION_CPU_H
#define FUSION_CPU_H

#include <fusion/status.h>

#include <stdbool.h>
#include <stddef.h>

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

/* What the CPU and the OS together support (cpuid checked against xgetbv). */
typedef struct fsn_cpu_features {
  bool sse41, aesni, pclmul, avx, avx2, fma, bmi2;
  bool avx512f, avx512bw, avx512vl, avx512dq, avx512ifma;
  bool vaes, vpclmulqdq, gfni;
  bool os_ymm, os_zmm; /* the OS saves the register state (XCR0) */
} fsn_cpu_features;

/* Detected once, thread-safe; never fails. */
const fsn_cpu_features *fsn_cpu(void);

/* The same features as bits, for kernel variants to declare what they need (see kernels/variants.h). */
enum {
  FSN_CPU_SSE41 = 1u << 0,
  FSN_CPU_AESNI = 1u << 1,
  FSN_CPU_PCLMUL = 1u << 2,
  FSN_CPU_AVX2 = 1u << 3,
  FSN_CPU_FMA = 1u << 4,
  FSN_CPU_BMI2 = 1u << 5,
  FSN_CPU_AVX512F = 1u << 6,
  FSN_CPU_AVX512BW = 1u << 7,
  FSN_CPU_AVX512VL = 1u << 8,
  FSN_CPU_AVX512DQ = 1u << 9,
  FSN_CPU_AVX512IFMA = 1u << 10,
  FSN_CPU_VAES = 1u << 11,
  FSN_CPU_VPCLMULQDQ = 1u << 12,
  FSN_CPU_GFNI = 1u << 13,
  /* What each level requires of the CPU and the OS. */
  FSN_CPU_LEVEL_AVX2 = FSN_CPU_SSE41 | FSN_CPU_AESNI | FSN_CPU_PCLMUL | FSN_CPU_AVX2 | FSN_CPU_FMA | FSN_CPU_BMI2,
  FSN_CPU_LEVEL_AVX512 = FSN_CPU_LEVEL_AVX2 | FSN_CPU_AVX512F | FSN_CPU_AVX512BW | FSN_CPU_AVX512VL | FSN_CPU_AVX512DQ,
};

/* fsn_cpu() as FSN_CPU_* bits (features whose register state the OS does not save are absent). */
unsigned fsn_cpu_feature_bits(void);

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

/* Library start-up: detects the CPU and honours FSN_ISA. Returns FSN_E_UNSUPPORTED (with fsn_last_error()) if
 * FSN_ISA names a level the machine lacks, FSN_E_INVALID for an unknown name, and initialises libsodium. */
FSN_NODISCARD fsn_status fsn_init(void);

#ifdef __cplusplus
}
#endif
#endif
