/* Differential checkers for kernel families over Z_2^ell, one per signature shape (not one per op): a variant against
 * the portable oracle, bit for bit, over every ell in fsn_test_ells, every tail length 0 .. 2x a
 * 512-bit vector (+3), every misalignment, canaries intact, and in place (z == x) against the oracle in place.
 * Header-only so each kernel suite (test_ring, test_trunc, ...) includes it without a build-file change. */
#ifndef FSN_TESTS_KERNEL_SHAPES_H
#define FSN_TESTS_KERNEL_SHAPES_H

#include <string.h>

#include "kernels/variants.h"
#include "tests/common/fsn_test.h"

/* checkasm style: a differential test is a Check loop test with one iteration per variant the machine runs at the
 * active level (FSN_ISA caps it), so one binary compares every runnable SIMD variant with ref, each reported on its
 * own. Where no SIMD variant runs (the ref level), ref is checked against itself so the harness still runs.
 *   FSN_VARIANT_TEST(name, fam) { ... FSN_TEST_IMPL(fam)->op(...) ... } END_TEST
 *   FSN_ADD_VARIANT_TEST(tc, name, fam); */
static inline size_t fsn_test_variant_list(const fsn_variant *first, size_t stride, size_t n,
                                           size_t index[FSN_VARIANT_COUNT]) {
  size_t count = 0;
  for (size_t i = 1; i < n; i++)
    if (fsn_variant_runs(*(const fsn_variant *)(const void *)((const char *)first + i * stride), fsn_isa_active()))
      index[count++] = i;
  if (count == 0) index[count++] = 0;
  return count;
}
#define FSN_TEST_VARIANT_LIST(fam, index)                                                                              \
  fsn_test_variant_list(&fsn_##fam##_variants[0].id, sizeof fsn_##fam##_variants[0], fsn_##fam##_variant_count, index)

/* The variant the running test checks: its index in the family's list, and its name for messages. */
static inline size_t *fsn_test_variant_slot(void) {
  static size_t slot;
  return &slot;
}
static inline const char **fsn_test_variant_name_slot(void) {
  static const char *name = "ref";
  return &name;
}
#define FSN_TEST_VARIANT_NAME (*fsn_test_variant_name_slot())
#define FSN_TEST_IMPL(fam)    (&fsn_##fam##_variants[*fsn_test_variant_slot()].impl)

#define FSN_VARIANT_TEST(name, fam)                                                                                    \
  static void name##_body(void);                                                                                       \
  START_TEST(name) {                                                                                                   \
    size_t index[FSN_VARIANT_COUNT];                                                                                   \
    FSN_TEST_VARIANT_LIST(fam, index);                                                                                 \
    *fsn_test_variant_slot() = index[_i];                                                                              \
    FSN_TEST_VARIANT_NAME = fsn_variant_name(fsn_##fam##_variants[index[_i]].id);                                      \
    name##_body();                                                                                                     \
  }                                                                                                                    \
  END_TEST                                                                                                             \
  static void name##_body(void)

#define FSN_ADD_VARIANT_TEST(tc, name, fam)                                                                            \
  do {                                                                                                                 \
    size_t index_[FSN_VARIANT_COUNT];                                                                                  \
    tcase_add_loop_test(tc, name, 0, (int)FSN_TEST_VARIANT_LIST(fam, index_));                                         \
  } while (0)

typedef void (*fsn_shape_binary)(uint64_t *, const uint64_t *, const uint64_t *, size_t, unsigned);
typedef void (*fsn_shape_unary)(uint64_t *, const uint64_t *, size_t, unsigned);
typedef void (*fsn_shape_scalar)(uint64_t *, const uint64_t *, uint64_t, size_t, unsigned);
typedef void (*fsn_shape_shift)(uint64_t *, const uint64_t *, size_t, unsigned, unsigned);
typedef void (*fsn_shape_pack)(uint8_t *, const uint64_t *, size_t, unsigned);

/* How inputs are drawn: reduced mod 2^ell (the contract of most ops) or any 64-bit value (ops that reduce). */
typedef enum { FSN_IN_REDUCED, FSN_IN_RAW } fsn_input_kind;

#define FSN_SHAPE_NMAX (fsn_test_tail_max(8) + 3)

static inline void fsn_shape_fill(uint64_t *p, size_t n, unsigned ell, fsn_input_kind kind) {
  fsn_test_fill_ring(p, n, kind == FSN_IN_RAW ? 64 : ell);
}

/* The arrays of one case: x, y inputs; z the SIMD output, want the oracle's; zi/wi in-place copies of x. */
typedef struct {
  fsn_test_buf b[6];
  uint64_t *x, *y, *z, *want, *zi, *wi;
  size_t n;
} fsn_shape_case;

static inline void fsn_shape_case_open(fsn_shape_case *c, size_t n, size_t off, unsigned ell, fsn_input_kind kind) {
  uint64_t **arrays[6] = {&c->x, &c->y, &c->z, &c->want, &c->zi, &c->wi};
  for (int k = 0; k < 6; k++) *arrays[k] = fsn_test_buf_alloc(&c->b[k], n * 8, off + 8 * (size_t)k);
  c->n = n;
  fsn_shape_fill(c->x, n, ell, kind);
  fsn_shape_fill(c->y, n, ell, kind);
  fsn_test_fill_ring(c->z, n, ell); /* outputs that are also inputs (axpy) start equal */
  if (n) memcpy(c->want, c->z, n * 8), memcpy(c->zi, c->x, n * 8), memcpy(c->wi, c->x, n * 8);
}

/* Compare, check canaries, free. */
static inline void fsn_shape_case_close(fsn_shape_case *c, const char *name, unsigned ell, size_t off, unsigned param) {
  size_t n = c->n; /* ck_abort only on failure: a passing ck_assert costs a system call */
  if (n && memcmp(c->z, c->want, n * 8))
    ck_abort_msg("%s on %s ell=%u n=%zu misalign=%zu param=%u", name, FSN_TEST_VARIANT_NAME, ell, n, off, param);
  if (n && memcmp(c->zi, c->wi, n * 8))
    ck_abort_msg("%s on %s in place ell=%u n=%zu param=%u", name, FSN_TEST_VARIANT_NAME, ell, n, param);
  for (int k = 0; k < 6; k++) fsn_test_buf_check(&c->b[k]), fsn_test_buf_free(&c->b[k]);
}

#define FSN_SHAPE_FOR_CASES(ell, n, off)                                                                               \
  for (size_t e_ = 0; e_ < FSN_TEST_NELLS; e_++)                                                                       \
    for (unsigned ell = fsn_test_ells[e_], once_ = 1; once_; once_ = 0)                                                \
      for (size_t n = 0; n <= FSN_SHAPE_NMAX; n++) FSN_TEST_FOR_MISALIGN(off, 8)

static inline void fsn_check_binary(fsn_shape_binary ref, fsn_shape_binary simd, const char *name,
                                    fsn_input_kind kind) {
  FSN_SHAPE_FOR_CASES(ell, n, off) {
    fsn_shape_case c;
    fsn_shape_case_open(&c, n, off, ell, kind);
    ref(c.want, c.x, c.y, n, ell), simd(c.z, c.x, c.y, n, ell);
    ref(c.wi, c.wi, c.y, n, ell), simd(c.zi, c.zi, c.y, n, ell);
    fsn_shape_case_close(&c, name, ell, off, 0);
  }
}

static inline void fsn_check_unary(fsn_shape_unary ref, fsn_shape_unary simd, const char *name, fsn_input_kind kind) {
  FSN_SHAPE_FOR_CASES(ell, n, off) {
    fsn_shape_case c;
    fsn_shape_case_open(&c, n, off, ell, kind);
    ref(c.want, c.x, n, ell), simd(c.z, c.x, n, ell);
    ref(c.wi, c.wi, n, ell), simd(c.zi, c.zi, n, ell);
    fsn_shape_case_close(&c, name, ell, off, 0);
  }
}

/* Scalars a: edges (0, 1, -1, 2^32 +- 1, 2^63) and random ones; a_min = 1 excludes 0 (division). */
static inline uint64_t fsn_shape_scalar_value(unsigned k, uint64_t a_min) {
  static const uint64_t edges[] = {0, 1, 2, 3, 7, 9, 0xffffffffu, 0x100000001ull, 1ull << 63, ~0ull};
  uint64_t a = k < sizeof edges / sizeof edges[0] ? edges[k] : fsn_test_rand() >> (fsn_test_rand() % 64);
  return a < a_min ? a_min : a;
}
#define FSN_SHAPE_NSCALARS 14

static inline void fsn_check_scalar(fsn_shape_scalar ref, fsn_shape_scalar simd, const char *name, fsn_input_kind kind,
                                    uint64_t a_min) {
  for (unsigned k = 0; k < FSN_SHAPE_NSCALARS; k++) {
    uint64_t a = fsn_shape_scalar_value(k, a_min);
    FSN_SHAPE_FOR_CASES(ell, n, off) {
      fsn_shape_case c;
      fsn_shape_case_open(&c, n, off, ell, kind);
      ref(c.want, c.x, a, n, ell), simd(c.z, c.x, a, n, ell);
      ref(c.wi, c.wi, a, n, ell), simd(c.zi, c.zi, a, n, ell);
      fsn_shape_case_close(&c, name, ell, off, k);
    }
  }
}

/* Every shift 0 .. 63 at every ell (shifts at and beyond ell included). */
static inline void fsn_check_shift(fsn_shape_shift ref, fsn_shape_shift simd, const char *name, fsn_input_kind kind) {
  for (unsigned s = 0; s < 64; s += (s < 3 || s > 60) ? 1 : 5) {
    FSN_SHAPE_FOR_CASES(ell, n, off) {
      fsn_shape_case c;
      fsn_shape_case_open(&c, n, off, ell, kind);
      ref(c.want, c.x, n, ell, s), simd(c.z, c.x, n, ell, s);
      ref(c.wi, c.wi, n, ell, s), simd(c.zi, c.zi, n, ell, s);
      fsn_shape_case_close(&c, name, ell, off, s);
    }
  }
}

/* Packed-bit output: exactly ceil(n / 8) bytes written (canaries right after), high bits of the last byte zero. */
static inline void fsn_check_pack(fsn_shape_pack ref, fsn_shape_pack simd, const char *name, fsn_input_kind kind) {
  FSN_SHAPE_FOR_CASES(ell, n, off) {
    size_t nbytes = (n + 7) / 8;
    fsn_test_buf bx, bb, bw;
    uint64_t *x = fsn_test_buf_alloc(&bx, n * 8, off);
    uint8_t *bits = fsn_test_buf_alloc(&bb, nbytes, off / 8 + 1), *want = fsn_test_buf_alloc(&bw, nbytes, 0);
    fsn_shape_fill(x, n, ell, kind);
    ref(want, x, n, ell), simd(bits, x, n, ell);
    if (nbytes && memcmp(bits, want, nbytes))
      ck_abort_msg("%s on %s ell=%u n=%zu misalign=%zu", name, FSN_TEST_VARIANT_NAME, ell, n, off);
    if (n % 8 && bits[nbytes - 1] >> (n % 8)) ck_abort_msg("%s: high bits of the last byte set, n=%zu", name, n);
    fsn_test_buf_check(&bx), fsn_test_buf_check(&bb), fsn_test_buf_check(&bw);
    fsn_test_buf_free(&bx), fsn_test_buf_free(&bb), fsn_test_buf_free(&bw);
  }
}

/* The op list drives the checks (checkasm style): FSN_CHECK_ALL_OPS(fam, OPS, own, raw, nonzero) runs, for every op
 * of OPS whose signature is one of the shapes above, that shape's checker on the test's variant against ref.
 *   own      ops with a test of their own, skipped here (sum shares the unary signature but writes one element);
 *   raw      ops whose contract takes any 64-bit input (FSN_IN_RAW);
 *   nonzero  scalar ops whose scalar must not be 0 (division).
 * Each is a comma-separated list of op names in one string. An op with no shape that is not in `own` fails the test,
 * so an op added to a family's list is checked from the start or the test says why not. */
typedef enum {
  FSN_SHAPE_NONE,
  FSN_SHAPE_BINARY,
  FSN_SHAPE_UNARY,
  FSN_SHAPE_SCALAR,
  FSN_SHAPE_SHIFT,
  FSN_SHAPE_PACK
} fsn_shape_kind;
typedef void (*fsn_shape_any)(void);

#define FSN_SHAPE_OF(f)                                                                                                \
  _Generic((f), fsn_shape_binary                                                                                       \
           : FSN_SHAPE_BINARY, fsn_shape_unary                                                                         \
           : FSN_SHAPE_UNARY, fsn_shape_scalar                                                                         \
           : FSN_SHAPE_SCALAR, fsn_shape_shift                                                                         \
           : FSN_SHAPE_SHIFT, fsn_shape_pack                                                                           \
           : FSN_SHAPE_PACK, default                                                                                   \
           : FSN_SHAPE_NONE)

static inline int fsn_shape_listed(const char *list, const char *name) {
  const size_t len = strlen(name);
  for (const char *p = list; (p = strstr(p, name)) != NULL; p += len)
    if ((p == list || p[-1] == ',') && (p[len] == ',' || p[len] == 0)) return 1;
  return 0;
}

static inline void fsn_shape_check(const char *name, fsn_shape_kind shape, fsn_shape_any ref, fsn_shape_any simd,
                                   const char *own, const char *raw, const char *nonzero) {
  if (fsn_shape_listed(own, name)) return;
  const fsn_input_kind kind = fsn_shape_listed(raw, name) ? FSN_IN_RAW : FSN_IN_REDUCED;
  switch (shape) {
  case FSN_SHAPE_BINARY: fsn_check_binary((fsn_shape_binary)ref, (fsn_shape_binary)simd, name, kind); break;
  case FSN_SHAPE_UNARY: fsn_check_unary((fsn_shape_unary)ref, (fsn_shape_unary)simd, name, kind); break;
  case FSN_SHAPE_SCALAR:
    fsn_check_scalar((fsn_shape_scalar)ref, (fsn_shape_scalar)simd, name, kind, fsn_shape_listed(nonzero, name));
    break;
  case FSN_SHAPE_SHIFT: fsn_check_shift((fsn_shape_shift)ref, (fsn_shape_shift)simd, name, kind); break;
  case FSN_SHAPE_PACK: fsn_check_pack((fsn_shape_pack)ref, (fsn_shape_pack)simd, name, kind); break;
  case FSN_SHAPE_NONE: ck_abort_msg("op %s: no shape checker and no test of its own", name);
  }
}

#define FSN_SHAPE_CHECK_OP(fam, v, op, params, args)                                                                   \
  fsn_shape_check(#op, FSN_SHAPE_OF(ref_->op), (fsn_shape_any)ref_->op, (fsn_shape_any)simd_->op, own_, raw_, nonzero_);
#define FSN_CHECK_ALL_OPS(fam, OPS, own, raw, nonzero)                                                                 \
  do {                                                                                                                 \
    const fsn_##fam##_impl *ref_ = fsn_##fam##_impl_for(FSN_ISA_REF), *simd_ = FSN_TEST_IMPL(fam);                     \
    const char *own_ = (own), *raw_ = (raw), *nonzero_ = (nonzero);                                                    \
    OPS(FSN_SHAPE_CHECK_OP, _)                                                                                         \
  } while (0)

#endif
