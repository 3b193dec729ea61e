#include "apps/serve.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "apps/common.h"

static const char *verdict_name(fsn_verdict v) {
  switch (v) {
  case FSN_VERDICT_PASS: return "pass";
  case FSN_VERDICT_FAIL: return "ABORT (checks failed)";
  case FSN_VERDICT_SILENT: return "not reported";
  }
  return "?";
}

static const char *verdict_json(fsn_verdict v) {
  return v == FSN_VERDICT_PASS ? "\"pass\"" : v == FSN_VERDICT_FAIL ? "\"fail\"" : "\"silent\"";
}

/* s as a JSON string (quotes included), control characters escaped. */
static void put_json_string(FILE *f, const char *s) {
  fputc('"', f);
  for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
    if (*c == '"' || *c == '\\')
      fprintf(f, "\\%c", *c);
    else if (*c < 0x20)
      fprintf(f, "\\u%04x", *c);
    else
      fputc(*c, f);
  }
  fputc('"', f);
}

/* One line per session: {"session":k,"id":"..","peer":"..","batch":N,"seconds":..,"bytes_sent":..,"bytes_recv":..,
 * "rounds":..,"peak_rss_bytes":..,"verdict":"pass"|"fail"|"silent"|null,"error":null|".."}. */
static void log_session_json(const fsn_fusion_session_log *l) {
  flockfile(stderr);
  fprintf(stderr, "{\"session\":%zu,\"id\":\"%016llx\",\"peer\":", l->index, (unsigned long long)l->session_id);
  put_json_string(stderr, l->peer);
  fprintf(stderr,
          ",\"batch\":%zu,\"seconds\":%.3f,\"bytes_sent\":%llu,\"bytes_recv\":%llu,\"rounds\":%llu,\"peak_rss_bytes\":%"
          "llu,\"verdict\":%s",
          l->batch, l->cost.seconds, (unsigned long long)l->cost.bytes_sent, (unsigned long long)l->cost.bytes_recv,
          (unsigned long long)l->cost.rounds, (unsigned long long)l->peak_rss,
          l->status == FSN_OK ? verdict_json(l->verdict) : "null");
  fputs(",\"error\":", stderr);
  if (l->status == FSN_OK)
    fputs("null", stderr);
  else
    put_json_string(stderr, l->error);
  fputs("}\n", stderr);
  funlockfile(stderr);
}

static void log_session(const fsn_fusion_session_log *l, void *arg) {
  const fsn_serve_config *cfg = arg;
  if (cfg->log_json) {
    log_session_json(l);
    return;
  }
  if (l->status != FSN_OK) {
    fprintf(stderr, "session %zu: %s (peer %s)\n", l->index, l->error, l->peer);
    return;
  }
  fprintf(
      stderr,
      "session %zu: %.2f s, sent %.2f MiB, received %.2f MiB, %llu rounds; client verdict: %s (peer %s, batch %zu)\n",
      l->index, l->cost.seconds, (double)l->cost.bytes_sent / 1048576.0, (double)l->cost.bytes_recv / 1048576.0,
      (unsigned long long)l->cost.rounds, verdict_name(l->verdict), l->peer, l->batch);
}

/* SIGTERM / SIGINT: the first asks the acceptor to drain, the second exits at once. */
static volatile sig_atomic_t stop_requested;

static void on_stop_signal(int sig) {
  (void)sig;
  if (stop_requested) {
    static const char msg[] = "fusion server: second signal, exiting now\n";
    if (write(STDERR_FILENO, msg, sizeof msg - 1) < 0) _exit(130);
    _exit(130);
  }
  stop_requested = 1;
}

static void install_stop_handlers(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
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
          "reveals %s; linear backend %s, OT pack %s\n",
          cfg->fusion.model_name, hash, card->ell, card->scale, card->set_name, card->set_count,
          card->predictions ? "labels committed" : "no commitments", card->claimed_accuracy,
          card->reveal == FSN_REVEAL_LOGITS ? "logits" : "labels only", card->linear_backend, card->ot);
  fsn_acceptor_opts ao = cfg->accept;
  ao.channels = cfg->threads;
  ao.sessions = cfg->sessions;
  ao.stop = &stop_requested;
  fprintf(stderr,
          "fusion server: listening on port %u, %zu thread(s) per session, up to %zu session(s) at once, batches up "
          "to %zu (memory budget %llu MiB)\n",
          fsn_listener_port(l), cfg->threads, ao.max_sessions ? ao.max_sessions : 2, cfg->fusion.max_batch,
          (unsigned long long)(cfg->memory_budget >> 20));
  install_stop_handlers();
  fsn_acceptor_stats stats;
  st = fsn_fusion_serve_many(s, l, &cfg->chan, &ao, log_session, (void *)cfg, &stats);
  if (st != FSN_OK) fprintf(stderr, "fusion server: %s\n", fsn_last_error());
  fprintf(stderr,
          "fusion server: stopped after %llu session(s); %llu connection(s) accepted, %llu refused busy, %llu refused "
          "for too many connections from one address, %llu failed their handshake\n",
          (unsigned long long)stats.sessions, (unsigned long long)stats.accepted,
          (unsigned long long)stats.refused_busy, (unsigned long long)stats.refused_crowd,
          (unsigned long long)stats.failed);
  fsn_listener_destroy(l);
  fsn_fusion_server_destroy(s);
  return st == FSN_OK ? 0 : 1;
}
