/* Trunc kernels: every variant the machine runs against the portable oracle, bit for bit, plus signed edge cases. */
#include "kernels/trunc/trunc_ops.h"
#include "tests/common/fsn_kernel_shapes.h"

static const fsn_trunc_impl *ref(void) { return fsn_trunc_impl_for(FSN_ISA_REF); }
static const fsn_trunc_impl *simd(void) { return FSN_TEST_IMPL(trunc); }

/* Every op of FSN_TRUNC_OPS: all have a shape signature. */
FSN_VARIANT_TEST(every_op_matches_ref, trunc) { FSN_CHECK_ALL_OPS(trunc, FSN_TRUNC_OPS, "", "shr", "div"); }
END_TEST

/* The SIMD levels divide by multiply-high with a per-divisor magic number: many divisors, every bit length. */
FSN_VARIANT_TEST(div_many_divisors, trunc) {
  enum { N = 67 };
  uint64_t x[N], z[N], want[N];
  for (unsigned k = 0; k < 3000; k++) {
    unsigned ell = fsn_test_ells[k % FSN_TEST_NELLS], bits = 1 + k % 64;
    uint64_t d = fsn_test_rand() >> (64 - bits);
    if (k % 7 == 0) d = (uint64_t)1 << (bits - 1);
    if (k % 7 == 1) d = ((uint64_t)1 << (bits - 1)) + 1;
    if (d == 0) d = 1;
    fsn_test_fill_ring(x, N, ell);
    ref()->div(want, x, d, N, ell), simd()->div(z, x, d, N, ell);
    if (memcmp(z, want, sizeof z)) ck_abort_msg("div ell=%u d=%llu", ell, (unsigned long long)d);
  }
}
END_TEST

static uint64_t ring(int64_t v, unsigned ell) { return (uint64_t)v & fsn_ring_mask(ell); }

START_TEST(signed_known_answers) {
  for (size_t e = 0; e < FSN_TEST_NELLS; e++) {
    unsigned ell = fsn_test_ells[e];
    uint64_t minus_one = fsn_ring_mask(ell), most_negative = (uint64_t)1 << (ell - 1), z[2], x[2];
    for (unsigned s = 0; s < 64; s++) { /* -1 >> s = -1; 2^(ell-1) >> s is -2^(ell-1-s), -1 once s >= ell - 1 */
      x[0] = minus_one, x[1] = most_negative;
      fsn_trunc_sar(z, x, 2, ell, s);
      ck_assert_uint_eq(z[0], minus_one);
      uint64_t want = s >= ell - 1 ? minus_one : (0 - ((uint64_t)1 << (ell - 1 - s))) & fsn_ring_mask(ell);
      ck_assert_msg(z[1] == want, "sar(-2^(ell-1), %u) ell=%u: %llx", s, ell, (unsigned long long)z[1]);
      fsn_trunc_shr(z, x, 1, ell, s);
      ck_assert_uint_eq(z[0], minus_one >> s);
    }
    fsn_trunc_sext(z, x, 2, ell);
    ck_assert_uint_eq(z[0], UINT64_MAX);
    ck_assert_uint_eq(z[1], (uint64_t)0 - most_negative);
    uint8_t bits = 0xff;
    fsn_trunc_msb(&bits, x, 2, ell);
    ck_assert_uint_eq(bits, 3);
  }
  uint64_t x[6] = {ring(-7, 37), ring(-6, 37), ring(-1, 37), 7, ring(-(1ll << 36), 37), 0}, z[6];
  fsn_trunc_sar(z, x, 6, 37, 1); /* floor: -7 >> 1 = -4 */
  ck_assert_uint_eq(z[0], ring(-4, 37));
  ck_assert_uint_eq(z[1], ring(-3, 37));
  ck_assert_uint_eq(z[3], 3);
  fsn_trunc_div(z, x, 3, 6, 37); /* floor, not toward zero */
  ck_assert_uint_eq(z[0], ring(-3, 37));
  ck_assert_uint_eq(z[1], ring(-2, 37));
  ck_assert_uint_eq(z[2], ring(-1, 37));
  ck_assert_uint_eq(z[3], 2);
  ck_assert_uint_eq(z[4], ring(-22906492246ll, 37)); /* floor(-2^36 / 3) */
  ck_assert_uint_eq(z[5], 0);
  fsn_trunc_div(z, x, 1, 6, 37);
  for (int i = 0; i < 6; i++) ck_assert_uint_eq(z[i], x[i]);
  fsn_trunc_div(z, x, UINT64_MAX, 6, 37); /* any negative / a huge d floors to -1 */
  ck_assert(z[0] == ring(-1, 37) && z[3] == 0 && z[4] == ring(-1, 37));
  uint64_t w[2] = {1ull << 63, 5};
  fsn_trunc_div(z, w, 2, 2, 64);
  ck_assert_uint_eq(z[0], 0xc000000000000000ull);
  ck_assert_uint_eq(z[1], 2);
  uint64_t m[9] = {0, 1ull << 36, 0, 0, 1ull << 36, 0, 0, 0, 1ull << 36};
  uint8_t packed[2] = {0xff, 0xff};
  fsn_trunc_msb(packed, m, 9, 37);
  ck_assert_uint_eq(packed[0], 0x12);
  ck_assert_uint_eq(packed[1], 0x01);
}
END_TEST

int main(void) {
  Suite *s = suite_create("trunc");
  TCase *tc = tcase_create("trunc");
  FSN_ADD_VARIANT_TEST(tc, every_op_matches_ref, trunc);
  FSN_ADD_VARIANT_TEST(tc, div_many_divisors, trunc);
  tcase_add_test(tc, signed_known_answers);
  suite_add_tcase(s, tc);
  return fsn_test_main(s);
}
