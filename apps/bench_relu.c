/* `fusion bench relu` (and the harness `fusion bench trunc` shares): both parties as two processes over loopback,
 * random shares of n elements, one protocol call over the whole batch split across the threads (one channel and
 * one pair of OT objects each). Reports elements per second, bits per element both ways (payload and on the wire)
 * and the rounds one thread's channel saw. */
#include <fusion/fusion.h>

#include <getopt.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "apps/bench_2p.h"
#include "apps/bench_nl.h"
#include "apps/commands.h"

#define MAX_THREADS 16

typedef struct bench {
  fsn_bench_nl_op op;
  size_t n, nthreads;
  unsigned ell, s;
  unsigned trunc; /* relu: 0, or the exact truncation by this many bits fused in (fsn_nl_relu_trunc) */
  fsn_trunc_mode mode;
  fsn_2pc_options ot; /* the OT pack and whether IKNP is checked */
  int json;
  double setup_s, seconds, payload_bits, wire_bits;
  double cpu[2]; /* CPU seconds (user + system, all threads) of the protocol call: server, client */
  uint64_t rounds;
} bench;

static const char *const op_names[] = {"relu", "trunc"};
static const char *const mode_names[] = {"exact", "approx", "nonneg", "nonneg-approx"};

static int fail(const bench *b, const char *what, fsn_status st) {
  fprintf(stderr, "fusion bench %s: %s: %s: %s\n", op_names[b->op], what, fsn_strerror(st), fsn_last_error());
  return 1;
}

/* CPU time of this process: on a shared machine wall time measures the share the scheduler gave us, CPU time what
 * the work costs. */
static double cpu_seconds(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (double)ru.ru_utime.tv_sec + 1e-6 * (double)ru.ru_utime.tv_usec + (double)ru.ru_stime.tv_sec +
         1e-6 * (double)ru.ru_stime.tv_usec;
}

static fsn_status run_op(bench *b, fsn_2pc *p, uint64_t *y, const uint64_t *x) {
  if (b->op == FSN_BENCH_NL_RELU && b->trunc) return fsn_nl_relu_trunc(p, y, x, b->n, b->trunc);
  if (b->op == FSN_BENCH_NL_RELU) return fsn_nl_relu(p, y, NULL, x, b->n);
  return fsn_nl_trunc(p, y, x, b->n, b->s, b->mode);
}

static int run_party(fsn_role role, fsn_channel **ch, size_t nthreads, void *arg) {
  bench *b = arg;
  fsn_2pc *p = NULL;
  uint64_t *x = malloc(b->n * sizeof *x), *y = malloc(b->n * sizeof *y);
  int rc = 1;
  fsn_status st;
  if (!x || !y) {
    fprintf(stderr, "fusion bench %s: out of memory\n", op_names[b->op]);
    goto out;
  }
  randombytes_buf(x, b->n * sizeof *x);
  const uint64_t mask = fsn_ring_mask(b->ell);
  for (size_t i = 0; i < b->n; i++) x[i] &= b->mode >= FSN_TRUNC_NONNEG && role == FSN_ROLE_CLIENT ? 0 : mask;
  if (b->mode >= FSN_TRUNC_NONNEG && role == FSN_ROLE_SERVER) /* the server holds the whole non-negative value */
    for (size_t i = 0; i < b->n; i++) x[i] &= mask >> 1;
  const double t0 = fsn_bench_2p_now();
  if ((st = fsn_2pc_create(&p, ch, nthreads, role, b->ell, b->s, &b->ot)) != FSN_OK) {
    rc = fail(b, "context", st);
    goto out;
  }
  b->setup_s = fsn_bench_2p_now() - t0;
  if ((st = fsn_bench_2p_sync(ch[0], role)) != FSN_OK) {
    rc = fail(b, "sync", st);
    goto out;
  }
  fsn_counters c0, c1;
  fsn_2pc_counters(p, &c0);
  uint64_t rounds0 = 0;
  {
    fsn_counters t;
    fsn_channel_counters(ch[0], &t);
    rounds0 = t.rounds;
  }
  const double start = fsn_bench_2p_now(), cpu0 = cpu_seconds();
  if ((st = run_op(b, p, y, x)) != FSN_OK) {
    rc = fail(b, op_names[b->op], st);
    goto out;
  }
  const double cpu = cpu_seconds() - cpu0;
  fsn_2pc_counters(p, &c1);
  if ((st = fsn_bench_2p_sync(ch[0], role)) != FSN_OK) { /* stop the clock when both parties are done */
    rc = fail(b, "sync", st);
    goto out;
  }
  b->seconds = fsn_bench_2p_now() - start;
  b->payload_bits = 8.0 * (double)(c1.bytes_sent + c1.bytes_recv - c0.bytes_sent - c0.bytes_recv) / (double)b->n;
  b->wire_bits =
      8.0 * (double)(c1.wire_bytes_sent + c1.wire_bytes_recv - c0.wire_bytes_sent - c0.wire_bytes_recv) / (double)b->n;
  fsn_counters t;
  fsn_channel_counters(ch[0], &t);
  b->rounds = t.rounds - rounds0 - 1; /* minus the closing sync */
  /* The client's CPU time goes to the server, which reports. */
  b->cpu[role == FSN_ROLE_CLIENT] = cpu;
  st = role == FSN_ROLE_CLIENT ? fsn_channel_send(ch[0], &b->cpu[1], sizeof b->cpu[1])
                               : fsn_channel_recv(ch[0], &b->cpu[1], sizeof b->cpu[1]);
  if (st == FSN_OK && role == FSN_ROLE_CLIENT) st = fsn_channel_flush(ch[0]);
  if (st != FSN_OK) {
    rc = fail(b, "cpu times", st);
    goto out;
  }
  rc = 0;
out:
  fsn_2pc_destroy(p);
  free(x), free(y);
  return rc;
}

static void report(const bench *b) {
  const double rate = (double)b->n / b->seconds;
  if (b->json) {
    printf("{\"bench\": \"%s\", \"isa\": \"%s\", \"ell\": %u, \"n\": %zu, \"threads\": %zu", op_names[b->op],
           fsn_isa_name(fsn_isa_active()), b->ell, b->n, b->nthreads);
    if (b->op == FSN_BENCH_NL_TRUNC) printf(", \"s\": %u, \"mode\": \"%s\"", b->s, mode_names[b->mode]);
    if (b->trunc) printf(", \"trunc\": %u", b->trunc);
    printf(", \"ot\": \"%s\", \"ot_checked\": %s", fsn_ot_pack_resolve(b->ot.ot),
           b->ot.ot_unchecked ? "false" : "true");
    printf(", \"setup_ms\": %.3f, \"seconds\": %.6f, \"per_second\": %.0f, \"bits_per_element\": %.1f, "
           "\"wire_bits_per_element\": %.1f, \"rounds\": %llu, \"cpu_ns_per_element_server\": %.1f, "
           "\"cpu_ns_per_element_client\": %.1f}\n",
           1e3 * b->setup_s, b->seconds, rate, b->payload_bits, b->wire_bits, (unsigned long long)b->rounds,
           1e9 * b->cpu[0] / (double)b->n, 1e9 * b->cpu[1] / (double)b->n);
    return;
  }
  printf("%s: 2 processes over loopback, %zu thread(s) each, isa %s, ell = %u", op_names[b->op], b->nthreads,
         fsn_isa_name(fsn_isa_active()), b->ell);
  if (b->op == FSN_BENCH_NL_TRUNC) printf(", s = %u, mode %s", b->s, mode_names[b->mode]);
  if (b->trunc) printf(", fused with the exact truncation by %u bits", b->trunc);
  printf(", OT pack %s%s", fsn_ot_pack_resolve(b->ot.ot), b->ot.ot_unchecked ? " (unchecked)" : " (checked)");
  printf("\n  setup (base OTs): %.1f ms\n  %zu elements in %.3f s: %.0f per second\n", 1e3 * b->setup_s, b->n,
         b->seconds, rate);
  printf("  %.1f bits per element both ways (%.1f with framing), %llu rounds (one thread's channel)\n", b->payload_bits,
         b->wire_bits, (unsigned long long)b->rounds);
  printf("  CPU (user + system, all threads) per element: server %.1f ns, client %.1f ns\n",
         1e9 * b->cpu[0] / (double)b->n, 1e9 * b->cpu[1] / (double)b->n);
}

static int usage(fsn_bench_nl_op op, FILE *out) {
  fprintf(
      out,
      "usage: fusion bench %s [--ell L] [--n N] [--threads T]%s [--ot iknp|kk13|ferret] [--ot-unchecked] [--json]\n",
      op_names[op], op == FSN_BENCH_NL_TRUNC ? " [--s S] [--mode exact|approx|nonneg|nonneg-approx]" : " [--trunc S]");
  fprintf(out,
          "  --ell L      ring bits, 2..64 (default 32)\n"
          "  --n N        elements (default 2^20)\n"
          "  --threads T  threads (one channel each) per party, 1..%d (default 2)\n",
          MAX_THREADS);
  if (op == FSN_BENCH_NL_TRUNC)
    fprintf(out, "  --s S        shift (default 12)\n"
                 "  --mode M     truncation mode (default exact)\n");
  else
    fprintf(out, "  --trunc S    max(x >> S, 0): the exact truncation by S bits fused in (default 0: plain ReLU)\n");
  fprintf(out,
          "  --ot P       OT pack: iknp (1-out-of-N from checked COTs), kk13 (KK13 leaves) or ferret (silent\n"
          "               OT; 1-out-of-N from its random OTs); default ferret at ISA level avx2 and up, iknp at ref\n"
          "  --ot-unchecked  the COTs without their check (IKNP's KOS15, Ferret's MPCOT check: the semi-honest\n"
          "               cost, for comparison)\n"
          "  --json       one JSON object on stdout\n");
  return out == stderr ? 2 : 0;
}

int fsn_bench_nl_main(fsn_bench_nl_op op, int argc, char **argv) {
  static bench b;
  b = (bench){.op = op, .n = (size_t)1 << 20, .nthreads = 2, .ell = 32, .s = 12};
  static const struct option long_opts[] = {{"ell", required_argument, NULL, 'l'},
                                            {"n", required_argument, NULL, 'n'},
                                            {"threads", required_argument, NULL, 't'},
                                            {"s", required_argument, NULL, 's'},
                                            {"mode", required_argument, NULL, 'm'},
                                            {"json", no_argument, NULL, 'j'},
                                            {"ot", required_argument, NULL, 'o'},
                                            {"ot-unchecked", no_argument, NULL, 'u'},
                                            {"help", no_argument, NULL, 'h'},
                                            {"trunc", required_argument, NULL, 'T'},
                                            {NULL, 0, NULL, 0}};
  int c, bad = 0;
  optind = 1;
  while ((c = getopt_long(argc, argv, "l:n:t:s:m:o:ujhT:", long_opts, NULL)) != -1) {
    switch (c) {
    case 'l': b.ell = (unsigned)strtoul(optarg, NULL, 0); break;
    case 'n': b.n = strtoull(optarg, NULL, 0); break;
    case 't': b.nthreads = strtoull(optarg, NULL, 0); break;
    case 's': b.s = (unsigned)strtoul(optarg, NULL, 0); break;
    case 'T': b.trunc = (unsigned)strtoul(optarg, NULL, 0), bad |= op != FSN_BENCH_NL_RELU ? 4 : 0; break;
    case 'm':
      bad |= 1;
      for (int k = 0; k < 4; k++)
        if (!strcmp(optarg, mode_names[k])) b.mode = (fsn_trunc_mode)k, bad &= ~1;
      break;
    case 'o':
      bad |= strcmp(optarg, "iknp") && strcmp(optarg, "kk13") && strcmp(optarg, "ferret") ? 2 : 0;
      b.ot.ot = optarg;
      break;
    case 'u': b.ot.ot_unchecked = true; break;
    case 'j': b.json = 1; break;
    case 'h': return usage(op, stdout);
    default: return usage(op, stderr);
    }
  }
  if (bad || optind != argc || b.n < 1 || b.nthreads < 1 || b.nthreads > MAX_THREADS || b.ell < 2 || b.ell > 64 ||
      b.s >= b.ell || b.trunc >= b.ell || (op == FSN_BENCH_NL_RELU && (argc > 1 && 0)))
    return usage(op, stderr);
  if (op == FSN_BENCH_NL_RELU) b.s = b.s < b.ell ? b.s : 0;
  int rc = fsn_bench_2p_run(b.nthreads, run_party, &b);
  if (rc == 0) report(&b);
  return rc;
}

int fsn_bench_relu(int argc, char **argv) { return fsn_bench_nl_main(FSN_BENCH_NL_RELU, argc, argv); }
