/* The OT pack: one party's COT sender and receiver and the 1-out-of-N objects on them, created by extension name. */
#include "protocol/ot/ot_internal.h"

#include <fusion/ferret.h>
#include <fusion/isa.h>
#include <stdlib.h>

struct fsn_ot_pack {
  fsn_cot *cot[2]; /* indexed by fsn_ot_role */
  fsn_ot_n1 *n1[2];
};

/* A pack name: its COT extension and its 1-out-of-N construction. */
static const struct {
  const char *name, *cot, *n1;
} kinds[] = {{"kk13", "iknp", "kk13"}, {"iknp", "iknp", "rot"}, {"ferret", "ferret", "rot"}};

enum { KINDS = sizeof kinds / sizeof kinds[0] };

/* The default pack: Ferret where the AES kernels are vectorised (it hashes and expands many AES blocks per COT: at
 * FSN_ISA=ref each one goes through the constant-time bitsliced reference, and IKNP's fewer blocks per COT win);
 * IKNP at ref. Only the server's default matters in a session: the card names its pack and the client follows it. */
static const char *default_kind(void) { return fsn_isa_active() >= FSN_ISA_AVX2 ? "ferret" : "iknp"; }

/* The entry of a pack name (NULL or "": the default); KINDS if none. */
static size_t kind_of(const char *name) {
  if (!name || !*name) name = default_kind();
  size_t k = 0;
  while (k < KINDS && strcmp(kinds[k].name, name)) k++;
  return k;
}

const char *fsn_ot_pack_resolve(const char *name) {
  const size_t k = kind_of(name);
  return k < KINDS ? kinds[k].name : NULL;
}

/* Per role, an upper bound of the buffers an IKNP-based pack holds: cot.c's derived-OT rows and ring (48 bytes per
 * chunk OT), the "rot" 1-out-of-N object's (72), IKNP's matrices, rows and check rows (64 and a little; KK13's with
 * its 1-out-of-N fit the same 72 + 72). */
#define IKNP_ROLE_BYTES ((uint64_t)192 * FSN_OT_CHUNK)
/* A Ferret pack per role: the same derived-OT and 1-out-of-N buffers (48 + 72), the Ferret object, and what the
 * buffer sizes do not account for: the server's peak RSS on fmnist-4layer (batch 8, 2 threads) is 196 MiB above
 * IKNP's, 16 MiB more than the buffers above; 6 MiB per role covers it with a margin. */
#define FERRET_SHARED_ROLE_BYTES ((uint64_t)120 * FSN_OT_CHUNK + ((uint64_t)6 << 20))

uint64_t fsn_ot_pack_memory_bytes(const char *name, size_t threads) {
  const size_t k = kind_of(name);
  if (k == KINDS) return 0;
  if (strcmp(kinds[k].cot, "ferret")) return 2 * threads * IKNP_ROLE_BYTES;
  uint64_t bootstrap; /* the packs are created one after another, so one bootstrap at a time, on IKNP */
  const uint64_t held = fsn_ferret_memory_bytes(NULL, &bootstrap);
  return 2 * threads * (held + FERRET_SHARED_ROLE_BYTES) + bootstrap + IKNP_ROLE_BYTES;
}

static fsn_status create_role(fsn_ot_pack *pack, fsn_channel *ch, fsn_ot_role role, const char *cot_name,
                              const char *n1_name, const fsn_cot_options *copt) {
  fsn_status st = fsn_cot_create(&pack->cot[role], cot_name, ch, role, copt);
  return st == FSN_OK ? fsn_ot_n1_create(&pack->n1[role], n1_name, pack->cot[role]) : st;
}

fsn_status fsn_ot_pack_create(fsn_ot_pack **out, fsn_channel *ch, fsn_role party, const fsn_ot_pack_options *opt) {
  if (!out || !ch) return fsn_fail(FSN_E_INVALID, "fsn_ot_pack_create: NULL argument");
  *out = NULL;
  const size_t k = kind_of(opt ? opt->ext : NULL);
  if (k == KINDS)
    return fsn_fail(FSN_E_UNSUPPORTED, "OT pack: no extension named \"%s\" (known: kk13, iknp, ferret)", opt->ext);
  fsn_ot_pack *pack = calloc(1, sizeof *pack);
  if (!pack) return fsn_fail(FSN_E_NOMEM, "OT pack");
  const fsn_cot_options copt = {.unchecked = opt && opt->unchecked,
                                .threads = opt ? opt->ferret_threads : 0,
                                .ferret_set = opt ? opt->ferret_set : NULL};
  /* The server's sender objects meet the client's receiver objects first. */
  const fsn_ot_role first = party == FSN_ROLE_SERVER ? FSN_OT_SENDER : FSN_OT_RECEIVER;
  fsn_status st = create_role(pack, ch, first, kinds[k].cot, kinds[k].n1, &copt);
  if (st == FSN_OK) st = create_role(pack, ch, (fsn_ot_role)!first, kinds[k].cot, kinds[k].n1, &copt);
  if (st != FSN_OK) {
    fsn_ot_pack_destroy(pack);
    return st;
  }
  *out = pack;
  return FSN_OK;
}

void fsn_ot_pack_destroy(fsn_ot_pack *pack) {
  if (!pack) return;
  for (int r = 0; r < 2; r++) fsn_ot_n1_destroy(pack->n1[r]), fsn_cot_destroy(pack->cot[r]);
  free(pack);
}

fsn_cot *fsn_ot_pack_cot(const fsn_ot_pack *pack, fsn_ot_role role) { return pack->cot[role]; }
fsn_ot_n1 *fsn_ot_pack_n1(const fsn_ot_pack *pack, fsn_ot_role role) { return pack->n1[role]; }
