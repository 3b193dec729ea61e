/* Ferret test hooks (not installed). */
#ifndef FSN_PROTOCOL_OT_FERRET_INTERNAL_H
#define FSN_PROTOCOL_OT_FERRET_INTERNAL_H

#include <fusion/ferret.h>

/* NOT FOR PRODUCTION: as fsn_ferret_create, but every random choice (IKNP's base OTs, Delta, the GGM seeds, the
 * bootstrap's choice bits) comes from AES-CTR streams keyed by `seed` (32 bytes), so a run is reproducible; tests use
 * it to compare ISA levels. */
FSN_NODISCARD fsn_status fsn_ferret_create_seeded(fsn_ferret **out, fsn_channel *ch, fsn_ot_role role,
                                                  const fsn_ferret_params *params, const fsn_ferret_options *opt,
                                                  const uint8_t seed[32]);

/* NOT FOR PRODUCTION: a cheating sender for tests: it flips the lowest bit of the bytes [at, at + len) of its next
 * iteration's frame (after the trees are grown, before sending). */
void fsn_ferret_tamper_frame(fsn_ferret *f, size_t at, size_t len);

#endif
