/* The server's side of Fusion (include/fusion/inference.h): one card, then one session per client. */
#include <fusion/inference.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { DEFAULT_MAX_BATCH = 100000, MAX_CHANNELS = 64 };

struct fsn_fusion_server {
  fsn_fusion_server_config cfg;
  fsn_card card;
};

fsn_status fsn_fusion_server_create(fsn_fusion_server **out, const fsn_fusion_server_config *cfg) {
  *out = NULL;
  if (!cfg->run_model || !cfg->set || !cfg->model_name)
    return fsn_fail(FSN_E_INVALID, "fusion server: a model, its name and a public set are required");
  if (cfg->reveal != FSN_REVEAL_LABEL && cfg->reveal != FSN_REVEAL_LOGITS)
    return fsn_fail(FSN_E_INVALID, "fusion server: reveal policy %d", (int)cfg->reveal);
  const fsn_linear_backend *backend =
      fsn_linear_backend_resolve(cfg->secure.linear_backend, fsn_model_ell(cfg->run_model));
  if (!backend)
    return fsn_fail(FSN_E_INVALID, "fusion server: unknown linear backend '%s'", cfg->secure.linear_backend);
  const char *ot = fsn_ot_pack_resolve(cfg->secure.ot);
  if (!ot) return fsn_fail(FSN_E_INVALID, "fusion server: unknown OT pack '%s' (iknp, kk13, ferret)", cfg->secure.ot);
  if (fsn_preprocess_check(&cfg->preprocess) != FSN_OK)
    return fsn_fail(FSN_E_INVALID, "fusion server: %s", fsn_last_error());
  fsn_fusion_server *s = calloc(1, sizeof *s);
  if (!s) return fsn_fail(FSN_E_NOMEM, "fusion server");
  s->cfg = *cfg;
  if (!s->cfg.card_model) s->cfg.card_model = cfg->run_model;
  if (!s->cfg.max_batch) s->cfg.max_batch = DEFAULT_MAX_BATCH;
  fsn_status st = fsn_card_make(&s->card, s->cfg.card_model, cfg->model_name, cfg->set, !cfg->no_commit, cfg->claimed);
  if (st != FSN_OK) {
    free(s);
    return st;
  }
  s->card.reveal = cfg->reveal;
  s->card.preprocess = cfg->preprocess;
  snprintf(s->card.linear_backend, sizeof s->card.linear_backend, "%s", backend->name);
  snprintf(s->card.ot, sizeof s->card.ot, "%s", ot);
  *out = s;
  return FSN_OK;
}

void fsn_fusion_server_destroy(fsn_fusion_server *s) {
  if (!s) return;
  fsn_card_free(&s->card);
  free(s);
}

const fsn_card *fsn_fusion_server_card(const fsn_fusion_server *s) { return &s->card; }

/* A failed session tells the client why before its channels close, unless the channels themselves failed. */
static void tell_client(fsn_channel *const *chs, size_t n, fsn_status st, const char *why) {
  if (st == FSN_E_CLOSED || st == FSN_E_TIMEOUT || st == FSN_E_IO) return;
  for (size_t i = 0; i < n; i++)
    if (fsn_channel_send_error(chs[i], why) != FSN_OK) continue; /* best effort: the session is over either way */
}

fsn_status fsn_fusion_serve_session(fsn_fusion_server *s, fsn_channel *const *chs, size_t nthreads,
                                    fsn_fusion_session_log *log) {
  fsn_fusion_session_log l = {.index = log ? log->index : 0};
  if (log) {
    memcpy(l.peer, log->peer, sizeof l.peer);
    l.session_id = log->session_id;
  }
  fsn_status st = fsn_card_send(chs[0], &s->card, s->cfg.card_model);
  if (st == FSN_OK)
    st = fsn_session_serve_batch_reveal(chs, nthreads, s->cfg.run_model, s->cfg.max_batch, s->cfg.reveal,
                                        &s->cfg.secure, &l.cost, &l.verdict, &l.batch);
  if (st == FSN_OK) {
    l.peak_rss = fsn_session_peak_rss();
    st = fsn_session_send_report(chs[0]);
  }
  l.status = st;
  if (st != FSN_OK) {
    snprintf(l.error, sizeof l.error, "%s", fsn_last_error());
    tell_client(chs, nthreads, st, l.error);
  }
  if (log) *log = l;
  return st;
}

typedef struct serve_ctx {
  fsn_fusion_server *s;
  fsn_fusion_log_fn log;
  void *arg;
  pthread_mutex_t log_mu;
} serve_ctx;

static void serve_group(void *arg, const fsn_acceptor_session *g) {
  serve_ctx *c = arg;
  fsn_fusion_session_log entry = {.index = g->index, .session_id = g->session_id};
  snprintf(entry.peer, sizeof entry.peer, "%s", g->peer);
  if (g->status != FSN_OK) { /* a client whose handshake failed: logged as a failed session, as before */
    entry.status = g->status;
    snprintf(entry.error, sizeof entry.error, "%s", g->error);
  } else {
    fsn_status st = fsn_fusion_serve_session(c->s, g->chs, g->n, &entry);
    (void)st; /* a failed session is logged (entry.status), not fatal */
  }
  if (!c->log) return;
  pthread_mutex_lock(&c->log_mu);
  c->log(&entry, c->arg);
  pthread_mutex_unlock(&c->log_mu);
}

fsn_status fsn_fusion_serve_many(fsn_fusion_server *s, fsn_listener *l, const fsn_channel_opts *chan,
                                 const fsn_acceptor_opts *opts, fsn_fusion_log_fn log, void *arg,
                                 fsn_acceptor_stats *stats) {
  const fsn_channel_params params = {.ell = s->card.ell, .scale = s->card.scale};
  serve_ctx c = {.s = s, .log = log, .arg = arg};
  pthread_mutex_init(&c.log_mu, NULL);
  fsn_status st = fsn_acceptor_run(l, &params, chan, opts, serve_group, &c, stats);
  pthread_mutex_destroy(&c.log_mu);
  return st;
}

fsn_status fsn_fusion_serve(fsn_fusion_server *s, fsn_listener *l, size_t nthreads, const fsn_channel_opts *chan,
                            size_t sessions, fsn_fusion_log_fn log, void *arg) {
  if (nthreads == 0 || nthreads > MAX_CHANNELS)
    return fsn_fail(FSN_E_INVALID, "fusion server: %zu threads (1 .. %d)", nthreads, MAX_CHANNELS);
  const fsn_channel_params params = {.ell = s->card.ell, .scale = s->card.scale};
  for (size_t k = 1; sessions == 0 || k <= sessions; k++) {
    fsn_channel *chs[MAX_CHANNELS] = {0};
    fsn_fusion_session_log entry = {.index = k};
    fsn_status st = fsn_channels_accept(l, chs, nthreads, FSN_ROLE_SERVER, &params, chan);
    if (st == FSN_OK) {
      st = fsn_fusion_serve_session(s, chs, nthreads, &entry); /* a failed session is logged, not fatal */
    } else {
      entry.status = st;
      snprintf(entry.error, sizeof entry.error, "%s", fsn_last_error());
    }
    fsn_channels_close(chs, nthreads);
    if (log) log(&entry, arg);
  }
  return FSN_OK;
}

/* Bytes per live value of the plan in the secure engine (shares, OT and comparison buffers of the non-linear layers,
 * packed messages), and a session's fixed cost (channel buffers, base OTs) besides its OT packs: upper bounds from
 * the server's peak RSS on fmnist-4layer (about 11.5 k peak values per item) on IKNP with 2 threads: 0.14 MB more
 * per batch item from 1 to 32 items (12 bytes per value), 0.22 MB per item in issue 17's measurement (19 bytes per
 * value), about 75 MB at one item (model, card and public set included), of which 64 MiB the estimate's fixed part,
 * the two IKNP packs (fsn_ot_pack_memory_bytes) included. */
enum { SECURE_BYTES_PER_VALUE = 32, MEASURED_THREADS = 2 };
#define SESSION_FIXED_BYTES ((uint64_t)64 << 20)

size_t fsn_fusion_batch_limit(const fsn_model *m, const char *ot, size_t threads, uint64_t budget_bytes,
                              uint64_t *per_sample, uint64_t *fixed) {
  fsn_nn_plan *p;
  uint64_t each = 0;
  if (fsn_nn_plan_create(&p, m) == FSN_OK) {
    each = (uint64_t)fsn_nn_plan_peak_values(p) * SECURE_BYTES_PER_VALUE;
    fsn_nn_plan_destroy(p);
  }
  const uint64_t session = SESSION_FIXED_BYTES - fsn_ot_pack_memory_bytes("iknp", MEASURED_THREADS) +
                           fsn_ot_pack_memory_bytes(ot, threads ? threads : 1);
  if (per_sample) *per_sample = each;
  if (fixed) *fixed = session;
  if (each == 0 || budget_bytes <= session) return 0;
  uint64_t n = (budget_bytes - session) / each;
  return n > SIZE_MAX ? SIZE_MAX : (size_t)n;
}
