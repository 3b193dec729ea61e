/* Ferret silent OT (Yang, Weng, Lan, Zhang, Wang: "Ferret: Fast Extension for coRRElated oT with small
 * communication", CCS 2020), semi-honest: correlated OTs with random choice bits from primal LPN with regular noise.
 *
 * One iteration turns R = k + t h "base" COTs into n = t 2^h COTs with the same Delta:
 *   - t single-point COTs, each a correlated (Half-Tree) GGM tree of 2^h leaves (kernels/ggm) expanded by the sender
 *     from one of the base COTs as its seed; the receiver learns every leaf but one through h of the base COTs (its
 *     path is the complement of their random choice bits), and the missing one XOR Delta from the others: per tree
 *     h - 1 blocks from sender to receiver (2 <= h);
 *   - the LPN encoding (kernels/lpn) of k more base COTs with a public local linear code (d = 10 positions per
 *     output), XORed onto the tree leaves: x = A u + e on the receiver's choice bits.
 * The first R outputs of an iteration are kept as the next iteration's base COTs; the other n - R are the pool that
 * rcot calls draw from, in order. The first base COTs come from IKNP (<fusion/ot.h>), through iterations of the
 * small set when the chosen set needs more than the small set's R (docs/PROTOCOLS.md, "Ferret").
 *
 * Choice bit = LSB: Delta has its lowest bit set, every x0 of the sender has its lowest bit clear, so the receiver's
 * choice bit c_i is the lowest bit of xc[i] = x0[i] ^ c_i Delta (emp-ot's convention). x0 carries 127 pseudorandom
 * bits.
 *
 * Wire, per iteration: one frame of 16 t (h - 1) bytes from sender to receiver, nothing back (no round trip);
 * with the MPCOT check (fsn_ferret_options.checked) FSN_FERRET_CHECK_BYTES more, one round trip. Both
 * parties must make the same calls with the same n in the same order (the pool runs dry at the same point on both
 * sides). Any error leaves the object unusable (every later call fails); destroy it. Not thread-safe. */
#ifndef FUSION_FERRET_H
#define FUSION_FERRET_H

#include <fusion/channel.h>
#include <fusion/ot.h>
#include <fusion/status.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* An LPN parameter set: n = t 2^h outputs per iteration, k the LPN secret length, t the regular noise weight (one
 * noise position in each block of 2^h outputs). */
typedef struct fsn_ferret_params {
  const char *name;
  uint64_t n, k, t;
  unsigned h;
} fsn_ferret_params;

/* The named sets (docs/PROTOCOLS.md gives their sources and security):
 *   "small"   n = 649,728, k = 36,288, t = 1,269, h = 9: the paper's setup set (10 MiB per party); also the
 *             bootstrap of the bigger sets.
 *   "medium"  n = 2,097,152, k = 589,760, t = 256, h = 13: the first 256 noise blocks of the main set (32 MiB per
 *             party).
 *   "main"    n = 10,805,248, k = 589,760, t = 1,319, h = 13: the paper's main set (165 MiB per party).
 *   "b10"     n = 870,400, k = 2^16, t = 850, h = 10;
 *   "b11"     n = 2,396,160, k = 2^17, t = 1,170, h = 11;
 *   "b12"     n = 6,225,920, k = 2^18, t = 1,520, h = 12: emp-ot's sets of those names, whose LPN input (1, 2, 4 MiB)
 *             stays in cache; more trees per usable COT (more bits), less LPN time. b11 is the default.
 * NULL for an unknown name. */
const fsn_ferret_params *fsn_ferret_params_named(const char *name);

/* The base COTs an iteration consumes, R = k + t h, and the COTs it adds to the pool, n - R. */
uint64_t fsn_ferret_reserve(const fsn_ferret_params *p);
uint64_t fsn_ferret_usable(const fsn_ferret_params *p);
/* Payload bytes of one iteration (sender to receiver): 16 t (h - 1). */
uint64_t fsn_ferret_iteration_bytes(const fsn_ferret_params *p);

/* The bytes a Ferret object of set params (NULL: the default) holds for its life: its output vector (the pool), its
 * base COTs and its frame buffers, each as allocated (block vectors in whole 2 MiB pages). *bootstrap (may be NULL):
 * what its creation holds on top for a while (the small-set iterations that bootstrap a bigger set; the IKNP object
 * under them not included). Upper bounds: the check's base COTs are counted whether checked or not. */
uint64_t fsn_ferret_memory_bytes(const fsn_ferret_params *params, uint64_t *bootstrap);

typedef struct fsn_ferret fsn_ferret;

/* Create a Ferret object on `ch` in `role` with the set `params` (NULL: "b11"; both parties must pass equal
 * sets) and bootstrap it: IKNP base OTs and IKNP random OTs turned into COTs under this object's Delta (32 bytes per
 * COT), then as many small-set iterations as the set's base COTs need. The channel must outlive the object and is not
 * owned by it. Allocates about 16 (n + R) bytes. FSN_E_INVALID for a set that is not consistent (n != t 2^h, h
 * outside 1 .. 24, k outside 1 .. 2^32, R >= n). */
FSN_NODISCARD fsn_status fsn_ferret_create(fsn_ferret **out, fsn_channel *ch, fsn_ot_role role,
                                           const fsn_ferret_params *params);

/* Options of fsn_ferret_create_ex; zero-initialised means fsn_ferret_create's behaviour. */
typedef struct fsn_ferret_options {
  /* 0 or 1: every iteration on the calling thread. 2 .. FSN_FERRET_MAX_THREADS: each iteration's GGM trees, then its
   * LPN output rows, split over this many threads (the calling one and threads started per iteration); the outputs
   * and the wire bytes do not depend on it, so the peer may use another count. */
  size_t threads;
  /* The MPCOT consistency check of Ferret's malicious variant: per iteration FSN_FERRET_CHECK_COTS more base COTs
   * (fewer COTs to the pool) and FSN_FERRET_CHECK_BYTES more (one round trip: the receiver's coefficient seed and
   * masked sum, the sender's hash). A sender whose GGM trees are not consistent with its Delta is caught by the
   * receiver (FSN_E_CHEATING), except that it may learn whether a noise position lies in a set it guesses, at the
   * price of being caught otherwise (the selective failure the paper's functionality allows). Both parties must
   * agree on it. */
  bool checked;
} fsn_ferret_options;

#define FSN_FERRET_CHECK_COTS  128
#define FSN_FERRET_CHECK_BYTES 64

#define FSN_FERRET_MAX_THREADS 64

/* fsn_ferret_create with options (opt may be NULL). */
FSN_NODISCARD fsn_status fsn_ferret_create_ex(fsn_ferret **out, fsn_channel *ch, fsn_ot_role role,
                                              const fsn_ferret_params *params, const fsn_ferret_options *opt);
void fsn_ferret_destroy(fsn_ferret *f);

fsn_ot_role fsn_ferret_role(const fsn_ferret *f);
/* The sender's Delta (16 bytes, lowest bit set); FSN_E_INVALID on a receiver. */
FSN_NODISCARD fsn_status fsn_ferret_delta(const fsn_ferret *f, uint8_t delta[16]);
/* Iterations run so far (the bootstrap's small-set iterations not counted). */
uint64_t fsn_ferret_iterations(const fsn_ferret *f);
/* COTs each iteration adds to the pool: fsn_ferret_usable of the set, less FSN_FERRET_CHECK_COTS when checked. */
uint64_t fsn_ferret_pool_size(const fsn_ferret *f);

/* n correlated OTs with random choice bits from the pool, running iterations as it runs dry. The sender gets
 * x0[i] (16 bytes, lowest bit clear), implicitly x1 = x0 ^ Delta; the receiver gets xc[i] = x0[i] ^ c_i Delta and
 * the packed choice bits (ceil(n / 8) bytes written, unused high bits zero; c_i is also the lowest bit of xc[i]). */
FSN_NODISCARD fsn_status fsn_ferret_rcot_send(fsn_ferret *f, uint8_t *x0, size_t n);
FSN_NODISCARD fsn_status fsn_ferret_rcot_recv(fsn_ferret *f, uint8_t *xc, uint8_t *choice, size_t n);

#ifdef __cplusplus
}
#endif
#endif
