/* Ferret silent OT: the GGM and LPN kernels against their definition and every variant against ref (tails,
 * misalignment, in place, guard bytes); two parties over loopback: every COT satisfies xc = x0 ^ c Delta across
 * iterations of each set, at odd call sizes; the exact bytes per iteration; seeded runs identical across ISA levels;
 * peers that vanish or send a short frame give a clean error and leave the object broken. */
#include <fusion/ferret.h>
#include <fusion/prg.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kernels/ggm/ggm_ops.h"
#include "kernels/lpn/lpn_ops.h"
#include "protocol/ot/ferret_internal.h"
#include "tests/common/fsn_test.h"
#include "tests/common/fsn_test_net.h"

static void *xmalloc(size_t bytes) {
  void *p = malloc(bytes ? bytes : 1);
  ck_assert_ptr_nonnull(p);
  return p;
}

static void random_key(fsn_aes128_key *key) {
  uint8_t k[16];
  fsn_test_fill(k, sizeof k);
  fsn_aes128_expand(key, k);
}

/* ---- kernels ----------------------------------------------------------------------------------------------------- */

/* The correlated GGM definition through the public AES: left = AES(sigma(s)) ^ sigma(s), right = s ^ left, and the
 * level sums. */
static void ggm_by_definition(uint8_t *out, uint8_t sums[32], const uint8_t *in, size_t m, const fsn_aes128_key *key) {
  memset(sums, 0, 32);
  for (size_t j = 0; j < m; j++) {
    const uint8_t *s = in + 16 * j;
    uint8_t sigma[16], a[16];
    for (int x = 0; x < 8; x++) sigma[x] = s[x] ^ s[8 + x], sigma[8 + x] = s[x];
    fsn_aes128_ecb(a, sigma, 1, key);
    for (int x = 0; x < 16; x++) {
      out[32 * j + x] = a[x] ^ sigma[x];
      out[32 * j + 16 + x] = out[32 * j + x] ^ s[x];
      sums[x] ^= out[32 * j + x];
      sums[16 + x] ^= out[32 * j + 16 + x];
    }
  }
}

static const size_t ggm_sizes[] = {0, 1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 33, 64, 255, 1000};

START_TEST(ggm_variants_match_definition) {
  fsn_aes128_key key;
  random_key(&key);
  for (int isa = 0; isa <= (int)fsn_isa_best(); isa++) {
    const fsn_ggm_impl *impl = fsn_ggm_impl_for((fsn_isa)isa);
    for (size_t si = 0; si < sizeof ggm_sizes / sizeof ggm_sizes[0]; si++) {
      const size_t m = ggm_sizes[si];
      FSN_TEST_FOR_MISALIGN(mis, 16) {
        fsn_test_buf bin, bout, bplace;
        uint8_t *in = fsn_test_buf_alloc(&bin, 16 * m, mis), *out = fsn_test_buf_alloc(&bout, 32 * m, mis);
        uint8_t *place = fsn_test_buf_alloc(&bplace, 32 * m, mis);
        uint8_t *want = xmalloc(32 * m), sums[32], want_sums[32], place_sums[32];
        fsn_test_fill(in, 16 * m);
        memcpy(place, in, 16 * m);
        ggm_by_definition(want, want_sums, in, m, &key);
        impl->expand(out, sums, in, m, &key);
        impl->expand(place, place_sums, place, m, &key); /* in place */
        ck_assert_msg(!memcmp(out, want, 32 * m) && !memcmp(sums, want_sums, 32), "%s m=%zu mis=%zu",
                      fsn_isa_name((fsn_isa)isa), m, mis);
        ck_assert_msg(!memcmp(place, want, 32 * m) && !memcmp(place_sums, want_sums, 32), "%s in place m=%zu",
                      fsn_isa_name((fsn_isa)isa), m);
        fsn_test_buf_check(&bin), fsn_test_buf_check(&bout), fsn_test_buf_check(&bplace);
        fsn_test_buf_free(&bin), fsn_test_buf_free(&bout), fsn_test_buf_free(&bplace);
        free(want);
      }
    }
  }
}
END_TEST

/* Row i of the code by its definition in lpn_ops.h, through the public AES. */
static void lpn_row_by_definition(uint8_t acc[16], const uint8_t *base, const fsn_aes128_key *key, size_t k, size_t i) {
  uint8_t words[16 * FSN_LPN_PAIR_BLOCKS];
  for (size_t b = 0; b < FSN_LPN_PAIR_BLOCKS; b++)
    fsn_lpn_counter_block(words + 16 * b, FSN_LPN_PAIR_BLOCKS * (i / 2) + b);
  fsn_aes128_ecb(words, words, FSN_LPN_PAIR_BLOCKS, key);
  for (size_t j = 0; j < FSN_LPN_D; j++) {
    const uint32_t w = fsn_lpn_word(words, FSN_LPN_D * (i % 2) + j);
    const size_t pos = (size_t)(((uint64_t)w * k) >> 32);
    ck_assert_uint_lt(pos, k);
    for (int x = 0; x < 16; x++) acc[x] ^= base[16 * pos + x];
  }
}

START_TEST(lpn_variants_match_definition) {
  static const size_t ks[] = {1, 2, 37, 36288, 131072, 200003}; /* both sides of the prefetch bound */
  static const size_t row0s[] = {0, 1, 2, 7, 1000001};
  static const size_t counts[] = {0, 1, 2, 3, 7, 8, 9, 15, 16, 17, 23, 24, 25, 40, 333};
  fsn_aes128_key key;
  random_key(&key);
  for (size_t ki = 0; ki < sizeof ks / sizeof ks[0]; ki++) {
    const size_t k = ks[ki];
    uint8_t *base = xmalloc(16 * k);
    fsn_test_fill(base, 16 * k);
    for (size_t ri = 0; ri < sizeof row0s / sizeof row0s[0]; ri++)
      for (size_t ci = 0; ci < sizeof counts / sizeof counts[0]; ci++) {
        const size_t row0 = row0s[ri], n = counts[ci];
        uint8_t *init = xmalloc(16 * n), *want = xmalloc(16 * n);
        fsn_test_fill(init, 16 * n);
        memcpy(want, init, 16 * n);
        for (size_t i = 0; i < n; i++) lpn_row_by_definition(want + 16 * i, base, &key, k, row0 + i);
        for (int isa = 0; isa <= (int)fsn_isa_best(); isa++) FSN_TEST_FOR_MISALIGN(mis, 16) {
            fsn_test_buf bout;
            uint8_t *out = fsn_test_buf_alloc(&bout, 16 * n, mis);
            memcpy(out, init, 16 * n);
            fsn_lpn_impl_for((fsn_isa)isa)->encode(out, base, &key, k, row0, n);
            ck_assert_msg(!memcmp(out, want, 16 * n), "%s k=%zu row0=%zu n=%zu mis=%zu", fsn_isa_name((fsn_isa)isa), k,
                          row0, n, mis);
            fsn_test_buf_check(&bout);
            fsn_test_buf_free(&bout);
          }
        free(init), free(want);
      }
    free(base);
  }
}
END_TEST

/* A split call gives what one call gives (the kernels' row ranges are absolute). */
START_TEST(lpn_ranges_compose) {
  const size_t k = 36288, n = 4099;
  fsn_aes128_key key;
  random_key(&key);
  uint8_t *base = xmalloc(16 * k), *whole = xmalloc(16 * n), *split = xmalloc(16 * n);
  fsn_test_fill(base, 16 * k);
  fsn_test_fill(whole, 16 * n);
  memcpy(split, whole, 16 * n);
  fsn_lpn_encode(whole, base, &key, k, 0, n);
  for (size_t off = 0; off < n;) {
    const size_t m = (off * 7 + 13) % 61 + 1 < n - off ? (off * 7 + 13) % 61 + 1 : n - off;
    fsn_lpn_encode(split + 16 * off, base, &key, k, off, m);
    off += m;
  }
  ck_assert(!memcmp(whole, split, 16 * n));
  free(base), free(whole), free(split);
}
END_TEST

/* ---- two parties ------------------------------------------------------------------------------------------------- */

/* One run: the server is the Ferret sender, the client the receiver; both make the calls sizes[0..ncalls). */
typedef struct run {
  const fsn_ferret_params *p;
  const uint8_t *seed; /* NULL: production randomness */
  fsn_ferret_options opt_s, opt_r;
  const size_t *sizes;
  size_t ncalls, total;
  uint8_t *x0, *xc, *choice, delta[16];
  uint64_t iters_s, iters_r;
  fsn_counters boot_s, boot_r, body_s, body_r; /* payload counters of the bootstrap and of the calls */
  double seconds_r;                            /* the receiver's wall-clock time for the calls */
  double cpu_s, cpu_r;                         /* each party's thread CPU time for the calls */
  fsn_status st_s, st_r;
  char err_s[256], err_r[256];
} run;

static void keep_error(char *dst, fsn_status st) {
  if (st != FSN_OK) snprintf(dst, 256, "%s", fsn_last_error());
}

static double clock_seconds(clockid_t clock) {
  struct timespec ts;
  clock_gettime(clock, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static fsn_status create(fsn_ferret **f, fsn_channel *ch, fsn_ot_role role, const run *r) {
  const fsn_ferret_options *opt = role == FSN_OT_SENDER ? &r->opt_s : &r->opt_r;
  return r->seed ? fsn_ferret_create_seeded(f, ch, role, r->p, opt, r->seed)
                 : fsn_ferret_create_ex(f, ch, role, r->p, opt);
}

static void sender(fsn_channel *ch, void *arg) {
  run *r = arg;
  fsn_ferret *f = NULL;
  r->st_s = create(&f, ch, FSN_OT_SENDER, r);
  fsn_channel_counters(ch, &r->boot_s);
  fsn_channel_reset_counters(ch);
  if (r->st_s == FSN_OK) r->st_s = fsn_ferret_delta(f, r->delta);
  const double cpu0 = clock_seconds(CLOCK_THREAD_CPUTIME_ID);
  for (size_t c = 0, off = 0; r->st_s == FSN_OK && c < r->ncalls; off += r->sizes[c++])
    r->st_s = fsn_ferret_rcot_send(f, r->x0 + 16 * off, r->sizes[c]);
  r->cpu_s = clock_seconds(CLOCK_THREAD_CPUTIME_ID) - cpu0;
  fsn_channel_counters(ch, &r->body_s);
  if (f) r->iters_s = fsn_ferret_iterations(f);
  keep_error(r->err_s, r->st_s);
  fsn_ferret_destroy(f);
}

static void receiver(fsn_channel *ch, void *arg) {
  run *r = arg;
  fsn_ferret *f = NULL;
  uint8_t *bits = xmalloc(r->total / 8 + 1);
  r->st_r = create(&f, ch, FSN_OT_RECEIVER, r);
  fsn_channel_counters(ch, &r->boot_r);
  fsn_channel_reset_counters(ch);
  const double t0 = clock_seconds(CLOCK_MONOTONIC), cpu0 = clock_seconds(CLOCK_THREAD_CPUTIME_ID);
  memset(r->choice, 0, (r->total + 7) / 8);
  for (size_t c = 0, off = 0; r->st_r == FSN_OK && c < r->ncalls; off += r->sizes[c++]) {
    const size_t m = r->sizes[c];
    bits[m / 8] = 0x5a; /* the call must clear the unused high bits of its last byte */
    r->st_r = fsn_ferret_rcot_recv(f, r->xc + 16 * off, bits, m);
    if (m % 8 && bits[m / 8] >> (m % 8)) ck_abort_msg("unused high bits not zero after %zu COTs", m);
    for (size_t i = 0; r->st_r == FSN_OK && i < m; i++)
      r->choice[(off + i) / 8] |= (uint8_t)((bits[i / 8] >> (i % 8) & 1) << ((off + i) % 8));
  }
  r->seconds_r = clock_seconds(CLOCK_MONOTONIC) - t0;
  r->cpu_r = clock_seconds(CLOCK_THREAD_CPUTIME_ID) - cpu0;
  fsn_channel_counters(ch, &r->body_r);
  if (f) r->iters_r = fsn_ferret_iterations(f);
  keep_error(r->err_r, r->st_r);
  free(bits);
  fsn_ferret_destroy(f);
}

static void run_alloc(run *r, const fsn_ferret_params *p, const size_t *sizes, size_t ncalls) {
  memset(r, 0, sizeof *r);
  r->p = p, r->sizes = sizes, r->ncalls = ncalls;
  for (size_t c = 0; c < ncalls; c++) r->total += sizes[c];
  r->x0 = xmalloc(16 * r->total);
  r->xc = xmalloc(16 * r->total);
  r->choice = xmalloc(r->total / 8 + 1);
}

static void run_free(run *r) { free(r->x0), free(r->xc), free(r->choice); }

static void sender_on(fsn_channel **chs, size_t n, void *arg) { (void)n, sender(chs[0], arg); }
static void receiver_on(fsn_channel **chs, size_t n, void *arg) { (void)n, receiver(chs[0], arg); }

/* Honest runs get a generous read timeout: under the sanitizers, at the reference level, on a loaded machine an
 * iteration's compute between two frames can exceed the 30 s default (the bad-peer tests keep it short). */
static void run_two_party(run *r) {
  const fsn_test_net_opts o = {.chan = {.timeout_ms = 600000}};
  fsn_test_two_party_ex(&o, sender_on, r, receiver_on, r);
  ck_assert_msg(r->st_s == FSN_OK, "sender: %s (%s)", fsn_strerror(r->st_s), r->err_s);
  ck_assert_msg(r->st_r == FSN_OK, "receiver: %s (%s)", fsn_strerror(r->st_r), r->err_r);
}

/* Every COT: xc = x0 ^ c Delta, c the reported choice bit and the lowest bit of xc; x0's lowest bit clear; Delta's
 * set. The choice bits are balanced and consecutive outputs differ (a stuck pool or a repeated iteration would not). */
static void check_correlation(const run *r) {
  ck_assert_msg(r->delta[0] & 1, "Delta's lowest bit is clear");
  size_t ones = 0;
  for (size_t i = 0; i < r->total; i++) { /* ck_assert only on failure: a passing one costs a pipe write */
    const unsigned c = r->choice[i / 8] >> (i % 8) & 1;
    const uint8_t *x0 = r->x0 + 16 * i, *xc = r->xc + 16 * i;
    uint8_t want[16];
    for (int b = 0; b < 16; b++) want[b] = (uint8_t)(x0[b] ^ (c ? r->delta[b] : 0));
    ones += c;
    if ((x0[0] & 1) || (xc[0] & 1) != c || memcmp(xc, want, 16) || (i && !memcmp(x0, x0 - 16, 16)))
      ck_abort_msg("COT %zu of %zu: x0 lowest bit %d, choice %u, xc lowest bit %d, xc %s x0 ^ c Delta, x0 %s the "
                   "previous",
                   i, r->total, x0[0] & 1, c, xc[0] & 1,
                   memcmp(xc, want, 16) ? "!=" : "==", i && !memcmp(x0, x0 - 16, 16) ? "repeats" : "differs from");
  }
  /* 8 standard deviations around total / 2 */
  const double dev = (double)ones - (double)r->total / 2, sd = 0.5 * __builtin_sqrt((double)r->total);
  ck_assert_msg(dev < 8 * sd + 1 && -dev < 8 * sd + 1, "%zu ones among %zu choice bits", ones, r->total);
}

/* Iterations run for `total` COTs of set p, and the exact payload bytes they cost: the frame from sender to receiver;
 * checked, 32 bytes each way more (the receiver's seed and x', the sender's hash). */
static void check_bytes(const run *r) {
  const bool checked = r->opt_s.checked;
  const uint64_t usable = fsn_ferret_usable(r->p) - (checked ? FSN_FERRET_CHECK_COTS : 0);
  const uint64_t iters = (r->total + usable - 1) / usable, half = FSN_FERRET_CHECK_BYTES / 2;
  ck_assert_uint_eq(r->iters_s, iters);
  ck_assert_uint_eq(r->iters_r, iters);
  ck_assert_uint_eq(r->body_s.bytes_sent, iters * (fsn_ferret_iteration_bytes(r->p) + (checked ? half : 0)));
  ck_assert_uint_eq(r->body_r.bytes_recv, iters * (fsn_ferret_iteration_bytes(r->p) + (checked ? half : 0)));
  ck_assert_uint_eq(r->body_r.bytes_sent, checked ? iters * half : 0);
  ck_assert_uint_eq(r->body_s.bytes_recv, checked ? iters * half : 0);
  ck_assert_uint_eq(r->body_s.msgs_sent, checked ? 2 * iters : iters);
}

/* The medium and main sets take minutes through the portable AES: they run at the SIMD levels; the small set and
 * the seeded comparison cover ref. */
static bool heavy_sets_skipped(const char *what) {
  if (fsn_isa_active() != FSN_ISA_REF) return false;
  fprintf(stderr, "# ferret %s: not run at the ref level (portable AES too slow for this size)\n", what);
  return true;
}

static void report(const char *what, const run *r) {
  const double bits = 8.0 * (double)fsn_ferret_iteration_bytes(r->p) / (double)fsn_ferret_usable(r->p);
  fprintf(stderr,
          "# ferret %s: %zu COTs in %llu iterations; %.3f bits/COT steady state (%llu B per iteration); bootstrap "
          "%llu B sent by the sender, %llu B by the receiver; CPU time for the calls: sender %.3f s (%.1f M COT/s), "
          "receiver %.3f s (%.1f M COT/s); wall clock %.1f M COT/s (both parties on this loaded machine)\n",
          what, r->total, (unsigned long long)r->iters_r, bits, (unsigned long long)fsn_ferret_iteration_bytes(r->p),
          (unsigned long long)r->boot_s.bytes_sent, (unsigned long long)r->boot_r.bytes_sent, r->cpu_s,
          1e-6 * (double)r->total / r->cpu_s, r->cpu_r, 1e-6 * (double)r->total / r->cpu_r,
          1e-6 * (double)r->total / r->seconds_r);
}

/* One two-party run of calls `sizes` on set p with options o for both parties: every COT satisfies the correlation,
 * the bytes equal the formula; the figures are printed under `what`. */
static void check_run(const fsn_ferret_params *p, const size_t *sizes, size_t ncalls, fsn_ferret_options o,
                      const char *what) {
  run r;
  run_alloc(&r, p, sizes, ncalls);
  r.opt_s = r.opt_r = o;
  run_two_party(&r);
  check_correlation(&r);
  check_bytes(&r);
  report(what, &r);
  run_free(&r);
}

/* Odd call sizes across several iterations of the small set, each iteration bootstrapped from the last. */
START_TEST(small_set_odd_sizes_across_iterations) {
  const fsn_ferret_params *p = fsn_ferret_params_named("small");
  const size_t usable = (size_t)fsn_ferret_usable(p);
  const size_t sizes[] = {1, 127, 1000, 8, usable - 1136 - 1, 1, 2, usable + 5, 3 * usable / 2, 0, 129};
  check_run(p, sizes, sizeof sizes / sizeof sizes[0], (fsn_ferret_options){0}, "small");
}
END_TEST

/* The malicious variant's check on honest parties: odd sizes over several iterations of the small set, one and two
 * threads; the pool of an iteration is FSN_FERRET_CHECK_COTS smaller. */
START_TEST(checked_small_set_across_iterations) {
  const fsn_ferret_params *p = fsn_ferret_params_named("small");
  const size_t usable = (size_t)fsn_ferret_usable(p) - FSN_FERRET_CHECK_COTS;
  const size_t sizes[] = {1, 999, usable - 1000, 1, usable + 129, 7};
  for (size_t threads = 1; threads <= 2; threads++) {
    check_run(p, sizes, sizeof sizes / sizeof sizes[0], (fsn_ferret_options){.threads = threads, .checked = true},
              "small, checked");
  }
}
END_TEST

/* The medium set (bootstrapped through a small-set iteration) over two and a half iterations, each party's
 * iterations split over two threads. */
START_TEST(medium_set_across_iterations) {
  if (heavy_sets_skipped("medium")) return;
  const fsn_ferret_params *p = fsn_ferret_params_named("medium");
  const size_t usable = (size_t)fsn_ferret_usable(p);
  const size_t sizes[] = {127, usable, usable / 2 + 77};
  check_run(p, sizes, sizeof sizes / sizeof sizes[0], (fsn_ferret_options){.threads = 2}, "medium, 2 threads");
}
END_TEST

/* The paper's main set: one iteration and a bit of the next. */
START_TEST(main_set_two_iterations) {
  if (heavy_sets_skipped("main")) return;
  const fsn_ferret_params *p = fsn_ferret_params_named("main");
  const size_t usable = (size_t)fsn_ferret_usable(p);
  const size_t sizes[] = {usable - 3, 1000};
  check_run(p, sizes, sizeof sizes / sizeof sizes[0], (fsn_ferret_options){0}, "main");
}
END_TEST

/* emp-ot's cache-sized sets (k a power of two, several small-set iterations' worth of reserve for b12): two
 * iterations each, the first call ending a few COTs short of the pool, each party on two threads. */
START_TEST(cache_sets_two_iterations) {
  static const char *names[] = {"b10", "b11", "b12"};
  for (size_t s = 0; s < sizeof names / sizeof names[0]; s++) {
    if (heavy_sets_skipped(names[s])) return;
    const fsn_ferret_params *p = fsn_ferret_params_named(names[s]);
    ck_assert_ptr_nonnull(p);
    ck_assert_uint_eq(p->k & (p->k - 1), 0);
    const size_t usable = (size_t)fsn_ferret_usable(p);
    const size_t sizes[] = {usable - 3, 1000};
    check_run(p, sizes, sizeof sizes / sizeof sizes[0], (fsn_ferret_options){.threads = 2}, names[s]);
  }
}
END_TEST

/* The BLAKE2b of a run's outputs (x0 then xc). */
static void hash_outputs(uint8_t h[32], const run *r) {
  crypto_generichash_state st;
  crypto_generichash_init(&st, NULL, 0, 32);
  crypto_generichash_update(&st, r->x0, 16 * r->total);
  crypto_generichash_update(&st, r->xc, 16 * r->total);
  crypto_generichash_final(&st, h, 32);
}

/* With a fixed seed, the outputs do not depend on either party's thread count (the bootstrap's small-set iterations
 * and the set's own, split over 1, 2 or 3 threads with tree counts that do not divide evenly). */
START_TEST(seeded_identical_across_threads) {
  const fsn_ferret_params *p = fsn_ferret_params_named("small");
  const size_t sizes[] = {fsn_ferret_usable(p) + 1000};
  static const uint8_t seed[32] = {9, 8, 7};
  static const size_t threads[][2] = {{1, 1}, {2, 3}, {3, 1}, {0, 2}};
  uint8_t first[32];
  for (size_t c = 0; c < sizeof threads / sizeof threads[0]; c++) {
    run r;
    run_alloc(&r, p, sizes, 1);
    r.seed = seed;
    r.opt_s.threads = threads[c][0], r.opt_r.threads = threads[c][1];
    run_two_party(&r);
    check_correlation(&r);
    check_bytes(&r);
    uint8_t h[32];
    hash_outputs(h, &r);
    if (c == 0) memcpy(first, h, 32);
    ck_assert_msg(!memcmp(h, first, 32), "threads %zu / %zu: outputs differ from one thread each", threads[c][0],
                  threads[c][1]);
    run_free(&r);
  }
}
END_TEST

/* With a fixed seed, the outputs do not depend on the ISA level the kernels run at. */
START_TEST(seeded_identical_across_isa) {
  const fsn_ferret_params *p = fsn_ferret_params_named("small");
  const size_t sizes[] = {fsn_ferret_usable(p) + 1000};
  static const uint8_t seed[32] = {7, 1, 2, 3};
  uint8_t first_x0[32], first_xc[32];
  for (int isa = 0; isa <= (int)fsn_isa_best(); isa++) {
    ck_assert_int_eq(fsn_isa_force((fsn_isa)isa), FSN_OK);
    run r;
    run_alloc(&r, p, sizes, 1);
    r.seed = seed;
    run_two_party(&r);
    check_correlation(&r);
    uint8_t hx0[32], hxc[32];
    crypto_generichash(hx0, sizeof hx0, r.x0, 16 * r.total, NULL, 0);
    crypto_generichash(hxc, sizeof hxc, r.xc, 16 * r.total, NULL, 0);
    if (isa == 0) {
      memcpy(first_x0, hx0, 32), memcpy(first_xc, hxc, 32);
    } else {
      ck_assert_msg(!memcmp(hx0, first_x0, 32) && !memcmp(hxc, first_xc, 32), "%s differs from ref",
                    fsn_isa_name((fsn_isa)isa));
    }
    run_free(&r);
  }
}
END_TEST

START_TEST(bad_arguments) {
  fsn_ferret_params bad = *fsn_ferret_params_named("small");
  fsn_ferret *f = (fsn_ferret *)1;
  ck_assert_ptr_null(fsn_ferret_params_named("huge"));
  ck_assert_ptr_null(fsn_ferret_params_named(NULL));
  ck_assert_int_eq(fsn_ferret_create(&f, NULL, FSN_OT_SENDER, NULL), FSN_E_INVALID);
  ck_assert_ptr_null(f);
  bad.n += 1; /* not t 2^h */
  ck_assert_int_eq(fsn_ferret_create(&f, (fsn_channel *)1, FSN_OT_SENDER, &bad), FSN_E_INVALID);
  bad = *fsn_ferret_params_named("small");
  bad.k = bad.n; /* reserve above n */
  ck_assert_int_eq(fsn_ferret_create(&f, (fsn_channel *)1, FSN_OT_SENDER, &bad), FSN_E_INVALID);
  bad = (fsn_ferret_params){"h1", 2048, 16, 1024, 1}; /* one level: a tree would send nothing */
  ck_assert_int_eq(fsn_ferret_create(&f, (fsn_channel *)1, FSN_OT_SENDER, &bad), FSN_E_INVALID);
  ck_assert_int_eq(fsn_ferret_create(&f, (fsn_channel *)1, (fsn_ot_role)5, NULL), FSN_E_INVALID);
  const fsn_ferret_options many = {.threads = FSN_FERRET_MAX_THREADS + 1};
  ck_assert_int_eq(fsn_ferret_create_ex(&f, (fsn_channel *)1, FSN_OT_SENDER, NULL, &many), FSN_E_INVALID);
  ck_assert_ptr_null(f);
  ck_assert_int_eq(fsn_ferret_rcot_send(NULL, NULL, 1), FSN_E_INVALID);
  /* the figures of the sets */
  const fsn_ferret_params *m = fsn_ferret_params_named("main");
  ck_assert_uint_eq(m->n, (uint64_t)m->t << m->h);
  ck_assert_uint_eq(fsn_ferret_reserve(m), 589760 + 1319 * 13);
  ck_assert_uint_eq(fsn_ferret_iteration_bytes(m), 16 * 1319 * 12); /* one block per tree level below the first */
  const fsn_ferret_params *b12 = fsn_ferret_params_named("b12");
  ck_assert_uint_eq(fsn_ferret_reserve(b12), 262144 + 1520 * 12);
  ck_assert_uint_eq(fsn_ferret_iteration_bytes(b12), 16 * 1520 * 11);
}
END_TEST

/* ---- bad peers --------------------------------------------------------------------------------------------------- */

/* A sender that grows honest trees and then alters its frame; the receiver takes one iteration's pool. */
typedef struct cheat {
  bool checked;
  size_t at, len; /* the frame bytes flipped */
  size_t n;
  uint8_t *x0, *xc, *choice, delta[16];
  fsn_status st_s, st_r;
  char err_r[256];
} cheat;

static void cheating_sender(fsn_channel **chs, size_t nch, void *arg) {
  (void)nch;
  cheat *c = arg;
  const fsn_ferret_options opt = {.checked = c->checked};
  fsn_ferret *f = NULL;
  c->st_s = fsn_ferret_create_ex(&f, chs[0], FSN_OT_SENDER, fsn_ferret_params_named("small"), &opt);
  if (c->st_s == FSN_OK) {
    c->n = (size_t)fsn_ferret_pool_size(f);
    c->x0 = xmalloc(16 * c->n);
    fsn_ferret_tamper_frame(f, c->at, c->len);
    if ((c->st_s = fsn_ferret_delta(f, c->delta)) == FSN_OK) c->st_s = fsn_ferret_rcot_send(f, c->x0, c->n);
  }
  fsn_ferret_destroy(f);
}

static void victim_receiver(fsn_channel **chs, size_t nch, void *arg) {
  (void)nch;
  cheat *c = arg;
  const fsn_ferret_options opt = {.checked = c->checked};
  fsn_ferret *f = NULL;
  c->st_r = fsn_ferret_create_ex(&f, chs[0], FSN_OT_RECEIVER, fsn_ferret_params_named("small"), &opt);
  if (c->st_r == FSN_OK) {
    const size_t n = (size_t)fsn_ferret_pool_size(f);
    c->xc = xmalloc(16 * n), c->choice = xmalloc(n / 8 + 1);
    c->st_r = fsn_ferret_rcot_recv(f, c->xc, c->choice, n);
  }
  keep_error(c->err_r, c->st_r);
  fsn_ferret_destroy(f);
}

/* Run the cheat; return how many of the receiver's COTs break xc = x0 ^ c Delta (when it accepted them). */
static size_t run_cheat(cheat *c) {
  const fsn_test_net_opts o = {.chan = {.timeout_ms = 600000}};
  fsn_test_two_party_ex(&o, cheating_sender, c, victim_receiver, c);
  ck_assert_msg(c->st_s == FSN_OK, "the cheating sender failed: %s", fsn_strerror(c->st_s));
  size_t wrong = 0;
  for (size_t i = 0; c->st_r == FSN_OK && i < c->n; i++) {
    uint8_t want[16];
    const unsigned bit = c->choice[i / 8] >> (i % 8) & 1;
    for (int b = 0; b < 16; b++) want[b] = (uint8_t)(c->x0[16 * i + b] ^ (bit ? c->delta[b] : 0));
    wrong += memcmp(want, c->xc + 16 * i, 16) != 0;
  }
  free(c->x0), free(c->xc), free(c->choice);
  return wrong;
}

/* The frame offset of tree j's level i message in the small set. Levels count from 0 (the root's two children) to
 * h - 1 (the leaves); level 0 is the tree's first base COT itself and sends nothing. */
static size_t level_at(size_t j, unsigned i) { return 16 * (j * (fsn_ferret_params_named("small")->h - 1) + i - 1); }

/* Unchecked, an altered leaf-level message silently corrupts two COTs under the receiver's noise position (the
 * sibling leaf it repairs, and the hole it derives from the other leaves; the sender learns from the receiver's later
 * behaviour which ones it used); checked, the receiver refuses the iteration with FSN_E_CHEATING and no COT is
 * handed out. The last tree's leaves lie in the pool, not the reserve. Byte 0's lowest bit of a leaf-level message
 * is cleared with the leaves, so the flips start at byte 1. */
START_TEST(cheating_sender_caught_by_check) {
  const size_t last = fsn_ferret_params_named("small")->t - 1, h = fsn_ferret_params_named("small")->h;
  cheat c = {.at = level_at(last, h - 1) + 1, .len = 15};
  ck_assert_uint_eq(run_cheat(&c), 2); /* the sibling leaf and the hole, nothing else */
  ck_assert_int_eq(c.st_r, FSN_OK);
  c = (cheat){.checked = true, .at = level_at(last, h - 1) + 1, .len = 1};
  run_cheat(&c);
  ck_assert_msg(c.st_r == FSN_E_CHEATING, "altered leaf level: %s (%s)", fsn_strerror(c.st_r), c.err_r);
  ck_assert_ptr_nonnull(strstr(c.err_r, "MPCOT check"));
  c = (cheat){.checked = true, .at = level_at(last, 4), .len = 16}; /* an inner level: a whole subtree goes wrong */
  run_cheat(&c);
  ck_assert_msg(c.st_r == FSN_E_CHEATING, "altered inner level: %s (%s)", fsn_strerror(c.st_r), c.err_r);
  c = (cheat){.checked = true, .at = level_at(3, 1), .len = 16}; /* a tree in the reserve: caught all the same */
  run_cheat(&c);
  ck_assert_msg(c.st_r == FSN_E_CHEATING, "altered reserve tree: %s (%s)", fsn_strerror(c.st_r), c.err_r);
}
END_TEST

typedef enum fault { VANISH_AFTER_BOOTSTRAP, SHORT_FRAME, LONG_FRAME, RECEIVER_VANISHES_IN_BOOTSTRAP } fault;

typedef struct bad {
  fault f;
  fsn_status st, st_after;
  char err[256];
} bad;

static void honest_receiver(fsn_channel *ch, void *arg) {
  bad *b = arg;
  fsn_ferret *f = NULL;
  uint8_t xc[16 * 100], choice[13];
  b->st = fsn_ferret_create(&f, ch, FSN_OT_RECEIVER, fsn_ferret_params_named("small"));
  if (b->st == FSN_OK) b->st = fsn_ferret_rcot_recv(f, xc, choice, 100);
  if (f) b->st_after = fsn_ferret_rcot_recv(f, xc, choice, 1);
  keep_error(b->err, b->st);
  fsn_ferret_destroy(f);
}

static void honest_sender(fsn_channel *ch, void *arg) {
  bad *b = arg;
  fsn_ferret *f = NULL;
  b->st = fsn_ferret_create(&f, ch, FSN_OT_SENDER, fsn_ferret_params_named("small"));
  keep_error(b->err, b->st);
  fsn_ferret_destroy(f);
}

/* A genuine bootstrap, then the iteration's frame missing, a byte short or a byte long. */
static void evil_sender(fsn_channel *ch, void *arg) {
  bad *b = arg;
  const fsn_ferret_params *p = fsn_ferret_params_named("small");
  const size_t frame = (size_t)fsn_ferret_iteration_bytes(p);
  fsn_ferret *f = NULL;
  uint8_t *buf = calloc(1, frame + 1);
  fsn_status st = fsn_ferret_create(&f, ch, FSN_OT_SENDER, p);
  if (st == FSN_OK && b->f == SHORT_FRAME) st = fsn_channel_send(ch, buf, frame - 1);
  if (st == FSN_OK && b->f == LONG_FRAME) st = fsn_channel_send(ch, buf, frame + 1);
  if (st == FSN_OK) st = fsn_channel_flush(ch);
  (void)st;
  fsn_ferret_destroy(f);
  free(buf);
}

/* Leaves in the middle of the bootstrap: after IKNP's base OTs, before its first extension message. */
static void evil_receiver(fsn_channel *ch, void *arg) {
  (void)arg;
  fsn_cot *ot = NULL;
  fsn_status st = fsn_cot_create(&ot, "iknp", ch, FSN_OT_RECEIVER, NULL);
  (void)st;
  fsn_cot_destroy(ot);
}

static void sender_parties(fsn_channel **chs, size_t n, void *arg) {
  (void)n;
  bad *b = arg;
  if (b->f == RECEIVER_VANISHES_IN_BOOTSTRAP)
    honest_sender(chs[0], arg);
  else
    evil_sender(chs[0], arg);
}

static void receiver_parties(fsn_channel **chs, size_t n, void *arg) {
  (void)n;
  bad *b = arg;
  if (b->f == RECEIVER_VANISHES_IN_BOOTSTRAP)
    evil_receiver(chs[0], arg);
  else
    honest_receiver(chs[0], arg);
}

static void check_fault_run(fault f, fsn_status want) {
  bad b = {.f = f, .st_after = FSN_E_INVALID};
  fsn_test_net_opts opts = {.chan = {.timeout_ms = 1500}};
  fsn_test_two_party_ex(&opts, sender_parties, &b, receiver_parties, &b);
  ck_assert_msg(b.st == want, "fault %d: got %s (%s), want %s", (int)f, fsn_strerror(b.st), b.err, fsn_strerror(want));
  ck_assert_msg(b.st_after == FSN_E_INVALID, "fault %d: object still usable after the failure", (int)f);
}

START_TEST(bad_peers) {
  check_fault_run(VANISH_AFTER_BOOTSTRAP, FSN_E_TIMEOUT);
  check_fault_run(SHORT_FRAME, FSN_E_PROTOCOL);
  check_fault_run(LONG_FRAME, FSN_E_PROTOCOL);
  check_fault_run(RECEIVER_VANISHES_IN_BOOTSTRAP, FSN_E_TIMEOUT);
}
END_TEST

int main(void) {
  Suite *s = suite_create("ferret");
  FSN_TEST_ADD_CASE(s, ggm_variants_match_definition);
  FSN_TEST_ADD_CASE(s, lpn_variants_match_definition);
  FSN_TEST_ADD_CASE(s, lpn_ranges_compose);
  FSN_TEST_ADD_CASE(s, bad_arguments);
  FSN_TEST_ADD_CASE(s, small_set_odd_sizes_across_iterations);
  FSN_TEST_ADD_CASE(s, seeded_identical_across_isa);
  FSN_TEST_ADD_CASE(s, seeded_identical_across_threads);
  FSN_TEST_ADD_CASE(s, bad_peers);
  FSN_TEST_ADD_CASE(s, checked_small_set_across_iterations);
  FSN_TEST_ADD_CASE(s, cheating_sender_caught_by_check);
  FSN_TEST_ADD_CASE(s, medium_set_across_iterations);
  FSN_TEST_ADD_CASE(s, main_set_two_iterations);
  FSN_TEST_ADD_CASE(s, cache_sets_two_iterations);
  return fsn_test_main(s);
}
