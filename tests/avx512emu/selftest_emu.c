/* The stand-in side of selftest_host.c: each op of a table applies one stand-in intrinsic to 64-byte operands. Only
 * this file includes the stand-in header; selftest_host.c computes the same ops with the host's real AVX2 / AES-NI
 * instructions, lane by lane, and compares. */
#include <immintrin.h>

#include "tests/avx512emu/selftest.h"

int fsn_emu_vaes(void) { return 1; } /* the self-test runs VAES as if present (cpu.c is not linked) */

static __m512i in_i(const uint8_t p[64]) { return _mm512_loadu_si512(p); }
static __m512d in_d(const uint8_t p[64]) { return _mm512_castsi512_pd(_mm512_loadu_si512(p)); }
static void out_i(uint8_t p[64], __m512i x) { _mm512_storeu_si512(p, x); }
static void out_d(uint8_t p[64], __m512d x) { _mm512_storeu_si512(p, _mm512_castpd_si512(x)); }
static __m128i count(const uint8_t b[64]) { return _mm_set_epi64x(0, (long long)(b[0] % 80)); }

void emu_op(int op, int imm, uint8_t out[64], const uint8_t a[64], const uint8_t b[64]) {
  memset(out, 0, 64);
  switch ((selftest_op)op) {
  case ST_ADD_EPI64: out_i(out, _mm512_add_epi64(in_i(a), in_i(b))); break;
  case ST_SUB_EPI64: out_i(out, _mm512_sub_epi64(in_i(a), in_i(b))); break;
  case ST_ADD_EPI8: out_i(out, _mm512_add_epi8(in_i(a), in_i(b))); break;
  case ST_MUL_EPU32: out_i(out, _mm512_mul_epu32(in_i(a), in_i(b))); break;
  case ST_AND_XOR: out_i(out, _mm512_xor_si512(_mm512_and_si512(in_i(a), in_i(b)), in_i(b))); break;
  case ST_SLL_EPI64: out_i(out, _mm512_sll_epi64(in_i(a), count(b))); break;
  case ST_SRL_EPI64: out_i(out, _mm512_srl_epi64(in_i(a), count(b))); break;
  case ST_SLLI_EPI64: out_i(out, _mm512_slli_epi64(in_i(a), (unsigned)imm)); break;
  case ST_SRLI_EPI64: out_i(out, _mm512_srli_epi64(in_i(a), (unsigned)imm)); break;
  case ST_UNPACKLO_EPI8: out_i(out, _mm512_unpacklo_epi8(in_i(a), in_i(b))); break;
  case ST_UNPACKHI_EPI8: out_i(out, _mm512_unpackhi_epi8(in_i(a), in_i(b))); break;
  case ST_SHUFFLE_EPI8: out_i(out, _mm512_shuffle_epi8(in_i(a), in_i(b))); break;
  case ST_SHUFFLE_EPI32: out_i(out, _mm512_shuffle_epi32(in_i(a), (_MM_PERM_ENUM)imm)); break;
  case ST_BLEND_EPI32: out_i(out, _mm512_mask_blend_epi32((__mmask16)(imm * 0x0101), in_i(a), in_i(b))); break;
  case ST_MOVEPI8_MASK: {
    const uint64_t k = _mm512_movepi8_mask(in_i(a));
    memcpy(out, &k, 8);
    break;
  }
  case ST_ADD_PD: out_d(out, _mm512_add_pd(in_d(a), in_d(b))); break;
  case ST_SUB_PD: out_d(out, _mm512_sub_pd(in_d(a), in_d(b))); break;
  case ST_MUL_PD: out_d(out, _mm512_mul_pd(in_d(a), in_d(b))); break;
  case ST_ABS_PD: out_d(out, _mm512_abs_pd(in_d(a))); break;
  case ST_AND_OR_PD: out_d(out, _mm512_or_pd(_mm512_and_pd(in_d(a), in_d(b)), in_d(b))); break;
  case ST_CMP_PD: out[0] = _mm512_cmp_pd_mask(in_d(a), in_d(b), imm); break;
  case ST_ROUNDSCALE_PD: out_d(out, _mm512_roundscale_pd(in_d(a), imm)); break;
  case ST_AESENC: out_i(out, _mm512_aesenc_epi128(in_i(a), in_i(b))); break;
  case ST_AESENCLAST: out_i(out, _mm512_aesenclast_epi128(in_i(a), in_i(b))); break;
  case ST_GATHER: {
    /* a: 8 indices into b's 8 words (scale 8) */
    __m512i index = _mm512_set1_epi64(0);
    for (int i = 0; i < 8; i++)
      index = _mm512_mask_blend_epi32((__mmask16)(3u << (2 * i)), index, _mm512_set1_epi64(a[8 * i] % 8));
    out_i(out, _mm512_i64gather_epi64(index, b, 8));
    break;
  }
  case ST_COUNT: break;
  }
}
