/* Command-line options shared by `fusion server` and `fusion-adversary`, and the set-up they imply. */
#ifndef FSN_APPS_SERVER_OPTS_H
#define FSN_APPS_SERVER_OPTS_H

#include <getopt.h>

#include "apps/serve.h"

typedef struct fsn_server_opts {
  const char *model, *listen, *net, *images, *labels, *public_range;
  unsigned long long threads, sessions, max_batch, ell, scale, seed, timeout;
  bool no_commit;
  double claimed;
  fsn_reveal reveal;   /* --reveal label|logits: what the client learns [label] */
  const char *backend; /* --backend: the conv/fc protocol [the library's default] */
  const char *ot;      /* --ot: the OT pack [the library's default] */
  /* Serving many clients (include/fusion/acceptor.h): */
  unsigned long long max_sessions, max_per_client; /* [2], [2 x threads] */
  double session_timeout, handshake_timeout;       /* seconds; [0 = none], [10] */
  unsigned long long memory_budget;                /* bytes; [a quarter of RAM] */
  bool log_json;
  const char *preprocess; /* --preprocess SPEC: stated in the card [the model's sidecar file, else none] */
} fsn_server_opts;

/* getopt values of the options for serving many clients (above any character). */
enum {
  FSN_SERVER_OPT_MAX_SESSIONS = 0x1000,
  FSN_SERVER_OPT_MAX_PER_CLIENT,
  FSN_SERVER_OPT_SESSION_TIMEOUT,
  FSN_SERVER_OPT_HANDSHAKE_TIMEOUT,
  FSN_SERVER_OPT_MEMORY_BUDGET,
  FSN_SERVER_OPT_LOG_JSON,
  FSN_SERVER_OPT_BACKEND, /* not a letter: fusion-adversary's own options take letters ('K' is its --layer) */
  FSN_SERVER_OPT_OT,
  FSN_SERVER_OPT_PREPROCESS,
};

#define FSN_SERVER_USAGE                                                                                               \
  "  --model FILE.onnx|builtin:NAME --listen HOST:PORT [--threads T] [--net PROFILE] [--ell L --scale S]\n"            \
  "  [--images IDX|random --labels IDX --public A-B] [--no-commit --claimed-accuracy A] [--sessions K]\n"              \
  "  [--max-batch N] [--seed S] [--timeout SECONDS] [--reveal label|logits] [--backend vcot|he|he-packed]\n"           \
  "  [--ot iknp|kk13|ferret]\n"                                                                                        \
  "  [--max-sessions K] [--session-timeout SECONDS] [--handshake-timeout SECONDS] [--max-per-client C]\n"              \
  "  [--memory-budget BYTES[k|M|G]] [--log-json]\n"                                                                    \
  "  --max-sessions: sessions served at once [2]; --session-timeout: a whole session's limit [none];\n"                \
  "  --handshake-timeout: a client's limit to open all its channels [10]; --max-per-client: open connections from\n"   \
  "  one address [2 x threads; 0 = no cap, e.g. behind a load balancer]; --memory-budget: sizes the largest batch\n"   \
  "  [a quarter of RAM]; --log-json: one JSON line per session. SIGTERM/SIGINT: finish running sessions and exit.\n"   \
  "  --images random: a public set of seeded random images of the model's input shape (--public within 0-1023,\n"      \
  "  labels 0): for timing models of any input shape, e.g. builtin:squeezenet with clients --input --no-fusion\n"      \
  "  --reveal: what the client learns of each output, stated in the model card: its label only (the argmax runs\n"     \
  "  inside the protocol; the default) or all its logits\n"                                                            \
  "  --backend, --ot: the conv/fc protocol and the OT pack of the non-linear layers, stated in the model card\n"       \
  "  --preprocess SPEC: how clients turn an image into the model's input, stated in the card (e.g.\n"                  \
  "  resize=256,crop=224,mean=0.485/0.456/0.406,std=0.229/0.224/0.225) [FILE.onnx.preprocess, else none]\n"

/* getopt_long table entries (terminated by the caller) and the handler for one option; returns false if `c` is not
 * one of them or its value is bad. */
#define FSN_SERVER_LONGOPTS                                                                                            \
  {"model", required_argument, 0, 'm'}, {"listen", required_argument, 0, 'L'}, {"threads", required_argument, 0, 't'}, \
      {"net", required_argument, 0, 'N'}, {"ell", required_argument, 0, 'e'}, {"scale", required_argument, 0, 's'},    \
      {"images", required_argument, 0, 'i'}, {"labels", required_argument, 0, 'l'},                                    \
      {"public", required_argument, 0, 'P'}, {"no-commit", no_argument, 0, 'C'},                                       \
      {"claimed-accuracy", required_argument, 0, 'A'}, {"sessions", required_argument, 0, 'k'},                        \
      {"max-batch", required_argument, 0, 'b'}, {"seed", required_argument, 0, 'r'},                                   \
      {"timeout", required_argument, 0, 'T'}, {"max-sessions", required_argument, 0, FSN_SERVER_OPT_MAX_SESSIONS},     \
      {"max-per-client", required_argument, 0, FSN_SERVER_OPT_MAX_PER_CLIENT},                                         \
      {"session-timeout", required_argument, 0, FSN_SERVER_OPT_SESSION_TIMEOUT},                                       \
      {"handshake-timeout", required_argument, 0, FSN_SERVER_OPT_HANDSHAKE_TIMEOUT},                                   \
      {"memory-budget", required_argument, 0, FSN_SERVER_OPT_MEMORY_BUDGET},                                           \
      {"log-json", no_argument, 0, FSN_SERVER_OPT_LOG_JSON},                                                           \
      {"backend", required_argument, 0, FSN_SERVER_OPT_BACKEND}, {"ot", required_argument, 0, FSN_SERVER_OPT_OT},      \
      {"preprocess", required_argument, 0, FSN_SERVER_OPT_PREPROCESS}, {                                               \
    "reveal", required_argument, 0, 'V'                                                                                \
  }

void fsn_server_opts_init(fsn_server_opts *o);
bool fsn_server_opt(fsn_server_opts *o, int c, const char *arg);

/* Load and quantise the model named by spec, build the public set; fills cfg (which then owns *model and *set). */
FSN_NODISCARD fsn_status fsn_server_setup(const fsn_server_opts *o, fsn_serve_config *cfg, fsn_model **model,
                                          fsn_sampleset *set);

#endif
