/* Self-test of the stand-in intrinsics: every stand-in that has a 256- or 128-bit counterpart on an AVX2 + AES-NI
 * host is compared, bit for bit, with that counterpart run lane by lane on the real instructions (the 512-bit forms
 * are those lanes side by side), on random operands and on the doubles where semantics differ (signed zeros, halves,
 * 2^52 neighbours, subnormals, infinities, quiet and signalling NaNs). roundscale with fraction bits (imm[7:4] > 0)
 * has no 256-bit form: it is checked against the real vroundpd on x 2^M, scaled back. The rest (masked moves, blends
 * by mask, 64-bit multiply and max, permutex2var, ...) are one-line lane loops read against Intel's definition.
 * Built and run by run.sh with -mavx2 -maes; prints each mismatch and exits 1 on any. */
#include <immintrin.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/avx512emu/selftest.h"

static __m256i half_i(const uint8_t *p, int h) { return _mm256_loadu_si256((const __m256i *)(p + 32 * h)); }
static __m256d half_d(const uint8_t *p, int h) { return _mm256_loadu_pd((const double *)(p + 32 * h)); }
static void put_i(uint8_t *p, int h, __m256i x) { _mm256_storeu_si256((__m256i *)(p + 32 * h), x); }
static void put_d(uint8_t *p, int h, __m256d x) { _mm256_storeu_pd((double *)(p + 32 * h), x); }

#define IMM8_CASES(X)                                                                                                  \
  X(0x00) X(0x1b) X(0x4e) X(0xb1) X(0xe4) X(0x93) X(0x39) X(0xff) X(0xaa) X(0x55) X(0x0f) X(0xf0) X(0x96)
static const int imm8s[] = {
#define X(i) i,
    IMM8_CASES(X)
#undef X
};
#define X4(X, i)       X(i) X(i + 1) X(i + 2) X(i + 3)
#define CMP_CASES(X)   X4(X, 0) X4(X, 4) X4(X, 8) X4(X, 12) X4(X, 16) X4(X, 20) X4(X, 24) X4(X, 28)
#define ROUND_CASES(X) X(0) X(1) X(2) X(3) X(4) X(8) X(9) X(10) X(11) X(12)

static __m256i shuffle_epi32(__m256i a, int imm) {
  switch (imm) {
#define X(i)                                                                                                           \
  case i: return _mm256_shuffle_epi32(a, i);
    IMM8_CASES(X)
#undef X
  }
  __builtin_trap();
}
static __m256i blend_epi32(__m256i a, __m256i b, int imm) {
  switch (imm) {
#define X(i)                                                                                                           \
  case i: return _mm256_blend_epi32(a, b, i);
    IMM8_CASES(X)
#undef X
  }
  __builtin_trap();
}
static int cmp_pd(__m256d a, __m256d b, int imm) {
  switch (imm) {
#define X(i)                                                                                                           \
  case i: return _mm256_movemask_pd(_mm256_cmp_pd(a, b, i));
    CMP_CASES(X)
#undef X
  }
  __builtin_trap();
}
static __m256d round_pd(__m256d a, int imm) {
  switch (imm & 15) {
#define X(i)                                                                                                           \
  case i: return _mm256_round_pd(a, i);
    ROUND_CASES(X)
#undef X
  }
  __builtin_trap();
}
/* roundscale: the integer rounding of x 2^M by the real vroundpd, scaled back; x 2^M is exact below 2^52, and at or
 * above 2^52 (and for infinities and NaNs) there is nothing to round, so vroundpd on x itself is the answer. */
static __m256d roundscale_pd(__m256d a, int imm) {
  const int m = (imm >> 4) & 15;
  double x[4], r[4];
  _mm256_storeu_pd(x, a);
  for (int i = 0; i < 4; i++) {
    int big = !(fabs(x[i]) < 0x1p52);
    __m256d v = _mm256_set1_pd(big ? x[i] : ldexp(x[i], m));
    _mm256_storeu_pd(r, round_pd(v, imm));
    x[i] = big ? r[0] : ldexp(r[0], -m);
  }
  return _mm256_loadu_pd(x);
}

static void host_op(int op, int imm, uint8_t out[64], const uint8_t a[64], const uint8_t b[64]) {
  memset(out, 0, 64);
  const __m128i count = _mm_set_epi64x(0, b[0] % 80), count_imm = _mm_set_epi64x(0, imm);
  for (int h = 0; h < 2; h++) {
    const __m256i x = half_i(a, h), y = half_i(b, h);
    const __m256d u = half_d(a, h), v = half_d(b, h);
    switch ((selftest_op)op) {
    case ST_ADD_EPI64: put_i(out, h, _mm256_add_epi64(x, y)); break;
    case ST_SUB_EPI64: put_i(out, h, _mm256_sub_epi64(x, y)); break;
    case ST_ADD_EPI8: put_i(out, h, _mm256_add_epi8(x, y)); break;
    case ST_MUL_EPU32: put_i(out, h, _mm256_mul_epu32(x, y)); break;
    case ST_AND_XOR: put_i(out, h, _mm256_xor_si256(_mm256_and_si256(x, y), y)); break;
    case ST_SLL_EPI64: put_i(out, h, _mm256_sll_epi64(x, count)); break;
    case ST_SRL_EPI64: put_i(out, h, _mm256_srl_epi64(x, count)); break;
    case ST_SLLI_EPI64: put_i(out, h, _mm256_sll_epi64(x, count_imm)); break;
    case ST_SRLI_EPI64: put_i(out, h, _mm256_srl_epi64(x, count_imm)); break;
    case ST_UNPACKLO_EPI8: put_i(out, h, _mm256_unpacklo_epi8(x, y)); break;
    case ST_UNPACKHI_EPI8: put_i(out, h, _mm256_unpackhi_epi8(x, y)); break;
    case ST_SHUFFLE_EPI8: put_i(out, h, _mm256_shuffle_epi8(x, y)); break;
    case ST_SHUFFLE_EPI32: put_i(out, h, shuffle_epi32(x, imm)); break;
    case ST_BLEND_EPI32: put_i(out, h, blend_epi32(x, y, imm)); break;
    case ST_MOVEPI8_MASK: {
      const uint32_t k = (uint32_t)_mm256_movemask_epi8(x);
      memcpy(out + 4 * h, &k, 4);
      break;
    }
    case ST_ADD_PD: put_d(out, h, _mm256_add_pd(u, v)); break;
    case ST_SUB_PD: put_d(out, h, _mm256_sub_pd(u, v)); break;
    case ST_MUL_PD: put_d(out, h, _mm256_mul_pd(u, v)); break;
    case ST_ABS_PD: put_d(out, h, _mm256_andnot_pd(_mm256_set1_pd(-0.0), u)); break;
    case ST_AND_OR_PD: put_d(out, h, _mm256_or_pd(_mm256_and_pd(u, v), v)); break;
    case ST_CMP_PD: out[0] |= (uint8_t)(cmp_pd(u, v, imm) << (4 * h)); break;
    case ST_ROUNDSCALE_PD: put_d(out, h, roundscale_pd(u, imm)); break;
    case ST_AESENC:
    case ST_AESENCLAST:
      for (int l = 0; l < 2; l++) {
        const __m128i s = _mm_loadu_si128((const __m128i *)(a + 32 * h + 16 * l));
        const __m128i k = _mm_loadu_si128((const __m128i *)(b + 32 * h + 16 * l));
        _mm_storeu_si128((__m128i *)(out + 32 * h + 16 * l),
                         op == ST_AESENC ? _mm_aesenc_si128(s, k) : _mm_aesenclast_si128(s, k));
      }
      break;
    case ST_GATHER: {
      long long index[4];
      for (int i = 0; i < 4; i++) index[i] = a[8 * (4 * h + i)] % 8;
      put_i(out, h, _mm256_i64gather_epi64((const long long *)b, _mm256_loadu_si256((const __m256i *)index), 8));
      break;
    }
    case ST_COUNT: break;
    }
  }
}

static const char *const names[ST_COUNT] = {
    "add_epi64",  "sub_epi64",  "add_epi8",   "mul_epu32", "and/xor",      "sll_epi64",     "srl_epi64",
    "slli_epi64", "srli_epi64", "unpacklo",   "unpackhi",  "shuffle_epi8", "shuffle_epi32", "mask_blend_epi32",
    "movepi8",    "add_pd",     "sub_pd",     "mul_pd",    "abs_pd",       "and/or_pd",     "cmp_pd_mask",
    "roundscale", "aesenc",     "aesenclast", "i64gather"};

static uint64_t state = 0x9e3779b97f4a7c15ull;
static uint64_t rnd(void) { /* splitmix64 */
  uint64_t z = (state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

/* A double where the semantics have corners, or a random one of any exponent. */
static double some_double(void) {
  static double corners[64];
  static size_t ncorners;
  if (!ncorners) { /* signed zeros and halves, just off the halves, without fraction bits, huge, infinite, quiet NaNs,
                    * subnormal and small */
    const char *p = "0 -0 0.5 -0.5 1.5 -1.5 2.5 -2.5 0x1.fffffffffffffp-2 -0x1.fffffffffffffp-2 0x1.fffffffffffffp51 "
                    "0x1.0000000000001p51 0x1p52 -0x1p52 0x1.0000000000001p52 -0x1.0000000000001p52 0x1.8p52 0x1p50 "
                    "1e300 -1e300 inf -inf nan -nan 0x1p-1074 -0x1p-1074 0x1p-1022 0.1 -0.3 0x1.5555555555555p-2";
    for (char *end; *p; p = end) corners[ncorners++] = strtod(p, &end);
  }
  const uint64_t r = rnd();
  double d;
  if (r % 8 < 3) return corners[(r >> 8) % ncorners];
  if (r % 8 == 3) { /* a signalling NaN */
    uint64_t bits = 0x7ff0000000000001ull | (rnd() & 0x8007ffffffffffffull);
    memcpy(&d, &bits, 8);
    return d;
  }
  if (r % 8 < 6) return ldexp((double)(int64_t)rnd(), -(int)(rnd() % 80)); /* 0 to 79 fraction bits */
  uint64_t bits = rnd();
  memcpy(&d, &bits, 8);
  return d;
}

static int same(int op, const uint8_t *x, const uint8_t *y) {
  if (op != ST_ADD_PD && op != ST_SUB_PD && op != ST_MUL_PD) return !memcmp(x, y, 64);
  for (int i = 0; i < 8; i++) { /* which NaN a two-NaN sum keeps depends on operand order the compiler may swap */
    double p, q;
    memcpy(&p, x + 8 * i, 8), memcpy(&q, y + 8 * i, 8);
    if (!(isnan(p) && isnan(q)) && memcmp(x + 8 * i, y + 8 * i, 8)) return 0;
  }
  return 1;
}

int main(void) {
  int failures = 0;
  for (int op = 0; op < ST_COUNT; op++) {
    int op_failures = 0;
    const int is_pd = op >= ST_ADD_PD && op <= ST_ROUNDSCALE_PD;
    int imms[64], nimm = 0;
    if (op == ST_SHUFFLE_EPI32 || op == ST_BLEND_EPI32)
      for (size_t i = 0; i < sizeof imm8s / sizeof *imm8s; i++) imms[nimm++] = imm8s[i];
    else if (op == ST_SLLI_EPI64 || op == ST_SRLI_EPI64)
      for (int i = 0; i < 70; i += 3) imms[nimm++] = i;
    else if (op == ST_CMP_PD)
      for (int i = 0; i < 32; i++) imms[nimm++] = i;
    else if (op == ST_ROUNDSCALE_PD) {
      static const int modes[] = {0, 1, 2, 3, 4, 8, 9, 10, 11, 12}, scales[] = {0, 1, 3, 15};
      for (int s = 0; s < 4; s++)
        for (int m = 0; m < 10; m++) imms[nimm++] = scales[s] << 4 | modes[m];
    } else
      imms[nimm++] = 0;
    for (int k = 0; k < nimm; k++) {
      for (int trial = 0; trial < 3000; trial++) {
        uint8_t a[64], b[64], want[64], got[64];
        for (int i = 0; i < 8; i++) {
          uint64_t x = rnd(), y = rnd();
          if (is_pd) {
            double dx = some_double(), dy = trial % 3 ? some_double() : dx;
            memcpy(&x, &dx, 8), memcpy(&y, &dy, 8);
          }
          memcpy(a + 8 * i, &x, 8), memcpy(b + 8 * i, &y, 8);
        }
        if (op == ST_SHUFFLE_EPI8 && trial % 2) /* control bytes without the zeroing bit too */
          for (int i = 0; i < 64; i++) b[i] &= 0x8f;
        host_op(op, imms[k], want, a, b);
        emu_op(op, imms[k], got, a, b);
        if (!same(op, want, got) && op_failures++ < 2) {
          printf("%s imm=%#x: stand-in differs from the host instruction\n  a    ", names[op], imms[k]);
          for (int i = 0; i < 64; i++) printf("%02x", a[i]);
          printf("\n  b    ");
          for (int i = 0; i < 64; i++) printf("%02x", b[i]);
          printf("\n  host ");
          for (int i = 0; i < 64; i++) printf("%02x", want[i]);
          printf("\n  emu  ");
          for (int i = 0; i < 64; i++) printf("%02x", got[i]);
          printf("\n");
        }
      }
    }
    if (op_failures) printf("%s: %d mismatches\n", names[op], op_failures);
    failures += op_failures;
  }
  printf("stand-in self-test: %d ops, %s\n", ST_COUNT, failures ? "MISMATCHES" : "all match the host instructions");
  return failures != 0;
}
