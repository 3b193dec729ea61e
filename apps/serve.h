/* The server loop shared by `fusion server` and the adversarial server of tests and benchmarks: printing around
 * fsn_fusion_serve (include/fusion/inference.h). */
#ifndef FSN_APPS_SERVE_H
#define FSN_APPS_SERVE_H

#include <fusion/inference.h>

typedef struct fsn_serve_config {
  const char *listen;
  size_t threads, sessions; /* sessions: 0 = serve until killed */
  fsn_channel_opts chan;
  fsn_fusion_server_config fusion;
  fsn_acceptor_opts accept; /* channels and sessions are filled from threads and sessions */
  uint64_t memory_budget;   /* what fusion.max_batch was sized from (for the start-up line) */
  bool log_json;
} fsn_serve_config;

/* Serve clients, up to accept.max_sessions at once; each session is logged on stderr (a JSON line with log_json) and
 * a failed one does not stop the server. SIGTERM or SIGINT stops accepting and lets running sessions finish (a second
 * one exits at once). Returns the process exit code (0 after `sessions` sessions or a signal, 1 if the server cannot
 * start). */
int fsn_app_serve(const fsn_serve_config *cfg);

#endif
