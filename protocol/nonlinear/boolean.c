/* Boolean pieces: bit triples from random OT, AND, arithmetic-COT products, B2A and MUX. */
#include "protocol/nonlinear/nl_internal.h"

#include <fusion/bits.h>

#include <stdlib.h>
#include <string.h>

void fsn_nl_triples_free(fsn_nl_triples *tr) {
  if (tr) free(tr->a);
  if (tr) *tr = (fsn_nl_triples){0};
}

/* One direction of the triple generation for triples [off, off + n): the OT receiver's choice bits are its shares
 * of a; from the sender's two random messages, bit j of m0 ^ m1 is the sender's share of b_j and the pair
 * (m0, m_choice) shares choice * b_j. */
static fsn_status cross_chunk(fsn_nl_thr *t, bool as_sender, fsn_nl_triples *tr, size_t off, size_t n, uint8_t *m0,
                              uint8_t *m1, uint8_t *packed) {
  uint8_t *a = tr->a + off, *b1 = tr->b1 + off, *b2 = tr->b2 + off, *c1 = tr->c1 + off, *c2 = tr->c2 + off;
  fsn_status st;
  if (as_sender) {
    st = t->silent ? fsn_ot_rrot_send(t->snd, m0, m1, n) : fsn_ot_rot_send(t->snd, m0, m1, n);
    if (st != FSN_OK) return st;
    for (size_t i = 0; i < n; i++) {
      const uint8_t x0 = m0[16 * i], x1 = m1[16 * i], d = x0 ^ x1;
      b1[i] = d & 1, b2[i] = d >> 1 & 1;
      c1[i] ^= x0 & 1, c2[i] ^= x0 >> 1 & 1;
    }
    return FSN_OK;
  }
  if (t->silent) { /* the random choice bits are this party's shares of a: no correction bits */
    if ((st = fsn_ot_rrot_recv(t->rcv, m0, packed, n)) != FSN_OK) return st;
    fsn_bits_unpack(a, packed, n);
  } else {
    fsn_bits_pack(packed, a, n);
    if ((st = fsn_ot_rot_recv(t->rcv, m0, packed, n)) != FSN_OK) return st;
  }
  for (size_t i = 0; i < n; i++) c1[i] ^= m0[16 * i] & 1, c2[i] ^= m0[16 * i] >> 1 & 1;
  return FSN_OK;
}

/* One direction for all triples, a chunk of OTs at a time (the messages never take more than two chunks). */
fsn_status fsn_nl_triples_half(fsn_nl_thr *t, fsn_nl_triples *tr, bool as_sender) {
  const size_t m = tr->n < FSN_NL_OT_CHUNK ? tr->n : FSN_NL_OT_CHUNK;
  uint8_t *m0 = malloc(16 * m + 16), *m1 = malloc(16 * m + 16), *packed = malloc(m / 8 + 1);
  fsn_status st = m0 && m1 && packed ? FSN_OK : fsn_fail(FSN_E_NOMEM, "bit triples: %zu", tr->n);
  for (size_t off = 0; off < tr->n && st == FSN_OK; off += FSN_NL_OT_CHUNK) {
    const size_t k = tr->n - off < FSN_NL_OT_CHUNK ? tr->n - off : FSN_NL_OT_CHUNK;
    st = cross_chunk(t, as_sender, tr, off, k, m0, m1, packed);
  }
  free(m0), free(m1), free(packed);
  return st;
}

fsn_status fsn_nl_triples_alloc(fsn_nl_thr *t, fsn_nl_triples *tr, size_t n) {
  *tr = (fsn_nl_triples){.n = n};
  uint8_t *mem = calloc(5 * n + 1, 1);
  if (!mem) return fsn_fail(FSN_E_NOMEM, "bit triples: %zu", n);
  tr->a = mem, tr->b1 = mem + n, tr->b2 = mem + 2 * n, tr->c1 = mem + 3 * n, tr->c2 = mem + 4 * n;
  if (!t->silent) fsn_nl_random_bits(t, tr->a, n);
  return FSN_OK;
}

void fsn_nl_triples_finish(fsn_nl_triples *tr) {
  for (size_t i = 0; i < tr->n; i++) tr->c1[i] ^= tr->a[i] & tr->b1[i], tr->c2[i] ^= tr->a[i] & tr->b2[i];
}

fsn_status fsn_nl_triples_make(fsn_nl_thr *t, fsn_nl_triples *tr, size_t n) {
  fsn_status st = fsn_nl_triples_alloc(t, tr, n);
  /* Direction A: server sends, client receives; then direction B. b_j of this party comes from its sender side. */
  const bool server = fsn_nl_server(t);
  if (st == FSN_OK && (st = fsn_nl_triples_half(t, tr, server)) == FSN_OK &&
      (st = fsn_nl_triples_half(t, tr, !server)) == FSN_OK)
    fsn_nl_triples_finish(tr);
  if (st != FSN_OK) fsn_nl_triples_free(tr);
  return st;
}

fsn_status fsn_nl_and2(fsn_nl_thr *t, uint8_t *z1, uint8_t *z2, const uint8_t *x, const uint8_t *y1, const uint8_t *y2,
                       size_t n, const fsn_nl_triples *tr, size_t off) {
  return fsn_nl_and2_part(t, z1, z2, x, y1, y2, n, y2 ? n : 0, tr, off);
}

fsn_status fsn_nl_and2_part(fsn_nl_thr *t, uint8_t *z1, uint8_t *z2, const uint8_t *x, const uint8_t *y1,
                            const uint8_t *y2, size_t n, size_t n2, const fsn_nl_triples *tr, size_t off) {
  const size_t k = 2 * n + n2;
  uint8_t *mine = calloc(2 * k + 1, 1);
  if (!mine) return fsn_fail(FSN_E_NOMEM, "AND of %zu bits", n);
  uint8_t *theirs = mine + k;
  const uint8_t *a = tr->a + off, *b1 = tr->b1 + off, *b2 = tr->b2 + off, *c1 = tr->c1 + off, *c2 = tr->c2 + off;
  for (size_t i = 0; i < n; i++) {
    mine[i] = x[i] ^ a[i];
    mine[n + i] = y1[i] ^ b1[i];
    if (i < n2) mine[2 * n + i] = y2[i] ^ b2[i];
  }
  fsn_status st = fsn_nl_swap_bits(t, theirs, mine, k);
  if (st == FSN_OK) {
    const uint8_t server = fsn_nl_server(t);
    for (size_t i = 0; i < n; i++) {
      const uint8_t d = mine[i] ^ theirs[i], e1 = mine[n + i] ^ theirs[n + i];
      const uint8_t ai = a[i];
      z1[i] = c1[i] ^ (d & b1[i]) ^ (e1 & ai) ^ (d & e1 & server);
      if (i < n2) {
        const uint8_t e2 = mine[2 * n + i] ^ theirs[2 * n + i];
        z2[i] = c2[i] ^ (d & b2[i]) ^ (e2 & ai) ^ (d & e2 & server);
      }
    }
  }
  free(mine);
  return st;
}

fsn_status fsn_nl_acot(fsn_nl_thr *t, fsn_role sender, uint64_t *out, const uint64_t *corr, const uint8_t *bits,
                       size_t n, unsigned ell) {
  if (n == 0) return FSN_OK;
  fsn_status st;
  if (t->role == sender) {
    if ((st = fsn_ot_acot_send(t->snd, out, corr, n, ell)) != FSN_OK) return st;
    const uint64_t mask = fsn_ring_mask(ell);
    for (size_t i = 0; i < n; i++) out[i] = (0 - out[i]) & mask;
    return FSN_OK;
  }
  uint8_t *packed = malloc(n / 8 + 1);
  if (!packed) return fsn_fail(FSN_E_NOMEM, "arithmetic COT of %zu", n);
  fsn_bits_pack(packed, bits, n);
  st = fsn_ot_acot_recv(t->rcv, out, packed, n, ell);
  free(packed);
  return st;
}

fsn_status fsn_nl_thr_b2a(fsn_nl_thr *t, uint64_t *out, const uint8_t *b, size_t n, unsigned ell) {
  const uint64_t mask = fsn_ring_mask(ell);
  uint64_t *corr = NULL;
  if (fsn_nl_server(t)) {
    if (!(corr = malloc(n * sizeof *corr + 8))) return fsn_fail(FSN_E_NOMEM, "B2A of %zu", n);
    for (size_t i = 0; i < n; i++) corr[i] = b[i];
  }
  /* b = b0 + b1 - 2 b0 b1, the product from one arithmetic COT (server's b0 as correlation, client's b1 as choice). */
  fsn_status st = fsn_nl_acot(t, FSN_ROLE_SERVER, out, corr, b, n, ell);
  free(corr);
  if (st != FSN_OK) return st;
  for (size_t i = 0; i < n; i++) out[i] = (b[i] - 2 * out[i]) & mask;
  return FSN_OK;
}

/* b * x = b_s x_s + b_o (1 - 2 b_s) x_s + (the same with the roles swapped): one arithmetic COT each way. */
fsn_status fsn_nl_thr_mux(fsn_nl_thr *t, uint64_t *out, const uint8_t *b, const uint64_t *x, size_t n, unsigned ell) {
  const uint64_t mask = fsn_ring_mask(ell);
  uint64_t *corr = malloc(3 * n * sizeof *corr + 8);
  if (!corr) return fsn_fail(FSN_E_NOMEM, "MUX of %zu", n);
  uint64_t *prod = corr + n, *own = corr + 2 * n; /* own: b_s x_s, kept apart since out may alias x */
  for (size_t i = 0; i < n; i++) corr[i] = (b[i] ? 0 - x[i] : x[i]) & mask, own[i] = b[i] ? x[i] : 0;
  fsn_status st = FSN_OK;
  for (int dir = 0; dir < 2 && st == FSN_OK; dir++) {
    const fsn_role sender = dir == 0 ? FSN_ROLE_SERVER : FSN_ROLE_CLIENT;
    st = fsn_nl_acot(t, sender, dir == 0 ? out : prod, corr, b, n, ell);
  }
  if (st == FSN_OK)
    for (size_t i = 0; i < n; i++) out[i] = (out[i] + prod[i] + own[i]) & mask;
  free(corr);
  return st;
}

/* ---- threaded public forms ----------------------------------------------------------------------------------- */

typedef struct bool_args {
  uint8_t *z1, *z2;
  const uint8_t *x, *y1, *y2;
  uint64_t *out;
  const uint64_t *v;
} bool_args;

static fsn_status and_worker(fsn_nl_thr *t, size_t begin, size_t end, void *arg) {
  const bool_args *a = arg;
  const size_t blk = end - begin < fsn_nl_block(t) ? end - begin : fsn_nl_block(t);
  for (size_t off = begin; off < end; off += blk) {
    const size_t m = end - off < blk ? end - off : blk;
    fsn_nl_triples tr;
    fsn_status st = fsn_nl_triples_make(t, &tr, m);
    if (st != FSN_OK) return st;
    st = fsn_nl_and2(t, a->z1 + off, a->z2 ? a->z2 + off : NULL, a->x + off, a->y1 + off, a->y2 ? a->y2 + off : NULL, m,
                     &tr, 0);
    fsn_nl_triples_free(&tr);
    if (st != FSN_OK) return st;
  }
  return FSN_OK;
}

fsn_status fsn_nl_and2_batch(fsn_2pc *p, uint8_t *z1, uint8_t *z2, const uint8_t *x, const uint8_t *y1,
                             const uint8_t *y2, size_t n) {
  bool_args a = {.z1 = z1, .z2 = z2, .x = x, .y1 = y1, .y2 = y2};
  return fsn_nl_run(p, n, and_worker, &a);
}

fsn_status fsn_nl_and(fsn_2pc *p, uint8_t *z, const uint8_t *x, const uint8_t *y, size_t n) {
  return fsn_nl_and2_batch(p, z, NULL, x, y, NULL, n);
}

static fsn_status b2a_worker(fsn_nl_thr *t, size_t begin, size_t end, void *arg) {
  const bool_args *a = arg;
  return fsn_nl_thr_b2a(t, a->out + begin, a->x + begin, end - begin, t->ell);
}

fsn_status fsn_nl_b2a(fsn_2pc *p, uint64_t *out, const uint8_t *b, size_t n) {
  bool_args a = {.out = out, .x = b};
  return fsn_nl_run(p, n, b2a_worker, &a);
}

static fsn_status mux_worker(fsn_nl_thr *t, size_t begin, size_t end, void *arg) {
  const bool_args *a = arg;
  const size_t blk = end - begin < fsn_nl_block(t) ? end - begin : fsn_nl_block(t);
  for (size_t off = begin; off < end; off += blk) {
    const size_t m = end - off < blk ? end - off : blk;
    fsn_status st = fsn_nl_thr_mux(t, a->out + off, a->x + off, a->v + off, m, t->ell);
    if (st != FSN_OK) return st;
  }
  return FSN_OK;
}

fsn_status fsn_nl_mux(fsn_2pc *p, uint64_t *out, const uint8_t *b, const uint64_t *x, size_t n) {
  bool_args a = {.out = out, .x = b, .v = x};
  return fsn_nl_run(p, n, mux_worker, &a);
}
