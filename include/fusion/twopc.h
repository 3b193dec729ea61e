/* The two-party context every secure layer runs in: this party's role, the ring (ell, scale), and per worker thread
 * one channel with one OT pack (<fusion/ot.h>: this party's COT and 1-out-of-N objects as OT sender and as OT
 * receiver), plus share handling.
 *
 * Shares: an arithmetic share is a uint64_t reduced mod 2^ell, x = x_server + x_client mod 2^ell. A boolean share is
 * a uint8_t holding 0 or 1, b = b_server XOR b_client. */
#ifndef FUSION_TWOPC_H
#define FUSION_TWOPC_H

#include <fusion/channel.h>
#include <fusion/ot.h>
#include <fusion/status.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct fsn_2pc fsn_2pc;

/* The context's choices; a zeroed struct (or NULL) is the default. */
typedef struct fsn_2pc_options {
  /* The OT pack's extension (fsn_ot_pack_options): NULL (the default pack: "ferret" at ISA level avx2 and above,
   * "iknp" at ref), "iknp" (checked IKNP COTs, 1-out-of-N from them: secure against a malicious OT receiver),
   * "ferret" (Ferret COTs with its MPCOT check: a malicious OT sender is caught too), "kk13" (IKNP COTs, KK13
   * 1-out-of-N: the semi-honest costs of earlier versions). */
  const char *ot;
  /* The COTs without their consistency check (fsn_ot_pack_options.unchecked). IKNP without KOS15: a malicious peer
   * receiving OTs then learns this party's Delta and with it every OT message this party sends; Ferret without its
   * MPCOT check: a malicious peer sending OTs corrupts this party's COTs under its noise positions unseen. For
   * benchmarks and tests that compare costs with the semi-honest protocol only. */
  bool ot_unchecked;
} fsn_2pc_options;

/* Create the context over `nthreads` connected, handshaken channels (not owned; they must outlive it) and run the
 * base OTs of the nthreads OT packs. Both parties call it with the same nthreads and options; opt may be NULL. */
FSN_NODISCARD fsn_status fsn_2pc_create(fsn_2pc **out, fsn_channel *const *channels, size_t nthreads, fsn_role role,
                                        unsigned ell, unsigned scale, const fsn_2pc_options *opt);
void fsn_2pc_destroy(fsn_2pc *p);

fsn_role fsn_2pc_role(const fsn_2pc *p);
unsigned fsn_2pc_ell(const fsn_2pc *p);
unsigned fsn_2pc_scale(const fsn_2pc *p);
size_t fsn_2pc_threads(const fsn_2pc *p);
fsn_channel *fsn_2pc_channel(const fsn_2pc *p, size_t thread);
/* A thread's OT pack, and its COT objects: as sender (peer receives) and as receiver (peer sends). */
fsn_ot_pack *fsn_2pc_ot_pack(const fsn_2pc *p, size_t thread);

/* Session resources of the layers above (the RLWE keys of the `he` linear backend): attach obj under a static name;
 * the context destroys it with `destroy` when it is destroyed, so it lives as long as the session. At most 4.
 * fsn_2pc_attached returns the object of that name, or NULL. */
FSN_NODISCARD fsn_status fsn_2pc_attach(fsn_2pc *p, const char *name, void *obj, void (*destroy)(void *));
void *fsn_2pc_attached(const fsn_2pc *p, const char *name);
fsn_cot *fsn_2pc_ot_sender(const fsn_2pc *p, size_t thread);
fsn_cot *fsn_2pc_ot_receiver(const fsn_2pc *p, size_t thread);
/* Sum of the counters of every channel, except rounds: the most any one channel saw (the channels run side by side,
 * so that is what a round-trip time is paid for). */
void fsn_2pc_counters(const fsn_2pc *p, fsn_counters *out);

/* Run fn(p, t, arg) for every thread t at once, each on its own channel and OT objects (thread 0 on the caller).
 * Returns the first failure, or FSN_OK. Both parties must split their work the same way. */
typedef fsn_status (*fsn_2pc_task)(fsn_2pc *p, size_t thread, void *arg);
FSN_NODISCARD fsn_status fsn_2pc_run(fsn_2pc *p, fsn_2pc_task fn, void *arg);

/* Share the client's input: the client's share is x itself, the server's is 0 (x is NULL on the server). Local. */
void fsn_2pc_share_input(const fsn_2pc *p, uint64_t *share, const uint64_t *x, size_t n);

/* Reveal a shared vector to one party: the other sends its share. On the party `to`, out = the value; on the other,
 * out is untouched (may be NULL). */
FSN_NODISCARD fsn_status fsn_2pc_reveal(fsn_2pc *p, uint64_t *out, const uint64_t *share, size_t n, fsn_role to);

/* Reveal boolean shares (0/1 bytes) to one party, packed 8 per byte on the wire. */
FSN_NODISCARD fsn_status fsn_2pc_reveal_bits(fsn_2pc *p, uint8_t *out, const uint8_t *share, size_t n, fsn_role to);

#ifdef __cplusplus
}
#endif
#endif
