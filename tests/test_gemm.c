/* GEMM over Z_2^64: the oracle against a plain triple loop, every runnable variant against the oracle bit for bit on
 * every tail of m, n and k, misaligned guarded buffers, shapes that cross the cache blocks, and thread counts. */
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "kernels/gemm/gemm_ops.h"
#include "kernels/peak/peak_ops.h"
#include "tests/common/fsn_kernel_shapes.h"

/* fsn_test_buf_check asserts once per canary byte, and each assert costs Check a pipe write; scan first and let it
 * report only when a canary really changed. */
static void check_guards(const fsn_test_buf *b) {
  int intact = 1;
  for (const unsigned char *p = b->base; p < b->data; p++) intact &= *p == 0xa5;
  for (const unsigned char *p = b->data + b->size; p < b->base + b->total; p++) intact &= *p == 0xa5;
  if (!intact) fsn_test_buf_check(b);
}

typedef void (*gemm_fn)(uint64_t *, const uint64_t *, const uint64_t *, size_t, size_t, size_t);

static void naive_gemm(uint64_t *c, const uint64_t *a, const uint64_t *b, size_t m, size_t n, size_t k) {
  for (size_t i = 0; i < m; i++)
    for (size_t j = 0; j < n; j++) {
      uint64_t acc = c[i * n + j];
      for (size_t p = 0; p < k; p++) acc += a[i * k + p] * b[p * n + j];
      c[i * n + j] = acc;
    }
}

/* C starts random (the op accumulates); A and B mix uniform words with 0, 1, -1 and 2^63. */
static void check_shape(gemm_fn want_fn, gemm_fn got_fn, size_t m, size_t n, size_t k, size_t off) {
  fsn_test_buf ba, bb, bc, bw;
  uint64_t *a = fsn_test_buf_alloc(&ba, m * k * 8, off), *b = fsn_test_buf_alloc(&bb, k * n * 8, off + 8);
  uint64_t *c = fsn_test_buf_alloc(&bc, m * n * 8, off + 24), *want = fsn_test_buf_alloc(&bw, m * n * 8, 0);
  fsn_test_fill_ring(a, m * k, 64);
  fsn_test_fill_ring(b, k * n, 64);
  fsn_test_fill(c, m * n * 8);
  if (m * n != 0) memcpy(want, c, m * n * 8);
  want_fn(want, a, b, m, n, k);
  got_fn(c, a, b, m, n, k);
  size_t i = 0; /* find the first mismatch, then assert once: every ck_assert costs Check a pipe write */
  while (i < m * n && c[i] == want[i]) i++;
  if (i < m * n)
    ck_abort_msg("m=%zu n=%zu k=%zu misalign=%zu: C[%zu][%zu] = %#llx, want %#llx", m, n, k, off, i / n, i % n,
                 (unsigned long long)c[i], (unsigned long long)want[i]);
  check_guards(&ba);
  check_guards(&bb);
  check_guards(&bc);
  fsn_test_buf_free(&ba);
  fsn_test_buf_free(&bb);
  fsn_test_buf_free(&bc);
  fsn_test_buf_free(&bw);
}

static gemm_fn ref_gemm(void) { return fsn_gemm_impl_for(FSN_ISA_REF)->u64; }
static gemm_fn active_gemm(void) { return FSN_TEST_IMPL(gemm)->u64; }

START_TEST(ref_matches_naive) {
  const size_t sizes[] = {0, 1, 2, 5, 17, 130, 300};
  for (size_t x = 0; x < 7; x++)
    for (size_t y = 0; y < 7; y++)
      for (size_t z = 0; z < 7; z++)
        if (sizes[x] * sizes[y] * sizes[z] <= 1u << 16)
          check_shape(naive_gemm, ref_gemm(), sizes[x], sizes[y], sizes[z], 0);
}
END_TEST

/* Every tail of n up to two 512-bit vectors and a few more, every m up to two register tiles, k around the unroll. */
FSN_VARIANT_TEST(small_shapes_match_ref, gemm) {
  const size_t ks[] = {0, 1, 2, 3, 4, 7, 9};
  for (size_t m = 0; m <= 14; m++)
    for (size_t n = 0; n <= fsn_test_tail_max(8) + 3; n++)
      for (size_t q = 0; q < 7; q++) check_shape(ref_gemm(), active_gemm(), m, n, ks[q], 8 * ((m + n + q) % 8));
}
END_TEST

FSN_VARIANT_TEST(misaligned_match_ref, gemm) {
  FSN_TEST_FOR_MISALIGN(off, 8) {
    check_shape(ref_gemm(), active_gemm(), 7, 13, 11, off);
    check_shape(ref_gemm(), active_gemm(), 13, 21, 37, off);
  }
}
END_TEST

/* Shapes that cross the k, n and m cache blocks with ragged edges, and a few more. */
FSN_VARIANT_TEST(large_shapes_match_ref, gemm) {
  const size_t shapes[][3] = {{67, 131, 259}, {5, 1000, 300}, {300, 9, 520},
                              {64, 196, 288}, {1, 777, 1025}, {97, 53, 1}};
  for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
    check_shape(ref_gemm(), active_gemm(), shapes[i][0], shapes[i][1], shapes[i][2], 8);
}
END_TEST

/* Integers: the result cannot depend on how many threads split the blocks of C. */
FSN_VARIANT_TEST(thread_count_does_not_matter, gemm) {
#ifdef _OPENMP
  for (int threads = 1; threads <= 3; threads++) {
    omp_set_num_threads(threads);
    check_shape(ref_gemm(), active_gemm(), 120, 140, 130, 0);
  }
#endif
}
END_TEST

START_TEST(known_answers) {
  /* 2^63 * 2 wraps to 0; (-1) * (-1) = 1; C accumulates. */
  uint64_t a[2] = {1ull << 63, UINT64_MAX}, b[2] = {2, UINT64_MAX}, c[1] = {5};
  fsn_gemm_u64(c, a, b, 1, 1, 2);
  ck_assert_uint_eq(c[0], 6);
  uint64_t a2[4] = {1, 2, 3, 4}, b2[4] = {5, 6, 7, 8}, c2[4] = {0};
  fsn_gemm_u64(c2, a2, b2, 2, 2, 2);
  ck_assert_uint_eq(c2[0], 19);
  ck_assert_uint_eq(c2[1], 22);
  ck_assert_uint_eq(c2[2], 43);
  ck_assert_uint_eq(c2[3], 50);
}
END_TEST

/* The benchmark's peak loop computes what it claims (so its rate is a rate of real multiply-adds). */
FSN_VARIANT_TEST(peak_loop_matches_ref, peak) {
  for (size_t iters = 0; iters <= 70; iters += 7) {
    uint64_t x[FSN_PEAK_LANES], want[FSN_PEAK_LANES], got[FSN_PEAK_LANES];
    fsn_test_fill(x, sizeof x);
    fsn_test_fill(want, sizeof want);
    memcpy(got, want, sizeof got);
    fsn_peak_impl_for(FSN_ISA_REF)->mul_add_l1(want, x, iters);
    FSN_TEST_IMPL(peak)->mul_add_l1(got, x, iters);
    ck_assert_msg(!memcmp(got, want, sizeof got), "peak mul_add_l1 iters=%zu", iters);
  }
}
END_TEST

int main(void) {
  Suite *s = suite_create("gemm");
  TCase *tc = tcase_create("gemm");
  tcase_add_test(tc, ref_matches_naive);
  FSN_ADD_VARIANT_TEST(tc, small_shapes_match_ref, gemm);
  FSN_ADD_VARIANT_TEST(tc, misaligned_match_ref, gemm);
  FSN_ADD_VARIANT_TEST(tc, large_shapes_match_ref, gemm);
  FSN_ADD_VARIANT_TEST(tc, thread_count_does_not_matter, gemm);
  tcase_add_test(tc, known_answers);
  FSN_ADD_VARIANT_TEST(tc, peak_loop_matches_ref, peak);
  suite_add_tcase(s, tc);
  return fsn_test_main(s);
}
