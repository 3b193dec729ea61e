/* Oblivious transfer: base OT (Chou-Orlandi "simplest OT" over ristretto255), one correlated-OT interface that every
 * OT extension implements (IKNP today, Ferret later), the OTs derived from it once (random, chosen-message,
 * arithmetic-correlated), a 1-out-of-N interface (KK13, or log N random OTs), and the OT pack a session holds per
 * worker thread. docs/SECURITY.md says what each is secure against.
 *
 * Roles. The *sender* holds the messages (and, for correlated OT, the global 128-bit offset Delta); the *receiver*
 * holds one choice bit (or, for 1-out-of-N, one index) per OT and learns one message each. A party that needs OTs in
 * both directions holds one sender and one receiver object; the peer creates the opposite pair in the same order
 * (an OT pack does exactly that).
 *
 * Layouts. A 128-bit OT message is 16 bytes; arrays of them are n * 16 bytes, element i at offset 16 i, any
 * alignment. Choice bits are packed as in <fusion/bits.h>: bit i is bit (i % 8) of byte i / 8, ceil(n / 8) bytes.
 * Ring values (ell-bit messages, 1 <= ell <= 64) live in uint64_t, reduced mod 2^ell.
 *
 * Sessions. An extension object runs its base OTs once, at creation, and keeps its seeds, PRG counters and hash
 * tweaks: every later call extends from the same state, so the two parties must make the same calls, with the same n
 * (and ell), in the same order. Any error leaves the object unusable (every later call fails); destroy it. */
#ifndef FUSION_OT_H
#define FUSION_OT_H

#include <fusion/channel.h>
#include <fusion/status.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- base OT ----------------------------------------------------------------------------------------------------- */

/* Random base OTs: the sender gets n pairs of uniform 16-byte keys (k0[i], k1[i]); the receiver, with packed choice
 * bits c, gets kc[i] = (c_i ? k1[i] : k0[i]). One message each way (32 bytes, then 32 n bytes). Every point received
 * is validated; an invalid or degenerate one is FSN_E_CRYPTO, a short message FSN_E_PROTOCOL.
 * `seed` is NULL in production (randomness from libsodium); a 32-byte seed makes the run deterministic, for tests. */
FSN_NODISCARD fsn_status fsn_base_ot_send(fsn_channel *ch, uint8_t *k0, uint8_t *k1, size_t n, const uint8_t *seed);
FSN_NODISCARD fsn_status fsn_base_ot_recv(fsn_channel *ch, uint8_t *kc, const uint8_t *choice, size_t n,
                                          const uint8_t *seed);

typedef enum fsn_ot_role { FSN_OT_SENDER = 0, FSN_OT_RECEIVER = 1 } fsn_ot_role;

/* ---- the correlated-OT interface --------------------------------------------------------------------------------- */

/* One OT extension in one role over one channel (emp-ot's COT). */
typedef struct fsn_cot fsn_cot;

typedef struct fsn_cot_options {
  /* Leave out the extension's consistency check; both parties must agree. IKNP without KOS15: a malicious receiver
   * learns Delta (and every message the sender ever sends through the object). Ferret without its MPCOT check
   * (<fusion/ferret.h>, fsn_ferret_options.checked): a malicious sender corrupts the receiver's COTs under its noise
   * positions unseen (docs/SECURITY.md). Only for benchmarks that compare costs. */
  bool unchecked;
  /* Ferret: split each iteration over this many threads (0 or 1: the calling thread only). */
  size_t threads;
  /* Ferret: the parameter set by name (fsn_ferret_params_named; NULL: "b11"); both parties must agree. */
  const char *ferret_set;
} fsn_cot_options;

/* Create the extension named `ext` on `ch` in `role` and run its base OTs over it (the peer creates the opposite
 * role at the same point). Extensions: "iknp" (Ishai-Kilian-Nissim-Petrank, with the Keller-Orsini-Scholl 2015
 * consistency check unless opt->unchecked), "ferret" (Ferret, with the MPCOT check of its malicious variant unless
 * opt->unchecked). opt may be NULL (defaults). The channel must outlive the object and is
 * not owned by it. An unknown name is FSN_E_UNSUPPORTED. IKNP allocates about 4 MiB of working buffers whatever n. */
FSN_NODISCARD fsn_status fsn_cot_create(fsn_cot **out, const char *ext, fsn_channel *ch, fsn_ot_role role,
                                        const fsn_cot_options *opt);
void fsn_cot_destroy(fsn_cot *cot);

const char *fsn_cot_name(const fsn_cot *cot);
fsn_ot_role fsn_cot_role(const fsn_cot *cot);
/* The sender's global correlation Delta (16 bytes); FSN_E_INVALID on a receiver. */
FSN_NODISCARD fsn_status fsn_cot_delta(const fsn_cot *cot, uint8_t delta[16]);

/* Correlated OT with chosen choice bits: the sender gets x0[i] (16 bytes, pseudorandom), implicitly
 * x1 = x0 ^ Delta; the receiver with choice bits c gets x0[i] ^ (c_i ? Delta : 0).
 * IKNP, per chunk of up to 2^15 OTs (m of them): 16 round128(m) bytes of u from the receiver; checked, the chunk is
 * padded with at least 192 random rows (16 round128(m + 192) bytes of u), the sender answers with a 16-byte
 * challenge seed and the receiver with 32 bytes of proof: one more round trip per chunk. A failed check is
 * FSN_E_CHEATING on the sender, which then has revealed nothing that depends on the chunk. */
FSN_NODISCARD fsn_status fsn_cot_send(fsn_cot *cot, uint8_t *x0, size_t n);
FSN_NODISCARD fsn_status fsn_cot_recv(fsn_cot *cot, uint8_t *xc, const uint8_t *choice, size_t n);

/* Correlated OT with random choice bits, which come out of the extension: the receiver gets the packed bits in
 * `choice` (ceil(n / 8) bytes written; unused high bits zero) and xc as above; the sender calls fsn_cot_rcot_send.
 * Silent extensions make these natively and derive the chosen form by derandomisation (n bits more); IKNP makes
 * both natively, at the cost of fsn_cot_send / recv. */
FSN_NODISCARD fsn_status fsn_cot_rcot_send(fsn_cot *cot, uint8_t *x0, size_t n);
FSN_NODISCARD fsn_status fsn_cot_rcot_recv(fsn_cot *cot, uint8_t *xc, uint8_t *choice, size_t n);

/* ---- OTs derived from any correlated OT -------------------------------------------------------------------------- */

/* Every derived OT hashes the correlated pair with the fixed-key CCR hash of <fusion/prg.h> under a tweak that counts
 * the object's derived OTs, so no two hash inputs of a session share a tweak. Wire: the COTs' plus what is stated. */

/* Random OT: the sender gets two independent-looking 16-byte messages m0[i], m1[i]; the receiver gets
 * mc[i] = (c_i ? m1 : m0)[i]. Nothing beyond the COTs. */
FSN_NODISCARD fsn_status fsn_ot_rot_send(fsn_cot *cot, uint8_t *m0, uint8_t *m1, size_t n);
FSN_NODISCARD fsn_status fsn_ot_rot_recv(fsn_cot *cot, uint8_t *mc, const uint8_t *choice, size_t n);

/* Random OT with random choice: as above, but the receiver's choice bits come out of the extension (packed into
 * `choice`, ceil(n / 8) bytes). On a silent extension nothing but the COTs goes over the wire. */
FSN_NODISCARD fsn_status fsn_ot_rrot_send(fsn_cot *cot, uint8_t *m0, uint8_t *m1, size_t n);
FSN_NODISCARD fsn_status fsn_ot_rrot_recv(fsn_cot *cot, uint8_t *mc, uint8_t *choice, size_t n);

/* Chosen-message 1-out-of-2 OT of ell-bit messages: the sender inputs m0[i], m1[i] (reduced mod 2^ell), the receiver
 * gets mc[i]. Per window of up to 2^18 OTs: the COTs of its chunks (2^15 OTs each), then 2 m ell-bit ciphertexts,
 * packed, in one frame (one round trip on a silent extension; IKNP's check adds one per chunk). */
FSN_NODISCARD fsn_status fsn_ot_send(fsn_cot *cot, const uint64_t *m0, const uint64_t *m1, size_t n, unsigned ell);
FSN_NODISCARD fsn_status fsn_ot_recv(fsn_cot *cot, uint64_t *mc, const uint8_t *choice, size_t n, unsigned ell);

/* Arithmetic correlated OT over Z_2^ell: the sender inputs corr[i] and gets x0[i] (pseudorandom mod 2^ell); the
 * receiver gets x0[i] + c_i * corr[i] mod 2^ell. Per window: the COTs, then m ell-bit corrections in one frame. x0 may
 * equal corr. */
FSN_NODISCARD fsn_status fsn_ot_acot_send(fsn_cot *cot, uint64_t *x0, const uint64_t *corr, size_t n, unsigned ell);
FSN_NODISCARD fsn_status fsn_ot_acot_recv(fsn_cot *cot, uint64_t *xc, const uint8_t *choice, size_t n, unsigned ell);

/* ---- 1-out-of-N OT ----------------------------------------------------------------------------------------------- */

/* 1-out-of-N OT of ell-bit messages, N = 2^logn, 1 <= logn <= 8, in the role of the COT it is made on. */
typedef struct fsn_ot_n1 fsn_ot_n1;

/* Create a 1-out-of-N object on `cot` (its channel and role; the COT must outlive it):
 *   "rot"  from logn correlated OTs of `cot` per instance (Naor-Pinkas style): 128 logn + N ell bits per OT plus the
 *          COTs' check; as secure as the COT. Per slice of up to min(2^15 / logn, 2^17 / N) instances: the COTs, then
 *          the N ell-bit ciphertexts in one frame.
 *   "kk13" Kolesnikov-Kumaresan 2013 for logn >= 2, with 256 base OTs of its own run now: 256 + N ell bits per OT,
 *          semi-honest receiver only (no consistency check, see docs/SECURITY.md); logn = 1 goes to "rot" (cheaper).
 *          Per chunk of up to 2^14 instances one frame of 32 round128(m) bytes of columns (receiver to sender), then
 *          the ciphertexts, packed to ell bits, in frames of at most 2^16 / N instances; one round trip per chunk.
 * An unknown name is FSN_E_UNSUPPORTED. */
FSN_NODISCARD fsn_status fsn_ot_n1_create(fsn_ot_n1 **out, const char *ext, fsn_cot *cot);
void fsn_ot_n1_destroy(fsn_ot_n1 *n1);
const char *fsn_ot_n1_name(const fsn_ot_n1 *n1);

/* The sender inputs msgs[i * N + x] for x in [0, N); the receiver inputs one index per OT in idx[i] (< N, else
 * FSN_E_INVALID before anything is sent) and gets out[i] = msgs[i * N + idx[i]]. */
FSN_NODISCARD fsn_status fsn_ot_nchoose1_send(fsn_ot_n1 *n1, const uint64_t *msgs, size_t n, unsigned logn,
                                              unsigned ell);

/* The sender's messages on demand: write the messages of instances [begin, begin + count) of the call to
 * msgs[(i - begin) * N + x] (count * N values; the receiver gets them mod 2^ell). Called in increasing order of
 * begin, once per instance, with count at most 2^15 / N, from the calling thread. */
typedef void (*fsn_ot_msgs_fn)(uint64_t *msgs, size_t begin, size_t count, void *arg);

/* fsn_ot_nchoose1_send with the messages from gen(.., arg) instead of an array: the same wire traffic and the same
 * receiver output, without the n N words of messages in memory (the OT consumes them while they are in cache). */
FSN_NODISCARD fsn_status fsn_ot_nchoose1_send_fn(fsn_ot_n1 *n1, fsn_ot_msgs_fn gen, void *arg, size_t n, unsigned logn,
                                                 unsigned ell);
FSN_NODISCARD fsn_status fsn_ot_nchoose1_recv(fsn_ot_n1 *n1, uint64_t *out, const uint8_t *idx, size_t n, unsigned logn,
                                              unsigned ell);

/* Several 1-out-of-N OTs per element with small messages, on a COT directly (the millionaires' leaves on silent OT):
 * element i holds m instances, instance j a 1-out-of-2^logn[j] OT of ell[j]-bit messages (1 <= logn[j] <= 8,
 * 1 <= ell[j] <= 8, m <= 16). Per instance: logn[j] random COTs and logn[j] correction bits d = idx ^ r from the
 * receiver (r its random choice bits), two keys per COT (the CCR hash of the COT pair, tweaked), the pad of index y
 * P[y] = H(XOR_k key_{k, y_k} ^ tweak(y)), and ciphertext x = msg[x] ^ P[x ^ d]: 2 logn + 2^logn hashes on the
 * sender, logn + 1 on the receiver. Wire: every random COT of the call is drawn first (an extension's refills fall
 * before the call's first turn), then the receiver's corrections in one frame, then every ciphertext, 2^logn[j] ell[j]
 * bits per instance, bit-packed in one frame: one round trip whatever n. Memory: two ciphertext frames (sender), the
 * corrections and one byte per instance (receiver).
 * The sender's messages come from gen (element-major: instance j's 2^logn[j] messages one after the other, count
 * elements per call); the receiver passes idx[i m + j] and gets out[i m + j].
 * hook (may be NULL) runs once on each side after the draws, before the corrections: the receiver is then about to
 * send and the sender to receive, so random-COT draws of the other direction's objects (whose refills go from this
 * call's OT receiver to its sender) fit there without a round trip. */
typedef fsn_status (*fsn_ot_hook_fn)(void *arg);
FSN_NODISCARD fsn_status fsn_ot_multi_n1_send(fsn_cot *cot, fsn_ot_msgs_fn gen, void *arg, size_t n, unsigned m,
                                              const unsigned *logn, const unsigned *ell, fsn_ot_hook_fn hook,
                                              void *hook_arg);
FSN_NODISCARD fsn_status fsn_ot_multi_n1_recv(fsn_cot *cot, uint8_t *out, const uint8_t *idx, size_t n, unsigned m,
                                              const unsigned *logn, const unsigned *ell, fsn_ot_hook_fn hook,
                                              void *hook_arg);

/* ---- the OT pack ------------------------------------------------------------------------------------------------- */

/* One party's OT objects on one channel (SCI's OTPack): a COT sender and a COT receiver, and a 1-out-of-N sender and
 * receiver on them. Swapping the extension swaps the pack as a whole. */
typedef struct fsn_ot_pack fsn_ot_pack;

typedef struct fsn_ot_pack_options {
  /* NULL or "": the default pack, "ferret" at ISA level avx2 and above, "iknp" at ref (fsn_ot_pack_resolve).
   * "iknp": IKNP COTs, 1-out-of-N from them ("rot", as checked as the COTs, secure against a malicious receiver).
   * "kk13": IKNP COTs, KK13 1-out-of-N (cheaper leaves, semi-honest receiver only).
   * "ferret": Ferret COTs (the b11 set) with the MPCOT check of its malicious variant (a malicious Ferret sender is
   * caught), 1-out-of-N from them ("rot"). */
  const char *ext;
  /* The extension without its check: IKNP without KOS15, Ferret without the MPCOT check (fsn_cot_options.unchecked;
   * benchmarks comparing costs only). */
  bool unchecked;
  size_t ferret_threads;  /* splits each Ferret iteration over threads */
  const char *ferret_set; /* NULL: "b11"; "b12", "medium", "main" for fewer bits per COT at more CPU */
} fsn_ot_pack_options;

/* The longest pack name, its NUL included (a session's batch request carries it in that many bytes). */
#define FSN_OT_PACK_NAME_MAX 16

/* A pack's name as fsn_ot_pack_create understands it: `name`'s entry ("iknp", "kk13", "ferret"), the default pack's
 * for NULL or "" ("ferret" at ISA level avx2 and above, "iknp" at ref: fsn_isa_active), NULL for a name it does not
 * know. */
const char *fsn_ot_pack_resolve(const char *name);

/* The memory one party's packs of pack `name` (as fsn_ot_pack_resolve) hold for a session of `threads` worker
 * threads (one pack per thread, each a sender and a receiver), their creation's passing peak included: an upper
 * bound from the buffer sizes. Ferret's is dominated by its pools (16 n + 16 (k + t h) bytes per object, 44 MiB
 * for b11 in whole 2 MiB pages, so some 100 MiB per thread); IKNP's and KK13's are 12 MiB per thread. 0 for an
 * unknown name. */
uint64_t fsn_ot_pack_memory_bytes(const char *name, size_t threads);

/* Create the pack and run all its base OTs. The server creates its sender objects first, the client its receiver
 * objects first, so each creation meets its counterpart; both parties must pass the same options. */
FSN_NODISCARD fsn_status fsn_ot_pack_create(fsn_ot_pack **out, fsn_channel *ch, fsn_role party,
                                            const fsn_ot_pack_options *opt);
void fsn_ot_pack_destroy(fsn_ot_pack *pack);
/* This party's objects: as OT sender (the peer receives) or as OT receiver. */
fsn_cot *fsn_ot_pack_cot(const fsn_ot_pack *pack, fsn_ot_role role);
fsn_ot_n1 *fsn_ot_pack_n1(const fsn_ot_pack *pack, fsn_ot_role role);

/* ---- threads ----------------------------------------------------------------------------------------------------- */

/* Work on the OT index range [begin, end) on thread `thread` (which uses its own objects and channel). */
typedef fsn_status (*fsn_ot_range_fn)(size_t thread, size_t begin, size_t end, void *arg);

/* Split [0, n) into `nthreads` contiguous ranges whose boundaries are multiples of 128 (so packed choice bits split
 * on byte boundaries), and run fn on range t as thread t, one thread per range (range 0 on the calling thread).
 * Both parties must use the same n and nthreads. Returns the first failure, or FSN_OK. */
FSN_NODISCARD fsn_status fsn_ot_parallel(size_t nthreads, size_t n, fsn_ot_range_fn fn, void *arg);

#ifdef __cplusplus
}
#endif
#endif
