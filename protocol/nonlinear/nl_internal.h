/* Internals of the non-linear protocols (not installed): the per-thread view of the two-party context, the thread
 * driver, bit exchange and the thread-level building blocks the public functions compose. */
#ifndef FSN_PROTOCOL_LAYERS_NL_INTERNAL_H
#define FSN_PROTOCOL_LAYERS_NL_INTERNAL_H

#include <fusion/nl.h>
#include <fusion/prg.h>
#include <fusion/ring.h>

#include <stdbool.h>

/* One worker's share of the context: its channel, its OT objects and a private PRG for local randomness. */
typedef struct fsn_nl_thr {
  fsn_role role;
  unsigned ell;
  size_t index;
  fsn_channel *ch;
  fsn_cot *snd, *rcv;     /* this party as OT sender / as OT receiver */
  fsn_ot_n1 *nsnd, *nrcv; /* the same, 1-out-of-N */
  fsn_prg prg;
  bool silent; /* COTs from a silent extension: random-choice COTs cost next to nothing, corrections and
                * ciphertexts dominate, so the protocols take their silent-OT forms */
} fsn_nl_thr;

static inline bool fsn_nl_server(const fsn_nl_thr *t) { return t->role == FSN_ROLE_SERVER; }

/* Whether cot comes from a silent extension (Ferret). */
bool fsn_nl_silent(const fsn_cot *cot);

/* Work on elements [begin, end) of a batch. */
typedef fsn_status (*fsn_nl_fn)(fsn_nl_thr *t, size_t begin, size_t end, void *arg);

/* Split [0, n) over the context's threads (one thread for small n; the split depends only on n and the thread
 * count, so both parties agree) and run fn on each range with that thread's channel and OT objects. */
FSN_NODISCARD fsn_status fsn_nl_run(fsn_2pc *p, size_t n, fsn_nl_fn fn, void *arg);

/* n uniform bits (0/1 bytes) from the thread's PRG. */
void fsn_nl_random_bits(fsn_nl_thr *t, uint8_t *bits, size_t n);

/* Swap a bit vector with the peer: theirs = the peer's `mine`. The server sends first, the client receives first,
 * so large vectors never block both parties in a write. */
FSN_NODISCARD fsn_status fsn_nl_swap_bits(fsn_nl_thr *t, uint8_t *theirs, const uint8_t *mine, size_t n);

/* Bit triples sharing their first operand: c1 = a AND b1, c2 = a AND b2 (boolean shares), from one random OT in
 * each direction per group. */
typedef struct fsn_nl_triples {
  uint8_t *a, *b1, *b2, *c1, *c2;
  size_t n;
} fsn_nl_triples;

FSN_NODISCARD fsn_status fsn_nl_triples_make(fsn_nl_thr *t, fsn_nl_triples *tr, size_t n);
/* The same in parts, for callers that place each direction's OTs where its extension's refills cost no round trip:
 * alloc, the half where this party is OT sender (as_sender) and the other half in either order, then finish. */
FSN_NODISCARD fsn_status fsn_nl_triples_alloc(fsn_nl_thr *t, fsn_nl_triples *tr, size_t n);
FSN_NODISCARD fsn_status fsn_nl_triples_half(fsn_nl_thr *t, fsn_nl_triples *tr, bool as_sender);
void fsn_nl_triples_finish(fsn_nl_triples *tr);
void fsn_nl_triples_free(fsn_nl_triples *tr);

/* z1 = x AND y1 and (if y2 != NULL) z2 = x AND y2, consuming triples [off, off + n) of tr; one exchange.
 * Outputs may alias inputs. */
FSN_NODISCARD fsn_status fsn_nl_and2(fsn_nl_thr *t, uint8_t *z1, uint8_t *z2, const uint8_t *x, const uint8_t *y1,
                                     const uint8_t *y2, size_t n, const fsn_nl_triples *tr, size_t off);

/* The same with y2 (and z2) on the first n2 elements only: the bits of the others' second operand are not sent. */
FSN_NODISCARD fsn_status fsn_nl_and2_part(fsn_nl_thr *t, uint8_t *z1, uint8_t *z2, const uint8_t *x, const uint8_t *y1,
                                          const uint8_t *y2, size_t n, size_t n2, const fsn_nl_triples *tr, size_t off);

/* Millionaires on one thread: lt (and eq if not NULL) = [a < b], a the server's v, b the client's, q bits. */
FSN_NODISCARD fsn_status fsn_nl_mill(fsn_nl_thr *t, uint8_t *lt, uint8_t *eq, const uint64_t *v, size_t n, unsigned q);

/* MSB of the shared ell-bit x on one thread (boolean shares). */
FSN_NODISCARD fsn_status fsn_nl_thr_msb(fsn_nl_thr *t, uint8_t *msb, const uint64_t *x, size_t n);

/* Arithmetic-COT helper: with this party's bit b0 (server) or b1 (client) and ring value v, shares of b_s * b_c * v
 * style products. Concretely: the `sender` party inputs corr[i] and gets -r[i] in out; the other party inputs its
 * choice bit and gets r[i] + bit * corr[i]. Both parties pass their own arrays; `sender` says who sends. */
FSN_NODISCARD fsn_status fsn_nl_acot(fsn_nl_thr *t, fsn_role sender, uint64_t *out, const uint64_t *corr,
                                     const uint8_t *bits, size_t n, unsigned ell);

/* Thread-level B2A and MUX in Z_2^ell (the public forms split the batch over threads and use the context's ell). */
FSN_NODISCARD fsn_status fsn_nl_thr_b2a(fsn_nl_thr *t, uint64_t *out, const uint8_t *b, size_t n, unsigned ell);
FSN_NODISCARD fsn_status fsn_nl_thr_mux(fsn_nl_thr *t, uint64_t *out, const uint8_t *b, const uint64_t *x, size_t n,
                                        unsigned ell);

/* Threaded z1 = x AND y1, z2 = x AND y2 (y2, z2 may be NULL) with fresh triples. */
FSN_NODISCARD fsn_status fsn_nl_and2_batch(fsn_2pc *p, uint8_t *z1, uint8_t *z2, const uint8_t *x, const uint8_t *y1,
                                           const uint8_t *y2, size_t n);

/* Elements processed per block inside a thread: bounds the working memory whatever the batch. Every block runs the
 * protocol's whole round structure. On silent OT every step costs a constant number of round trips (COT
 * corrections, then one frame back) and keeps a few bytes per element between them, so a thread's whole range is
 * one block: a layer of any size pays the rounds of one block, its memory a constant number of bytes per element
 * (no more than a small multiple of the layer's own input and output). */
#define FSN_NL_BLOCK        ((size_t)1 << 13)
#define FSN_NL_SILENT_BLOCK SIZE_MAX
/* OTs per call of the triple generation (a multiple of IKNP's chunk, so the calls cut no chunk). */
#define FSN_NL_OT_CHUNK ((size_t)1 << 15)

static inline size_t fsn_nl_block(const fsn_nl_thr *t) { return t->silent ? FSN_NL_SILENT_BLOCK : FSN_NL_BLOCK; }

#endif
