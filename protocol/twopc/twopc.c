/* The two-party context: a channel and an OT pack per worker thread, and input sharing / reveal. */
#ifdef _OPENMP
#include <omp.h>
#endif
#include <fusion/bits.h>
#include <fusion/ring.h>
#include <fusion/twopc.h>

#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct fsn_2pc {
  fsn_role role;
  unsigned ell, scale;
  size_t nthreads;
  fsn_channel **ch;
  fsn_ot_pack **packs;
  struct { /* session resources of higher layers (fsn_2pc_attach), e.g. the RLWE keys */
    const char *name;
    void *obj;
    void (*destroy)(void *);
  } attached[4];
};

fsn_status fsn_2pc_create(fsn_2pc **out, fsn_channel *const *channels, size_t nthreads, fsn_role role, unsigned ell,
                          unsigned scale, const fsn_2pc_options *opt) {
  *out = NULL;
  if (nthreads == 0 || ell == 0 || ell > 64 || scale >= ell)
    return fsn_fail(FSN_E_INVALID, "two-party context: %zu threads, ell = %u, scale = %u", nthreads, ell, scale);
  fsn_2pc *p = calloc(1, sizeof *p);
  if (!p) return fsn_fail(FSN_E_NOMEM, "two-party context");
  *p = (fsn_2pc){.role = role, .ell = ell, .scale = scale, .nthreads = nthreads};
  p->ch = calloc(nthreads, sizeof *p->ch);
  p->packs = calloc(nthreads, sizeof *p->packs);
  if (!p->ch || !p->packs) {
    fsn_2pc_destroy(p);
    return fsn_fail(FSN_E_NOMEM, "two-party context");
  }
  memcpy(p->ch, channels, nthreads * sizeof *p->ch);
  const fsn_ot_pack_options po = {.ext = opt ? opt->ot : NULL, .unchecked = opt && opt->ot_unchecked};
  for (size_t t = 0; t < nthreads; t++) {
    fsn_status st = fsn_ot_pack_create(&p->packs[t], p->ch[t], role, &po);
    if (st != FSN_OK) {
      fsn_2pc_destroy(p);
      return st;
    }
  }
  *out = p;
  return FSN_OK;
}

void fsn_2pc_destroy(fsn_2pc *p) {
  if (!p) return;
  for (size_t i = 0; i < sizeof p->attached / sizeof p->attached[0]; i++)
    if (p->attached[i].obj) p->attached[i].destroy(p->attached[i].obj);
  for (size_t t = 0; p->packs && t < p->nthreads; t++) fsn_ot_pack_destroy(p->packs[t]);
  free(p->ch), free(p->packs), free(p);
}

fsn_status fsn_2pc_attach(fsn_2pc *p, const char *name, void *obj, void (*destroy)(void *)) {
  for (size_t i = 0; i < sizeof p->attached / sizeof p->attached[0]; i++)
    if (!p->attached[i].obj) {
      p->attached[i].name = name, p->attached[i].obj = obj, p->attached[i].destroy = destroy;
      return FSN_OK;
    }
  return fsn_fail(FSN_E_INVALID, "two-party context: no room to attach '%s'", name);
}

void *fsn_2pc_attached(const fsn_2pc *p, const char *name) {
  for (size_t i = 0; i < sizeof p->attached / sizeof p->attached[0]; i++)
    if (p->attached[i].obj && !strcmp(p->attached[i].name, name)) return p->attached[i].obj;
  return NULL;
}

fsn_role fsn_2pc_role(const fsn_2pc *p) { return p->role; }
unsigned fsn_2pc_ell(const fsn_2pc *p) { return p->ell; }
unsigned fsn_2pc_scale(const fsn_2pc *p) { return p->scale; }
size_t fsn_2pc_threads(const fsn_2pc *p) { return p->nthreads; }
fsn_channel *fsn_2pc_channel(const fsn_2pc *p, size_t t) { return p->ch[t]; }
fsn_ot_pack *fsn_2pc_ot_pack(const fsn_2pc *p, size_t t) { return p->packs[t]; }
fsn_cot *fsn_2pc_ot_sender(const fsn_2pc *p, size_t t) { return fsn_ot_pack_cot(p->packs[t], FSN_OT_SENDER); }
fsn_cot *fsn_2pc_ot_receiver(const fsn_2pc *p, size_t t) { return fsn_ot_pack_cot(p->packs[t], FSN_OT_RECEIVER); }

void fsn_2pc_counters(const fsn_2pc *p, fsn_counters *out) {
  *out = (fsn_counters){0};
  uint64_t rounds = 0;
  for (size_t t = 0; t < p->nthreads; t++) {
    fsn_counters c;
    fsn_channel_counters(p->ch[t], &c);
    fsn_counters_add(out, &c);
    rounds = c.rounds > rounds ? c.rounds : rounds;
  }
  out->rounds = rounds;
}

typedef struct run_arg {
  fsn_2pc *p;
  size_t thread;
  fsn_2pc_task fn;
  void *arg;
  fsn_status st;
  char error[256]; /* fsn_last_error() is per thread: carry it back to the caller */
} run_arg;

/* A context's T threads are its share of the machine: kernels called from them run without an OpenMP team of their
 * own, so K sessions of T threads use K x T cores, the one budget a server sizes (--max-sessions x --threads). The
 * caller's setting comes back when its part of the task returns. */
static void *run_one(void *v) {
  run_arg *r = v;
#ifdef _OPENMP
  const int team = omp_get_max_threads();
  omp_set_num_threads(1);
#endif
  r->st = r->fn(r->p, r->thread, r->arg);
#ifdef _OPENMP
  omp_set_num_threads(team);
#endif
  if (r->st != FSN_OK) snprintf(r->error, sizeof r->error, "%s", fsn_last_error());
  return NULL;
}

fsn_status fsn_2pc_run(fsn_2pc *p, fsn_2pc_task fn, void *arg) {
  size_t T = p->nthreads;
  run_arg *runs = calloc(T, sizeof *runs);
  pthread_t *tids = calloc(T, sizeof *tids);
  if (!runs || !tids) {
    free(runs), free(tids);
    return fsn_fail(FSN_E_NOMEM, "%zu worker threads", T);
  }
  size_t started = 1;
  for (size_t t = 0; t < T; t++) runs[t] = (run_arg){.p = p, .thread = t, .fn = fn, .arg = arg};
  for (size_t t = 1; t < T; t++, started++) {
    if (pthread_create(&tids[t], NULL, run_one, &runs[t])) {
      runs[t].st = fsn_fail(FSN_E_IO, "cannot start worker thread %zu", t);
      break;
    }
  }
  run_one(&runs[0]);
  for (size_t t = 1; t < started; t++) pthread_join(tids[t], NULL);
  fsn_status st = FSN_OK;
  for (size_t t = 0; t < T && st == FSN_OK; t++)
    if (runs[t].st != FSN_OK) st = fsn_fail(runs[t].st, "worker %zu: %s", t, runs[t].error);
  free(runs), free(tids);
  return st;
}

void fsn_2pc_share_input(const fsn_2pc *p, uint64_t *share, const uint64_t *x, size_t n) {
  if (p->role == FSN_ROLE_CLIENT) {
    const uint64_t mask = fsn_ring_mask(p->ell);
    for (size_t i = 0; i < n; i++) share[i] = x[i] & mask;
  } else {
    memset(share, 0, n * sizeof *share);
  }
}

fsn_status fsn_2pc_reveal(fsn_2pc *p, uint64_t *out, const uint64_t *share, size_t n, fsn_role to) {
  fsn_channel *ch = p->ch[0];
  fsn_status st;
  if (p->role != to) {
    st = fsn_channel_send_ring(ch, share, n, p->ell);
    return st == FSN_OK ? fsn_channel_flush(ch) : st;
  }
  st = fsn_channel_recv_ring(ch, out, n, p->ell);
  if (st == FSN_OK) fsn_ring_add(out, out, share, n, p->ell);
  return st;
}

fsn_status fsn_2pc_reveal_bits(fsn_2pc *p, uint8_t *out, const uint8_t *share, size_t n, fsn_role to) {
  fsn_channel *ch = p->ch[0];
  size_t bytes = (n + 7) / 8;
  uint8_t *packed = malloc(bytes + 1);
  if (!packed) return fsn_fail(FSN_E_NOMEM, "reveal of %zu bits", n);
  fsn_status st;
  if (p->role != to) {
    fsn_bits_pack(packed, share, n);
    st = fsn_channel_send(ch, packed, bytes);
    if (st == FSN_OK) st = fsn_channel_flush(ch);
  } else if ((st = fsn_channel_recv(ch, packed, bytes)) == FSN_OK) {
    fsn_bits_unpack(out, packed, n);
    for (size_t i = 0; i < n; i++) out[i] ^= share[i];
  }
  free(packed);
  return st;
}
