/* One inference session between a server and a client over connected channels:
 *   1. the server sends its model card (model hash, ell, s, the architecture without weights, the public set's name,
 *      hash and size, its claimed accuracy, optionally its committed labels on the public set, and its reveal policy:
 *      the client learns each output's label only, or the whole logits vector);
 *   2. the client sends the batch size N, the truncation mode (exact or approximate) and the bit bound of its inputs
 *      (fsn_secure_opts.input_bits; 0 = none);
 *   3. both run the secure executor on the batch (fsn_secure_run), and the outputs are revealed to the client as the
 *      policy says (labels: fsn_nl_argmax inside the protocol; logits: fsn_2pc_reveal);
 *   4. the client sends one verdict byte (fsn_verdict). By default it is FSN_VERDICT_SILENT, sent before the client
 *      checks anything, so nothing on the wire depends on the checks; a client that opts in reports PASS or FAIL,
 *      which tells a cheating server one bit per session (docs/SECURITY.md);
 *   5. the server reports its peak resident set size (fsn_session_send_report: 8 bytes, whatever the verdict), so the
 *      client's report shows both parties' memory.
 * Every message is bounded and checked: a malformed card or batch size is FSN_E_PROTOCOL with a clear message. */
#ifndef FUSION_SESSION_H
#define FUSION_SESSION_H

#include <fusion/sampleset.h>
#include <fusion/linear.h>
#include <fusion/secure.h>
#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

/* What the client learns of each output: the server's policy, stated in its card. */
typedef enum fsn_reveal {
  FSN_REVEAL_LABEL = 0,  /* the argmax only (computed inside the protocol) */
  FSN_REVEAL_LOGITS = 1, /* every logit, ell bits each */
} fsn_reveal;

/* The byte the client sends after the batch. */
typedef enum fsn_verdict {
  FSN_VERDICT_FAIL = 0,   /* reported: the checks failed */
  FSN_VERDICT_PASS = 1,   /* reported: the checks passed */
  FSN_VERDICT_SILENT = 2, /* not reported (the default): independent of the checks */
} fsn_verdict;

/* Budgets a received architecture must fit. The client decodes it shapes only (fsn_model_create_shapes: no weight
 * buffers), so what a card can ask of it is work and activations: the parameters of all conv/fc layers bound the
 * linear layers' work (ResNet-50 has 25.6 M) and the values of any one tensor per input bound its activation memory
 * (ResNet-50's largest has 0.8 M). A card beyond them is FSN_E_UNSUPPORTED. */
#define FSN_CARD_MAX_PARAMS (1ull << 26)
#define FSN_CARD_MAX_TENSOR (1ull << 24)

typedef struct fsn_card {
  uint8_t model_hash[32];
  unsigned ell, scale;
  char model_name[64];
  fsn_model *arch; /* received cards: the architecture, with zero weights (owned); NULL on the server's own card */
  char set_name[256];
  uint8_t set_hash[32];
  size_t set_count;
  double claimed_accuracy;
  uint8_t *predictions; /* set_count committed labels, or NULL (owned) */
  fsn_reveal reveal;    /* what the client learns (fsn_card_make: FSN_REVEAL_LABEL; set before sending) */
  /* The conv/fc protocol the server runs (a fsn_linear_backend name; fsn_card_make: the default backend). A client
   * asking for another one is refused on both sides at the batch request (FSN_E_MISMATCH). */
  char linear_backend[FSN_LINEAR_BACKEND_NAME_MAX];
  /* The OT pack the server's sessions run (fsn_ot_pack_resolve; fsn_card_make: the default pack). A client asking
   * for another one is refused on both sides at the batch request (FSN_E_MISMATCH), like the backend. */
  char ot[FSN_OT_PACK_NAME_MAX];
  /* How the client turns an image into the model's input (resize, crop, scale, mean/std; fsn_preprocess_is_none:
   * none, and then it is not sent, so the card's bytes are those of a card without the field). On the wire an
   * optional section after the backend, 'P' then u32 resize, crop_h, crop_w, channels and f64 scale, mean[3],
   * std[3]; a received one outside fsn_preprocess_check's bounds is FSN_E_PROTOCOL. */
  fsn_preprocess preprocess;
} fsn_card;

/* The server's card for a quantised model and its public set; `commit` adds the model's predicted labels on the set
 * (from the fixed-point engine, i.e. exactly what the secure run yields), and the claimed accuracy is their accuracy.
 * Without commitments the claimed accuracy is `claimed`. */
FSN_NODISCARD fsn_status fsn_card_make(fsn_card *card, const fsn_model *m, const char *model_name,
                                       const fsn_sampleset *set, bool commit, double claimed);
/* Send the card with the architecture of m (the server's model; no weights are sent). */
FSN_NODISCARD fsn_status fsn_card_send(fsn_channel *ch, const fsn_card *card, const fsn_model *m);
/* Receive and validate a card (sizes capped; the architecture is rebuilt and shape-checked). */
FSN_NODISCARD fsn_status fsn_card_recv(fsn_channel *ch, fsn_card *card);
void fsn_card_free(fsn_card *card);

/* Serialise a model's architecture (no weights) and rebuild it with zero weights, within the budgets above. */
FSN_NODISCARD fsn_status fsn_card_arch_encode(const fsn_model *m, uint8_t **out, size_t *len);
FSN_NODISCARD fsn_status fsn_card_arch_decode(fsn_model **out, const uint8_t *buf, size_t len);

/* The batch request (client -> server): N (8 bytes), the truncation mode, the input bound, the linear backend's
 * name (FSN_LINEAR_BACKEND_NAME_MAX bytes, zero padded) and the OT pack's (FSN_OT_PACK_NAME_MAX bytes, zero padded):
 * each the client's choice, or the card's when it has none. A client whose choice differs from the card's sends the
 * request and fails; the server refuses it; both with FSN_E_MISMATCH naming the two backends (or packs), before any
 * protocol message. */
#define FSN_BATCH_REQUEST_BYTES (10 + FSN_LINEAR_BACKEND_NAME_MAX + FSN_OT_PACK_NAME_MAX)

/* Server: receive N (at most max_batch), the truncation mode and the input bound the client declared, run the model
 * on the client's batch, reveal to the client what `reveal` allows, receive the verdict byte. total: this party's
 * cost, batch: N (both may be NULL). */
FSN_NODISCARD fsn_status fsn_session_serve_batch_reveal(fsn_channel *const *chs, size_t nthreads, const fsn_model *m,
                                                        size_t max_batch, fsn_reveal reveal,
                                                        const fsn_secure_opts *opts, fsn_cost *total,
                                                        fsn_verdict *verdict, size_t *batch);
/* The same revealing the logits; *passed: the client reported PASS. */
FSN_NODISCARD fsn_status fsn_session_serve_batch(fsn_channel *const *chs, size_t nthreads, const fsn_model *m,
                                                 size_t max_batch, const fsn_secure_opts *opts, fsn_cost *total,
                                                 bool *passed);

/* Client: send N, opts->trunc (exact or approximate) and opts->input_bits, run the batch (inputs: N x input size in
 * Z_2^ell at scale s), receive in `outputs` what `reveal` (the card's policy) allows: N labels, or N x output size
 * logits. The verdict byte is sent separately with fsn_session_send_verdict. */
FSN_NODISCARD fsn_status fsn_session_client_batch_reveal(fsn_channel *const *chs, size_t nthreads, const fsn_card *card,
                                                         fsn_reveal reveal, const uint64_t *inputs, size_t n,
                                                         uint64_t *outputs, const fsn_secure_opts *opts,
                                                         fsn_cost *total);
/* The same receiving the logits. */
FSN_NODISCARD fsn_status fsn_session_client_batch(fsn_channel *const *chs, size_t nthreads, const fsn_card *card,
                                                  const uint64_t *inputs, size_t n, uint64_t *outputs,
                                                  const fsn_secure_opts *opts, fsn_cost *total);
FSN_NODISCARD fsn_status fsn_session_send_verdict(fsn_channel *ch, fsn_verdict verdict);
/* fsn_session_send_verdict with PASS or FAIL. */
FSN_NODISCARD fsn_status fsn_session_verdict(fsn_channel *ch, bool passed);

/* This process's peak resident set size in bytes (Linux's high-water mark since the process started), 0 if unknown.
 * A server serving several sessions, one after another or at once, reports its process's peak: an upper bound on
 * what one session needed. */
uint64_t fsn_session_peak_rss(void);

/* The largest peak RSS a server may report (64 TiB); a larger value is a malformed report. */
#define FSN_SESSION_PEAK_RSS_MAX ((uint64_t)1 << 46)

/* Server, after the verdict byte: send fsn_session_peak_rss() (8 bytes, little-endian) and flush. */
FSN_NODISCARD fsn_status fsn_session_send_report(fsn_channel *ch);
/* Client, after its verdict byte: receive the server's peak RSS (0: the server did not know it); above
 * FSN_SESSION_PEAK_RSS_MAX is FSN_E_PROTOCOL. */
FSN_NODISCARD fsn_status fsn_session_recv_report(fsn_channel *ch, uint64_t *server_peak_rss);

#ifdef __cplusplus
}
#endif
#endif
