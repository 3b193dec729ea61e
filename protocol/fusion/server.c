/* The server's side of Fusion (include/fusion/inference.h): one card, then one session per client. */
#include <fusion/inference.h>

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
  snprintf(s->card.linear_backend, sizeof s->card.linear_backend, "%s", backend->name);
  *out = s;
  return FSN_OK;
}

void fsn_fusion_server_destroy(fsn_fusion_server *s) {
  if (!s) return;
  fsn_card_free(&s->card);
  free(s);
}

const fsn_card *fsn_fusion_server_card(const fsn_fusion_server *s) { return &s->card; }

fsn_status fsn_fusion_serve_session(fsn_fusion_server *s, fsn_channel *const *chs, size_t nthreads,
                                    fsn_fusion_session_log *log) {
  fsn_fusion_session_log l = {.index = log ? log->index : 0};
  fsn_status st = fsn_card_send(chs[0], &s->card, s->cfg.card_model);
  if (st == FSN_OK)
    st = fsn_serve_batch_reveal(chs, nthreads, s->cfg.run_model, s->cfg.max_batch, s->cfg.reveal, &s->cfg.secure,
                                &l.cost, &l.verdict, &l.batch);
  l.status = st;
  if (st != FSN_OK) snprintf(l.error, sizeof l.error, "%s", fsn_last_error());
  if (log) *log = l;
  return st;
}

fsn_status fsn_fusion_serve(fsn_fusion_server *s, fsn_listener *l, size_t nthreads, const fsn_channel_opts *chan,
                            size_t sessions, fsn_fusion_log_fn log, void *arg) {
  if (nthreads == 0 || nthreads > MAX_CHANNELS)
    return fsn_fail(FSN_E_INVALID, "fusion server: %zu threads (1 .. %d)", nthreads, MAX_CHANNELS);
  const fsn_session_params params = {.ell = s->card.ell, .scale = s->card.scale};
  for (size_t k = 1; sessions == 0 || k <= sessions; k++) {
    fsn_channel *chs[MAX_CHANNELS] = {0};
    fsn_fusion_session_log entry = {.index = k};
    fsn_status st = fsn_session_accept(l, chs, nthreads, FSN_ROLE_SERVER, &params, chan);
    if (st == FSN_OK) {
      st = fsn_fusion_serve_session(s, chs, nthreads, &entry); /* a failed session is logged, not fatal */
    } else {
      entry.status = st;
      snprintf(entry.error, sizeof entry.error, "%s", fsn_last_error());
    }
    fsn_session_close(chs, nthreads);
    if (log) log(&entry, arg);
  }
  return FSN_OK;
}
