/* The OT pack: one party's COT sender and receiver and the 1-out-of-N objects on them, created by extension name. */
#include "protocol/ot/ot_internal.h"

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

/* The entry of a pack name (NULL or "": the default, "iknp"); KINDS if none. */
static size_t kind_of(const char *name) {
  if (!name || !*name) name = "iknp";
  size_t k = 0;
  while (k < KINDS && strcmp(kinds[k].name, name)) k++;
  return k;
}

const char *fsn_ot_pack_resolve(const char *name) {
  const size_t k = kind_of(name);
  return k < KINDS ? kinds[k].name : NULL;
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
                                .ferret_checked = opt && opt->ferret_checked,
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
