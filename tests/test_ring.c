/* Ring kernels: the active ISA level against the portable oracle, bit for bit. */
#include <string.h>

#include "kernels/ring/ring_ops.h"
#include "tests/common/fsn_test.h"

typedef void (*binary_op)(uint64_t *, const uint64_t *, const uint64_t *, size_t, unsigned);

/* Every ell, every tail length, every misalignment, guards intact, and in place (z == x). */
static void check_binary(binary_op ref, binary_op simd, const char *name) {
  for (size_t e = 0; e < FSN_TEST_NELLS; e++) {
    unsigned ell = fsn_test_ells[e];
    for (size_t n = 0; n <= fsn_test_tail_max(8) + 3; n++) {
      FSN_TEST_FOR_MISALIGN(off, 8) {
        fsn_test_buf bx, by, bz, bw;
        uint64_t *x = fsn_test_buf_alloc(&bx, n * 8, off), *y = fsn_test_buf_alloc(&by, n * 8, off + 8);
        uint64_t *z = fsn_test_buf_alloc(&bz, n * 8, off + 16), *want = fsn_test_buf_alloc(&bw, n * 8, 0);
        fsn_test_fill_ring(x, n, ell);
        fsn_test_fill_ring(y, n, ell);
        ref(want, x, y, n, ell);
        simd(z, x, y, n, ell);
        ck_assert_msg(n == 0 || !memcmp(z, want, n * 8), "%s ell=%u n=%zu misalign=%zu", name, ell, n, off);
        simd(x, x, y, n, ell);
        ck_assert_msg(n == 0 || !memcmp(x, want, n * 8), "%s in place ell=%u n=%zu", name, ell, n);
        fsn_test_buf_check(&bx);
        fsn_test_buf_check(&by);
        fsn_test_buf_check(&bz);
        fsn_test_buf_free(&bx);
        fsn_test_buf_free(&by);
        fsn_test_buf_free(&bz);
        fsn_test_buf_free(&bw);
      }
    }
  }
}

START_TEST(add_matches_ref) {
  check_binary(fsn_ring_impl_for(FSN_ISA_REF)->add, fsn_ring_impl_for(fsn_isa_active())->add, "add");
}
END_TEST

START_TEST(add_known_answers) {
  uint64_t x[3] = {5, UINT64_MAX, 1ull << 36}, y[3] = {7, 2, 1ull << 36}, z[3];
  fsn_ring_add(z, x, y, 3, 64);
  ck_assert_uint_eq(z[0], 12);
  ck_assert_uint_eq(z[1], 1);
  fsn_ring_add(z, x + 2, y + 2, 1, 37);
  ck_assert_uint_eq(z[0], 0); /* 2^36 + 2^36 wraps to 0 mod 2^37 */
}
END_TEST

int main(void) {
  Suite *s = suite_create("ring");
  TCase *tc = tcase_create("ring");
  tcase_add_test(tc, add_matches_ref);
  tcase_add_test(tc, add_known_answers);
  suite_add_tcase(s, tc);
  return fsn_test_main(s);
}
