/* Secure linear layers: the server knows the weights, the activations are secret-shared. Outputs are shares of
 * conv(x, W) + bias mod 2^ell — at scale 2s when x and W are at scale s; the caller truncates.
 *
 * Protocol (docs/PROTOCOLS.md, "vector-COT"): W·x = W·x_server + W·x_client. The server computes the first term and
 * the bias locally; for the cross term, every bit i of every client element x_client[j] is the choice bit of one
 * random OT, and the server's correlation is the vector of weights x[j] meets, as elements of Z_2^(ell-i). Cost per
 * client element: ell random OTs plus m_j·ell(ell+1)/2 bits, m_j = the number of weights it meets. */
#ifndef FUSION_LINEAR_H
#define FUSION_LINEAR_H

#include <fusion/conv.h>
#include <fusion/twopc.h>

#ifdef __cplusplus
extern "C" {
#endif

/* y (N x O x OH x OW shares) from x (N x C x H x W shares). The server passes the OIHW weights and the bias (O
 * values, may be NULL), reduced mod 2^ell; the client passes NULL for both. The shape is public and the same on both
 * sides. Work is split over the context's threads by input element. */
FSN_NODISCARD fsn_status fsn_linear_conv2d(fsn_2pc *p, uint64_t *y, const uint64_t *x, const uint64_t *weight,
                                           const uint64_t *bias, const fsn_conv2d_shape *s);

/* The same when the server's share of x is zero and the client's values are known to lie in [0, 2^client_bits)
 * (the model's input, e.g. pixel / 255 at scale s: s + 1 bits): only the low client_bits bits of each element get
 * an OT, so the cost per element is client_bits random OTs plus m_j (ell - i) bits for i < client_bits. A client
 * value with higher bits set is computed modulo 2^client_bits. 1 <= client_bits <= ell. */
FSN_NODISCARD fsn_status fsn_linear_conv2d_narrow(fsn_2pc *p, uint64_t *y, const uint64_t *x, const uint64_t *weight,
                                                  const uint64_t *bias, const fsn_conv2d_shape *s,
                                                  unsigned client_bits);

/* Fully connected: y (batch x out) = x (batch x in) · W^T + bias, W row-major out x in (as ONNX Gemm with transB). */
FSN_NODISCARD fsn_status fsn_linear_fc(fsn_2pc *p, uint64_t *y, const uint64_t *x, const uint64_t *weight,
                                       const uint64_t *bias, size_t batch, size_t in, size_t out);
/* The conv2d shape fsn_linear_fc runs: in x 1 x 1 to out x 1 x 1 with a 1 x 1 kernel. */
fsn_conv2d_shape fsn_linear_fc_shape(size_t batch, size_t in, size_t out);

/* Cost models: the chunks the busiest thread works through for this shape (fc: fsn_linear_fc_shape). Each
 * chunk is one batch of random OTs and its corrections, so the layer's rounds grow in proportion. */
size_t fsn_linear_conv2d_chunks(const fsn_2pc *p, const fsn_conv2d_shape *s);

/* ---- linear backends ----
 * The secure executor (fusion/secure.h) runs every conv and fc layer through one of these tables, chosen by name in
 * fsn_secure_opts.linear_backend: "he" (RLWE, fusion/he.h: the default where ell <= 40) and "vcot" (the
 * vector-COT protocol above: any ell).
 *
 * Contract of every entry (conv2d and fc alike): y gets this party's shares of conv(x, W) + bias (fc: x · W^T + bias)
 * mod 2^ell at scale 2s, exactly; the caller truncates. The server passes the weights and bias reduced mod 2^ell,
 * the client NULL for both. client_bits is a promise both parties make (1 <= client_bits <= ell): the server's share
 * of x is zero and the client's values lie in [0, 2^client_bits); a backend may use it to send less or ignore it,
 * and a value outside it is computed modulo 2^client_bits or as it is — the promise must hold for an exact result.
 * Pass ell for no promise.
 *
 * One call is the whole batch (s->batch images, or `batch` rows of an fc): a backend that prepares the weights
 * (he: each filter's transform to the NTT domain) does so once per call and shares the result across the batch —
 * every replica and public sample of a Fusion batch meets the same weights. Per-session state (he: the keys) lives
 * in the two-party context, which outlives a batch. If weights prepared once must outlive a call (a server answering
 * many sessions), optional prepare/release entries will be added beside these; a NULL entry will mean "not needed".
 *
 * Both parties must run the same backend. Today each side passes the same name; the session handshake will carry
 * it and refuse a mismatch. A backend never changes the protocol of any other layer. */
typedef struct fsn_linear_backend {
  const char *name;
  fsn_status (*conv2d)(fsn_2pc *p, uint64_t *y, const uint64_t *x, const uint64_t *weight, const uint64_t *bias,
                       const fsn_conv2d_shape *s, unsigned client_bits);
  /* weight: out x in, row-major (row o = output o) */
  fsn_status (*fc)(fsn_2pc *p, uint64_t *y, const uint64_t *x, const uint64_t *weight, const uint64_t *bias,
                   size_t batch, size_t in, size_t out, unsigned client_bits);
  /* Per-session state set up now instead of at the first layer (he: the RLWE keys), e.g. to keep it out of a layer's
   * measured cost; both parties call it at the same point; calling it again does nothing. NULL: no such state. */
  fsn_status (*setup)(fsn_2pc *p);
} fsn_linear_backend;

/* Longest backend name plus its terminator: names travel in model cards and batch requests at this size. */
#define FSN_LINEAR_BACKEND_NAME_MAX 16

/* The default for plaintext modulus 2^ell: "he" where its parameters hold ell (ell <= FSN_HE_MAX_ELL = 40, so at the
 * default ell = 37: it moves far fewer bytes and takes less time than vcot, docs/BENCHMARKS.md), else "vcot". */
const fsn_linear_backend *fsn_linear_backend_default(unsigned ell);
/* The backend called `name`; NULL or "" gives the default at ell <= 40 ("he"). NULL for an unknown name. */
const fsn_linear_backend *fsn_linear_backend_find(const char *name);
/* The backend called `name`, or for NULL or "" the default at this ell; NULL for an unknown name. */
const fsn_linear_backend *fsn_linear_backend_resolve(const char *name, unsigned ell);
/* The i-th backend (i = 0 is the default at ell <= 40), NULL past the last: for listings and error messages. */
const fsn_linear_backend *fsn_linear_backend_at(size_t i);

#ifdef __cplusplus
}
#endif
#endif
