/* NTT kernels: the active ISA level against the portable oracle, bit for bit (transforms at several primes and
 * sizes, pointwise ops at every tail and misalignment, modulus switching), and the oracle against independent ones:
 * evaluation at the powers of psi, schoolbook negacyclic products, FLINT's nmod_poly_mul (when built with FLINT),
 * a direct 128-bit modulus-switching formula; then primes, tables and samplers. */
#include <fusion/ntt.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/ntt/ntt_ops.h"
#include "tests/common/fsn_test.h"

#ifdef FSN_HAVE_FLINT
#include <flint/nmod_poly.h>
#endif

static const fsn_ntt_impl *ref(void) { return fsn_ntt_impl_for(FSN_ISA_REF); }
static const fsn_ntt_impl *simd(void) { return fsn_ntt_impl_for(fsn_isa_active()); }

/* The largest prime below 2^bits that is 1 mod 2^log2_mod. */
static uint64_t prime_below(unsigned bits, unsigned log2_mod) {
  uint64_t p;
  ck_assert_int_eq(fsn_ntt_primes(&p, 1, (uint64_t)1 << bits, log2_mod), FSN_OK);
  return p;
}

static fsn_ntt_table *table(uint64_t p, size_t n) {
  fsn_ntt_table *t;
  ck_assert_msg(fsn_ntt_table_create(&t, p, n) == FSN_OK, "table p=%llu n=%zu: %s", (unsigned long long)p, n,
                fsn_last_error());
  return t;
}

static uint64_t mulmod(uint64_t a, uint64_t b, uint64_t p) { return (uint64_t)((unsigned __int128)a * b % p); }
static uint64_t powmod(uint64_t a, uint64_t e, uint64_t p) {
  uint64_t r = 1;
  for (; e; e >>= 1, a = mulmod(a, a, p))
    if (e & 1) r = mulmod(r, a, p);
  return r;
}

/* Random values in [0, p), with the edges 0 and p - 1 sprinkled in. */
static void fill_mod(uint64_t *a, size_t n, uint64_t p) {
  for (size_t i = 0; i < n; i++) {
    uint64_t r = fsn_test_rand();
    a[i] = r % 16 == 0 ? 0 : r % 16 == 1 ? p - 1 : (r >> 8) % p;
  }
}

/* Every (prime, N) the transform tests walk: the largest primes below 2^50 and 2^36 that are 1 mod 2N. */
static const unsigned prime_bits[] = {50, 36};
static const size_t sizes[] = {16, 1024, 4096, 8192};

static void check_transforms(size_t n, uint64_t p) {
  fsn_ntt_table *t = table(p, n);
  uint64_t *a = malloc(n * 8), *want = malloc(n * 8), *got = malloc(n * 8);
  ck_assert(a && want && got);
  for (int round = 0; round < 3; round++) {
    fill_mod(a, n, p);
    if (round == 1)
      for (size_t i = 0; i < n; i++) a[i] = p - 1; /* the largest input everywhere */
    memcpy(want, a, n * 8), memcpy(got, a, n * 8);
    ref()->forward(want, t), simd()->forward(got, t);
    for (size_t i = 0; i < n; i++) {
      ck_assert_msg(want[i] < p, "ref forward output %zu not reduced", i);
      if (got[i] != want[i]) ck_abort_msg("forward n=%zu p=%llu: index %zu", n, (unsigned long long)p, i);
    }
    ref()->inverse(want, t), simd()->inverse(got, t);
    for (size_t i = 0; i < n; i++) {
      if (got[i] != want[i]) ck_abort_msg("inverse n=%zu p=%llu: index %zu", n, (unsigned long long)p, i);
      if (want[i] != a[i])
        ck_abort_msg("inverse(forward(a)) != a at n=%zu p=%llu index %zu", n, (unsigned long long)p, i);
    }
  }
  free(a), free(want), free(got), fsn_ntt_table_destroy(t);
}

START_TEST(transforms_match_ref) {
  for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
    unsigned log2_2n = 1;
    while (((size_t)1 << log2_2n) < 2 * sizes[s]) log2_2n++;
    for (size_t b = 0; b < sizeof prime_bits / sizeof prime_bits[0]; b++)
      check_transforms(sizes[s], prime_below(prime_bits[b], log2_2n));
  }
  check_transforms(2, 13), check_transforms(4, 17), check_transforms(8, 17); /* below a vector */
}
END_TEST

/* forward_low (ref and the active level) == the full transform of the zero-padded polynomial, for every len from 1 to
 * N; the words past len hold garbage, which it must not read. */
static void check_forward_low(size_t n, uint64_t p) {
  fsn_ntt_table *t = table(p, n);
  uint64_t *want = malloc(n * 8), *got = malloc(n * 8), *got_ref = malloc(n * 8);
  ck_assert(want && got && got_ref);
  for (size_t len = 1; len <= n; len *= 2)
    for (int round = 0; round < 2; round++) {
      memset(want, 0, n * 8);
      fill_mod(want, len, p);
      for (size_t i = 0; i < len && round == 1; i++) want[i] = p - 1;
      memcpy(got, want, len * 8), memcpy(got_ref, want, len * 8);
      for (size_t i = len; i < n; i++) got[i] = got_ref[i] = fsn_test_rand();
      ref()->forward(want, t), ref()->forward_low(got_ref, len, t), simd()->forward_low(got, len, t);
      ck_assert_msg(!memcmp(want, got_ref, n * 8), "ref forward_low n=%zu len=%zu round %d", n, len, round);
      ck_assert_msg(!memcmp(want, got, n * 8), "forward_low n=%zu len=%zu round %d", n, len, round);
    }
  free(want), free(got), free(got_ref), fsn_ntt_table_destroy(t);
}

START_TEST(forward_low_matches_forward) {
  for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
    unsigned log2_2n = 1;
    while (((size_t)1 << log2_2n) < 2 * sizes[s]) log2_2n++;
    for (size_t b = 0; b < sizeof prime_bits / sizeof prime_bits[0]; b++)
      check_forward_low(sizes[s], prime_below(prime_bits[b], log2_2n));
  }
  check_forward_low(2, 13), check_forward_low(4, 17), check_forward_low(8, 17); /* below a vector */
}
END_TEST

/* Many small transforms at the largest prime below 2^50, where the avx2 level's doubles have the least slack, with
 * adversarial patterns (all p - 1, alternating 0 / p - 1) besides random ones. */
START_TEST(transforms_many_rounds) {
  const uint64_t p = prime_below(50, 7);
  for (size_t n = 16; n <= 64; n *= 2) {
    fsn_ntt_table *t = table(p, n);
    uint64_t a[64], want[64], got[64];
    for (int round = 0; round < 3000; round++) {
      fill_mod(a, n, p);
      for (size_t i = 0; i < n && round % 3 == 1; i++) a[i] = i % 2 ? p - 1 : 0;
      for (size_t i = 0; i < n && round % 5 == 2; i++) a[i] = p - 1 - (uint64_t)(round % 7);
      memcpy(want, a, n * 8), memcpy(got, a, n * 8);
      ref()->forward(want, t), simd()->forward(got, t);
      ck_assert_msg(!memcmp(want, got, n * 8), "forward n=%zu round %d", n, round);
      ref()->inverse(want, t), simd()->inverse(got, t);
      ck_assert_msg(!memcmp(want, got, n * 8) && !memcmp(want, a, n * 8), "inverse n=%zu round %d", n, round);
      simd()->inverse(got, t); /* the inverse alone on arbitrary input too */
      ref()->inverse(want, t);
      ck_assert_msg(!memcmp(want, got, n * 8), "inverse of data n=%zu round %d", n, round);
    }
    fsn_ntt_table_destroy(t);
  }
}
END_TEST

/* The documented order: forward leaves a[k] = A(psi^(2 bitrev(k) + 1)). */
START_TEST(forward_evaluates_at_odd_powers) {
  enum { N = 32, LOG_N = 5 };
  const uint64_t p = prime_below(50, 6);
  fsn_ntt_table *t = table(p, N);
  const uint64_t psi = fsn_ntt_table_root(t);
  ck_assert_uint_eq(powmod(psi, N, p), p - 1);
  uint64_t a[N], coef[N];
  fill_mod(coef, N, p);
  memcpy(a, coef, sizeof a);
  fsn_ntt_forward(a, t);
  for (unsigned k = 0; k < N; k++) {
    unsigned rev = 0;
    for (unsigned b = 0; b < LOG_N; b++) rev |= ((k >> b) & 1) << (LOG_N - 1 - b);
    uint64_t x = powmod(psi, 2 * rev + 1, p), value = 0;
    for (int i = N - 1; i >= 0; i--) value = (mulmod(value, x, p) + coef[i]) % p; /* Horner */
    ck_assert_uint_eq(a[k], value);
  }
  fsn_ntt_table_destroy(t);
}
END_TEST

/* c = a b mod (X^N + 1, p) through the dispatched kernels. */
static void ntt_product(uint64_t *c, const uint64_t *a, const uint64_t *b, const fsn_ntt_table *t) {
  size_t n = fsn_ntt_table_degree(t);
  uint64_t *fb = malloc(n * 8);
  ck_assert_ptr_nonnull(fb);
  memcpy(c, a, n * 8), memcpy(fb, b, n * 8);
  fsn_ntt_forward(c, t), fsn_ntt_forward(fb, t);
  fsn_ntt_mul(c, c, fb, n, t);
  fsn_ntt_inverse(c, t);
  free(fb);
}

static void schoolbook(uint64_t *c, const uint64_t *a, const uint64_t *b, size_t n, uint64_t p) {
  memset(c, 0, n * 8);
  for (size_t i = 0; i < n; i++)
    for (size_t j = 0; j < n; j++) { /* X^(i+j) = -X^(i+j-N) past the degree */
      uint64_t prod = mulmod(a[i], b[j], p);
      size_t k = (i + j) % n;
      c[k] = i + j < n ? (c[k] + prod) % p : (c[k] + p - prod) % p;
    }
}

START_TEST(product_matches_schoolbook) {
  static const size_t ns[] = {256, 1024};
  for (size_t s = 0; s < 2; s++)
    for (size_t b = 0; b < 2; b++) {
      size_t n = ns[s];
      uint64_t p = prime_below(prime_bits[b], 11);
      fsn_ntt_table *t = table(p, n);
      uint64_t *x = malloc(n * 8), *y = malloc(n * 8), *got = malloc(n * 8), *want = malloc(n * 8);
      ck_assert(x && y && got && want);
      fill_mod(x, n, p), fill_mod(y, n, p);
      ntt_product(got, x, y, t);
      schoolbook(want, x, y, n, p);
      ck_assert_msg(!memcmp(got, want, n * 8), "NTT product != schoolbook at n=%zu p=%llu", n, (unsigned long long)p);
      free(x), free(y), free(got), free(want), fsn_ntt_table_destroy(t);
    }
}
END_TEST

#ifdef FSN_HAVE_FLINT
/* FLINT's full product, folded mod X^N + 1. */
static void flint_product(uint64_t *c, const uint64_t *a, const uint64_t *b, size_t n, uint64_t p) {
  nmod_poly_t fa, fb, fc;
  nmod_poly_init(fa, p), nmod_poly_init(fb, p), nmod_poly_init(fc, p);
  for (size_t i = 0; i < n; i++) nmod_poly_set_coeff_ui(fa, i, a[i]), nmod_poly_set_coeff_ui(fb, i, b[i]);
  nmod_poly_mul(fc, fa, fb);
  for (size_t i = 0; i < n; i++) {
    uint64_t lo = nmod_poly_get_coeff_ui(fc, i), hi = nmod_poly_get_coeff_ui(fc, i + n);
    c[i] = (lo + p - hi) % p;
  }
  nmod_poly_clear(fa), nmod_poly_clear(fb), nmod_poly_clear(fc);
}

START_TEST(product_matches_flint) {
  static const size_t ns[] = {1024, 4096, 8192};
  for (size_t s = 0; s < 3; s++)
    for (size_t b = 0; b < 2; b++) {
      size_t n = ns[s];
      uint64_t p = prime_below(prime_bits[b], 14);
      fsn_ntt_table *t = table(p, n);
      uint64_t *x = malloc(n * 8), *y = malloc(n * 8), *got = malloc(n * 8), *want = malloc(n * 8);
      ck_assert(x && y && got && want);
      fill_mod(x, n, p), fill_mod(y, n, p);
      ntt_product(got, x, y, t);
      flint_product(want, x, y, n, p);
      ck_assert_msg(!memcmp(got, want, n * 8), "NTT product != FLINT at n=%zu p=%llu", n, (unsigned long long)p);
      free(x), free(y), free(got), free(want), fsn_ntt_table_destroy(t);
    }
}
END_TEST
#endif

/* Pointwise ops: every length 0 .. 2 vectors + 3, misaligned, canaries around the output. */
START_TEST(pointwise_match_ref) {
  enum { MAXN = 19 };
  for (size_t b = 0; b < 2; b++) {
    uint64_t p = prime_below(prime_bits[b], 14);
    fsn_ntt_table *t = table(p, 8192);
    FSN_TEST_FOR_MISALIGN(mis, 8) {
      for (size_t n = 0; n <= MAXN; n++) {
        uint64_t x[MAXN], y[MAXN], acc[MAXN], want[MAXN];
        fill_mod(x, n, p), fill_mod(y, n, p), fill_mod(acc, n, p);
        fsn_test_buf buf;
        uint64_t *out = fsn_test_buf_alloc(&buf, n * 8 + 8, mis);
        for (int op = 0; op < 4; op++) {
          if (op == 1) memcpy(out, acc, n * 8), memcpy(want, acc, n * 8);
          switch (op) {
          case 0: ref()->mul(want, x, y, n, t), simd()->mul(out, x, y, n, t); break;
          case 1: ref()->mul_acc(want, x, y, n, t), simd()->mul_acc(out, x, y, n, t); break;
          case 2: ref()->add(want, x, y, n, t), simd()->add(out, x, y, n, t); break;
          case 3: ref()->sub(want, x, y, n, t), simd()->sub(out, x, y, n, t); break;
          }
          for (size_t i = 0; i < n; i++)
            if (out[i] != want[i])
              ck_abort_msg("pointwise op %d n=%zu p=%llu index %zu", op, n, (unsigned long long)p, i);
        }
        for (size_t i = 0; i < n; i++) ck_assert_uint_eq(want[i], (x[i] + p - y[i]) % p);
        fsn_test_buf_check(&buf);
        fsn_test_buf_free(&buf);
      }
    }
    /* in place, and the extreme products (p - 1)^2 */
    uint64_t e[16], f[16], w[16];
    for (int i = 0; i < 16; i++) e[i] = i % 2 ? p - 1 : (uint64_t)i, f[i] = p - 1 - (uint64_t)(i % 3);
    ref()->mul(w, e, f, 16, t), simd()->mul(e, e, f, 16, t);
    ck_assert(!memcmp(w, e, sizeof w));
    ck_assert_uint_eq(w[3], 1); /* (p - 1)(p - 1) = 1 */
    ck_assert_uint_eq(w[1], 2); /* (p - 1)(p - 2) = 2 */
    fsn_ntt_table_destroy(t);
  }
}
END_TEST

/* Bigger runs of mul_acc, as the RLWE layer uses it: many polynomials accumulated. */
START_TEST(mul_acc_long_matches_ref) {
  enum { N = 3 * 4096 + 5 };
  uint64_t p = prime_below(50, 14);
  fsn_ntt_table *t = table(p, 4096);
  uint64_t *x = malloc(N * 8), *y = malloc(N * 8), *got = malloc(N * 8), *want = malloc(N * 8);
  ck_assert(x && y && got && want);
  fill_mod(want, N, p);
  memcpy(got, want, N * 8);
  for (int r = 0; r < 4; r++) {
    fill_mod(x, N, p), fill_mod(y, N, p);
    ref()->mul_acc(want, x, y, N, t), simd()->mul_acc(got, x, y, N, t);
  }
  ck_assert(!memcmp(got, want, N * 8));
  free(x), free(y), free(got), free(want), fsn_ntt_table_destroy(t);
}
END_TEST

/* mul_acc_sum: the active level against ref, against mul_acc term by term, and ref against a direct 128-bit sum;
 * every count around the lazy-reduction period, every tail around the vector and block widths, misaligned. */
START_TEST(mul_acc_sum_matches_ref) {
  static const size_t counts[] = {0, 1, 2, 7, 8, 9, 16, 17, 100};
  static const size_t lens[] = {1, 3, 4, 5, 8, 13, 511, 512, 513, 1029, 4096};
  enum { MAXC = 100, MAXN = 4096 + 1 };
  for (int pb = 0; pb < 2; pb++) {
    const uint64_t p = prime_below(prime_bits[pb], 14);
    fsn_ntt_table *t = table(p, 4096);
    uint64_t *pool = malloc((2 * MAXC * MAXN + 3 * MAXN) * 8);
    ck_assert(pool);
    const uint64_t *pa[MAXC], *pb_[MAXC];
    for (size_t ci = 0; ci < sizeof counts / sizeof counts[0]; ci++)
      for (size_t li = 0; li < sizeof lens / sizeof lens[0]; li++) {
        const size_t count = counts[ci], n = lens[li], off = (ci + li) % 2; /* misaligned by one word or not */
        uint64_t *x = pool + off, *acc = x + 2 * MAXC * MAXN, *want = acc + MAXN, *step = want + MAXN;
        fill_mod(x, 2 * count * n, p);
        fill_mod(acc, n, p);
        for (size_t k = 0; k < count; k++) pa[k] = x + 2 * k * n, pb_[k] = x + (2 * k + 1) * n;
        memcpy(want, acc, n * 8), memcpy(step, acc, n * 8);
        ref()->mul_acc_sum(want, pa, pb_, count, n, t);
        simd()->mul_acc_sum(acc, pa, pb_, count, n, t);
        for (size_t k = 0; k < count; k++) simd()->mul_acc(step, pa[k], pb_[k], n, t);
        for (size_t i = 0; i < n; i++)
          if (acc[i] != want[i] || step[i] != want[i])
            ck_abort_msg("mul_acc_sum count=%zu n=%zu p=%llu index %zu", count, n, (unsigned long long)p, i);
      }
    /* the extreme products: every term (p - 1)^2 */
    uint64_t *e = pool, *acc = pool + MAXN, *want = acc + MAXN;
    for (size_t i = 0; i < MAXN; i++) e[i] = p - 1, acc[i] = p - 1;
    for (size_t k = 0; k < MAXC; k++) pa[k] = pb_[k] = e;
    memcpy(want, acc, MAXN * 8);
    ref()->mul_acc_sum(want, pa, pb_, MAXC, MAXN, t);
    simd()->mul_acc_sum(acc, pa, pb_, MAXC, MAXN, t);
    ck_assert(!memcmp(acc, want, MAXN * 8));
    ck_assert_uint_eq(want[0], (uint64_t)(((unsigned __int128)MAXC + p - 1) % p)); /* (p-1)^2 = 1, MAXC times */
    free(pool), fsn_ntt_table_destroy(t);
  }
}
END_TEST

/* round(x q' / q) mod q' straight from x as a 128-bit integer (x 2^k < 2^128 for k <= 27). */
static uint64_t direct_pow2(unsigned __int128 x, unsigned __int128 q, unsigned k) {
  unsigned __int128 r = ((x << k) + q / 2) / q;
  return (uint64_t)(r & (((unsigned __int128)1 << k) - 1));
}

static void check_modswitch(uint64_t p1, uint64_t p2) {
  enum { N = 37 };
  const unsigned __int128 q = (unsigned __int128)p1 * p2;
  unsigned __int128 x[N];
  uint64_t x1[N], x2[N], got[N], want[N];
  for (int i = 0; i < N; i++) {
    x[i] = (((unsigned __int128)fsn_test_rand() << 64) | fsn_test_rand()) % q;
    if (i == 0) x[i] = 0;
    if (i == 1) x[i] = q - 1;
    if (i == 2) x[i] = q / 2;
    if (i == 3) x[i] = q / 2 + 1;
    if (i == 4) x[i] = p2 / 2; /* just below the first rounding step */
    if (i == 5) x[i] = p2 / 2 + 1;
    x1[i] = (uint64_t)(x[i] % p1), x2[i] = (uint64_t)(x[i] % p2);
  }
  ref()->modswitch_prime(want, x1, x2, N, p1, p2);
  simd()->modswitch_prime(got, x1, x2, N, p1, p2);
  for (int i = 0; i < N; i++) {
    ck_assert_uint_eq(want[i], (uint64_t)((x[i] + p2 / 2) / p2 % p1));
    ck_assert_uint_eq(got[i], want[i]);
  }
  ck_assert_uint_eq(want[4], 0);
  ck_assert_uint_eq(want[5], 1);
  for (unsigned k = 1; k <= 64; k++) {
    ref()->modswitch_pow2(want, x1, x2, N, p1, p2, k);
    simd()->modswitch_pow2(got, x1, x2, N, p1, p2, k);
    for (int i = 0; i < N; i++) {
      ck_assert_uint_eq(got[i], want[i]);
      if (k <= 27) ck_assert_uint_eq(want[i], direct_pow2(x[i], q, k));
      if (k < 64) ck_assert_uint_lt(want[i], (uint64_t)1 << k);
    }
    ck_assert_uint_eq(want[0], 0);
    ck_assert_uint_eq(want[1], 0); /* (q - 1) 2^k / q rounds to 2^k = 0 */
  }
}

/* Inputs whose x 2^k mod q sits at the rounding edges (q / 2 +- 1, +- 3 / 2; 0, 1, q - 1): x = t 2^-k mod q. */
static void check_modswitch_edges(uint64_t p1, uint64_t p2) {
  const unsigned __int128 q = (unsigned __int128)p1 * p2;
  const unsigned __int128 targets[] = {0, 1, q - 1, (q - 1) / 2, (q + 1) / 2, (q - 3) / 2, (q + 3) / 2};
  enum { T = sizeof targets / sizeof targets[0] };
  static const unsigned ks[] = {1, 2, 13, 27, 37, 63, 64};
  for (size_t ki = 0; ki < sizeof ks / sizeof ks[0]; ki++) {
    uint64_t x1[T], x2[T], want[T], got[T];
    unsigned __int128 x[T];
    for (size_t i = 0; i < T; i++) {
      x[i] = targets[i];
      for (unsigned b = 0; b < ks[ki]; b++) x[i] = x[i] % 2 ? (x[i] + q) / 2 : x[i] / 2; /* times 2^-1 mod q */
      x1[i] = (uint64_t)(x[i] % p1), x2[i] = (uint64_t)(x[i] % p2);
    }
    ref()->modswitch_pow2(want, x1, x2, T, p1, p2, ks[ki]);
    simd()->modswitch_pow2(got, x1, x2, T, p1, p2, ks[ki]);
    for (size_t i = 0; i < T; i++) {
      ck_assert_msg(got[i] == want[i], "modswitch_pow2 edge %zu k=%u", i, ks[ki]);
      if (ks[ki] <= 27) ck_assert_uint_eq(want[i], direct_pow2(x[i], q, ks[ki]));
    }
  }
}

START_TEST(modswitch_matches_direct) {
  uint64_t big[2], small;
  ck_assert_int_eq(fsn_ntt_primes(big, 2, (uint64_t)1 << 50, 38), FSN_OK);
  small = prime_below(36, 14);
  for (int r = 0; r < 6; r++) { /* both orders, equal and unequal sizes */
    check_modswitch(big[0], big[1]), check_modswitch(big[1], big[0]);
    check_modswitch(small, big[0]), check_modswitch(big[1], small);
  }
  check_modswitch_edges(big[0], big[1]), check_modswitch_edges(big[1], big[0]);
  check_modswitch_edges(small, big[0]), check_modswitch_edges(big[0], small);
}
END_TEST

START_TEST(primes_and_tables) {
  ck_assert(fsn_ntt_is_prime(2) && fsn_ntt_is_prime(3) && fsn_ntt_is_prime((1ull << 61) - 1));
  ck_assert(!fsn_ntt_is_prime(0) && !fsn_ntt_is_prime(1) && !fsn_ntt_is_prime(561)); /* 561: Carmichael */
  ck_assert(!fsn_ntt_is_prime(3215031751ull));                                       /* strong pseudoprime 2,3,5,7 */
  ck_assert(!fsn_ntt_is_prime(((1ull << 31) - 1) * ((1ull << 31) - 1)));
  uint64_t ps[4];
  ck_assert_int_eq(fsn_ntt_primes(ps, 4, (uint64_t)1 << 50, 37), FSN_OK);
  for (int i = 0; i < 4; i++) {
    ck_assert(fsn_ntt_is_prime(ps[i]) && ps[i] < (uint64_t)1 << 50 && ps[i] % ((uint64_t)1 << 37) == 1);
    if (i) ck_assert_uint_lt(ps[i], ps[i - 1]);
  }
  for (uint64_t c = ((1ull << 50) - 2) >> 37; ((c << 37) + 1) > ps[0]; c--) ck_assert(!fsn_ntt_is_prime((c << 37) + 1));
  ck_assert_int_eq(fsn_ntt_primes(ps, 1, 100, 8), FSN_E_INVALID); /* 257 is the first prime 1 mod 2^8 */
  ck_assert_int_eq(fsn_ntt_primes(ps, 1, 258, 8), FSN_OK);
  ck_assert_uint_eq(ps[0], 257);

  fsn_ntt_table *t = (fsn_ntt_table *)&t;
  const uint64_t p = prime_below(50, 14);
  ck_assert_int_eq(fsn_ntt_table_create(&t, p, 3000), FSN_E_INVALID);
  ck_assert_ptr_null(t);
  ck_assert_int_eq(fsn_ntt_table_create(&t, p, (size_t)1 << 18), FSN_E_INVALID);
  ck_assert_int_eq(fsn_ntt_table_create(&t, 257 * 65537, 128), FSN_E_INVALID); /* composite, 1 mod 256 */
  ck_assert_int_eq(fsn_ntt_table_create(&t, 12289, 4096), FSN_E_INVALID);      /* 12289 = 1 mod 2^12 only */
  ck_assert_int_eq(fsn_ntt_primes(ps, 1, (uint64_t)1 << 52, 20), FSN_OK);
  ck_assert_int_eq(fsn_ntt_table_create(&t, ps[0], 4096), FSN_E_INVALID); /* above 2^50 */
  t = table(12289, 2048);
  ck_assert_uint_eq(fsn_ntt_table_modulus(t), 12289);
  ck_assert_uint_eq(fsn_ntt_table_degree(t), 2048);
  fsn_ntt_table_destroy(t);
  fsn_ntt_table_destroy(NULL);
}
END_TEST

/* Samplers: in range, deterministic in the seed, and roughly the right distribution (bounds ~6 sigma). */
START_TEST(samplers) {
  enum { N = 1 << 16 };
  const uint64_t p = prime_below(50, 14);
  uint64_t *a = malloc(N * 8), *b = malloc(N * 8);
  ck_assert(a && b);
  uint8_t seed[16] = {1, 2, 3};
  fsn_prg g;

  fsn_prg_seed(&g, seed), fsn_ntt_sample_uniform(&g, a, N, p);
  fsn_prg_seed(&g, seed), fsn_ntt_sample_uniform(&g, b, N, p);
  ck_assert(!memcmp(a, b, N * 8));
  size_t bucket[16] = {0};
  for (size_t i = 0; i < N; i++) {
    ck_assert_uint_lt(a[i], p);
    bucket[(unsigned __int128)a[i] * 16 / p]++;
  }
  for (int k = 0; k < 16; k++)
    ck_assert_msg(bucket[k] > N / 16 - 400 && bucket[k] < N / 16 + 400, "uniform bucket %d: %zu", k, bucket[k]);
  fsn_ntt_sample_uniform(&g, b, N, 12289); /* a small modulus rejects often */
  for (size_t i = 0; i < N; i++) ck_assert_uint_lt(b[i], 12289);

  fsn_ntt_sample_ternary(&g, a, N, p);
  size_t count[3] = {0};
  for (size_t i = 0; i < N; i++) {
    ck_assert(a[i] == 0 || a[i] == 1 || a[i] == p - 1);
    count[a[i] == 0 ? 0 : a[i] == 1 ? 1 : 2]++;
  }
  for (int k = 0; k < 3; k++)
    ck_assert_msg(count[k] > N / 3 - 800 && count[k] < N / 3 + 800, "ternary %d: %zu", k, count[k]);

  const unsigned eta = 21;
  fsn_ntt_sample_cbd(&g, a, N, p, eta);
  double sum = 0, sq = 0;
  for (size_t i = 0; i < N; i++) {
    int64_t v = a[i] > p / 2 ? -(int64_t)(p - a[i]) : (int64_t)a[i];
    ck_assert(v >= -(int64_t)eta && v <= (int64_t)eta);
    sum += (double)v, sq += (double)v * (double)v;
  }
  double mean = sum / N, var = sq / N - mean * mean;
  ck_assert_msg(mean > -0.1 && mean < 0.1, "cbd mean %f", mean);
  ck_assert_msg(var > eta / 2.0 * 0.95 && var < eta / 2.0 * 1.05, "cbd variance %f", var);
  free(a), free(b);
}
END_TEST

int main(void) {
  Suite *s = suite_create("ntt");
  TCase *tc = tcase_create("ntt");
  tcase_add_test(tc, transforms_match_ref);
  tcase_add_test(tc, transforms_many_rounds);
  tcase_add_test(tc, forward_low_matches_forward);
  tcase_add_test(tc, forward_evaluates_at_odd_powers);
  tcase_add_test(tc, product_matches_schoolbook);
#ifdef FSN_HAVE_FLINT
  tcase_add_test(tc, product_matches_flint);
#endif
  tcase_add_test(tc, pointwise_match_ref);
  tcase_add_test(tc, mul_acc_long_matches_ref);
  tcase_add_test(tc, mul_acc_sum_matches_ref);
  tcase_add_test(tc, modswitch_matches_direct);
  tcase_add_test(tc, primes_and_tables);
  tcase_add_test(tc, samplers);
  suite_add_tcase(s, tc);
  return fsn_test_main(s);
}
