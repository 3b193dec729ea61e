/* Run an OT workload on several threads, each with its own OT objects and channel. */
#include <fusion/ot.h>

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

typedef struct job {
  size_t thread, begin, end;
  fsn_ot_range_fn fn;
  void *arg;
  fsn_status st;
  char err[256]; /* fsn_last_error is per thread: carry the worker's message back */
} job;

static void run(job *j) {
  j->st = j->begin < j->end ? j->fn(j->thread, j->begin, j->end, j->arg) : FSN_OK;
  if (j->st != FSN_OK) {
    strncpy(j->err, fsn_last_error(), sizeof j->err - 1);
    j->err[sizeof j->err - 1] = 0;
  }
}

static void *thread_main(void *p) {
  run(p);
  return NULL;
}

fsn_status fsn_ot_parallel(size_t nthreads, size_t n, fsn_ot_range_fn fn, void *arg) {
  if (!fn || nthreads == 0 || nthreads > 1024)
    return fsn_fail(FSN_E_INVALID, "fsn_ot_parallel: NULL argument or %zu threads", nthreads);
  job *jobs = calloc(nthreads, sizeof *jobs);
  pthread_t *tids = calloc(nthreads, sizeof *tids);
  if (!jobs || !tids) {
    free(jobs);
    free(tids);
    return fsn_fail(FSN_E_NOMEM, "fsn_ot_parallel: %zu threads", nthreads);
  }
  const size_t per = ((n + nthreads - 1) / nthreads + 127) / 128 * 128;
  for (size_t t = 0; t < nthreads; t++) {
    const size_t b = t * per < n ? t * per : n, e = b + per < n ? b + per : n;
    jobs[t] = (job){.thread = t, .begin = b, .end = e, .fn = fn, .arg = arg};
  }
  size_t started = 1;
  fsn_status st = FSN_OK;
  for (; started < nthreads; started++)
    if (pthread_create(&tids[started], NULL, thread_main, &jobs[started]) != 0) {
      st = fsn_fail(FSN_E_IO, "fsn_ot_parallel: could not start thread %zu of %zu", started, nthreads);
      break;
    }
  /* A thread that failed to start leaves its peer waiting; the peer's channel timeout ends it. */
  if (st == FSN_OK) run(&jobs[0]);
  for (size_t t = 1; t < started; t++) pthread_join(tids[t], NULL);
  for (size_t t = 0; t < nthreads && st == FSN_OK; t++)
    if (jobs[t].st != FSN_OK) st = fsn_fail(jobs[t].st, "thread %zu: %s", t, jobs[t].err);
  free(jobs);
  free(tids);
  return st;
}
