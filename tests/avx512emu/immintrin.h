/* Plain-C stand-ins for every intrinsic the kernels' variant files beyond the avx2 level use (*_avx512*.c and
 * *_avx2_vaes.c, with the few _mm_ / _mm256_ ones they call too, since this header replaces the whole of
 * <immintrin.h>), so their logic can be checked against the oracle on a machine without those features (see run.sh).
 * Not a general emulator: only what those files call, each with the lane semantics of Intel's definition. Masked loads
 * and stores touch only live lanes; aligned loads and stores (and the non-temporal store, which needs alignment too)
 * trap when misaligned; the undefined upper lanes of a widening cast hold a poison pattern rather than zeros, so code
 * relying on them shows; the AES rounds follow FIPS-197 and trap unless the emulated CPU has VAES. Little-endian byte
 * order throughout, as on x86. selftest_host.c compares every stand-in that has a 256- or 128-bit counterpart with the
 * host's real AVX2 / AES-NI instruction. */
#pragma once
#include <math.h>
#include <stdint.h>
#include <string.h>

typedef union {
  uint64_t q[8];
  uint32_t d[16];
  uint8_t b[64];
} __m512i;
typedef union {
  double f[8];
  uint64_t q[8];
} __m512d;
typedef union {
  uint64_t q[4];
  uint8_t b[32];
} __m256i;
typedef union {
  uint64_t q[2];
  uint8_t b[16];
} __m128i;
typedef uint8_t __mmask8;
typedef uint16_t __mmask16;
typedef uint64_t __mmask64;
typedef enum { _MM_PERM_AAAA = 0x00, _MM_PERM_DDDD = 0xff } _MM_PERM_ENUM;

#define _MM_FROUND_TO_NEAREST_INT 0x00
#define _MM_FROUND_TO_NEG_INF     0x01
#define _MM_FROUND_TO_POS_INF     0x02
#define _MM_FROUND_TO_ZERO        0x03
#define _MM_FROUND_CUR_DIRECTION  0x04
#define _MM_FROUND_RAISE_EXC      0x00
#define _MM_FROUND_NO_EXC         0x08

/* Comparison predicates: the low 4 bits choose the relation, bit 4 only swaps quiet and signalling (no effect on the
 * result; exception flags are not modelled). */
#define _CMP_EQ_OQ    0x00
#define _CMP_LT_OS    0x01
#define _CMP_LE_OS    0x02
#define _CMP_UNORD_Q  0x03
#define _CMP_NEQ_UQ   0x04
#define _CMP_NLT_US   0x05
#define _CMP_NLE_US   0x06
#define _CMP_ORD_Q    0x07
#define _CMP_EQ_UQ    0x08
#define _CMP_NGE_US   0x09
#define _CMP_NGT_US   0x0a
#define _CMP_FALSE_OQ 0x0b
#define _CMP_NEQ_OQ   0x0c
#define _CMP_GE_OS    0x0d
#define _CMP_GT_OS    0x0e
#define _CMP_TRUE_UQ  0x0f
#define _CMP_EQ_OS    0x10
#define _CMP_LT_OQ    0x11
#define _CMP_LE_OQ    0x12
#define _CMP_UNORD_S  0x13
#define _CMP_NEQ_US   0x14
#define _CMP_NLT_UQ   0x15
#define _CMP_NLE_UQ   0x16
#define _CMP_ORD_S    0x17
#define _CMP_EQ_US    0x18
#define _CMP_NGE_UQ   0x19
#define _CMP_NGT_UQ   0x1a
#define _CMP_FALSE_OS 0x1b
#define _CMP_NEQ_OS   0x1c
#define _CMP_GE_OQ    0x1d
#define _CMP_GT_OQ    0x1e
#define _CMP_TRUE_US  0x1f

#define EMU_POISON 0xdeadbeefdeadbeefull
#define EMU_TRAP_MISALIGNED(p, n)                                                                                      \
  do {                                                                                                                 \
    if ((uintptr_t)(p) % (n)) __builtin_trap();                                                                        \
  } while (0)

/* ---- 128 and 256 bits ---- */

static inline __m128i _mm_cvtsi32_si128(int x) {
  __m128i r = {{(uint64_t)(uint32_t)x, 0}};
  return r;
}
static inline __m128i _mm_set_epi64x(long long e1, long long e0) {
  __m128i r = {{(uint64_t)e0, (uint64_t)e1}};
  return r;
}
static inline __m128i _mm_set_epi8(char e15, char e14, char e13, char e12, char e11, char e10, char e9, char e8,
                                   char e7, char e6, char e5, char e4, char e3, char e2, char e1, char e0) {
  const char e[16] = {e0, e1, e2, e3, e4, e5, e6, e7, e8, e9, e10, e11, e12, e13, e14, e15};
  __m128i r;
  for (int i = 0; i < 16; i++) r.b[i] = (uint8_t)e[i];
  return r;
}
static inline __m128i _mm_loadu_si128(const __m128i *p) {
  __m128i r;
  memcpy(&r, p, 16);
  return r;
}
static inline void _mm_storeu_si128(__m128i *p, __m128i a) { memcpy(p, &a, 16); }
static inline __m128i _mm_xor_si128(__m128i a, __m128i b) {
  __m128i r = {{a.q[0] ^ b.q[0], a.q[1] ^ b.q[1]}};
  return r;
}
/* Orders stores against stores; within one thread of plain C a compiler barrier is all that is left of it. */
static inline void _mm_sfence(void) { __asm__ __volatile__("" ::: "memory"); }

static inline __m128i _mm256_castsi256_si128(__m256i a) {
  __m128i r = {{a.q[0], a.q[1]}};
  return r;
}
static inline __m128i _mm256_extracti128_si256(__m256i a, int imm) {
  __m128i r = {{a.q[2 * (imm & 1)], a.q[2 * (imm & 1) + 1]}};
  return r;
}
static inline __m256i _mm256_xor_si256(__m256i a, __m256i b) {
  __m256i r;
  for (int i = 0; i < 4; i++) r.q[i] = a.q[i] ^ b.q[i];
  return r;
}

/* ---- 512 bits: set, cast, insert and extract ---- */

static inline __m512i _mm512_setzero_si512(void) {
  __m512i r;
  memset(&r, 0, sizeof r);
  return r;
}
static inline __m512i _mm512_set1_epi64(long long x) {
  __m512i r;
  for (int i = 0; i < 8; i++) r.q[i] = (uint64_t)x;
  return r;
}
static inline __m512i _mm512_set1_epi32(int x) {
  __m512i r;
  for (int i = 0; i < 16; i++) r.d[i] = (uint32_t)x;
  return r;
}
static inline __m512i _mm512_set1_epi8(char x) {
  __m512i r;
  memset(r.b, (uint8_t)x, 64);
  return r;
}
static inline __m512d _mm512_set1_pd(double x) {
  __m512d r;
  for (int i = 0; i < 8; i++) r.f[i] = x;
  return r;
}
static inline __m512i _mm512_set_epi64(long long e7, long long e6, long long e5, long long e4, long long e3,
                                       long long e2, long long e1, long long e0) {
  __m512i r = {
      {(uint64_t)e0, (uint64_t)e1, (uint64_t)e2, (uint64_t)e3, (uint64_t)e4, (uint64_t)e5, (uint64_t)e6, (uint64_t)e7}};
  return r;
}
static inline __m512i _mm512_castpd_si512(__m512d a) {
  __m512i r;
  memcpy(&r, &a, 64);
  return r;
}
static inline __m512d _mm512_castsi512_pd(__m512i a) {
  __m512d r;
  memcpy(&r, &a, 64);
  return r;
}
static inline __m512i _mm512_castsi128_si512(__m128i a) { /* bits 511:128 undefined */
  __m512i r = {{a.q[0], a.q[1], EMU_POISON, EMU_POISON, EMU_POISON, EMU_POISON, EMU_POISON, EMU_POISON}};
  return r;
}
static inline __m256i _mm512_castsi512_si256(__m512i a) {
  __m256i r = {{a.q[0], a.q[1], a.q[2], a.q[3]}};
  return r;
}
static inline __m256i _mm512_extracti64x4_epi64(__m512i a, int imm) {
  const int h = 4 * (imm & 1);
  __m256i r = {{a.q[h], a.q[h + 1], a.q[h + 2], a.q[h + 3]}};
  return r;
}
static inline __m512i _mm512_inserti32x4(__m512i a, __m128i b, int imm) {
  a.q[2 * (imm & 3)] = b.q[0];
  a.q[2 * (imm & 3) + 1] = b.q[1];
  return a;
}
static inline __m512i _mm512_broadcast_i32x4(__m128i a) {
  __m512i r;
  for (int i = 0; i < 8; i++) r.q[i] = a.q[i % 2];
  return r;
}

/* ---- loads and stores ---- */

static inline __m512i _mm512_loadu_si512(const void *p) {
  __m512i r;
  memcpy(&r, p, 64);
  return r;
}
static inline __m512i _mm512_load_si512(const void *p) {
  EMU_TRAP_MISALIGNED(p, 64);
  return _mm512_loadu_si512(p);
}
static inline void _mm512_storeu_si512(void *p, __m512i a) { memcpy(p, &a, 64); }
static inline void _mm512_store_si512(void *p, __m512i a) {
  EMU_TRAP_MISALIGNED(p, 64);
  memcpy(p, &a, 64);
}
/* vmovntdq: 64-byte alignment required; the non-temporal hint itself is not modelled. */
static inline void _mm512_stream_si512(void *p, __m512i a) {
  EMU_TRAP_MISALIGNED(p, 64);
  memcpy(p, &a, 64);
}
static inline __m512i _mm512_maskz_loadu_epi64(__mmask8 k, const void *p) {
  __m512i r = _mm512_setzero_si512();
  for (int i = 0; i < 8; i++)
    if ((k >> i) & 1) memcpy(&r.q[i], (const uint8_t *)p + 8 * i, 8);
  return r;
}
static inline __m512i _mm512_maskz_loadu_epi8(__mmask64 k, const void *p) {
  __m512i r = _mm512_setzero_si512();
  for (int i = 0; i < 64; i++)
    if ((k >> i) & 1) r.b[i] = ((const uint8_t *)p)[i];
  return r;
}
static inline __m512d _mm512_maskz_loadu_pd(__mmask8 k, const void *p) {
  return _mm512_castsi512_pd(_mm512_maskz_loadu_epi64(k, p));
}
static inline void _mm512_mask_storeu_epi64(void *p, __mmask8 k, __m512i a) {
  for (int i = 0; i < 8; i++)
    if ((k >> i) & 1) memcpy((uint8_t *)p + 8 * i, &a.q[i], 8);
}
static inline void _mm512_mask_storeu_epi8(void *p, __mmask64 k, __m512i a) {
  for (int i = 0; i < 64; i++)
    if ((k >> i) & 1) ((uint8_t *)p)[i] = a.b[i];
}
static inline void _mm512_mask_storeu_pd(void *p, __mmask8 k, __m512d a) {
  _mm512_mask_storeu_epi64(p, k, _mm512_castpd_si512(a));
}
static inline __m512i _mm512_i64gather_epi64(__m512i index, const void *base, int scale) {
  __m512i r;
  for (int i = 0; i < 8; i++) memcpy(&r.q[i], (const uint8_t *)base + (int64_t)index.q[i] * scale, 8);
  return r;
}

/* ---- integer lanes ---- */

#define EMU_BIN64(name, expr)                                                                                          \
  static inline __m512i name(__m512i a, __m512i b) {                                                                   \
    __m512i r;                                                                                                         \
    for (int i = 0; i < 8; i++) {                                                                                      \
      const uint64_t x = a.q[i], y = b.q[i];                                                                           \
      r.q[i] = (expr);                                                                                                 \
    }                                                                                                                  \
    return r;                                                                                                          \
  }
EMU_BIN64(_mm512_add_epi64, x + y)
EMU_BIN64(_mm512_sub_epi64, x - y)
EMU_BIN64(_mm512_mullo_epi64, x *y)
EMU_BIN64(_mm512_mul_epu32, (x & 0xffffffffu) * (y & 0xffffffffu))
EMU_BIN64(_mm512_and_si512, x &y)
EMU_BIN64(_mm512_xor_si512, x ^ y)
EMU_BIN64(_mm512_max_epi64, (int64_t)x > (int64_t)y ? x : y)
EMU_BIN64(_mm512_or_si512, x | y)
EMU_BIN64(_mm512_min_epu64, x < y ? x : y)
/* IFMA (vpmadd52luq / vpmadd52huq): the unsigned 104-bit product of the low 52 bits of b and c; its low (lo) or high
 * (hi) 52 bits are zero-extended and added to the whole 64-bit lane of a, wrapping mod 2^64. Bits 63:52 of b and c
 * are ignored. */
static inline unsigned __int128 emu_mul52(uint64_t b, uint64_t c) {
  const uint64_t m52 = ((uint64_t)1 << 52) - 1;
  return (unsigned __int128)(b & m52) * (c & m52);
}
static inline __m512i _mm512_madd52lo_epu64(__m512i a, __m512i b, __m512i c) {
  for (int i = 0; i < 8; i++) a.q[i] += (uint64_t)emu_mul52(b.q[i], c.q[i]) & (((uint64_t)1 << 52) - 1);
  return a;
}
static inline __m512i _mm512_madd52hi_epu64(__m512i a, __m512i b, __m512i c) {
  for (int i = 0; i < 8; i++) a.q[i] += (uint64_t)(emu_mul52(b.q[i], c.q[i]) >> 52);
  return a;
}
static inline __m512i _mm512_add_epi8(__m512i a, __m512i b) {
  __m512i r;
  for (int i = 0; i < 64; i++) r.b[i] = (uint8_t)(a.b[i] + b.b[i]);
  return r;
}
static inline __m512i _mm512_sll_epi64(__m512i a, __m128i count) {
  __m512i r;
  for (int i = 0; i < 8; i++) r.q[i] = count.q[0] > 63 ? 0 : a.q[i] << count.q[0];
  return r;
}
static inline __m512i _mm512_srl_epi64(__m512i a, __m128i count) {
  __m512i r;
  for (int i = 0; i < 8; i++) r.q[i] = count.q[0] > 63 ? 0 : a.q[i] >> count.q[0];
  return r;
}
static inline __m512i _mm512_slli_epi64(__m512i a, unsigned imm) {
  __m512i r;
  for (int i = 0; i < 8; i++) r.q[i] = imm > 63 ? 0 : a.q[i] << imm;
  return r;
}
static inline __m512i _mm512_srli_epi64(__m512i a, unsigned imm) {
  __m512i r;
  for (int i = 0; i < 8; i++) r.q[i] = imm > 63 ? 0 : a.q[i] >> imm;
  return r;
}
/* GCC 12 defines this through signed long long vector additions (halves, then quarters, then the pair), so a sum
 * that leaves the signed range is undefined behaviour there and UBSan reports it on real AVX-512. The stand-in adds
 * in the same order in the same signed type, so the emulated sanitised run catches code that relies on wrap-around. */
static inline long long _mm512_reduce_add_epi64(__m512i a) {
  long long half[4], quarter[2];
  for (int i = 0; i < 4; i++) half[i] = (long long)a.q[4 + i] + (long long)a.q[i];
  for (int i = 0; i < 2; i++) quarter[i] = half[2 + i] + half[i];
  return quarter[0] + quarter[1];
}

/* ---- masks ---- */

static inline __mmask8 _mm512_test_epi64_mask(__m512i a, __m512i b) {
  __mmask8 k = 0;
  for (int i = 0; i < 8; i++) k |= (__mmask8)((a.q[i] & b.q[i]) != 0) << i;
  return k;
}
static inline __mmask64 _mm512_test_epi8_mask(__m512i a, __m512i b) {
  __mmask64 k = 0;
  for (int i = 0; i < 64; i++) k |= (__mmask64)((a.b[i] & b.b[i]) != 0) << i;
  return k;
}
static inline __mmask64 _mm512_movepi8_mask(__m512i a) {
  __mmask64 k = 0;
  for (int i = 0; i < 64; i++) k |= (__mmask64)(a.b[i] >> 7) << i;
  return k;
}
static inline __m512i _mm512_movm_epi64(__mmask8 k) {
  __m512i r;
  for (int i = 0; i < 8; i++) r.q[i] = (k >> i) & 1 ? ~(uint64_t)0 : 0;
  return r;
}
static inline __m512i _mm512_maskz_mov_epi64(__mmask8 k, __m512i a) {
  for (int i = 0; i < 8; i++)
    if (!((k >> i) & 1)) a.q[i] = 0;
  return a;
}
static inline __m512i _mm512_maskz_mov_epi8(__mmask64 k, __m512i a) {
  for (int i = 0; i < 64; i++)
    if (!((k >> i) & 1)) a.b[i] = 0;
  return a;
}
static inline __m512d _mm512_maskz_mov_pd(__mmask8 k, __m512d a) {
  return _mm512_castsi512_pd(_mm512_maskz_mov_epi64(k, _mm512_castpd_si512(a)));
}
static inline __m512i _mm512_mask_blend_epi64(__mmask8 k, __m512i a, __m512i b) {
  for (int i = 0; i < 8; i++)
    if ((k >> i) & 1) a.q[i] = b.q[i];
  return a;
}
static inline __mmask8 _mm512_cmpgt_epu64_mask(__m512i a, __m512i b) {
  __mmask8 k = 0;
  for (int i = 0; i < 8; i++) k |= (__mmask8)((a.q[i] > b.q[i]) << i);
  return k;
}
static inline __m512i _mm512_mask_blend_epi32(__mmask16 k, __m512i a, __m512i b) {
  for (int i = 0; i < 16; i++)
    if ((k >> i) & 1) a.d[i] = b.d[i];
  return a;
}

/* ---- permutes and shuffles (the byte and dword ones stay within each 128-bit lane) ---- */

static inline __m512i _mm512_permutex2var_epi64(__m512i a, __m512i index, __m512i b) {
  __m512i r;
  for (int i = 0; i < 8; i++) {
    const unsigned j = index.q[i] & 15;
    r.q[i] = j < 8 ? a.q[j] : b.q[j - 8];
  }
  return r;
}
/* vpermq with a vector index: lane i takes a's lane idx[i] mod 8 (note the argument order: index first). */
static inline __m512i _mm512_permutexvar_epi64(__m512i idx, __m512i a) {
  __m512i r;
  for (int i = 0; i < 8; i++) r.q[i] = a.q[idx.q[i] & 7];
  return r;
}
static inline __m512i _mm512_shuffle_epi32(__m512i a, _MM_PERM_ENUM imm) {
  __m512i r;
  for (int i = 0; i < 16; i++) r.d[i] = a.d[(i & ~3) + (((unsigned)imm >> (2 * (i & 3))) & 3)];
  return r;
}
static inline __m512i _mm512_shuffle_epi8(__m512i a, __m512i b) {
  __m512i r;
  for (int i = 0; i < 64; i++) r.b[i] = b.b[i] & 0x80 ? 0 : a.b[(i & ~15) + (b.b[i] & 15)];
  return r;
}
static inline __m512i _mm512_unpacklo_epi8(__m512i a, __m512i b) {
  __m512i r;
  for (int lane = 0; lane < 64; lane += 16)
    for (int i = 0; i < 8; i++) r.b[lane + 2 * i] = a.b[lane + i], r.b[lane + 2 * i + 1] = b.b[lane + i];
  return r;
}
static inline __m512i _mm512_unpackhi_epi8(__m512i a, __m512i b) {
  __m512i r;
  for (int lane = 0; lane < 64; lane += 16)
    for (int i = 0; i < 8; i++) r.b[lane + 2 * i] = a.b[lane + 8 + i], r.b[lane + 2 * i + 1] = b.b[lane + 8 + i];
  return r;
}

/* ---- doubles ---- */

#define EMU_BINPD(name, expr)                                                                                          \
  static inline __m512d name(__m512d a, __m512d b) {                                                                   \
    __m512d r;                                                                                                         \
    for (int i = 0; i < 8; i++) {                                                                                      \
      const double x = a.f[i], y = b.f[i];                                                                             \
      r.f[i] = (expr);                                                                                                 \
    }                                                                                                                  \
    return r;                                                                                                          \
  }
EMU_BINPD(_mm512_add_pd, x + y)
EMU_BINPD(_mm512_sub_pd, x - y)
EMU_BINPD(_mm512_mul_pd, x *y)
#define EMU_BITPD(name, op)                                                                                            \
  static inline __m512d name(__m512d a, __m512d b) {                                                                   \
    for (int i = 0; i < 8; i++) a.q[i] op b.q[i];                                                                      \
    return a;                                                                                                          \
  }
EMU_BITPD(_mm512_and_pd, &=)
EMU_BITPD(_mm512_or_pd, |=)
static inline __m512d _mm512_abs_pd(__m512d a) { /* clears the sign bit, NaNs included */
  for (int i = 0; i < 8; i++) a.q[i] &= ~((uint64_t)1 << 63);
  return a;
}

static inline int emu_cmp_pd(double a, double b, int predicate) {
  const int u = isnan(a) || isnan(b), eq = a == b, lt = a<b, gt = a> b;
  switch (predicate & 15) {
  case _CMP_EQ_OQ: return !u && eq;
  case _CMP_LT_OS: return lt;
  case _CMP_LE_OS: return lt || eq;
  case _CMP_UNORD_Q: return u;
  case _CMP_NEQ_UQ: return u || !eq;
  case _CMP_NLT_US: return !lt;
  case _CMP_NLE_US: return !(lt || eq);
  case _CMP_ORD_Q: return !u;
  case _CMP_EQ_UQ: return u || eq;
  case _CMP_NGE_US: return !(gt || eq);
  case _CMP_NGT_US: return !gt;
  case _CMP_FALSE_OQ: return 0;
  case _CMP_NEQ_OQ: return !u && !eq;
  case _CMP_GE_OS: return gt || eq;
  case _CMP_GT_OS: return gt;
  default: return 1; /* _CMP_TRUE_UQ */
  }
}
static inline __mmask8 _mm512_cmp_pd_mask(__m512d a, __m512d b, int predicate) {
  __mmask8 k = 0;
  for (int i = 0; i < 8; i++) k |= (__mmask8)emu_cmp_pd(a.f[i], b.f[i], predicate) << i;
  return k;
}

/* vrndscalepd: round to imm[7:4] fraction bits, by imm[1:0] (nearest even, down, up, toward zero) or, with imm[2],
 * by the current rounding mode; NaNs come back quiet, infinities and values without such fraction bits unchanged,
 * and a zero result keeps the sign of the input. */
static inline double emu_roundscale(double x, int imm) {
  if (isnan(x)) {
    uint64_t bits;
    memcpy(&bits, &x, 8);
    bits |= (uint64_t)1 << 51;
    memcpy(&x, &bits, 8);
    return x;
  }
  if (isinf(x) || fabs(x) >= 0x1p52) return x; /* every such double is an integer */
  const int m = (imm >> 4) & 15;
  const double y = ldexp(x, m); /* exact: |y| < 2^67 */
  double r;
  switch (imm & 4 ? 4 : imm & 3) {
  case _MM_FROUND_TO_NEAREST_INT: {
    r = floor(y);
    const double frac = y - r;
    if (frac > 0.5 || (frac == 0.5 && fmod(r, 2.0) != 0)) r += 1;
    break;
  }
  case _MM_FROUND_TO_NEG_INF: r = floor(y); break;
  case _MM_FROUND_TO_POS_INF: r = ceil(y); break;
  case _MM_FROUND_TO_ZERO: r = trunc(y); break;
  default: r = nearbyint(y); break;
  }
  r = ldexp(r, -m);
  return r == 0 ? copysign(0.0, x) : r;
}
static inline __m512d _mm512_roundscale_pd(__m512d a, int imm) {
  for (int i = 0; i < 8; i++) a.f[i] = emu_roundscale(a.f[i], imm);
  return a;
}

/* ---- AES (VAES on zmm: one AES-NI round per 128-bit lane), FIPS-197 section 5.1 ---- */

static const uint8_t emu_aes_sbox[256] = {
    0x63, 0x7c, 0x77, 0x7b, 0xf2, 0x6b, 0x6f, 0xc5, 0x30, 0x01, 0x67, 0x2b, 0xfe, 0xd7, 0xab, 0x76, /* 0x00 */
    0xca, 0x82, 0xc9, 0x7d, 0xfa, 0x59, 0x47, 0xf0, 0xad, 0xd4, 0xa2, 0xaf, 0x9c, 0xa4, 0x72, 0xc0, /* 0x10 */
    0xb7, 0xfd, 0x93, 0x26, 0x36, 0x3f, 0xf7, 0xcc, 0x34, 0xa5, 0xe5, 0xf1, 0x71, 0xd8, 0x31, 0x15, /* 0x20 */
    0x04, 0xc7, 0x23, 0xc3, 0x18, 0x96, 0x05, 0x9a, 0x07, 0x12, 0x80, 0xe2, 0xeb, 0x27, 0xb2, 0x75, /* 0x30 */
    0x09, 0x83, 0x2c, 0x1a, 0x1b, 0x6e, 0x5a, 0xa0, 0x52, 0x3b, 0xd6, 0xb3, 0x29, 0xe3, 0x2f, 0x84, /* 0x40 */
    0x53, 0xd1, 0x00, 0xed, 0x20, 0xfc, 0xb1, 0x5b, 0x6a, 0xcb, 0xbe, 0x39, 0x4a, 0x4c, 0x58, 0xcf, /* 0x50 */
    0xd0, 0xef, 0xaa, 0xfb, 0x43, 0x4d, 0x33, 0x85, 0x45, 0xf9, 0x02, 0x7f, 0x50, 0x3c, 0x9f, 0xa8, /* 0x60 */
    0x51, 0xa3, 0x40, 0x8f, 0x92, 0x9d, 0x38, 0xf5, 0xbc, 0xb6, 0xda, 0x21, 0x10, 0xff, 0xf3, 0xd2, /* 0x70 */
    0xcd, 0x0c, 0x13, 0xec, 0x5f, 0x97, 0x44, 0x17, 0xc4, 0xa7, 0x7e, 0x3d, 0x64, 0x5d, 0x19, 0x73, /* 0x80 */
    0x60, 0x81, 0x4f, 0xdc, 0x22, 0x2a, 0x90, 0x88, 0x46, 0xee, 0xb8, 0x14, 0xde, 0x5e, 0x0b, 0xdb, /* 0x90 */
    0xe0, 0x32, 0x3a, 0x0a, 0x49, 0x06, 0x24, 0x5c, 0xc2, 0xd3, 0xac, 0x62, 0x91, 0x95, 0xe4, 0x79, /* 0xa0 */
    0xe7, 0xc8, 0x37, 0x6d, 0x8d, 0xd5, 0x4e, 0xa9, 0x6c, 0x56, 0xf4, 0xea, 0x65, 0x7a, 0xae, 0x08, /* 0xb0 */
    0xba, 0x78, 0x25, 0x2e, 0x1c, 0xa6, 0xb4, 0xc6, 0xe8, 0xdd, 0x74, 0x1f, 0x4b, 0xbd, 0x8b, 0x8a, /* 0xc0 */
    0x70, 0x3e, 0xb5, 0x66, 0x48, 0x03, 0xf6, 0x0e, 0x61, 0x35, 0x57, 0xb9, 0x86, 0xc1, 0x1d, 0x9e, /* 0xd0 */
    0xe1, 0xf8, 0x98, 0x11, 0x69, 0xd9, 0x8e, 0x94, 0x9b, 0x1e, 0x87, 0xe9, 0xce, 0x55, 0x28, 0xdf, /* 0xe0 */
    0x8c, 0xa1, 0x89, 0x0d, 0xbf, 0xe6, 0x42, 0x68, 0x41, 0x99, 0x2d, 0x0f, 0xb0, 0x54, 0xbb, 0x16, /* 0xf0 */
};
#define EMU_ROTR32(x, n) ((x) >> (n) | (x) << (32 - (n)))

/* SubBytes and MixColumns of a row-0 byte x, as the column word it contributes: (2 S(x), S(x), S(x), 3 S(x))
 * little-endian; a row-r byte contributes the word rotated left by 8r bits. Filled from the S-box before main. */
static uint32_t emu_aes_te[256];
__attribute__((constructor)) static void emu_aes_te_init(void) {
  for (int x = 0; x < 256; x++) {
    const uint32_t s = emu_aes_sbox[x], s2 = ((s << 1) ^ (s & 0x80 ? 0x1b : 0)) & 0xff;
    emu_aes_te[x] = s2 | s << 8 | s << 16 | (s2 ^ s) << 24;
  }
}

/* One round on each 128-bit lane. A lane is four column words (little-endian), byte r of column c being state row r,
 * column c (the FIPS-197 input order). ShiftRows (row r rotated left by r: new column c takes row r from old column
 * c + r) and SubBytes commute, so both are one gather of bytes b_r; then MixColumns unless last (the sum over rows of
 * te[b_r] rotated), then AddRoundKey. Not instrumented by the sanitizers: it reads only its arguments and the tables
 * at byte indices, and checking every lookup would make the prg-heavy suites crawl. */
__attribute__((no_sanitize("address", "undefined"))) static inline __m512i emu_aes_round(__m512i a, __m512i key,
                                                                                         int last) {
  const uint8_t *sbox = emu_aes_sbox;
  const uint32_t *te = emu_aes_te;
  __m512i r;
  for (int lane = 0; lane < 16; lane += 4) {
    const uint32_t *x = &a.d[lane];
    for (int c = 0; c < 4; c++) {
      const uint32_t b0 = x[c] & 0xff, b1 = (x[(c + 1) & 3] >> 8) & 0xff, b2 = (x[(c + 2) & 3] >> 16) & 0xff,
                     b3 = x[(c + 3) & 3] >> 24;
      const uint32_t w =
          last ? (uint32_t)sbox[b0] | (uint32_t)sbox[b1] << 8 | (uint32_t)sbox[b2] << 16 | (uint32_t)sbox[b3] << 24
               : te[b0] ^ EMU_ROTR32(te[b1], 24) ^ EMU_ROTR32(te[b2], 16) ^ EMU_ROTR32(te[b3], 8);
      r.d[lane + c] = w ^ key.d[lane + c];
    }
  }
  return r;
}
/* VAES is a CPUID feature of its own, which AVX-512 F/BW/VL/DQ does not imply: without it vaesenc on zmm is #UD.
 * fsn_emu_vaes (tests/avx512emu/cpu.c) says whether the emulated CPU has it. */
int fsn_emu_vaes(void);
static inline __m512i _mm512_aesenc_epi128(__m512i a, __m512i key) {
  if (!fsn_emu_vaes()) __builtin_trap();
  return emu_aes_round(a, key, 0);
}
static inline __m512i _mm512_aesenclast_epi128(__m512i a, __m512i key) {
  if (!fsn_emu_vaes()) __builtin_trap();
  return emu_aes_round(a, key, 1);
}

/* ---- 256 bits on the 512-bit stand-ins (VAES on ymm, prg_avx2_vaes.c) ----
 * These ops act on each 128-bit lane alone (or on each element), so a ymm op is the low half of the zmm op on the
 * operands widened with poison; selftest_host.c's checks of the 512-bit forms cover them. */

static inline __m512i emu_widen256(__m256i a) {
  __m512i r = {{a.q[0], a.q[1], a.q[2], a.q[3], EMU_POISON, EMU_POISON, EMU_POISON, EMU_POISON}};
  return r;
}
static inline __m256i _mm256_setzero_si256(void) {
  __m256i r;
  memset(&r, 0, sizeof r);
  return r;
}
static inline __m256i _mm256_set1_epi32(int x) { return _mm512_castsi512_si256(_mm512_set1_epi32(x)); }
static inline __m256i _mm256_set_epi64x(long long e3, long long e2, long long e1, long long e0) {
  __m256i r = {{(uint64_t)e0, (uint64_t)e1, (uint64_t)e2, (uint64_t)e3}};
  return r;
}
static inline __m256i _mm256_loadu_si256(const __m256i *p) {
  __m256i r;
  memcpy(&r, p, 32);
  return r;
}
static inline void _mm256_storeu_si256(__m256i *p, __m256i a) { memcpy(p, &a, 32); }
static inline __m256i _mm256_broadcastsi128_si256(__m128i a) {
  __m256i r = {{a.q[0], a.q[1], a.q[0], a.q[1]}};
  return r;
}
static inline __m256i _mm256_add_epi8(__m256i a, __m256i b) {
  return _mm512_castsi512_si256(_mm512_add_epi8(emu_widen256(a), emu_widen256(b)));
}
static inline __m256i _mm256_add_epi64(__m256i a, __m256i b) {
  return _mm512_castsi512_si256(_mm512_add_epi64(emu_widen256(a), emu_widen256(b)));
}
static inline __m256i _mm256_shuffle_epi8(__m256i a, __m256i b) {
  return _mm512_castsi512_si256(_mm512_shuffle_epi8(emu_widen256(a), emu_widen256(b)));
}
static inline __m256i _mm256_shuffle_epi32(__m256i a, int imm) {
  return _mm512_castsi512_si256(_mm512_shuffle_epi32(emu_widen256(a), (_MM_PERM_ENUM)imm));
}
static inline __m256i _mm256_blend_epi32(__m256i a, __m256i b, int imm) {
  return _mm512_castsi512_si256(_mm512_mask_blend_epi32((__mmask16)(imm & 0xff), emu_widen256(a), emu_widen256(b)));
}
static inline __m256i _mm256_aesenc_epi128(__m256i a, __m256i key) {
  return _mm512_castsi512_si256(_mm512_aesenc_epi128(emu_widen256(a), emu_widen256(key)));
}
static inline __m256i _mm256_aesenclast_epi128(__m256i a, __m256i key) {
  return _mm512_castsi512_si256(_mm512_aesenclast_epi128(emu_widen256(a), emu_widen256(key)));
}
