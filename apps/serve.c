#include "apps/serve.h"

#include <stdio.h>

#include "apps/common.h"

static const char *verdict_name(fsn_verdict v) {
  switch (v) {
  case FSN_VERDICT_PASS: return "pass";
  case FSN_VERDICT_FAIL: return "ABORT (checks failed)";
  case FSN_VERDICT_SILENT: return "not reported";
  }
  return "?";
}

static void log_session(const fsn_fusion_session_log *l, void *arg) {
  (void)arg;
  if (l->status != FSN_OK) {
    fprintf(stderr, "session %zu: %s\n", l->index, l->error);
    return;
  }
  fprintf(stderr, "session %zu: %.2f s, sent %.2f MiB, received %.2f MiB, %llu rounds; client verdict: %s\n", l->index,
          l->cost.seconds, (double)l->cost.bytes_sent / 1048576.0, (double)l->cost.bytes_recv / 1048576.0,
          (unsigned long long)l->cost.rounds, verdict_name(l->verdict));
}

int fsn_app_serve(const fsn_serve_config *cfg) {
  fsn_fusion_server *s;
  fsn_status st = fsn_fusion_server_create(&s, &cfg->fusion);
  if (st != FSN_OK) {
    fprintf(stderr, "fusion server: model card: %s\n", fsn_last_error());
    return 1;
  }
  fsn_listener *l;
  if ((st = fsn_listen(&l, cfg->listen)) != FSN_OK) {
    fprintf(stderr, "fusion server: %s\n", fsn_last_error());
    fsn_fusion_server_destroy(s);
    return 1;
  }
  const fsn_card *card = fsn_fusion_server_card(s);
  char hash[65];
  fsn_app_hex(hash, card->model_hash, 32);
  fprintf(stderr,
          "fusion server: %s (model %.16s…, ell %u, s %u), public set %s (%zu samples, %s, accuracy %.4f); "
          "reveals %s\n",
          cfg->fusion.model_name, hash, card->ell, card->scale, card->set_name, card->set_count,
          card->predictions ? "labels committed" : "no commitments", card->claimed_accuracy,
          card->reveal == FSN_REVEAL_LOGITS ? "logits" : "labels only");
  fprintf(stderr, "fusion server: listening on port %u, %zu thread(s)\n", fsn_listener_port(l), cfg->threads);
  st = fsn_fusion_serve(s, l, cfg->threads, &cfg->chan, cfg->sessions, log_session, NULL);
  if (st != FSN_OK) fprintf(stderr, "fusion server: %s\n", fsn_last_error());
  fsn_listener_destroy(l);
  fsn_fusion_server_destroy(s);
  return st == FSN_OK ? 0 : 1;
}
