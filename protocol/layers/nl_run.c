/* Thread driver and small exchange helpers of the non-linear protocols. */
#include "protocol/layers/nl_internal.h"

#include <fusion/bits.h>

#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

/* Below this many elements per thread, extra threads cost more (a round trip each) than they save. */
#define MIN_PER_THREAD ((size_t)2048)

typedef struct job {
  fsn_nl_thr thr;
  size_t begin, end;
  fsn_nl_fn fn;
  void *arg;
  fsn_status st;
  char err[256]; /* fsn_last_error is per thread: carry the worker's message back */
} job;

static void run_job(job *j) {
  j->st = j->begin < j->end ? j->fn(&j->thr, j->begin, j->end, j->arg) : FSN_OK;
  if (j->st != FSN_OK) {
    strncpy(j->err, fsn_last_error(), sizeof j->err - 1);
    j->err[sizeof j->err - 1] = 0;
  }
}

static void *thread_main(void *p) {
  run_job(p);
  return NULL;
}

static void init_thr(fsn_nl_thr *t, fsn_2pc *p, size_t i) {
  uint8_t seed[16];
  randombytes_buf(seed, sizeof seed);
  *t = (fsn_nl_thr){.role = fsn_2pc_role(p),
                    .ell = fsn_2pc_ell(p),
                    .index = i,
                    .ch = fsn_2pc_channel(p, i),
                    .snd = fsn_2pc_ot_sender(p, i),
                    .rcv = fsn_2pc_ot_receiver(p, i)};
  fsn_prg_seed(&t->prg, seed);
  sodium_memzero(seed, sizeof seed);
}

fsn_status fsn_nl_run(fsn_2pc *p, size_t n, fsn_nl_fn fn, void *arg) {
  size_t nt = fsn_2pc_threads(p);
  if (n / MIN_PER_THREAD < nt) nt = n / MIN_PER_THREAD > 0 ? n / MIN_PER_THREAD : 1;
  if (nt == 1) {
    job j = {.begin = 0, .end = n, .fn = fn, .arg = arg};
    init_thr(&j.thr, p, 0);
    run_job(&j);
    return j.st == FSN_OK ? FSN_OK : fsn_fail(j.st, "%s", j.err);
  }
  job *jobs = calloc(nt, sizeof *jobs);
  pthread_t *tids = calloc(nt, sizeof *tids);
  if (!jobs || !tids) {
    free(jobs), free(tids);
    return fsn_fail(FSN_E_NOMEM, "two-party worker threads: %zu", nt);
  }
  const size_t per = (n + nt - 1) / nt;
  for (size_t i = 0; i < nt; i++) {
    const size_t b = i * per < n ? i * per : n, e = b + per < n ? b + per : n;
    jobs[i] = (job){.begin = b, .end = e, .fn = fn, .arg = arg};
    init_thr(&jobs[i].thr, p, i);
  }
  fsn_status st = FSN_OK;
  size_t started = 1;
  for (; started < nt; started++)
    if (pthread_create(&tids[started], NULL, thread_main, &jobs[started]) != 0) {
      st = fsn_fail(FSN_E_IO, "could not start worker thread %zu of %zu", started, nt);
      break;
    }
  /* A thread that failed to start leaves its peer waiting; the peer's channel timeout ends it. */
  if (st == FSN_OK) run_job(&jobs[0]);
  for (size_t i = 1; i < started; i++) pthread_join(tids[i], NULL);
  for (size_t i = 0; i < nt && st == FSN_OK; i++)
    if (jobs[i].st != FSN_OK) st = fsn_fail(jobs[i].st, "thread %zu: %s", i, jobs[i].err);
  free(jobs), free(tids);
  return st;
}

void fsn_nl_random_bits(fsn_nl_thr *t, uint8_t *bits, size_t n) {
  fsn_prg_bytes(&t->prg, bits, n);
  for (size_t i = 0; i < n; i++) bits[i] &= 1;
}

fsn_status fsn_nl_swap_bits(fsn_nl_thr *t, uint8_t *theirs, const uint8_t *mine, size_t n) {
  const size_t bytes = (n + 7) / 8;
  uint8_t *buf = malloc(bytes + 1);
  if (!buf) return fsn_fail(FSN_E_NOMEM, "bit exchange of %zu bits", n);
  fsn_status st = FSN_OK;
  if (fsn_nl_server(t)) {
    fsn_bits_pack(buf, mine, n);
    if ((st = fsn_channel_send(t->ch, buf, bytes)) == FSN_OK && (st = fsn_channel_flush(t->ch)) == FSN_OK &&
        (st = fsn_channel_recv(t->ch, buf, bytes)) == FSN_OK)
      fsn_bits_unpack(theirs, buf, n);
  } else {
    if ((st = fsn_channel_recv(t->ch, buf, bytes)) == FSN_OK) {
      fsn_bits_unpack(theirs, buf, n);
      fsn_bits_pack(buf, mine, n);
      if ((st = fsn_channel_send(t->ch, buf, bytes)) == FSN_OK) st = fsn_channel_flush(t->ch);
    }
  }
  free(buf);
  return st;
}
