/* Plain-C stand-ins for the AVX-512 intrinsics the gemm, conv and peak kernels use, so their logic can be checked
 * against the oracle on a machine without AVX-512 (see run.sh). Not a general emulator: only what those files call,
 * with the same lane semantics (masked loads read only live lanes, aligned loads trap when misaligned). */
#pragma once
#include <stdint.h>
#include <string.h>
typedef struct {
  uint64_t v[8];
} __m512i;
typedef struct {
  uint64_t v[2];
} __m128i;
typedef uint8_t __mmask8;
static inline __m512i _mm512_setzero_si512(void) {
  __m512i r;
  memset(&r, 0, sizeof r);
  return r;
}
static inline __m512i _mm512_set1_epi64(long long x) {
  __m512i r;
  for (int i = 0; i < 8; i++) r.v[i] = (uint64_t)x;
  return r;
}
static inline __m512i _mm512_set_epi64(long long a7, long long a6, long long a5, long long a4, long long a3,
                                       long long a2, long long a1, long long a0) {
  __m512i r = {
      {(uint64_t)a0, (uint64_t)a1, (uint64_t)a2, (uint64_t)a3, (uint64_t)a4, (uint64_t)a5, (uint64_t)a6, (uint64_t)a7}};
  return r;
}
static inline __m512i _mm512_loadu_si512(const void *p) {
  __m512i r;
  memcpy(&r, p, 64);
  return r;
}
static inline __m512i _mm512_load_si512(const void *p) {
  if ((uintptr_t)p % 64) __builtin_trap();
  return _mm512_loadu_si512(p);
}
static inline void _mm512_storeu_si512(void *p, __m512i x) { memcpy(p, &x, 64); }
static inline void _mm512_store_si512(void *p, __m512i x) {
  if ((uintptr_t)p % 64) __builtin_trap();
  memcpy(p, &x, 64);
}
static inline __m512i _mm512_maskz_loadu_epi64(__mmask8 k, const void *p) {
  __m512i r;
  for (int i = 0; i < 8; i++) r.v[i] = (k >> i) & 1 ? ((const uint64_t *)p)[i] : 0;
  return r;
}
static inline void _mm512_mask_storeu_epi64(void *p, __mmask8 k, __m512i x) {
  for (int i = 0; i < 8; i++)
    if ((k >> i) & 1) ((uint64_t *)p)[i] = x.v[i];
}
#define BIN(name, expr)                                                                                                \
  static inline __m512i name(__m512i a, __m512i b) {                                                                   \
    __m512i r;                                                                                                         \
    for (int i = 0; i < 8; i++) {                                                                                      \
      uint64_t x = a.v[i], y = b.v[i];                                                                                 \
      r.v[i] = (expr);                                                                                                 \
    }                                                                                                                  \
    return r;                                                                                                          \
  }
BIN(_mm512_add_epi64, x + y)
BIN(_mm512_mullo_epi64, x *y)
BIN(_mm512_and_si512, x &y)
BIN(_mm512_max_epi64, (int64_t)x > (int64_t)y ? x : y)
static inline __m128i _mm_cvtsi32_si128(int x) {
  __m128i r = {{(uint64_t)(uint32_t)x, 0}};
  return r;
}
static inline __m512i _mm512_sll_epi64(__m512i a, __m128i c) {
  __m512i r;
  for (int i = 0; i < 8; i++) r.v[i] = c.v[0] > 63 ? 0 : a.v[i] << c.v[0];
  return r;
}
static inline __m512i _mm512_srl_epi64(__m512i a, __m128i c) {
  __m512i r;
  for (int i = 0; i < 8; i++) r.v[i] = c.v[0] > 63 ? 0 : a.v[i] >> c.v[0];
  return r;
}
static inline long long _mm512_reduce_add_epi64(__m512i a) {
  uint64_t s = 0;
  for (int i = 0; i < 8; i++) s += a.v[i];
  return (long long)s;
}
static inline __m512i _mm512_i64gather_epi64(__m512i idx, const void *base, int scale) {
  __m512i r;
  for (int i = 0; i < 8; i++) r.v[i] = *(const uint64_t *)((const char *)base + (int64_t)idx.v[i] * scale);
  return r;
}
static inline __m512i _mm512_permutex2var_epi64(__m512i a, __m512i idx, __m512i b) {
  __m512i r;
  for (int i = 0; i < 8; i++) {
    unsigned j = idx.v[i] & 15;
    r.v[i] = j < 8 ? a.v[j] : b.v[j - 8];
  }
  return r;
}
