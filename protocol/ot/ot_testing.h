/* NOT FOR PRODUCTION: test-only constructors and hooks of protocol/ot (not installed; tests include it). */
#ifndef FSN_PROTOCOL_OT_TESTING_H
#define FSN_PROTOCOL_OT_TESTING_H

#include <fusion/ot.h>

#ifdef __cplusplus
extern "C" {
#endif

/* As fsn_cot_create, but every random choice of the object (base-OT scalars, seeds, Delta, padding choice bits,
 * challenges) comes from an AES-CTR stream keyed by `seed` (32 bytes) unless seed is NULL, so a run is
 * reproducible; and the extension may also be "iknp-rcot": IKNP with its chosen-choice entries hidden, so the
 * interface derives chosen-choice COT by derandomisation (the path a silent extension takes). */
FSN_NODISCARD fsn_status fsn_cot_create_test(fsn_cot **out, const char *ext, fsn_channel *ch, fsn_ot_role role,
                                             const fsn_cot_options *opt, const uint8_t *seed);

/* As fsn_ot_n1_create, with KK13's base OTs and choices drawn from `seed` (32 bytes, or NULL). */
FSN_NODISCARD fsn_status fsn_ot_n1_create_test(fsn_ot_n1 **out, const char *ext, fsn_cot *cot, const uint8_t *seed);

/* A malicious IKNP receiver: the next chunk's u flips bit `row` of column `column` (row < the chunk's padded
 * length), as a client probing the sender's Delta would; the KOS15 check must catch it whenever Delta's bit
 * `column` is 1. FSN_E_INVALID on anything but an IKNP receiver. */
FSN_NODISCARD fsn_status fsn_iknp_test_flip(fsn_cot *receiver, unsigned column, size_t row);

/* The same for a KK13 receiver (column < 256): its code check (protocol/ot/kk13.c) must catch the flip whenever bit
 * `column` of the sender's s is 1. FSN_E_INVALID on anything but a KK13 receiver. */
FSN_NODISCARD fsn_status fsn_kk13_test_flip(fsn_ot_n1 *receiver, unsigned column, size_t row);

#ifdef __cplusplus
}
#endif
#endif
