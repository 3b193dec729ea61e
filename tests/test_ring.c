/* Ring kernels: every variant the machine runs against the portable oracle, bit for bit, plus known answers. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/ring/ring_ops.h"
#include "tests/common/fsn_kernel_shapes.h"

static const fsn_ring_impl *ref(void) { return fsn_ring_impl_for(FSN_ISA_REF); }
static const fsn_ring_impl *simd(void) { return FSN_TEST_IMPL(ring); }

/* Every op of FSN_RING_OPS with a shape signature; sum, encode and decode have tests of their own below. */
FSN_VARIANT_TEST(shaped_ops_match_ref, ring) {
  FSN_CHECK_ALL_OPS(ring, FSN_RING_OPS, "sum,encode,decode", "reduce", "");
}
END_TEST

/* Sum folds to one element: check it over the same cases, raw and reduced inputs, and that nothing else is written. */
FSN_VARIANT_TEST(sum_matches_ref, ring) {
  for (int kind = FSN_IN_REDUCED; kind <= FSN_IN_RAW; kind++) {
    FSN_SHAPE_FOR_CASES(ell, n, off) {
      fsn_test_buf bx, bo;
      uint64_t *x = fsn_test_buf_alloc(&bx, n * 8, off), *out = fsn_test_buf_alloc(&bo, 8, off + 8), want;
      fsn_shape_fill(x, n, ell, (fsn_input_kind)kind);
      ref()->sum(&want, x, n, ell), simd()->sum(out, x, n, ell);
      if (*out != want) ck_abort_msg("sum ell=%u n=%zu misalign=%zu", ell, n, off);
      fsn_test_buf_check(&bx), fsn_test_buf_check(&bo);
      fsn_test_buf_free(&bx), fsn_test_buf_free(&bo);
    }
  }
}
END_TEST

/* Doubles that stress encode: exact halves, just below a half, both signs, the 2^51 .. 2^53 boundaries where a
 * SIMD fast path must hand over, beyond 2^63, NaN, infinities, -0, subnormals, and ordinary random values. */
static double encode_input(unsigned ell, unsigned s) {
  const double scale = ldexp(1.0, (int)s), range = ldexp(1.0, (int)ell - 1);
  uint64_t r = fsn_test_rand();
  double sign = (r & 1) ? -1.0 : 1.0, k = (double)((r >> 8) % 1000);
  switch ((r >> 1) % 16) {
  case 0: return sign * (k + 0.5) / scale;
  case 1: return sign * 0.49999999999999994 / scale;
  case 2: return sign * (ldexp(1.0, 51 + (int)(k / 250)) + k - 1.5) / scale;
  case 3: return sign * ldexp(1.0, 63 + (int)(k / 100)) * (1 + k / 4096);
  case 4: return (r >> 5) & 1 ? NAN : sign * INFINITY;
  case 5: return sign * 0.0;
  case 6: return sign * 4.9e-324 * k;
  case 7: return sign * (ldexp(1.0, 63) - 1024) / scale;
  default: return sign * (double)(fsn_test_rand() >> 11) / 0x1p53 * range / scale * 2.5;
  }
}

FSN_VARIANT_TEST(encode_matches_ref, ring) {
  static const unsigned scales[] = {0, 1, 12, 20, 40, 62};
  for (size_t k = 0; k < sizeof scales / sizeof scales[0]; k++) {
    unsigned s = scales[k];
    FSN_SHAPE_FOR_CASES(ell, n, off) {
      fsn_test_buf bx, bz, bw;
      double *x = fsn_test_buf_alloc(&bx, n * 8, off);
      uint64_t *z = fsn_test_buf_alloc(&bz, n * 8, off + 8), *want = fsn_test_buf_alloc(&bw, n * 8, 0);
      for (size_t i = 0; i < n; i++) x[i] = encode_input(ell, s);
      ref()->encode(want, x, n, ell, s), simd()->encode(z, x, n, ell, s);
      for (size_t i = 0; i < n; i++)
        if (z[i] != want[i])
          ck_abort_msg("encode ell=%u s=%u x=%a: %llx, want %llx", ell, s, x[i], (unsigned long long)z[i],
                       (unsigned long long)want[i]);
      fsn_test_buf_check(&bx), fsn_test_buf_check(&bz), fsn_test_buf_check(&bw);
      fsn_test_buf_free(&bx), fsn_test_buf_free(&bz), fsn_test_buf_free(&bw);
    }
  }
}
END_TEST

FSN_VARIANT_TEST(decode_matches_ref, ring) {
  static const unsigned scales[] = {0, 1, 12, 37, 63};
  for (size_t k = 0; k < sizeof scales / sizeof scales[0]; k++) {
    unsigned s = scales[k];
    FSN_SHAPE_FOR_CASES(ell, n, off) {
      fsn_test_buf bx, bz, bw;
      uint64_t *x = fsn_test_buf_alloc(&bx, n * 8, off);
      double *z = fsn_test_buf_alloc(&bz, n * 8, off + 8), *want = fsn_test_buf_alloc(&bw, n * 8, 0);
      fsn_test_fill_ring(x, n, ell);
      ref()->decode(want, x, n, ell, s), simd()->decode(z, x, n, ell, s);
      if (n && memcmp(z, want, n * 8)) ck_abort_msg("decode ell=%u s=%u n=%zu", ell, s, n);
      fsn_test_buf_check(&bx), fsn_test_buf_check(&bz), fsn_test_buf_check(&bw);
      fsn_test_buf_free(&bx), fsn_test_buf_free(&bz), fsn_test_buf_free(&bw);
    }
  }
}
END_TEST

/* Arrays large enough for the streaming-store path (FSN_RING_STREAM_MIN elements), with a misaligned output. */
FSN_VARIANT_TEST(streaming_path_matches_ref, ring) {
  size_t n = FSN_RING_STREAM_MIN + 13;
  fsn_test_buf bx, by, bz;
  uint64_t *x = fsn_test_buf_alloc(&bx, n * 8, 8), *y = fsn_test_buf_alloc(&by, n * 8, 16);
  uint64_t *z = fsn_test_buf_alloc(&bz, n * 8, 24), *want = malloc(n * 8);
  ck_assert_ptr_nonnull(want);
  fsn_test_fill_ring(x, n, 37), fsn_test_fill_ring(y, n, 37);
  const fsn_shape_binary refs[] = {ref()->add, ref()->sub, ref()->mul},
                         simds[] = {simd()->add, simd()->sub, simd()->mul};
  for (int k = 0; k < 3; k++) {
    refs[k](want, x, y, n, 37), simds[k](z, x, y, n, 37);
    ck_assert_msg(!memcmp(z, want, n * 8), "binary op %d at n=%zu", k, n);
  }
  ref()->neg(want, x, n, 37), simd()->neg(z, x, n, 37);
  ck_assert(!memcmp(z, want, n * 8));
  ref()->reduce(want, y, n, 13), simd()->reduce(z, y, n, 13);
  ck_assert(!memcmp(z, want, n * 8));
  ref()->scale(want, x, 0x123456789ull, n, 37), simd()->scale(z, x, 0x123456789ull, n, 37);
  ck_assert(!memcmp(z, want, n * 8));
  fsn_test_buf_check(&bx), fsn_test_buf_check(&by), fsn_test_buf_check(&bz);
  fsn_test_buf_free(&bx), fsn_test_buf_free(&by), fsn_test_buf_free(&bz), free(want);
}
END_TEST

START_TEST(arithmetic_known_answers) {
  uint64_t x[3] = {5, UINT64_MAX, 1ull << 36}, y[3] = {7, 2, 1ull << 36}, z[3], s;
  fsn_ring_add(z, x, y, 3, 64);
  ck_assert_uint_eq(z[0], 12);
  ck_assert_uint_eq(z[1], 1); /* wraps mod 2^64 */
  fsn_ring_add(z, x + 2, y + 2, 1, 37);
  ck_assert_uint_eq(z[0], 0); /* 2^36 + 2^36 wraps to 0 mod 2^37 */
  fsn_ring_sub(z, y, x, 2, 64);
  ck_assert_uint_eq(z[0], 2);
  ck_assert_uint_eq(z[1], 3);
  fsn_ring_neg(z, x, 1, 64);
  ck_assert_uint_eq(z[0], UINT64_MAX - 4);
  fsn_ring_mul(z, x, y, 3, 64);
  ck_assert_uint_eq(z[0], 35);
  ck_assert_uint_eq(z[1], UINT64_MAX - 1); /* -1 * 2 */
  ck_assert_uint_eq(z[2], 0);              /* 2^72 wraps to 0 */
  uint64_t big = 0xfedcba9876543210ull;
  fsn_ring_scale(z, &big, 0x0123456789abcdefull, 1, 64);
  ck_assert_uint_eq(z[0], big * 0x0123456789abcdefull);
  /* ell = 1 is arithmetic mod 2: xor for add, and for mul */
  uint64_t a[4] = {0, 0, 1, 1}, b[4] = {0, 1, 0, 1};
  uint64_t w[4];
  fsn_ring_add(w, a, b, 4, 1);
  ck_assert(w[0] == 0 && w[1] == 1 && w[2] == 1 && w[3] == 0);
  fsn_ring_mul(w, a, b, 4, 1);
  ck_assert(w[0] == 0 && w[1] == 0 && w[2] == 0 && w[3] == 1);
  fsn_ring_neg(z, a + 2, 1, 1);
  ck_assert_uint_eq(z[0], 1);
  uint64_t acc[2] = {10, 20};
  fsn_ring_axpy(acc, x, 3, 2, 64);
  ck_assert_uint_eq(acc[0], 25);
  ck_assert_uint_eq(acc[1], 17); /* 20 + 3 * (-1) */
  uint64_t raw = 0xffff00000000abcdull;
  fsn_ring_reduce(z, &raw, 1, 13);
  ck_assert_uint_eq(z[0], 0xbcdu);
  uint64_t many[5] = {UINT64_MAX, UINT64_MAX, 3, 1ull << 37, 1ull << 36};
  fsn_ring_sum(&s, many, 5, 64);
  ck_assert_uint_eq(s, (1ull << 37) + (1ull << 36) + 1);
  fsn_ring_sum(&s, many, 5, 37);
  ck_assert_uint_eq(s, ((1ull << 36) + 1));
  fsn_ring_sum(&s, many, 0, 37);
  ck_assert_uint_eq(s, 0);
}
END_TEST

/* Lanes whose sum leaves the signed 64-bit range: a SIMD reduction must wrap mod 2^64 without signed overflow
 * (GCC 12's _mm512_reduce_add_epi64 overflows signed long long; the sanitised runs, native or emulated, catch it). */
START_TEST(sum_wraps_without_signed_overflow) {
  uint64_t x[40], s;
  for (size_t n = 8; n <= 40; n += 8) {
    for (size_t i = 0; i < n; i++) x[i] = (uint64_t)1 << 62;
    fsn_ring_sum(&s, x, n, 64);
    ck_assert_uint_eq(s, (uint64_t)(n % 4) << 62);
    for (size_t i = 0; i < n; i++) x[i] = UINT64_MAX - i;
    fsn_ring_sum(&s, x, n, 64);
    ck_assert_uint_eq(s, (uint64_t)0 - n - n * (n - 1) / 2);
  }
}
END_TEST

START_TEST(encode_decode_known_answers) {
  const double x[] = {0.5, -0.5, 1.5, -1.5, 2.5, -2.5, 0.49999999999999994, -3.25, 0.0, -0.0, NAN, INFINITY};
  const int64_t want[] = {1, -1, 2, -2, 3, -3, 0, -3, 0, 0, 0, 0}; /* s = 0: half away from zero */
  uint64_t z[12];
  fsn_ring_encode(z, x, 12, 37, 0);
  for (int i = 0; i < 12; i++)
    ck_assert_msg(z[i] == ((uint64_t)want[i] & fsn_ring_mask(37)), "encode(%g) = %llx", x[i], (unsigned long long)z[i]);
  /* s = 12: 1.0 -> 4096, -1/8192 (half an ulp) -> -1, -3/8192 -> -2 */
  const double y[] = {1.0, -1.0 / 8192, -3.0 / 8192, -1.0};
  fsn_ring_encode(z, y, 4, 37, 12);
  ck_assert_uint_eq(z[0], 4096);
  ck_assert_uint_eq(z[1], fsn_ring_mask(37));
  ck_assert_uint_eq(z[2], fsn_ring_mask(37) - 1);
  ck_assert_uint_eq(z[3], (1ull << 37) - 4096);
  /* wrap at ell = 64 and beyond 2^63: 2^64 + 2^12 encodes to 2^12 */
  const double huge[] = {0x1p64 + 0x1p12, -0x1p64 - 0x1p12, 0x1p62};
  fsn_ring_encode(z, huge, 3, 64, 0);
  ck_assert_uint_eq(z[0], 4096);
  ck_assert_uint_eq(z[1], 0 - 4096ull);
  ck_assert_uint_eq(z[2], 1ull << 62);
  /* round trip, negative numbers included, at the default ell = 37, s = 12 and at ell = 64, s = 20 */
  const double v[] = {-3.140625, 2.71875, -1000.5, 1e6, -1e6, -0.000244140625};
  double back[6];
  fsn_ring_encode(z, v, 6, 37, 12);
  fsn_ring_decode(back, z, 6, 37, 12);
  for (int i = 0; i < 6; i++) ck_assert_msg(back[i] == v[i], "round trip %g -> %g", v[i], back[i]);
  fsn_ring_encode(z, v, 6, 64, 20);
  fsn_ring_decode(back, z, 6, 64, 20);
  for (int i = 0; i < 6; i++) ck_assert_msg(back[i] == v[i], "round trip ell=64 %g -> %g", v[i], back[i]);
  /* decode: the most negative value and ell = 1 (0 -> 0, 1 -> -1) */
  uint64_t r[3] = {1ull << 36, 1, 0};
  fsn_ring_decode(back, r, 1, 37, 0);
  ck_assert(back[0] == -0x1p36);
  fsn_ring_decode(back, r + 1, 2, 1, 0);
  ck_assert(back[0] == -1.0 && back[1] == 0.0);
  uint64_t top = 1ull << 63;
  fsn_ring_decode(back, &top, 1, 64, 63);
  ck_assert(back[0] == -1.0);
}
END_TEST

int main(void) {
  Suite *s = suite_create("ring");
  TCase *tc = tcase_create("ring");
  FSN_ADD_VARIANT_TEST(tc, shaped_ops_match_ref, ring);
  FSN_ADD_VARIANT_TEST(tc, sum_matches_ref, ring);
  tcase_add_test(tc, sum_wraps_without_signed_overflow);
  FSN_ADD_VARIANT_TEST(tc, encode_matches_ref, ring);
  FSN_ADD_VARIANT_TEST(tc, decode_matches_ref, ring);
  FSN_ADD_VARIANT_TEST(tc, streaming_path_matches_ref, ring);
  tcase_add_test(tc, arithmetic_known_answers);
  tcase_add_test(tc, encode_decode_known_answers);
  suite_add_tcase(s, tc);
  return fsn_test_main(s);
}
