/* The ops the stand-in self-test compares (selftest_emu.c against selftest_host.c). */
#ifndef FSN_TESTS_AVX512EMU_SELFTEST_H
#define FSN_TESTS_AVX512EMU_SELFTEST_H

#include <stdint.h>

typedef enum {
  ST_ADD_EPI64,
  ST_SUB_EPI64,
  ST_ADD_EPI8,
  ST_MUL_EPU32,
  ST_AND_XOR,
  ST_SLL_EPI64,
  ST_SRL_EPI64,
  ST_SLLI_EPI64,
  ST_SRLI_EPI64,
  ST_UNPACKLO_EPI8,
  ST_UNPACKHI_EPI8,
  ST_SHUFFLE_EPI8,
  ST_SHUFFLE_EPI32,
  ST_BLEND_EPI32,
  ST_MOVEPI8_MASK,
  ST_ADD_PD,
  ST_SUB_PD,
  ST_MUL_PD,
  ST_ABS_PD,
  ST_AND_OR_PD,
  ST_CMP_PD,
  ST_ROUNDSCALE_PD,
  ST_AESENC,
  ST_AESENCLAST,
  ST_GATHER,
  ST_COUNT
} selftest_op;

/* out = op(a, b) with the immediate imm, through the stand-in intrinsics. */
void emu_op(int op, int imm, uint8_t out[64], const uint8_t a[64], const uint8_t b[64]);

#endif
