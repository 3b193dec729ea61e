/* What the CPU and the OS support (detected once), and library start-up. Dispatch levels are in <fusion/isa.h>. */
#ifndef FUSION_CPU_H
#define FUSION_CPU_H

#include <fusion/status.h>

#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

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

/* Library start-up: detects the CPU and honours FSN_ISA. Returns FSN_E_UNSUPPORTED (with fsn_last_error()) if
 * FSN_ISA names a level the machine lacks, FSN_E_INVALID for an unknown name, and initialises libsodium. */
FSN_NODISCARD fsn_status fsn_init(void);

#ifdef __cplusplus
}
#endif
#endif
