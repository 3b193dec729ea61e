/* NTT kernels at N = 4096 and 8192 (the RLWE sizes) on the largest prime below 2^50 that is 1 mod 2^14: forward and
 * inverse transforms (items = butterflies, N/2 log2 N), mul_acc and modulus switching q = p p' -> p or 2^37 over
 * one polynomial (items = coefficients), and mul_acc_sum over 16 products per coefficient (items = products: its
 * rate beside mul_acc's is what the lazy sum saves).
 * Each row also carries `vs_ref`: the scalar ref kernel's time over this row's, both measured in thread CPU time in the
 * same process just before the row (median of 7 batches of 50 calls each), so the ratio holds on a loaded machine. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "bench/bench.h"
#include "kernels/ntt/ntt_ops.h"

enum { FORWARD, INVERSE, MUL_ACC, MODSWITCH, MODSWITCH_POW2, MUL_ACC_SUM, NOPS };
static const char *const op_names[NOPS] = {"forward",         "inverse",        "mul_acc",
                                           "modswitch_prime", "modswitch_pow2", "mul_acc_sum16"};
enum { SUM_TERMS = 16 };

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts); /* CPU time of this thread: other load on the machine cancels out */
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static uint64_t second_prime; /* the other RNS prime of modulus switching; b holds values below it */

static void run_op(const fsn_ntt_impl *k, int op, uint64_t *a, uint64_t *b, uint64_t *acc, const fsn_ntt_table *t) {
  const uint64_t *as[SUM_TERMS], *bs[SUM_TERMS];
  for (int i = 0; i < SUM_TERMS; i++) as[i] = a, bs[i] = b;
  switch (op) {
  case FORWARD: k->forward(a, t); break;
  case INVERSE: k->inverse(a, t); break;
  case MUL_ACC: k->mul_acc(acc, a, b, t->n, t); break;
  case MODSWITCH: k->modswitch_prime(acc, a, b, t->n, t->p, second_prime); break;
  case MODSWITCH_POW2: k->modswitch_pow2(acc, a, b, t->n, t->p, second_prime, 37); break; /* to 2^37 */
  case MUL_ACC_SUM: k->mul_acc_sum(acc, as, bs, SUM_TERMS, t->n, t); break;
  }
}

static int cmp_double(const void *x, const void *y) {
  double a = *(const double *)x, b = *(const double *)y;
  return (a > b) - (a < b);
}

/* Median seconds per call over 7 batches of 50 calls. */
static double seconds_per_call(const fsn_ntt_impl *k, int op, uint64_t *a, uint64_t *b, uint64_t *acc,
                               const fsn_ntt_table *t) {
  double s[7];
  for (int r = 0; r < 7; r++) {
    double t0 = now();
    for (int i = 0; i < 50; i++) run_op(k, op, a, b, acc, t);
    s[r] = (now() - t0) / 50;
  }
  qsort(s, 7, sizeof s[0], cmp_double);
  return s[3];
}

static void ntt_op(fsn_bench_state *st, const fsn_bench_args *args) {
  const size_t n = (size_t)args->n;
  const int op = (int)args->m;
  uint64_t ps[2];
  fsn_ntt_table *t = NULL;
  uint64_t *a = aligned_alloc(64, n * 8), *b = aligned_alloc(64, n * 8), *acc = aligned_alloc(64, n * 8);
  if (!a || !b || !acc || fsn_ntt_primes(ps, 2, (uint64_t)1 << 50, 14) != FSN_OK ||
      fsn_ntt_table_create(&t, ps[0], n) != FSN_OK) {
    fsn_bench_skip(st, "setup failed");
    free(a), free(b), free(acc);
    return;
  }
  for (size_t i = 0; i < n; i++)
    a[i] = (i * 0x9e3779b97f4a7c15ull) % ps[0], b[i] = (i * 0xc2b2ae3d27d4eb4full) % ps[op == MUL_ACC_SUM ? 0 : 1],
    acc[i] = 0;
  second_prime = ps[1];
  const fsn_ntt_impl *k = FSN_BENCH_IMPL(ntt, args), *ref = fsn_ntt_impl_for(FSN_ISA_REF);
  /* The transforms keep values in [0, p) call after call, so repeating them on one buffer is a fair workload. */
  const double ratio = seconds_per_call(ref, op, a, b, acc, t) / seconds_per_call(k, op, a, b, acc, t);
  while (fsn_bench_running(st)) run_op(k, op, a, b, acc, t);
  unsigned log_n = t->log_n;
  fsn_bench_items_per_iter(st, op == MUL_ACC_SUM ? (double)(SUM_TERMS * n)
                               : op >= MUL_ACC   ? (double)n
                                                 : (double)(n / 2 * log_n));
  fsn_bench_bytes_per_iter(st, op == MUL_ACC_SUM ? (16.0 * SUM_TERMS + 16.0) * (double)n
                               : op == MUL_ACC   ? 32.0 * (double)n
                               : op >= MODSWITCH ? 24.0 * (double)n
                                                 : 16.0 * (double)n);
  fsn_bench_counter(st, "vs_ref", ratio);
  free(a), free(b), free(acc), fsn_ntt_table_destroy(t);
}

void fsn_bench_register_ntt(void) {
  static const struct {
    int64_t n;
    const char *label;
  } sizes[] = {{4096, "4096"}, {8192, "8192"}};
  char name[64];
  for (int op = 0; op < NOPS; op++) {
    snprintf(name, sizeof name, "ntt/%s", op_names[op]);
    for (int s = 0; s < 2; s++)
      FSN_BENCH_ADD_VARIANTS(ntt, name, ntt_op, (fsn_bench_args){.n = sizes[s].n, .m = op}, 0, sizes[s].label);
  }
}
