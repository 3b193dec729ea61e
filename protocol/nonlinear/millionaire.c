/* The millionaires' comparison and what is built directly on it: MSB, wrap, DReLU, ReLU, signed >=.
 *
 * Leaves are 4-bit digits (the most significant one may be narrower), leaf 0 the least significant. Leaves pair up
 * as (lo = 2k, hi = 2k + 1) into the first level of the tree, lt = lt_hi ^ (eq_hi & lt_lo), eq = eq_hi & eq_lo, and
 * that level costs no AND: the server knows the client's leaf shares as a function of the client's digit, so it puts
 * its half of every cross product into the 1-out-of-16 OT messages. Per digit x the client receives 4 bits:
 *   lo leaf: C_lt, C_eq, (S_eq_hi & C_lt) ^ r1, (S_eq_hi & C_eq) ^ r3
 *   hi leaf: C_eqh, C_lth ^ (C_eqh & S_lt_lo), (C_eqh & S_eq_lo) ^ r4
 *   unpaired top leaf: C_lt, C_eq
 * with C = (leaf value) ^ S and S, r the server's random bits. Higher levels use bit triples (one ROT each way per
 * node, generated together with the leaf OTs) and one exchange per level for all comparisons of the batch. */
#include "protocol/nonlinear/nl_internal.h"

#include <stdlib.h>
#include <string.h>

typedef struct mill_shape {
  unsigned q, m, wtop, full, m1; /* bits, leaves, top leaf width, 4-bit leaves, first-level nodes */
  size_t groups;                 /* AND groups per comparison above the first level */
} mill_shape;

static mill_shape shape_of(unsigned q) {
  mill_shape s = {.q = q, .m = (q + 3) / 4};
  s.wtop = q - 4 * (s.m - 1);
  s.full = s.wtop == 4 ? s.m : s.m - 1;
  s.m1 = (s.m + 1) / 2;
  for (unsigned c = s.m1; c > 1; c = (c + 1) / 2) s.groups += c / 2;
  return s;
}

static unsigned digit(uint64_t v, unsigned j, const mill_shape *s) {
  const unsigned w = j == s->m - 1 ? s->wtop : 4;
  return (unsigned)(v >> (4 * j)) & ((1u << w) - 1);
}

/* Where leaf j of element i finds its messages (server) / its OT output (client). */
static size_t leaf_slot(size_t i, unsigned j, const mill_shape *s, bool *top) {
  *top = j >= s->full;
  return *top ? i : i * s->full + j;
}

/* Server, per block: one random byte per first-level node (the leaves' masks and the cross products' masks), and
 * from it the server's shares of the nodes. The leaves' OT messages are made from the same bytes on demand. */
static void server_nodes(fsn_nl_thr *t, uint8_t *rnd, uint8_t *nlt, uint8_t *neq, size_t n, const mill_shape *s) {
  fsn_prg_bytes(&t->prg, rnd, n * s->m1);
  for (size_t i = 0; i < n; i++)
    for (unsigned k = 0; k < s->m1; k++) {
      const size_t g = i * s->m1 + k;
      const unsigned r = rnd[g], slo = r & 1, sqlo = r >> 1 & 1, slth = r >> 2 & 1, seqh = r >> 3 & 1;
      const unsigned r1 = r >> 4 & 1, r3 = r >> 5 & 1, r4 = r >> 6 & 1;
      if (2 * k + 1 >= s->m) /* unpaired top leaf */
        nlt[g] = (uint8_t)slo, neq[g] = (uint8_t)sqlo;
      else
        nlt[g] = (uint8_t)(slth ^ (seqh & slo) ^ r1), neq[g] = (uint8_t)((seqh & sqlo) ^ r3 ^ r4);
    }
}

/* The OT messages of leaf j (2^width of them, one per value x of the client's digit) for the server's digit a and
 * the random byte r of the leaf's node. Each message bit of the header's table is [a < x], [a == x] (never both
 * 1) or a constant, XORed: message x = (a < x ? A : 0) ^ (a == x ? B : 0) ^ C. */
static void leaf_msgs(uint64_t *dst, unsigned a, unsigned j, unsigned r, const mill_shape *s) {
  const unsigned slo = r & 1, sqlo = r >> 1 & 1, slth = r >> 2 & 1, seqh = r >> 3 & 1;
  const unsigned r1 = r >> 4 & 1, r3 = r >> 5 & 1, r4 = r >> 6 & 1, nx = 1u << (j == s->m - 1 ? s->wtop : 4);
  unsigned A, B, C;
  if (j % 2) { /* hi leaf: C_eqh, C_lth ^ (C_eqh & S_lt_lo), (C_eqh & S_eq_lo) ^ r4 */
    A = 2, B = 1 | slo << 1 | sqlo << 2, C = seqh | (slth ^ (seqh & slo)) << 1 | ((seqh & sqlo) ^ r4) << 2;
  } else if (j + 1 >= s->m) { /* unpaired top leaf: C_lt, C_eq */
    A = 1, B = 2, C = slo | sqlo << 1;
  } else { /* lo leaf: C_lt, C_eq, (S_eq_hi & C_lt) ^ r1, (S_eq_hi & C_eq) ^ r3 */
    A = 1 | seqh << 2, B = 2 | seqh << 3, C = slo | sqlo << 1 | ((seqh & slo) ^ r1) << 2 | ((seqh & sqlo) ^ r3) << 3;
  }
  for (unsigned x = 0; x < nx; x++) dst[x] = (A & (0u - (a < x))) ^ (B & (0u - (a == x))) ^ C;
}

typedef struct leaf_gen {
  const uint64_t *v;
  const uint8_t *rnd;
  const mill_shape *s;
  bool top; /* the top-leaf call (one instance per element) rather than the full-leaf one (i full + j) */
} leaf_gen;

/* fsn_ot_msgs_fn for the leaf OTs: the messages of the instances [begin, begin + count), made as the OT uses them,
 * so that the block's 2^15 x 16 messages never sit in memory. */
static void gen_leaves(uint64_t *msgs, size_t begin, size_t count, void *arg) {
  const leaf_gen *g = arg;
  const mill_shape *s = g->s;
  const size_t per = g->top ? 1 : s->full, nx = g->top ? (size_t)1 << s->wtop : 16;
  size_t i = begin / per;
  unsigned j = g->top ? s->m - 1 : (unsigned)(begin % per);
  for (size_t k = 0; k < count; k++, msgs += nx) {
    leaf_msgs(msgs, digit(g->v[i], j, s), j, g->rnd[i * s->m1 + j / 2], s);
    if (g->top)
      i++;
    else if (++j == s->full)
      j = 0, i++;
  }
}

static void client_digits(uint8_t *ifull, uint8_t *itop, const uint64_t *v, size_t n, const mill_shape *s) {
  for (size_t i = 0; i < n; i++)
    for (unsigned j = 0; j < s->m; j++) {
      bool top;
      const size_t slot = leaf_slot(i, j, s, &top);
      (top ? itop : ifull)[slot] = (uint8_t)digit(v[i], j, s);
    }
}

static void client_nodes(uint8_t *nlt, uint8_t *neq, const uint64_t *ofull, const uint64_t *otop, size_t n,
                         const mill_shape *s) {
  for (size_t i = 0; i < n; i++)
    for (unsigned k = 0; k < s->m1; k++) {
      bool top;
      size_t slot = leaf_slot(i, 2 * k, s, &top);
      const unsigned L = (unsigned)(top ? otop : ofull)[slot];
      if (2 * k + 1 >= s->m) {
        nlt[i * s->m1 + k] = L & 1, neq[i * s->m1 + k] = L >> 1 & 1;
        continue;
      }
      slot = leaf_slot(i, 2 * k + 1, s, &top);
      const unsigned H = (unsigned)(top ? otop : ofull)[slot];
      nlt[i * s->m1 + k] = (uint8_t)((H >> 1 & 1) ^ (H & L & 1) ^ (L >> 2 & 1));
      neq[i * s->m1 + k] = (uint8_t)((H & (L >> 1) & 1) ^ (L >> 3 & 1) ^ (H >> 2 & 1));
    }
}

/* The 1-out-of-16 (and narrower top) leaf OTs, server as OT sender (messages from gen_leaves). */
static fsn_status leaf_ots(fsn_nl_thr *t, const uint64_t *v, const uint8_t *rnd, uint64_t *full, uint64_t *top,
                           const uint8_t *ifull, const uint8_t *itop, size_t n, const mill_shape *s) {
  fsn_status st = FSN_OK;
  if (fsn_nl_server(t)) {
    leaf_gen gf = {.v = v, .rnd = rnd, .s = s}, gt = {.v = v, .rnd = rnd, .s = s, .top = true};
    if (s->full) st = fsn_ot_nchoose1_send_fn(t->nsnd, gen_leaves, &gf, n * s->full, 4, 4);
    if (st == FSN_OK && s->full < s->m) st = fsn_ot_nchoose1_send_fn(t->nsnd, gen_leaves, &gt, n, s->wtop, 4);
  } else {
    if (s->full) st = fsn_ot_nchoose1_recv(t->nrcv, full, ifull, n * s->full, 4, 4);
    if (st == FSN_OK && s->full < s->m) st = fsn_ot_nchoose1_recv(t->nrcv, top, itop, n, s->wtop, 4);
  }
  return st;
}

/* The AND tree above the first level: node arrays of n x cnt, combined pairwise until one node per element. */
static fsn_status tree(fsn_nl_thr *t, uint8_t *nlt, uint8_t *neq, uint8_t *work, size_t n, const mill_shape *s,
                       const fsn_nl_triples *tr) {
  size_t used = 0;
  for (unsigned cnt = s->m1; cnt > 1; cnt = (cnt + 1) / 2) {
    const unsigned pairs = cnt / 2, next = (cnt + 1) / 2;
    const size_t np = n * pairs;
    uint8_t *x = work, *y1 = work + np, *y2 = work + 2 * np, *z1 = work + 3 * np, *z2 = work + 4 * np;
    for (size_t i = 0; i < n; i++)
      for (unsigned k = 0; k < pairs; k++) {
        const size_t g = i * pairs + k, lo = i * cnt + 2 * k, hi = lo + 1;
        x[g] = neq[hi], y1[g] = nlt[lo], y2[g] = neq[lo];
      }
    fsn_status st = fsn_nl_and2(t, z1, z2, x, y1, y2, np, tr, used);
    if (st != FSN_OK) return st;
    used += np;
    /* Compact in place: node k of the next level only reads nodes >= k of this one. */
    for (size_t i = 0; i < n; i++) {
      for (unsigned k = 0; k < pairs; k++) {
        const size_t g = i * pairs + k;
        const uint8_t lth = nlt[i * cnt + 2 * k + 1];
        nlt[i * next + k] = lth ^ z1[g], neq[i * next + k] = z2[g];
      }
      if (cnt & 1) nlt[i * next + pairs] = nlt[i * cnt + cnt - 1], neq[i * next + pairs] = neq[i * cnt + cnt - 1];
    }
  }
  return FSN_OK;
}

static fsn_status mill_block(fsn_nl_thr *t, uint8_t *lt, uint8_t *eq, const uint64_t *v, size_t n,
                             const mill_shape *s) {
  const bool server = fsn_nl_server(t);
  const size_t nfull = n * s->full, ntop = s->full < s->m ? n : 0;
  uint64_t *msg = malloc((server ? 0 : nfull + ntop) * sizeof *msg + 8); /* the client's OT outputs */
  uint8_t *bytes = malloc(3 * n * s->m1 + 5 * n * s->groups + nfull + ntop + 1);
  fsn_nl_triples tr = {0};
  fsn_status st = FSN_OK;
  if (!msg || !bytes) {
    st = fsn_fail(FSN_E_NOMEM, "millionaires block of %zu x %u bits", n, s->q);
    goto done;
  }
  uint8_t *nlt = bytes, *neq = bytes + n * s->m1, *work = neq + n * s->m1, *idx = work + 5 * n * s->groups;
  uint8_t *rnd = idx + nfull + ntop;
  uint64_t *full = msg, *top = msg + nfull;
  if (server)
    server_nodes(t, rnd, nlt, neq, n, s);
  else
    client_digits(idx, idx + nfull, v, n, s);
  if ((st = leaf_ots(t, v, rnd, full, top, idx, idx + nfull, n, s)) != FSN_OK) goto done;
  if (s->groups && (st = fsn_nl_triples_make(t, &tr, n * s->groups)) != FSN_OK) goto done;
  if (!server) client_nodes(nlt, neq, full, top, n, s);
  if ((st = tree(t, nlt, neq, work, n, s, &tr)) != FSN_OK) goto done;
  memcpy(lt, nlt, n);
  if (eq) memcpy(eq, neq, n);
done:
  fsn_nl_triples_free(&tr);
  free(msg), free(bytes);
  return st;
}

/* ---- silent OT: short leaves, every level by ANDs -------------------------------------------------------------
 *
 * On a silent extension the COTs are almost free and the leaves' ciphertexts dominate, so folding the first level
 * into the leaves (4-bit messages) costs more than it saves: each leaf carries only its own (lt, eq) shares, 2-bit
 * messages, from one 1-out-of-2^w OT made of w random COTs and w correction bits, all leaves of a block in one round
 * trip; every level of the tree is ANDs on bit triples from random COTs (no correction bits). The least significant
 * node of every level is only ever a lo child, whose eq feeds nothing but its parent's eq: unless eq is asked for,
 * leaf 0 sends lt alone (1-bit messages) and that node's AND group drops its second AND. */

typedef struct sleaf_gen {
  const uint64_t *v;
  const uint8_t *slt, *seq; /* the server's shares of every leaf: n x m */
  const mill_shape *s;
} sleaf_gen;

static void gen_sleaves(uint64_t *msgs, size_t begin, size_t count, void *arg) {
  const sleaf_gen *g = arg;
  const mill_shape *s = g->s;
  for (size_t i = begin; i < begin + count; i++)
    for (unsigned j = 0; j < s->m; j++) {
      const unsigned a = digit(g->v[i], j, s), nx = 1u << (j == s->m - 1 ? s->wtop : 4);
      const unsigned r = g->slt[i * s->m + j] | g->seq[i * s->m + j] << 1;
      for (unsigned x = 0; x < nx; x++) *msgs++ = ((unsigned)(a < x) | (unsigned)(a == x) << 1) ^ r;
    }
}

/* A half of the tree's triples, run inside the leaf call (fsn_ot_hook_fn). */
typedef struct triples_hook {
  fsn_nl_thr *t;
  fsn_nl_triples *tr;
} triples_hook;

static fsn_status client_sends_half(void *arg) {
  const triples_hook *h = arg;
  return h->tr->n ? fsn_nl_triples_half(h->t, h->tr, !fsn_nl_server(h->t)) : FSN_OK;
}

/* The leaf OTs of n elements: nlt, neq (n x m) get this party's shares. Once every leaf COT is drawn and before the
 * client's corrections go out, the half of the triples whose random OTs the client sends (their refills run client
 * to server, the way the corrections go) is drawn: no extra round trip. */
static fsn_status sleaves(fsn_nl_thr *t, uint8_t *nlt, uint8_t *neq, const uint64_t *v, size_t n, const mill_shape *s,
                          bool need_eq, fsn_nl_triples *tr) {
  triples_hook h = {.t = t, .tr = tr};
  unsigned logn[16] = {0}, ell[16] = {0};
  for (unsigned j = 0; j < s->m; j++) logn[j] = j == s->m - 1 ? s->wtop : 4, ell[j] = j == 0 && !need_eq ? 1 : 2;
  if (fsn_nl_server(t)) {
    fsn_nl_random_bits(t, nlt, n * s->m), fsn_nl_random_bits(t, neq, n * s->m);
    sleaf_gen g = {.v = v, .slt = nlt, .seq = neq, .s = s};
    return fsn_ot_multi_n1_send(t->snd, gen_sleaves, &g, n, s->m, logn, ell, client_sends_half, &h);
  }
  for (size_t i = 0; i < n; i++)
    for (unsigned j = 0; j < s->m; j++) nlt[i * s->m + j] = (uint8_t)digit(v[i], j, s);
  fsn_status st = fsn_ot_multi_n1_recv(t->rcv, nlt, nlt, n, s->m, logn, ell, client_sends_half, &h);
  for (size_t k = 0; st == FSN_OK && k < n * s->m; k++) neq[k] = nlt[k] >> 1, nlt[k] &= 1;
  return st;
}

/* AND groups of one level: element i's pair k at g(i, k); the groups with both ANDs come first (n2 of them). */
static size_t sgroup(size_t i, unsigned k, size_t n, unsigned pairs, bool need_eq) {
  if (need_eq) return i * pairs + k;
  return k ? i * (pairs - 1) + k - 1 : n * (pairs - 1) + i;
}

static fsn_status stree(fsn_nl_thr *t, uint8_t *nlt, uint8_t *neq, uint8_t *work, size_t n, unsigned m, bool need_eq,
                        const fsn_nl_triples *tr) {
  size_t used = 0;
  for (unsigned cnt = m; cnt > 1; cnt = (cnt + 1) / 2) {
    const unsigned pairs = cnt / 2, next = (cnt + 1) / 2;
    const size_t np = n * pairs, n2 = need_eq ? np : n * (pairs - 1);
    uint8_t *x = work, *y1 = work + np, *y2 = work + 2 * np, *z1 = work + 3 * np, *z2 = work + 4 * np;
    for (size_t i = 0; i < n; i++)
      for (unsigned k = 0; k < pairs; k++) {
        const size_t g = sgroup(i, k, n, pairs, need_eq), lo = i * cnt + 2 * k;
        x[g] = neq[lo + 1], y1[g] = nlt[lo], y2[g] = neq[lo];
      }
    fsn_status st = fsn_nl_and2_part(t, z1, z2, x, y1, y2, np, n2, tr, used);
    if (st != FSN_OK) return st;
    used += np;
    for (size_t i = 0; i < n; i++) { /* compact in place, as tree() */
      for (unsigned k = 0; k < pairs; k++) {
        const size_t g = sgroup(i, k, n, pairs, need_eq);
        nlt[i * next + k] = nlt[i * cnt + 2 * k + 1] ^ z1[g], neq[i * next + k] = g < n2 ? z2[g] : 0;
      }
      if (cnt & 1) nlt[i * next + pairs] = nlt[i * cnt + cnt - 1], neq[i * next + pairs] = neq[i * cnt + cnt - 1];
    }
  }
  return FSN_OK;
}

static fsn_status mill_block_silent(fsn_nl_thr *t, uint8_t *lt, uint8_t *eq, const uint64_t *v, size_t n,
                                    const mill_shape *s) {
  size_t groups = 0;
  for (unsigned c = s->m; c > 1; c = (c + 1) / 2) groups += c / 2;
  uint8_t *bytes = calloc(2 * n * s->m + 5 * n * (s->m / 2) + 1, 1);
  fsn_nl_triples tr = {0};
  if (!bytes) return fsn_fail(FSN_E_NOMEM, "millionaires block of %zu x %u bits", n, s->q);
  uint8_t *nlt = bytes, *neq = bytes + n * s->m, *work = neq + n * s->m;
  /* The other half right after the leaves' ciphertexts, which go server to client as its refills do. */
  fsn_status st = fsn_nl_triples_alloc(t, &tr, n * groups);
  if (st == FSN_OK) st = sleaves(t, nlt, neq, v, n, s, eq != NULL, &tr);
  if (st == FSN_OK && groups && (st = fsn_nl_triples_half(t, &tr, fsn_nl_server(t))) == FSN_OK)
    fsn_nl_triples_finish(&tr);
  if (st == FSN_OK) st = stree(t, nlt, neq, work, n, s->m, eq != NULL, &tr);
  if (st == FSN_OK) {
    memcpy(lt, nlt, n);
    if (eq) memcpy(eq, neq, n);
  }
  fsn_nl_triples_free(&tr);
  free(bytes);
  return st;
}

fsn_status fsn_nl_mill(fsn_nl_thr *t, uint8_t *lt, uint8_t *eq, const uint64_t *v, size_t n, unsigned q) {
  if (q == 0) { /* empty strings: never less, always equal */
    memset(lt, 0, n);
    if (eq) memset(eq, fsn_nl_server(t), n);
    return FSN_OK;
  }
  const mill_shape s = shape_of(q);
  /* About 2^15 leaves per block, in multiples of 128 elements so that no OT call but the last pads its chunk. */
  size_t block = ((size_t)1 << 15) / s.m / 128 * 128 > 128 ? ((size_t)1 << 15) / s.m / 128 * 128 : 128;
  if (t->silent) block = FSN_NL_SILENT_BLOCK; /* the whole range: one round trip per step */
  for (size_t off = 0; off < n; off += block) {
    const size_t b = n - off < block ? n - off : block;
    fsn_status st = (t->silent ? mill_block_silent : mill_block)(t, lt + off, eq ? eq + off : NULL, v + off, b, &s);
    if (st != FSN_OK) return st;
  }
  return FSN_OK;
}

/* MSB(x) = MSB(x_s) ^ MSB(x_c) ^ carry of the low ell - 1 bits, carry = [2^(ell-1) - 1 - x_s' < x_c']. */
fsn_status fsn_nl_thr_msb(fsn_nl_thr *t, uint8_t *msb, const uint64_t *x, size_t n) {
  const unsigned q = t->ell - 1;
  const uint64_t low = fsn_ring_mask(t->ell) >> 1;
  const size_t blk = n < fsn_nl_block(t) ? n : fsn_nl_block(t);
  uint64_t *v = malloc(blk * sizeof *v + 8);
  if (!v) return fsn_fail(FSN_E_NOMEM, "MSB of %zu", n);
  fsn_status st = FSN_OK;
  for (size_t off = 0; off < n && st == FSN_OK; off += blk) {
    const size_t b = n - off < blk ? n - off : blk;
    for (size_t i = 0; i < b; i++) v[i] = (fsn_nl_server(t) ? ~x[off + i] : x[off + i]) & low;
    if ((st = fsn_nl_mill(t, msb + off, NULL, v, b, q)) == FSN_OK)
      for (size_t i = 0; i < b; i++) msb[off + i] ^= (uint8_t)(x[off + i] >> q & 1);
  }
  free(v);
  return st;
}

/* ---- threaded public forms ----------------------------------------------------------------------------------- */

typedef struct cmp_args {
  uint8_t *b1, *b2;
  uint64_t *out;
  const uint64_t *x, *y;
  unsigned q;
} cmp_args;

static fsn_status mill_worker(fsn_nl_thr *t, size_t begin, size_t end, void *arg) {
  const cmp_args *a = arg;
  return fsn_nl_mill(t, a->b1 + begin, a->b2 ? a->b2 + begin : NULL, a->x + begin, end - begin, a->q);
}

fsn_status fsn_nl_millionaire(fsn_2pc *p, uint8_t *lt, uint8_t *eq, const uint64_t *v, size_t n, unsigned q) {
  if (q > 64) return fsn_fail(FSN_E_INVALID, "millionaires: q = %u bits above 64", q);
  cmp_args a = {.b1 = lt, .b2 = eq, .x = v, .q = q};
  return fsn_nl_run(p, n, mill_worker, &a);
}

static fsn_status msb_worker(fsn_nl_thr *t, size_t begin, size_t end, void *arg) {
  const cmp_args *a = arg;
  fsn_status st = fsn_nl_thr_msb(t, a->b1 + begin, a->x + begin, end - begin);
  if (st == FSN_OK && a->q == 1 && fsn_nl_server(t)) /* q = 1 marks DReLU */
    for (size_t i = begin; i < end; i++) a->b1[i] ^= 1;
  return st;
}

fsn_status fsn_nl_msb(fsn_2pc *p, uint8_t *out, const uint64_t *x, size_t n) {
  cmp_args a = {.b1 = out, .x = x};
  return fsn_nl_run(p, n, msb_worker, &a);
}

fsn_status fsn_nl_drelu(fsn_2pc *p, uint8_t *out, const uint64_t *x, size_t n) {
  cmp_args a = {.b1 = out, .x = x, .q = 1};
  return fsn_nl_run(p, n, msb_worker, &a);
}

static fsn_status wrap_worker(fsn_nl_thr *t, size_t begin, size_t end, void *arg) {
  const cmp_args *a = arg;
  const uint64_t mask = fsn_ring_mask(t->ell);
  uint64_t *v = malloc((end - begin) * sizeof *v + 8);
  if (!v) return fsn_fail(FSN_E_NOMEM, "wrap of %zu", end - begin);
  for (size_t i = begin; i < end; i++) v[i - begin] = (fsn_nl_server(t) ? ~a->x[i] : a->x[i]) & mask;
  fsn_status st = fsn_nl_mill(t, a->b1 + begin, NULL, v, end - begin, t->ell);
  free(v);
  return st;
}

fsn_status fsn_nl_wrap(fsn_2pc *p, uint8_t *out, const uint64_t *x, size_t n) {
  cmp_args a = {.b1 = out, .x = x};
  return fsn_nl_run(p, n, wrap_worker, &a);
}

static fsn_status relu_worker(fsn_nl_thr *t, size_t begin, size_t end, void *arg) {
  const cmp_args *a = arg;
  const size_t blk = end - begin < fsn_nl_block(t) ? end - begin : fsn_nl_block(t);
  uint8_t *d = malloc(blk + 1);
  if (!d) return fsn_fail(FSN_E_NOMEM, "ReLU block");
  fsn_status st = FSN_OK;
  for (size_t off = begin; off < end && st == FSN_OK; off += blk) {
    const size_t b = end - off < blk ? end - off : blk;
    if ((st = fsn_nl_thr_msb(t, d, a->x + off, b)) != FSN_OK) break;
    if (fsn_nl_server(t))
      for (size_t i = 0; i < b; i++) d[i] ^= 1;
    if (a->b1) memcpy(a->b1 + off, d, b);
    st = fsn_nl_thr_mux(t, a->out + off, d, a->x + off, b, t->ell);
  }
  free(d);
  return st;
}

fsn_status fsn_nl_relu(fsn_2pc *p, uint64_t *out, uint8_t *drelu, const uint64_t *x, size_t n) {
  cmp_args a = {.b1 = drelu, .out = out, .x = x};
  return fsn_nl_run(p, n, relu_worker, &a);
}

/* ge = [a >= b] signed, without assuming a - b does not overflow: with s = MSB(a) ^ MSB(b) and d = a - b,
 * ge = !MSB(d) when the signs agree (no overflow possible) and MSB(b) when they differ:
 * ge = !md ^ (s & (!md ^ mb)). */
static fsn_status ge_worker(fsn_nl_thr *t, size_t begin, size_t end, void *arg) {
  const cmp_args *a = arg;
  const size_t n = end - begin;
  const uint64_t mask = fsn_ring_mask(t->ell);
  uint64_t *v = malloc(3 * n * sizeof *v);
  uint8_t *bits = malloc(5 * n);
  fsn_nl_triples tr = {0};
  fsn_status st = FSN_OK;
  if (!v || !bits) {
    st = fsn_fail(FSN_E_NOMEM, "signed compare of %zu", n);
    goto done;
  }
  for (size_t i = 0; i < n; i++)
    v[i] = a->x[begin + i], v[n + i] = a->y[begin + i], v[2 * n + i] = (a->x[begin + i] - a->y[begin + i]) & mask;
  if ((st = fsn_nl_thr_msb(t, bits, v, 3 * n)) != FSN_OK) goto done;
  uint8_t *ma = bits, *mb = bits + n, *md = bits + 2 * n, *s = bits + 3 * n, *y = bits + 4 * n;
  const uint8_t one = fsn_nl_server(t);
  for (size_t i = 0; i < n; i++) md[i] ^= one, s[i] = ma[i] ^ mb[i], y[i] = md[i] ^ mb[i];
  if ((st = fsn_nl_triples_make(t, &tr, n)) != FSN_OK) goto done;
  if ((st = fsn_nl_and2(t, y, NULL, s, y, NULL, n, &tr, 0)) != FSN_OK) goto done;
  for (size_t i = 0; i < n; i++) a->b1[begin + i] = md[i] ^ y[i];
done:
  fsn_nl_triples_free(&tr);
  free(v), free(bits);
  return st;
}

fsn_status fsn_nl_ge(fsn_2pc *p, uint8_t *ge, const uint64_t *a, const uint64_t *b, size_t n) {
  cmp_args args = {.b1 = ge, .x = a, .y = b};
  return fsn_nl_run(p, n, ge_worker, &args);
}
