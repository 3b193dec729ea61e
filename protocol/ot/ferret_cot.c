/* Ferret behind the COT interface: its random-choice COTs are the extension's native entries, and cot.c derives
 * chosen-choice COT by derandomisation (1 bit per OT), then every derived OT as for IKNP. The object is the
 * session's COT pool: layers draw from it, it runs an iteration when it runs dry, and a peer that is gone fails the
 * drawing call (timeout) and every later one. Every iteration runs the MPCOT check of the malicious variant (a
 * sender's bad GGM tree is caught, docs/SECURITY.md) unless cfg->unchecked; its bootstrap runs on checked IKNP. */
#include <fusion/ferret.h>
#include <sodium.h>
#include <stdlib.h>

#include "protocol/ot/ferret_internal.h"
#include "protocol/ot/ot_internal.h"

typedef struct ferret_cot {
  fsn_cot base; /* first: the interface's header */
  fsn_ferret *f;
} ferret_cot;

static fsn_ferret *of(fsn_cot *cot) { return ((ferret_cot *)(void *)cot)->f; }

static fsn_status rcot_send(fsn_cot *cot, uint8_t *x0, size_t n) { return fsn_ferret_rcot_send(of(cot), x0, n); }

static fsn_status rcot_recv(fsn_cot *cot, uint8_t *xc, uint8_t *choice, size_t n) {
  return fsn_ferret_rcot_recv(of(cot), xc, choice, n);
}

static void destroy(fsn_cot *cot) {
  fsn_ferret_destroy(of(cot));
  sodium_memzero(cot, sizeof(ferret_cot));
  free(cot);
}

static const fsn_cot_ops ferret_ops = {
    .name = "ferret", .rcot_send = rcot_send, .rcot_recv = rcot_recv, .destroy = destroy};

fsn_status fsn_ferret_cot_create(fsn_cot **out, fsn_channel *ch, fsn_ot_role role, const fsn_cot_config *cfg) {
  ferret_cot *k = calloc(1, sizeof *k);
  if (!k) return fsn_fail(FSN_E_NOMEM, "Ferret COT object");
  fsn_status st = fsn_cot_init(&k->base, &ferret_ops, ch, role);
  const fsn_ferret_options opt = {.threads = cfg->threads, .checked = !cfg->unchecked};
  const fsn_ferret_params *set = cfg->ferret_set ? fsn_ferret_params_named(cfg->ferret_set) : NULL;
  if (st == FSN_OK && cfg->ferret_set && !set)
    st = fsn_fail(FSN_E_UNSUPPORTED,
                  "Ferret: no parameter set named \"%s\" (known: small, medium, main, b10, b11, b12)", cfg->ferret_set);
  if (st == FSN_OK)
    st = cfg->seed ? fsn_ferret_create_seeded(&k->f, ch, role, set, &opt, cfg->seed)
                   : fsn_ferret_create_ex(&k->f, ch, role, set, &opt);
  if (st == FSN_OK && role == FSN_OT_SENDER) st = fsn_ferret_delta(k->f, k->base.delta);
  if (st != FSN_OK) {
    fsn_cot_fini(&k->base);
    fsn_ferret_destroy(k->f);
    free(k);
    return st;
  }
  *out = &k->base;
  return FSN_OK;
}
