#include "apps/serve.h"

#include <stdio.h>
#include <string.h>

#include "apps/common.h"

int fsn_app_serve(const fsn_serve_config *cfg) {
  fsn_card card;
  fsn_status st = fsn_card_make(&card, cfg->card_model, cfg->model_name, cfg->set, cfg->commit, cfg->claimed);
  if (st != FSN_OK) {
    fprintf(stderr, "fusion server: model card: %s\n", fsn_last_error());
    return 1;
  }
  fsn_listener *l;
  if ((st = fsn_listen(&l, cfg->listen)) != FSN_OK) {
    fprintf(stderr, "fusion server: %s\n", fsn_last_error());
    fsn_card_free(&card);
    return 1;
  }
  char hash[65];
  fsn_app_hex(hash, card.model_hash, 32);
  fprintf(stderr, "fusion server: %s (model %.16s…, ell %u, s %u), public set %s (%zu samples, %s, accuracy %.4f)\n",
          cfg->model_name, hash, card.ell, card.scale, card.set_name, card.set_count,
          card.predictions ? "labels committed" : "no commitments", card.claimed_accuracy);
  fprintf(stderr, "fusion server: listening on port %u, %zu thread(s)\n", fsn_listener_port(l), cfg->threads);
  const fsn_session_params params = {.ell = card.ell, .scale = card.scale};
  for (size_t k = 1; cfg->sessions == 0 || k <= cfg->sessions; k++) {
    fsn_channel *chs[64] = {0};
    fsn_cost cost = {0};
    bool passed = false;
    st = fsn_session_accept(l, chs, cfg->threads, FSN_ROLE_SERVER, &params, &cfg->chan);
    if (st == FSN_OK) st = fsn_card_send(chs[0], &card, cfg->card_model);
    if (st == FSN_OK)
      st = fsn_serve_batch(chs, cfg->threads, cfg->run_model, cfg->max_batch, &cfg->secure, &cost, &passed);
    if (st == FSN_OK)
      fprintf(stderr, "session %zu: %.2f s, sent %.2f MiB, received %.2f MiB, %llu rounds; client verdict: %s\n", k,
              cost.seconds, (double)cost.bytes_sent / 1048576.0, (double)cost.bytes_recv / 1048576.0,
              (unsigned long long)cost.rounds, passed ? "pass" : "ABORT (checks failed)");
    else
      fprintf(stderr, "session %zu: %s\n", k, fsn_last_error());
    fsn_session_close(chs, cfg->threads);
  }
  fsn_listener_destroy(l);
  fsn_card_free(&card);
  return 0;
}
