/* Oblivious transfer: base OT (Chou-Orlandi "simplest OT" over ristretto255), IKNP OT extension (correlated,
 * random, chosen-message, arithmetic-correlated) and 1-out-of-N OT (KK13 extension), all semi-honest (see
 * docs/SECURITY.md).
 *
 * Roles. The *sender* holds the messages (and, for correlated OT, the global 128-bit offset Delta); the *receiver*
 * holds one choice bit (or, for 1-out-of-N, one index) per OT and learns one message each. A party that needs OTs in
 * both directions creates one sender and one receiver object; the peer creates the opposite pair in the same order.
 *
 * Layouts. A 128-bit OT message is 16 bytes; arrays of them are n * 16 bytes, element i at offset 16 i, any
 * alignment. Choice bits are packed as in <fusion/bits.h>: bit i is bit (i % 8) of byte i / 8, ceil(n / 8) bytes.
 * Ring values (ell-bit messages, 1 <= ell <= 64) live in uint64_t, reduced mod 2^ell.
 *
 * Sessions. An extension object runs its 128 base OTs once, at creation (and 256 more for 1-out-of-N, once, see
 * fsn_ot_nchoose1_setup), and keeps its seeds and PRG counters: every later call extends from the same state, so the
 * two parties must make the same calls, with the same n (and ell), in the same order. Any error leaves the object
 * unusable (every later call fails); destroy it. */
#ifndef FUSION_OT_H
#define FUSION_OT_H

#include <fusion/channel.h>
#include <fusion/status.h>
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

/* ---- IKNP extension ---------------------------------------------------------------------------------------------- */

typedef struct fsn_ot fsn_ot;

typedef enum fsn_ot_role { FSN_OT_SENDER = 0, FSN_OT_RECEIVER = 1 } fsn_ot_role;

/* Create an extension object on `ch` and run its 128 base OTs (with reversed roles) over it. The channel must
 * outlive the object and is not owned by it. Allocates about 2.5 MiB of working buffers, whatever the n of later
 * calls (OTs are produced in chunks of 2^15). */
FSN_NODISCARD fsn_status fsn_ot_create(fsn_ot **out, fsn_channel *ch, fsn_ot_role role);

/* NOT FOR PRODUCTION: as fsn_ot_create, but every random choice (base-OT scalars, seeds, Delta) comes from an
 * AES-CTR stream keyed by `seed` (32 bytes), so a run is reproducible; tests use it to compare ISA levels. */
FSN_NODISCARD fsn_status fsn_ot_create_seeded(fsn_ot **out, fsn_channel *ch, fsn_ot_role role, const uint8_t seed[32]);

void fsn_ot_destroy(fsn_ot *ot);

fsn_ot_role fsn_ot_get_role(const fsn_ot *ot);

/* The sender's global correlation Delta (16 bytes); FSN_E_INVALID on a receiver. */
FSN_NODISCARD fsn_status fsn_ot_delta(const fsn_ot *ot, uint8_t delta[16]);

/* Correlated OT with the global Delta: the sender gets x0[i] (16 bytes, pseudorandom), implicitly x1 = x0 ^ Delta;
 * the receiver gets x0[i] ^ (c_i ? Delta : 0). 128 bits per OT on the wire (receiver to sender). */
FSN_NODISCARD fsn_status fsn_ot_cot_send(fsn_ot *ot, uint8_t *x0, size_t n);
FSN_NODISCARD fsn_status fsn_ot_cot_recv(fsn_ot *ot, uint8_t *xc, const uint8_t *choice, size_t n);

/* Random OT: the sender gets two independent-looking 16-byte messages m0[i], m1[i] (the correlated pair hashed by
 * the circular-correlation-robust hash); the receiver gets mc[i] = (c_i ? m1 : m0)[i]. 128 bits per OT. */
FSN_NODISCARD fsn_status fsn_ot_rot_send(fsn_ot *ot, uint8_t *m0, uint8_t *m1, size_t n);
FSN_NODISCARD fsn_status fsn_ot_rot_recv(fsn_ot *ot, uint8_t *mc, const uint8_t *choice, size_t n);

/* Chosen-message 1-out-of-2 OT of ell-bit messages: the sender inputs m0[i], m1[i] (reduced mod 2^ell), the receiver
 * gets mc[i]. 128 + 2 ell bits per OT. */
FSN_NODISCARD fsn_status fsn_ot_send(fsn_ot *ot, const uint64_t *m0, const uint64_t *m1, size_t n, unsigned ell);
FSN_NODISCARD fsn_status fsn_ot_recv(fsn_ot *ot, uint64_t *mc, const uint8_t *choice, size_t n, unsigned ell);

/* Arithmetic correlated OT over Z_2^ell: the sender inputs corr[i] and gets x0[i] (pseudorandom mod 2^ell); the
 * receiver gets x0[i] + c_i * corr[i] mod 2^ell. 128 + ell bits per OT. x0 may equal corr. */
FSN_NODISCARD fsn_status fsn_ot_acot_send(fsn_ot *ot, uint64_t *x0, const uint64_t *corr, size_t n, unsigned ell);
FSN_NODISCARD fsn_status fsn_ot_acot_recv(fsn_ot *ot, uint64_t *xc, const uint8_t *choice, size_t n, unsigned ell);

/* 1-out-of-N OT of ell-bit messages, N = 2^logn with 1 <= logn <= 8 (the millionaires' protocol uses N = 4 .. 16).
 * The sender inputs msgs[i * N + x] for x in [0, N); the receiver inputs one index per OT in idx[i] (< N, else
 * FSN_E_INVALID before anything is sent) and gets out[i] = msgs[i * N + idx[i]].
 *
 * logn >= 2: the KK13 extension (Kolesnikov-Kumaresan 2013). The receiver encodes its index with the
 * Walsh-Hadamard code repeated to 256 bits (minimum distance 128) and sends one 256-bit column per instance; the
 * pads hash the 256-bit rows with the fixed-key CCR hash, tweaked by the instance's index in the object's session
 * (docs/SECURITY.md). 256 + N ell bits per OT on the wire: per chunk of up to 2^14 OTs, one frame of
 * 32 round128(m) bytes of columns (receiver to sender), then the ciphertexts, packed to ell bits, in frames of at
 * most 2^16 / N OTs (sender to receiver); one round trip per chunk.
 * logn = 1: one IKNP correlated OT per instance, 128 + 2 ell bits (cheaper than a 256-bit column): per slice of up
 * to 2^15 OTs, 16 round128(m) bytes of u, then the 2 m ciphertexts in one frame.
 *
 * The KK13 extension has base OTs of its own (256, same roles as the IKNP ones), run by fsn_ot_nchoose1_setup, or
 * by the first call with logn >= 2 if the setup was not called; both parties must do it at the same point of their
 * sessions. It also needs about 100 KiB of state; the working buffers are the object's. */
FSN_NODISCARD fsn_status fsn_ot_nchoose1_setup(fsn_ot *ot);
FSN_NODISCARD fsn_status fsn_ot_nchoose1_send(fsn_ot *ot, const uint64_t *msgs, size_t n, unsigned logn, unsigned ell);

/* The sender's messages on demand: write the messages of instances [begin, begin + count) of the call to
 * msgs[(i - begin) * N + x] (count * N values; the receiver gets them mod 2^ell). Called in increasing order of
 * begin, once per instance, with count at most 2^15 / N, from the calling thread. */
typedef void (*fsn_ot_msgs_fn)(uint64_t *msgs, size_t begin, size_t count, void *arg);

/* fsn_ot_nchoose1_send with the messages from gen(.., arg) instead of an array: the same wire traffic and the same
 * receiver output, without the n N words of messages in memory (the OT consumes them while they are in cache). */
FSN_NODISCARD fsn_status fsn_ot_nchoose1_send_fn(fsn_ot *ot, fsn_ot_msgs_fn gen, void *arg, size_t n, unsigned logn,
                                                 unsigned ell);
FSN_NODISCARD fsn_status fsn_ot_nchoose1_recv(fsn_ot *ot, uint64_t *out, const uint8_t *idx, size_t n, unsigned logn,
                                              unsigned ell);

/* ---- threads ----------------------------------------------------------------------------------------------------- */

/* Work on the OT index range [begin, end) with one extension object (one per thread, each on its own channel). */
typedef fsn_status (*fsn_ot_range_fn)(fsn_ot *ot, size_t begin, size_t end, void *arg);

/* Split [0, n) into `nthreads` contiguous ranges whose boundaries are multiples of 128 (so packed choice bits split
 * on byte boundaries), and run fn on range t with ots[t], one thread per range (range 0 on the calling thread).
 * Both parties must use the same n and nthreads. Returns the first failure, or FSN_OK. */
FSN_NODISCARD fsn_status fsn_ot_parallel(fsn_ot *const *ots, size_t nthreads, size_t n, fsn_ot_range_fn fn, void *arg);

#ifdef __cplusplus
}
#endif
#endif
