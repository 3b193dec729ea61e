/* The server loop shared by `fusion server` and the adversarial server of tests and benchmarks. */
#ifndef FSN_APPS_SERVE_H
#define FSN_APPS_SERVE_H

#include <fusion/session.h>

typedef struct fsn_serve_config {
  const char *listen;
  size_t threads, sessions, max_batch; /* sessions: 0 = serve until killed */
  fsn_channel_opts chan;
  const fsn_model *run_model;  /* what the server computes with */
  const fsn_model *card_model; /* what its card describes: the same model for an honest server */
  const char *model_name;
  const fsn_sampleset *set;
  bool commit;
  double claimed; /* claimed accuracy when not committing */
  fsn_secure_opts secure;
} fsn_serve_config;

/* Serve clients one after another; a failed session is reported on stderr and the next one is served.
 * Returns the process exit code (0 after `sessions` sessions, 1 if the server cannot start). */
int fsn_app_serve(const fsn_serve_config *cfg);

#endif
