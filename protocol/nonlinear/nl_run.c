/* Thread driver and small exchange helpers of the non-linear protocols. */
#include "protocol/nonlinear/nl_internal.h"

#include <fusion/bits.h>

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

/* Below this many elements per thread, extra threads cost more (a round trip each) than they save. */
#define MIN_PER_THREAD ((size_t)2048)

bool fsn_nl_silent(const fsn_cot *cot) { return !strcmp(fsn_cot_name(cot), "ferret"); }

static void init_thr(fsn_nl_thr *t, fsn_2pc *p, size_t i) {
  uint8_t seed[16];
  randombytes_buf(seed, sizeof seed);
  *t = (fsn_nl_thr){.role = fsn_2pc_role(p),
                    .ell = fsn_2pc_ell(p),
                    .index = i,
                    .ch = fsn_2pc_channel(p, i),
                    .snd = fsn_2pc_ot_sender(p, i),
                    .rcv = fsn_2pc_ot_receiver(p, i),
                    .nsnd = fsn_ot_pack_n1(fsn_2pc_ot_pack(p, i), FSN_OT_SENDER),
                    .nrcv = fsn_ot_pack_n1(fsn_2pc_ot_pack(p, i), FSN_OT_RECEIVER)};
  t->silent = fsn_nl_silent(t->snd);
  fsn_prg_seed(&t->prg, seed);
  sodium_memzero(seed, sizeof seed);
}

typedef struct nl_job {
  size_t n, nt; /* elements, threads in use (the rest idle: both parties cut the same way) */
  fsn_nl_fn fn;
  void *arg;
} nl_job;

/* Thread t's contiguous share of [0, n). */
static fsn_status nl_task(fsn_2pc *p, size_t t, void *arg) {
  const nl_job *j = arg;
  const size_t per = (j->n + j->nt - 1) / j->nt, b = t * per < j->n ? t * per : j->n;
  const size_t e = b + per < j->n ? b + per : j->n;
  if (t >= j->nt || b >= e) return FSN_OK;
  fsn_nl_thr thr;
  init_thr(&thr, p, t);
  return j->fn(&thr, b, e, j->arg);
}

/* Threads worth using for n elements. */
static size_t threads_for(const fsn_2pc *p, size_t n) {
  const size_t nt = fsn_2pc_threads(p);
  return n / MIN_PER_THREAD >= nt ? nt : n / MIN_PER_THREAD > 0 ? n / MIN_PER_THREAD : 1;
}

fsn_status fsn_nl_run(fsn_2pc *p, size_t n, fsn_nl_fn fn, void *arg) {
  nl_job j = {.n = n, .nt = threads_for(p, n), .fn = fn, .arg = arg};
  return j.nt == 1 ? nl_task(p, 0, &j) : fsn_2pc_run(p, nl_task, &j);
}

size_t fsn_nl_blocks(const fsn_2pc *p, size_t n) {
  const size_t nt = threads_for(p, n), per = (n + nt - 1) / nt;
  const size_t block = fsn_nl_silent(fsn_2pc_ot_sender(p, 0)) ? FSN_NL_SILENT_BLOCK : FSN_NL_BLOCK;
  return per ? 1 + (per - 1) / block : 0;
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
