/* The secure executor: a model run on a batch of secret-shared inputs through the two-party layers, with exactly
 * the fixed-point engine's semantics (include/fusion/nn.h), so the reconstructed result equals
 * fsn_model_run_fixed bit for bit in exact mode. It walks the model's execution plan (fsn_nn_plan: the same steps,
 * fusions and buffer lifetimes as the plaintext engines) and runs conv/fc layers through a linear backend
 * (fusion/linear.h). */
#ifndef FUSION_SECURE_H
#define FUSION_SECURE_H

#include <fusion/linear.h>
#include <fusion/nn.h>
#include <fusion/nl.h>
#include <fusion/twopc.h>

#ifdef __cplusplus
extern "C" {
#endif

/* What one layer (or a whole run) cost this party. */
typedef struct fsn_cost {
  double seconds;
  uint64_t bytes_sent, bytes_recv, rounds;
} fsn_cost;

/* A deviation hook, for the adversarial server of tests and benchmarks only: called on this party after layer i with
 * the layer's input and output shares (out has batch x out_size values; for element-wise layers in has as many), which
 * it may change. A conv/fc layer followed by its only reader, a ReLU, runs fused (a fused step of fsn_nn_plan: with
 * exact truncation one protocol for both, fsn_nl_relu_trunc; approximate: ReLU, then a truncation that knows the
 * sign): there the hook sees the linear output as layer i (before truncation) and the ReLU as layer i + 1, whose
 * input is that linear output and whose output is truncated when exact, not yet when approximate.
 * The hook never changes which protocols run, so a tampering party stays in step with an honest peer. */
typedef void (*fsn_secure_tamper)(size_t layer, const uint64_t *in, uint64_t *out, size_t batch, size_t out_size,
                                  void *arg);

typedef struct fsn_secure_opts {
  fsn_trunc_mode trunc; /* FSN_TRUNC_EXACT (default) or FSN_TRUNC_APPROX; the executor picks NONNEG after a ReLU */
  int progress;         /* print "layer i/N name ... elapsed, bytes" lines on stderr */
  fsn_secure_tamper tamper;
  void *tamper_arg;
  fsn_cost *layer_costs; /* NULL, or fsn_model_num_layers entries filled per layer (as the costs argument) */
  /* NULL, or fsn_model_num_layers entries: for a conv/fc layer, the part of its cost spent in the linear protocol
   * (the rest is its truncation and any fused ReLU); zero for the other layers. For cost models and benchmarks. */
  fsn_cost *linear_costs;
  /* 0, or a bound the client's inputs are known to satisfy: 0 <= x < 2^input_bits (pixel / 255 at scale s fits in
   * s + 1 bits). Conv/fc layers that read the model input pass it to the linear backend as client_bits (vcot then
   * OTs only those bits). Both parties must pass the same value; a larger input is computed modulo 2^input_bits
   * by vcot (another backend may compute it whole). */
  unsigned input_bits;
  /* The linear backend every conv/fc layer runs through (fsn_linear_backend_resolve in fusion/linear.h): NULL or ""
   * = the default for the context's ell ("he" up to ell = 40, else "vcot"). Both parties must name the same one; an
   * unknown name is FSN_E_INVALID. */
  const char *linear_backend;
  /* The OT pack of the session's two-party context (fsn_2pc_options.ot, fsn_ot_pack_resolve): NULL or "" = the
   * default pack. Read where the context is created from these options (the session of fusion/session.h); a context
   * given to fsn_secure_run keeps the pack it was created with. */
  const char *ot;
} fsn_secure_opts;

/* Run the model on `batch` inputs. Both parties pass a model of the same architecture; the server's carries the
 * quantised weights (fsn_model_quantize at the context's ell and scale), the client's weights are not read.
 * in: the client's inputs (batch x input size, in Z_2^ell at scale s); NULL on the server.
 * out: this party's share of the outputs (batch x output size).
 * costs: NULL, or fsn_model_num_layers(m) entries filled per layer. opts may be NULL (exact, silent). */
FSN_NODISCARD fsn_status fsn_secure_run(fsn_2pc *p, const fsn_model *m, uint64_t *out, const uint64_t *in, size_t batch,
                                        const fsn_secure_opts *opts, fsn_cost *costs);

#ifdef __cplusplus
}
#endif
#endif
