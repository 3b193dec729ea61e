/* Fusion's two parties as library calls: a whole query of the client (card checks, (R, B) choice, the secret batch
 * plan, the secure run, mix-and-check, the verdict policy) and the server's sessions (card, batch, log).
 * The session's wire is include/fusion/session.h; the checks are include/fusion/mc.h; docs/SECURITY.md says
 * what each side is guaranteed.
 *
 * Verdict policy. By default the client sends FSN_VERDICT_SILENT before it checks anything, so no byte it sends
 * depends on the checks: a server cannot learn whether it was caught (a selective-failure attack reads input bits from
 * exactly that). opts.report_verdict sends the real verdict instead, which leaks one bit per session to a cheating
 * server. After a failed check the client records the server (model hash and address) in a state file and refuses
 * later sessions with it, so a cheating server learns at most one bit over its lifetime (the refusal itself). */
#ifndef FUSION_INFERENCE_H
#define FUSION_INFERENCE_H

#include <fusion/acceptor.h>
#include <fusion/channel.h>
#include <fusion/mc.h>
#include <fusion/session.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- client ---- */

/* The public check-sample set as the client holds it; name, hash and count must match the server's card. */
typedef struct fsn_fusion_public {
  const char *name;
  const uint8_t *hash; /* 32 bytes (fsn_sampleset.set_hash) */
  size_t count;
  const uint8_t *labels;  /* count true labels */
  const uint64_t *inputs; /* count x input size, encoded in Z_2^ell at scale s (fsn_nn_pixels_to_fixed) */
} fsn_fusion_public;

typedef struct fsn_fusion_client_opts {
  const uint64_t *queries; /* n x input size, encoded like the public inputs */
  size_t n;
  fsn_shape input;              /* the shape of one input; the card's model must take it */
  unsigned ell, scale;          /* the encoding; the card must state the same */
  unsigned input_bits;          /* 0, or a bound 0 <= x < 2^input_bits every input satisfies (fsn_secure_opts) */
  fsn_fusion_public public_set; /* required with Fusion; without it, may be left empty (then not compared) */
  bool no_fusion;               /* semi-honest run: queries in order, no replicas, no public samples, no checks */
  double kappa;                 /* escape probability <= 2^-kappa [40] */
  unsigned max_R;               /* largest R the search considers [48] */
  bool approx;                  /* approximate truncation (replicas compared within a tolerance) */
  bool report_verdict;          /* send PASS/FAIL instead of SILENT (leaks one bit per session to a cheating server) */
  const uint8_t *model_hash;    /* NULL, or the 32-byte hash the card must state (a pin on the claim, see README) */
  const char *server_id;        /* the server's address, recorded with its model hash after a failed check */
  const char *state_path;       /* NULL: no records; else the file of caught servers (fsn_fusion_state_default_path) */
  bool trust_again;             /* forget this server's record before the session instead of refusing it */
  bool require_logits;          /* refuse (FSN_E_MISMATCH) a card whose policy reveals labels only */
  size_t max_activation_bytes;  /* refuse a batch whose largest tensor needs more (N x values x 8 bytes) [2^31] */
  int progress;                 /* per-layer progress lines on stderr */
  const char *linear_backend;   /* NULL: the one the card states; else insist on this one (FSN_E_MISMATCH) */
  const char *ot;               /* NULL: the OT pack the card states; else insist on this one (FSN_E_MISMATCH) */
} fsn_fusion_client_opts;

/* The client's time spent on mix-and-check outside the secure batch itself (seconds, CLOCK_MONOTONIC): what Fusion
 * adds beyond the N inferences (issue 16's target: <= 2 % of the batch's time). */
typedef struct fsn_fusion_overhead {
  double plan;    /* the (R, B) search and drawing the secret permutation */
  double shuffle; /* assembling the permuted batch */
  double check;   /* the replica and public-sample checks, and un-permuting the predictions */
} fsn_fusion_overhead;

/* plan + shuffle + check. */
double fsn_fusion_overhead_seconds(const fsn_fusion_overhead *o);

typedef struct fsn_fusion_result {
  fsn_card card;        /* the server's card (owned) */
  fsn_mc_choice choice; /* (R, B, N); R = 1, B = 0, N = n without Fusion */
  fsn_mc_report report;
  fsn_status check;             /* FSN_OK, or FSN_E_CHEATING when the checks failed */
  bool refused;                 /* the server failed the checks in an earlier session: nothing was run */
  size_t dim;                   /* logits per output */
  size_t *labels;               /* n predictions; NULL unless delivered */
  uint64_t *logits;             /* n x dim; only when delivered and the card's policy is FSN_REVEAL_LOGITS */
  fsn_cost cost;                /* the batch, this party */
  fsn_cost *layers;             /* per layer of card.arch */
  fsn_fusion_overhead overhead; /* outside cost.seconds, which times the batch run alone */
  uint64_t server_peak_rss;     /* the server's peak RSS in bytes as it reported it (fsn_session_recv_report); 0 if
                                   unknown or the run did not get that far */
} fsn_fusion_result;

/* One whole Fusion query over connected channels (chs[0..nthreads), the handshake done with opts->ell, scale).
 * FSN_OK: the predictions are delivered in *result. FSN_E_CHEATING: the checks caught the server now
 * (result->check) or before (result->refused); no prediction is delivered. Any other status is an error (a card
 * that does not match, a malformed message, the network). *result is filled as far as the run got: release it with
 * fsn_fusion_result_free in every case. */
FSN_NODISCARD fsn_status fsn_fusion_client_run(fsn_channel *const *chs, size_t nthreads,
                                               const fsn_fusion_client_opts *opts, fsn_fusion_result *result);
void fsn_fusion_result_free(fsn_fusion_result *result);

/* fsn_fusion_client_run in two steps, for a client whose queries depend on the card (an image turned into the model's
 * input by the card's preprocessing): fsn_fusion_client_recv_card receives the card into result->card (validated as
 * fsn_card_recv does); fsn_fusion_client_run_with_card then checks it against opts and runs the rest. Release the
 * result with fsn_fusion_result_free in every case. */
FSN_NODISCARD fsn_status fsn_fusion_client_recv_card(fsn_channel *ch, fsn_fusion_result *result);
FSN_NODISCARD fsn_status fsn_fusion_client_run_with_card(fsn_channel *const *chs, size_t nthreads,
                                                         const fsn_fusion_client_opts *opts, fsn_fusion_result *result);

/* Records of caught servers: one line "<model hash hex> <server id>" per server. The default file is $FSN_STATE_FILE,
 * else $XDG_STATE_HOME/fusion/caught-servers, else $HOME/.local/state/fusion/caught-servers. */
FSN_NODISCARD fsn_status fsn_fusion_state_default_path(char *out, size_t cap);
/* *caught: the file records this server (a missing file records none). */
FSN_NODISCARD fsn_status fsn_fusion_state_lookup(const char *path, const uint8_t model_hash[32], const char *server_id,
                                                 bool *caught);
/* Append a record (creating the file, and its directory with mode 0700, if needed). */
FSN_NODISCARD fsn_status fsn_fusion_state_record(const char *path, const uint8_t model_hash[32], const char *server_id);
/* Remove this server's records. */
FSN_NODISCARD fsn_status fsn_fusion_state_forget(const char *path, const uint8_t model_hash[32], const char *server_id);

/* ---- server ---- */

typedef struct fsn_fusion_server_config {
  const fsn_model *run_model;  /* quantised; what the server computes with */
  const fsn_model *card_model; /* what its card describes: NULL for run_model (an honest server) */
  const char *model_name;
  const fsn_sampleset *set; /* the public set */
  bool no_commit;           /* do not commit labels on the public set; then `claimed` is the claimed accuracy */
  double claimed;
  fsn_reveal reveal;      /* what the client learns [FSN_REVEAL_LABEL] */
  size_t max_batch;       /* [100000] */
  fsn_secure_opts secure; /* options of the secure run (tamper: the adversarial server of tests only) */
  /* What the card declares for image inputs [none] (within fsn_preprocess_check's bounds). */
  fsn_preprocess preprocess;
} fsn_fusion_server_config;

typedef struct fsn_fusion_server fsn_fusion_server;

/* Make the card once (with commitments this runs the fixed-point engine on the public set). The config's models and
 * set must outlive the server. */
FSN_NODISCARD fsn_status fsn_fusion_server_create(fsn_fusion_server **out, const fsn_fusion_server_config *cfg);
void fsn_fusion_server_destroy(fsn_fusion_server *s);
const fsn_card *fsn_fusion_server_card(const fsn_fusion_server *s);

/* What one session did, for the server's log. */
typedef struct fsn_fusion_session_log {
  size_t index; /* 1, 2, ... within fsn_fusion_serve; as given to fsn_fusion_serve_session */
  fsn_status status;
  char error[512];     /* the detail when status != FSN_OK */
  size_t batch;        /* N the client asked for */
  fsn_cost cost;       /* this party's cost of the batch */
  fsn_verdict verdict; /* the client's verdict byte */
  char peer[64];       /* fsn_fusion_serve_many: the client's address ("host:port"); "" otherwise */
  uint64_t session_id; /* fsn_fusion_serve_many: the client's session id; 0 otherwise */
  uint64_t peak_rss;   /* the peak RSS reported to the client (fsn_session_peak_rss), 0 if the batch failed */
} fsn_fusion_session_log;

/* One session on connected channels (handshake done with the card's ell and scale): send the card, serve one batch.
 * log (may be NULL) is filled either way; log->index is left as the caller set it. */
FSN_NODISCARD fsn_status fsn_fusion_serve_session(fsn_fusion_server *s, fsn_channel *const *chs, size_t nthreads,
                                                  fsn_fusion_session_log *log);

typedef void (*fsn_fusion_log_fn)(const fsn_fusion_session_log *log, void *arg);

/* Accept clients on l one after another (nthreads channels each, handshake with the card's ell and scale), one
 * session per client, calling log (may be NULL) after each; a failed session, handshake included, is logged and the
 * next one served. sessions: how many (0: forever). Returns FSN_OK after `sessions` sessions. */
FSN_NODISCARD fsn_status fsn_fusion_serve(fsn_fusion_server *s, fsn_listener *l, size_t nthreads,
                                          const fsn_channel_opts *chan, size_t sessions, fsn_fusion_log_fn log,
                                          void *arg);

/* Serve many clients at once through an acceptor (include/fusion/acceptor.h: opts->channels channels per session,
 * bounded concurrent sessions, handshake and session deadlines, per-address cap, busy refusals), until
 * opts->sessions sessions ran or *opts->stop is set; then the running sessions finish. log (may be NULL) is called
 * once per session, never twice at once. A failed session sends the client its reason (fsn_channel_send_error) before
 * closing. stats may be NULL. */
FSN_NODISCARD fsn_status fsn_fusion_serve_many(fsn_fusion_server *s, fsn_listener *l, const fsn_channel_opts *chan,
                                               const fsn_acceptor_opts *opts, fsn_fusion_log_fn log, void *arg,
                                               fsn_acceptor_stats *stats);

/* The largest batch a session of model m on OT pack `ot` (fsn_ot_pack_resolve; NULL: the default) with `threads`
 * channels may take within budget_bytes of memory (0: none fits); *per_sample (may be NULL): the estimate per batch
 * item it uses (the plan's peak live values times the secure engine's bytes per value, an upper bound measured on the
 * shipped models), and *fixed the estimate of a session's fixed cost, its OT packs' (fsn_ot_pack_memory_bytes)
 * included. */
size_t fsn_fusion_batch_limit(const fsn_model *m, const char *ot, size_t threads, uint64_t budget_bytes,
                              uint64_t *per_sample, uint64_t *fixed);

#ifdef __cplusplus
}
#endif
#endif
