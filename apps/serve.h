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
} fsn_serve_config;

/* Serve clients one after another; each session is logged on stderr and a failed one does not stop the server.
 * Returns the process exit code (0 after `sessions` sessions, 1 if the server cannot start). */
int fsn_app_serve(const fsn_serve_config *cfg);

#endif
