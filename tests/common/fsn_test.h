/* Shared helpers for the Check suites: start-up and ISA skip, a seeded RNG, guarded and misaligned buffers,
 * the tail lengths and ring widths every kernel test walks through. */
#ifndef FSN_TESTS_COMMON_H
#define FSN_TESTS_COMMON_H

#include <check.h>
#include <fusion/fusion.h>
#include <stddef.h>
#include <stdint.h>

/* Ring widths every kernel is tested at. */
extern const unsigned fsn_test_ells[6];
#define FSN_TEST_NELLS (sizeof fsn_test_ells / sizeof fsn_test_ells[0])

/* Run a suite: initialise the library (FSN_ISA honoured), emit a TAP skip if the machine lacks the forced level,
 * else run every test (forked, CK_ENV) and return the process exit code. */
int fsn_test_main(Suite *suite);

/* One test case per test, so one can run alone: CK_RUN_CASE=<test> build/tests/test_<suite>. */
#define FSN_TEST_ADD_CASE(suite, name)                                                                                 \
  do {                                                                                                                 \
    TCase *tc_ = tcase_create(#name);                                                                                  \
    tcase_add_test(tc_, name);                                                                                         \
    suite_add_tcase(suite, tc_);                                                                                       \
  } while (0)

/* Deterministic RNG (xoshiro256**), seeded from FSN_TEST_SEED or a fixed default, so failures reproduce. */
uint64_t fsn_test_rand(void);
uint64_t fsn_test_seed(void);
/* The OT pack of the suites whose subject is not the pack: FSN_TEST_OT if set (tests/avx512emu/run.sh sets iknp, so
 * those suites do not run Ferret's many AES blocks through the emulated intrinsics), else NULL (the default pack). */
const char *fsn_test_ot_pack(void);
void fsn_test_fill(void *p, size_t bytes);
void fsn_test_fill_ring(uint64_t *p, size_t n, unsigned ell); /* random values reduced mod 2^ell */

/* A buffer with canary bytes on both sides. `misalign` bytes shift the data from a 64-byte boundary. */
typedef struct fsn_test_buf {
  unsigned char *base, *data;
  size_t size, total;
} fsn_test_buf;

#define FSN_TEST_GUARD 64
void *fsn_test_buf_alloc(fsn_test_buf *b, size_t size, size_t misalign);
void fsn_test_buf_check(const fsn_test_buf *b); /* fails the test if a canary changed */
void fsn_test_buf_free(fsn_test_buf *b);

/* Every tail length a kernel over elements of `elem` bytes must handle: 0 .. 2 x a 512-bit vector. */
static inline size_t fsn_test_tail_max(size_t elem) { return 2 * 64 / elem; }

/* Misalignments (bytes) tried for arrays of `elem`-byte elements: element-aligned shifts off a 64-byte line. */
#define FSN_TEST_FOR_MISALIGN(var, elem) for (size_t var = 0; var < 64; var += ((elem) < 8 ? 8 : (elem)) * 3)

#endif
