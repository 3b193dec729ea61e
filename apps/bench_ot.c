/* `fusion bench ot`: base OT time and OT extension throughput, both parties as two processes over loopback. The
 * server is the OT sender, the client the receiver; each type runs n OTs split over the threads (one channel and one
 * set of OT objects each), produced in pieces of at most 2^20 per call into reused buffers, as a consumer would.
 * IKNP types run twice: with the KOS15 consistency check (what a session uses) and without (the semi-honest cost).
 * `--ot ferret` adds Ferret's rows (random-choice COTs, its native output, and chosen-choice COTs) to the same run,
 * after its bootstrap (not timed), so its COT/s and bits/COT read beside IKNP's. */
#include <fusion/fusion.h>
#include <fusion/ot.h>

#include <getopt.h>
#include <stdbool.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "apps/bench_2p.h"
#include "apps/commands.h"

#define MAX_THREADS 16
#define PIECE       ((size_t)1 << 20)

typedef enum ot_type {
  T_WIRE,
  T_COT,
  T_ROT,
  T_OT,
  T_ACOT,
  T_COT_U,
  T_ROT_U,
  T_OT_U,
  T_ACOT_U,
  T_N4,
  T_N16,
  T_N256,
  T_N16_ROT,
  T_FERRET_RCOT,
  T_FERRET_COT,
  T_FERRET_RCOT_C,
  T_COUNT
} ot_type;

/* The objects a type runs on. */
typedef enum ot_obj { O_CHECKED, O_UNCHECKED, O_KK13, O_N1ROT, O_FERRET, O_FERRET_CHECKED } ot_obj;

static const struct {
  const char *name, *what;
  unsigned ell, logn;
  unsigned n_div; /* the type runs n / n_div OTs */
  ot_obj obj;
} types[T_COUNT] = {
    {"wire", "baseline: 16 bytes per item, no compute", 0, 0, 1, O_CHECKED},
    {"cot", "correlated OT, global Delta, 128-bit, KOS15", 0, 0, 1, O_CHECKED},
    {"rot", "random OT, 128-bit messages, KOS15", 0, 0, 1, O_CHECKED},
    {"ot", "chosen-message 1-out-of-2 OT, ell = 64, KOS15", 64, 0, 2, O_CHECKED},
    {"acot", "arithmetic correlated OT, ell = 37, KOS15", FSN_DEFAULT_ELL, 0, 2, O_CHECKED},
    {"cot-unchecked", "correlated OT, no check (semi-honest)", 0, 0, 1, O_UNCHECKED},
    {"rot-unchecked", "random OT, no check", 0, 0, 1, O_UNCHECKED},
    {"ot-unchecked", "chosen-message OT, ell = 64, no check", 64, 0, 2, O_UNCHECKED},
    {"acot-unchecked", "arithmetic correlated OT, ell = 37, no check", FSN_DEFAULT_ELL, 0, 2, O_UNCHECKED},
    {"n4", "1-out-of-4 OT, ell = 2, KK13", 2, 2, 8, O_KK13},
    {"n16", "1-out-of-16 OT, ell = 2, KK13", 2, 4, 16, O_KK13},
    {"n256", "1-out-of-256 OT, ell = 8, KK13", 8, 8, 256, O_KK13},
    {"n16-rot", "1-out-of-16 OT, ell = 2, from 4 checked COTs", 2, 4, 16, O_N1ROT},
    {"ferret-rcot", "Ferret COT, random choice (native), no check", 0, 0, 1, O_FERRET},
    {"ferret-cot", "Ferret COT, chosen choice, no check", 0, 0, 1, O_FERRET},
    {"ferret-rcot-checked", "Ferret random-choice COT, checked (default)", 0, 0, 1, O_FERRET_CHECKED},
};

typedef struct thread_buf {
  uint8_t *a, *b, *choice, *idx;
  uint64_t *x, *y, *z;
} thread_buf;

typedef struct bench {
  size_t n, nthreads;
  int json;
  const char *ot;         /* NULL or "ferret": also run the rows of that extension */
  const char *ferret_set; /* NULL: the COT interface's default */
  fsn_role role;
  ot_type type;
  fsn_cot *checked[MAX_THREADS], *unchecked[MAX_THREADS], *ferret[MAX_THREADS], *ferret_checked[MAX_THREADS];
  fsn_ot_n1 *kk13[MAX_THREADS], *n1rot[MAX_THREADS];
  fsn_channel **chs;
  thread_buf buf[MAX_THREADS];
  double base_ot_s, kk_setup_s, seconds[T_COUNT], bits[T_COUNT];
  double cpu[T_COUNT], peer_cpu[T_COUNT]; /* CPU seconds (user + system, all threads) of the server, the client */
  size_t count[T_COUNT];
} bench;

/* The baseline: the receiver's traffic of a correlated OT (128 bits per item, in frames of one IKNP chunk) with no
 * computation, on the same channels, so COT/s can be read as a fraction of what the link carries. */
static fsn_status wire(bench *b, size_t thread, thread_buf *tb, size_t m) {
  fsn_channel *ch = b->chs[thread];
  const size_t frame = (size_t)1 << 15; /* items per frame, as FSN_OT_CHUNK */
  for (size_t i = 0; i < m; i += frame) {
    const size_t len = 16 * (m - i < frame ? m - i : frame);
    fsn_status st = b->role == FSN_ROLE_CLIENT ? fsn_channel_send(ch, tb->a, len) : fsn_channel_recv(ch, tb->a, len);
    if (st == FSN_OK && b->role == FSN_ROLE_CLIENT) st = fsn_channel_flush(ch);
    if (st != FSN_OK) return st;
  }
  return FSN_OK;
}

/* The same four kinds run on the checked and the unchecked COT objects. */
static ot_type kind_of(ot_type t) {
  if (t == T_FERRET_COT) return T_COT;
  return t >= T_COT_U && t <= T_ACOT_U ? t - T_COT_U + T_COT : t;
}

/* Whether this run has the type's rows. */
static bool runs(const bench *b, ot_type t) {
  return (types[t].obj != O_FERRET && types[t].obj != O_FERRET_CHECKED) || b->ot;
}

static fsn_status piece(bench *b, size_t thread, thread_buf *tb, size_t m) {
  const unsigned ell = types[b->type].ell, logn = types[b->type].logn;
  const ot_obj obj = types[b->type].obj;
  fsn_cot *cot = obj == O_UNCHECKED        ? b->unchecked[thread]
                 : obj == O_FERRET         ? b->ferret[thread]
                 : obj == O_FERRET_CHECKED ? b->ferret_checked[thread]
                                           : b->checked[thread];
  fsn_ot_n1 *n1 = obj == O_KK13 ? b->kk13[thread] : b->n1rot[thread];
  if (b->type == T_WIRE) return wire(b, thread, tb, m);
  if (b->type == T_FERRET_RCOT || b->type == T_FERRET_RCOT_C)
    return b->role == FSN_ROLE_SERVER ? fsn_cot_rcot_send(cot, tb->a, m) : fsn_cot_rcot_recv(cot, tb->a, tb->choice, m);
  if (b->role == FSN_ROLE_SERVER) switch (kind_of(b->type)) {
    case T_COT: return fsn_cot_send(cot, tb->a, m);
    case T_ROT: return fsn_ot_rot_send(cot, tb->a, tb->b, m);
    case T_OT: return fsn_ot_send(cot, tb->x, tb->y, m, ell);
    case T_ACOT: return fsn_ot_acot_send(cot, tb->x, tb->y, m, ell);
    default: return fsn_ot_nchoose1_send(n1, tb->z, m, logn, ell);
    }
  switch (kind_of(b->type)) {
  case T_COT: return fsn_cot_recv(cot, tb->a, tb->choice, m);
  case T_ROT: return fsn_ot_rot_recv(cot, tb->a, tb->choice, m);
  case T_OT: return fsn_ot_recv(cot, tb->x, tb->choice, m, ell);
  case T_ACOT: return fsn_ot_acot_recv(cot, tb->x, tb->choice, m, ell);
  default: return fsn_ot_nchoose1_recv(n1, tb->x, tb->idx, m, logn, ell);
  }
}

static fsn_status range(size_t thread, size_t begin, size_t end, void *arg) {
  bench *b = arg;
  thread_buf *tb = &b->buf[thread];
  const size_t len = PIECE >> types[b->type].logn; /* 1-out-of-N: N messages per OT in the buffers */
  for (size_t i = begin; i < end; i += len) {
    fsn_status st = piece(b, thread, tb, end - i < len ? end - i : len);
    if (st != FSN_OK) return st;
  }
  return FSN_OK;
}

/* CPU time of this process: on a shared machine wall time measures the share the scheduler gave us, CPU time what
 * the work costs. */
static double cpu_seconds(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (double)ru.ru_utime.tv_sec + 1e-6 * (double)ru.ru_utime.tv_usec + (double)ru.ru_stime.tv_sec +
         1e-6 * (double)ru.ru_stime.tv_usec;
}

static int alloc_buffers(bench *b) {
  for (size_t t = 0; t < b->nthreads; t++) {
    thread_buf *tb = &b->buf[t];
    tb->a = malloc(16 * PIECE), tb->b = malloc(16 * PIECE), tb->choice = malloc(PIECE / 8), tb->idx = malloc(PIECE);
    tb->x = calloc(PIECE, 8), tb->y = calloc(PIECE, 8), tb->z = calloc(PIECE, 8);
    if (!tb->a || !tb->b || !tb->choice || !tb->idx || !tb->x || !tb->y || !tb->z) return 1;
    randombytes_buf(tb->choice, PIECE / 8);
    randombytes_buf(tb->idx, PIECE);
    for (size_t i = 0; i < PIECE; i++) tb->idx[i] &= 3; /* valid for N = 4 and 16 */
  }
  return 0;
}

static void free_buffers(bench *b) {
  for (size_t t = 0; t < b->nthreads; t++) {
    thread_buf *tb = &b->buf[t];
    free(tb->a), free(tb->b), free(tb->choice), free(tb->idx), free(tb->x), free(tb->y), free(tb->z);
  }
}

static int fail(const char *what, fsn_status st) {
  fprintf(stderr, "fusion bench ot: %s: %s: %s\n", what, fsn_strerror(st), fsn_last_error());
  return 1;
}

static int run_party(fsn_role role, fsn_channel **ch, size_t nthreads, void *arg) {
  bench *b = arg;
  b->role = role;
  b->chs = ch;
  const fsn_ot_role orole = role == FSN_ROLE_SERVER ? FSN_OT_SENDER : FSN_OT_RECEIVER;
  int rc = 1;
  fsn_status st;
  if (alloc_buffers(b)) {
    fprintf(stderr, "fusion bench ot: out of memory\n");
    goto out;
  }
  if ((st = fsn_bench_2p_sync(ch[0], role)) != FSN_OK) {
    rc = fail("sync", st);
    goto out;
  }
  double t0 = fsn_bench_2p_now();
  const fsn_cot_options unchecked = {.unchecked = true};
  for (size_t t = 0; t < nthreads; t++) {
    if ((st = fsn_cot_create(&b->checked[t], "iknp", ch[t], orole, NULL)) != FSN_OK) {
      rc = fail("base OT", st);
      goto out;
    }
    if (t == 0) b->base_ot_s = fsn_bench_2p_now() - t0;
    if ((st = fsn_cot_create(&b->unchecked[t], "iknp", ch[t], orole, &unchecked)) != FSN_OK ||
        (st = fsn_ot_n1_create(&b->n1rot[t], "rot", b->checked[t])) != FSN_OK) {
      rc = fail("base OT", st);
      goto out;
    }
  }
  /* The KK13 extension's 256 base OTs. */
  t0 = fsn_bench_2p_now();
  for (size_t t = 0; t < nthreads; t++) {
    if ((st = fsn_ot_n1_create(&b->kk13[t], "kk13", b->unchecked[t])) != FSN_OK) {
      rc = fail("1-out-of-N set-up", st);
      goto out;
    }
    if (t == 0) b->kk_setup_s = fsn_bench_2p_now() - t0;
  }
  const fsn_cot_options ferret = {.unchecked = true, .ferret_set = b->ferret_set},
                        ferret_checked = {.ferret_set = b->ferret_set};
  for (size_t t = 0; b->ot && t < nthreads; t++)
    if ((st = fsn_cot_create(&b->ferret[t], b->ot, ch[t], orole, &ferret)) != FSN_OK ||
        (st = fsn_cot_create(&b->ferret_checked[t], b->ot, ch[t], orole, &ferret_checked)) != FSN_OK) {
      rc = fail("Ferret bootstrap", st);
      goto out;
    }
  for (ot_type ty = 0; ty < T_COUNT; ty++) {
    if (!runs(b, ty)) continue;
    b->type = ty;
    const size_t n = b->n / types[ty].n_div;
    if ((st = fsn_bench_2p_sync(ch[0], role)) != FSN_OK) {
      rc = fail("sync", st);
      goto out;
    }
    const double bytes0 = fsn_bench_2p_bytes(ch, nthreads), start = fsn_bench_2p_now(), cpu0 = cpu_seconds();
    if ((st = fsn_ot_parallel(nthreads, n, range, b)) != FSN_OK) {
      rc = fail(types[ty].name, st);
      goto out;
    }
    /* Stop the clock when both parties are done. */
    if ((st = fsn_bench_2p_sync(ch[0], role)) != FSN_OK) {
      rc = fail("sync", st);
      goto out;
    }
    b->seconds[ty] = fsn_bench_2p_now() - start;
    b->cpu[ty] = cpu_seconds() - cpu0;
    b->bits[ty] = 8 * (fsn_bench_2p_bytes(ch, nthreads) - bytes0) / (double)n; /* includes framing */
    b->count[ty] = n;
  }
  /* The client's CPU times go to the server, which reports. */
  st = role == FSN_ROLE_CLIENT ? fsn_channel_send(ch[0], b->cpu, sizeof b->cpu)
                               : fsn_channel_recv(ch[0], b->peer_cpu, sizeof b->peer_cpu);
  if (st == FSN_OK && role == FSN_ROLE_CLIENT) st = fsn_channel_flush(ch[0]);
  if (st != FSN_OK) {
    rc = fail("cpu times", st);
    goto out;
  }
  rc = 0;
out:
  for (size_t t = 0; t < nthreads; t++) {
    fsn_ot_n1_destroy(b->kk13[t]), fsn_ot_n1_destroy(b->n1rot[t]);
    fsn_cot_destroy(b->checked[t]), fsn_cot_destroy(b->unchecked[t]), fsn_cot_destroy(b->ferret[t]);
    fsn_cot_destroy(b->ferret_checked[t]);
  }
  free_buffers(b);
  return rc;
}

static void report(const bench *b) {
  if (b->json) {
    printf("{\"bench\": \"ot\", \"isa\": \"%s\", \"threads\": %zu, \"n\": %zu, \"base_ot_ms\": %.3f, "
           "\"nchoose1_setup_ms\": %.3f, \"results\": [",
           fsn_isa_name(fsn_isa_active()), b->nthreads, b->n, 1e3 * b->base_ot_s, 1e3 * b->kk_setup_s);
    for (int t = 0; t < T_COUNT; t++)
      if (runs(b, t))
        printf("%s\n  {\"type\": \"%s\", \"what\": \"%s\", \"n\": %zu, \"seconds\": %.6f, \"per_second\": %.0f, "
               "\"bits_per_ot\": %.2f, \"cpu_ns_per_ot_sender\": %.1f, \"cpu_ns_per_ot_receiver\": %.1f}",
               t ? "," : "", types[t].name, types[t].what, b->count[t], b->seconds[t],
               (double)b->count[t] / b->seconds[t], b->bits[t], 1e9 * b->cpu[t] / (double)b->count[t],
               1e9 * b->peer_cpu[t] / (double)b->count[t]);
    printf("\n]}\n");
    return;
  }
  printf("OT benchmark: 2 processes over loopback, %zu thread(s) each, isa %s\n", b->nthreads,
         fsn_isa_name(fsn_isa_active()));
  printf("base OT (128, one extension object): %.2f ms; 1-out-of-N set-up (256 KK13 base OTs): %.2f ms\n\n",
         1e3 * b->base_ot_s, 1e3 * b->kk_setup_s);
  printf("%-19s %-46s %10s %9s %9s %9s %10s %10s\n", "type", "what", "n", "seconds", "M OT/s", "bits/OT", "cpu ns/OT",
         "cpu ns/OT");
  printf("%-19s %-46s %10s %9s %9s %9s %10s %10s\n", "", "", "", "", "", "", "sender", "receiver");
  for (int t = 0; t < T_COUNT; t++)
    if (runs(b, t))
      printf("%-19s %-46s %10zu %9.3f %9.2f %9.2f %10.1f %10.1f\n", types[t].name, types[t].what, b->count[t],
             b->seconds[t], (double)b->count[t] / b->seconds[t] / 1e6, b->bits[t],
             1e9 * b->cpu[t] / (double)b->count[t], 1e9 * b->peer_cpu[t] / (double)b->count[t]);
  printf("\ncpu ns/OT: user + system time of each party (all its threads) per OT; on a shared machine the wall-clock\n"
         "rate is the scheduler's share, and 1e3 / max(sender, receiver) estimates M OT/s with one core per party.\n");
}

static int ot_usage(FILE *out) {
  fprintf(out,
          "usage: fusion bench ot [--n N] [--threads T] [--ot ferret [--ferret-set S]] [--json]\n"
          "  --n N        OTs per type (default 2^24; chosen/arithmetic OT run N/2, 1-out-of-4 N/8,\n"
          "               1-out-of-16 N/16, 1-out-of-256 N/256)\n"
          "  --threads T  threads (one channel each) per party, 1..%d (default 1)\n"
          "  --ferret-set S  Ferret's parameter set: small, medium, main, b10, b11 (default), b12\n"
          "  --ot ferret  also run Ferret's rows (ferret-rcot, ferret-cot, ferret-rcot-checked) after its bootstraps\n"
          "  --json       one JSON object on stdout\n",
          MAX_THREADS);
  return out == stderr ? 2 : 0;
}

int fsn_bench_ot(int argc, char **argv) {
  static bench b;
  b = (bench){.n = (size_t)1 << 24, .nthreads = 1};
  static const struct option long_opts[] = {{"n", required_argument, NULL, 'n'},
                                            {"threads", required_argument, NULL, 't'},
                                            {"json", no_argument, NULL, 'j'},
                                            {"ot", required_argument, NULL, 'o'},
                                            {"ferret-set", required_argument, NULL, 's'},
                                            {"help", no_argument, NULL, 'h'},
                                            {NULL, 0, NULL, 0}};
  int c;
  optind = 1;
  while ((c = getopt_long(argc, argv, "n:t:o:s:jh", long_opts, NULL)) != -1) {
    switch (c) {
    case 'n': b.n = strtoull(optarg, NULL, 0); break;
    case 't': b.nthreads = strtoull(optarg, NULL, 0); break;
    case 'j': b.json = 1; break;
    case 'o': b.ot = optarg; break;
    case 's': b.ferret_set = optarg; break;
    case 'h': return ot_usage(stdout);
    default: return ot_usage(stderr);
    }
  }
  if (b.ot && !strcmp(b.ot, "iknp")) b.ot = NULL; /* IKNP's rows always run */
  if (b.ot && strcmp(b.ot, "ferret")) {
    fprintf(stderr, "fusion bench ot: --ot %s: known extensions are iknp and ferret\n", b.ot);
    return 2;
  }
  if (optind != argc || b.n < 256 || b.nthreads < 1 || b.nthreads > MAX_THREADS) return ot_usage(stderr);
  int rc = fsn_bench_2p_run(b.nthreads, run_party, &b);
  if (rc == 0) report(&b);
  return rc;
}
