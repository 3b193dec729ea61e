/* The correlated-OT interface: creation by name, argument checks, and chosen-choice COT derived from random-choice
 * COT (derandomisation) for extensions that only make the latter. */
#include "protocol/ot/ot_internal.h"
#include "protocol/ot/ot_testing.h"

#include <fusion/bits.h>
#include <sodium.h>
#include <stdlib.h>

void *fsn_ot_alloc64(size_t bytes) { return aligned_alloc(64, (bytes + 63) / 64 * 64); }

/* ---- life cycle -------------------------------------------------------------------------------------------------- */

fsn_status fsn_cot_init(fsn_cot *cot, const fsn_cot_ops *ops, fsn_channel *ch, fsn_ot_role role) {
  cot->ops = ops, cot->ch = ch, cot->role = role;
  cot->rows = fsn_ot_alloc64(16 * FSN_OT_CHUNK);
  cot->rows2 = fsn_ot_alloc64(16 * FSN_OT_CHUNK);
  cot->ring = fsn_ot_alloc64(2 * FSN_OT_CHUNK * sizeof(uint64_t));
  if (!cot->rows || !cot->rows2 || !cot->ring)
    return fsn_fail(FSN_E_NOMEM, "%s: %zu bytes of scratch for derived OTs", ops->name, 48 * FSN_OT_CHUNK);
  return FSN_OK;
}

void fsn_cot_fini(fsn_cot *cot) {
  if (cot->rows) sodium_memzero(cot->rows, 16 * FSN_OT_CHUNK);
  if (cot->rows2) sodium_memzero(cot->rows2, 16 * FSN_OT_CHUNK);
  if (cot->ring) sodium_memzero(cot->ring, 2 * FSN_OT_CHUNK * sizeof(uint64_t));
  free(cot->rows), free(cot->rows2), free(cot->ring);
  cot->rows = cot->rows2 = NULL, cot->ring = NULL;
}

static fsn_status create(fsn_cot **out, const char *ext, fsn_channel *ch, fsn_ot_role role, const fsn_cot_options *opt,
                         const uint8_t *seed, bool testing) {
  if (!out || !ext || !ch) return fsn_fail(FSN_E_INVALID, "fsn_cot_create: NULL argument");
  *out = NULL;
  if (role != FSN_OT_SENDER && role != FSN_OT_RECEIVER)
    return fsn_fail(FSN_E_INVALID, "fsn_cot_create: role %d is neither sender nor receiver", (int)role);
  fsn_cot_config cfg = {.unchecked = opt && opt->unchecked,
                        .threads = opt ? opt->threads : 0,
                        .ferret_set = opt ? opt->ferret_set : NULL,
                        .seed = seed};
  if (!strcmp(ext, "iknp")) return fsn_iknp_create(out, ch, role, &cfg);
  if (!strcmp(ext, "ferret")) return fsn_ferret_cot_create(out, ch, role, &cfg);
  if (testing && !strcmp(ext, "iknp-rcot")) {
    cfg.rcot_only = true;
    return fsn_iknp_create(out, ch, role, &cfg);
  }
  return fsn_fail(FSN_E_UNSUPPORTED, "fsn_cot_create: no OT extension named \"%s\" (known: iknp, ferret)", ext);
}

fsn_status fsn_cot_create(fsn_cot **out, const char *ext, fsn_channel *ch, fsn_ot_role role,
                          const fsn_cot_options *opt) {
  return create(out, ext, ch, role, opt, NULL, false);
}

fsn_status fsn_cot_create_test(fsn_cot **out, const char *ext, fsn_channel *ch, fsn_ot_role role,
                               const fsn_cot_options *opt, const uint8_t *seed) {
  return create(out, ext, ch, role, opt, seed, true);
}

void fsn_cot_destroy(fsn_cot *cot) {
  if (!cot) return;
  fsn_cot_fini(cot);
  cot->ops->destroy(cot);
}

const char *fsn_cot_name(const fsn_cot *cot) { return cot->ops->name; }
fsn_ot_role fsn_cot_role(const fsn_cot *cot) { return cot->role; }

fsn_status fsn_cot_delta(const fsn_cot *cot, uint8_t delta[16]) {
  if (!cot || cot->role != FSN_OT_SENDER) return fsn_fail(FSN_E_INVALID, "fsn_cot_delta: not a sender");
  memcpy(delta, cot->delta, 16);
  return FSN_OK;
}

fsn_status fsn_cot_check(const fsn_cot *cot, fsn_ot_role role, size_t n, const char *what) {
  if (!cot) return fsn_fail(FSN_E_INVALID, "%s: NULL OT object", what);
  if (cot->role != role)
    return fsn_fail(FSN_E_INVALID, "%s: called on a %s object", what,
                    cot->role == FSN_OT_SENDER ? "sender" : "receiver");
  if (cot->broken) return fsn_fail(FSN_E_INVALID, "%s: the OT object failed earlier and is out of step", what);
  if (n > SIZE_MAX / 64) return fsn_fail(FSN_E_INVALID, "%s: n = %zu too large", what, n);
  return FSN_OK;
}

/* ---- derandomisation --------------------------------------------------------------------------------------------- */

/* Per chunk: a random-choice COT (x0; the receiver's r, xr = x0 ^ r Delta), then the receiver's d = c ^ r (m bits).
 * The sender moves its x0 by d Delta, after which xr = x0' ^ c Delta: the chosen-choice COT. */
static fsn_status derandomised_send(fsn_cot *cot, uint8_t *x0, size_t n) {
  uint8_t *d = cot->rows2;
  for (size_t off = 0; off < n; off += FSN_OT_CHUNK) {
    const size_t m = n - off < FSN_OT_CHUNK ? n - off : FSN_OT_CHUNK;
    fsn_status st = cot->ops->rcot_send(cot, x0 + 16 * off, m);
    if (st == FSN_OK) st = fsn_channel_recv(cot->ch, d, (m + 7) / 8);
    if (st != FSN_OK) return st;
    const uint64_t d0 = fsn_ot_low64(cot->delta), d1 = fsn_ot_high64(cot->delta);
    for (size_t i = 0; i < m; i++) {
      const uint64_t mask = 0 - (uint64_t)fsn_ot_bit(d, i);
      uint8_t *x = x0 + 16 * (off + i);
      fsn_ot_store64(x, fsn_ot_low64(x) ^ (d0 & mask));
      fsn_ot_store64(x + 8, fsn_ot_high64(x) ^ (d1 & mask));
    }
  }
  return FSN_OK;
}

static fsn_status derandomised_recv(fsn_cot *cot, uint8_t *xc, const uint8_t *choice, size_t n) {
  uint8_t *r = cot->rows2;
  for (size_t off = 0; off < n; off += FSN_OT_CHUNK) {
    const size_t m = n - off < FSN_OT_CHUNK ? n - off : FSN_OT_CHUNK, bytes = (m + 7) / 8;
    fsn_status st = cot->ops->rcot_recv(cot, xc + 16 * off, r, m);
    if (st != FSN_OK) return st;
    fsn_bits_xor(r, r, choice + off / 8, bytes);
    if (m % 8) r[bytes - 1] &= (uint8_t)((1u << (m % 8)) - 1);
    if ((st = fsn_channel_send(cot->ch, r, bytes)) != FSN_OK || (st = fsn_channel_flush(cot->ch)) != FSN_OK) return st;
  }
  return FSN_OK;
}

/* ---- entry points ------------------------------------------------------------------------------------------------ */

fsn_status fsn_cot_send(fsn_cot *cot, uint8_t *x0, size_t n) {
  fsn_status st = fsn_cot_check(cot, FSN_OT_SENDER, n, "fsn_cot_send");
  if (st != FSN_OK || n == 0) return st;
  return fsn_cot_broke(cot, cot->ops->send ? cot->ops->send(cot, x0, n) : derandomised_send(cot, x0, n));
}

fsn_status fsn_cot_recv(fsn_cot *cot, uint8_t *xc, const uint8_t *choice, size_t n) {
  fsn_status st = fsn_cot_check(cot, FSN_OT_RECEIVER, n, "fsn_cot_recv");
  if (st != FSN_OK || n == 0) return st;
  return fsn_cot_broke(cot,
                       cot->ops->recv ? cot->ops->recv(cot, xc, choice, n) : derandomised_recv(cot, xc, choice, n));
}

fsn_status fsn_cot_rcot_send(fsn_cot *cot, uint8_t *x0, size_t n) {
  fsn_status st = fsn_cot_check(cot, FSN_OT_SENDER, n, "fsn_cot_rcot_send");
  if (st != FSN_OK || n == 0) return st;
  return fsn_cot_broke(cot, cot->ops->rcot_send(cot, x0, n));
}

fsn_status fsn_cot_rcot_recv(fsn_cot *cot, uint8_t *xc, uint8_t *choice, size_t n) {
  fsn_status st = fsn_cot_check(cot, FSN_OT_RECEIVER, n, "fsn_cot_rcot_recv");
  if (st != FSN_OK || n == 0) return st;
  return fsn_cot_broke(cot, cot->ops->rcot_recv(cot, xc, choice, n));
}
