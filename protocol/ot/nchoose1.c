/* 1-out-of-N OT: the interface (creation by name, argument checks) and the "rot" construction on any COT.
 *
 * "rot": 1-out-of-N OT from logn correlated OTs per instance (Naor-Pinkas style). Instance i uses the COTs
 * i logn + j, j < logn, with choice bit j of the receiver's index. The pad of message x is
 *   pad_x = XOR_j H(q_{i,j} ^ x_j Delta ^ tweak(k, j, x)),   k the instance's index in the object's session,
 * with H the fixed-key CCR hash: the receiver knows t_{i,j} = q_{i,j} ^ c_j Delta, hence pad_c; every other pad has
 * at least one term H(t ^ Delta ^ tweak) with a tweak used nowhere else, which is pseudorandom without Delta.
 * Wire: the logn COTs plus N ell bits of ciphertexts per instance. */
#include "protocol/ot/ot_internal.h"
#include "protocol/ot/ot_testing.h"

#include <fusion/ring.h>
#include <sodium.h>
#include <stdlib.h>

/* ---- the interface ----------------------------------------------------------------------------------------------- */

void fsn_ot_n1_init(fsn_ot_n1 *n1, const fsn_ot_n1_ops *ops, fsn_cot *cot) {
  n1->ops = ops, n1->cot = cot, n1->role = cot->role;
}

static fsn_status create(fsn_ot_n1 **out, const char *ext, fsn_cot *cot, const uint8_t *seed) {
  if (!out || !ext || !cot) return fsn_fail(FSN_E_INVALID, "fsn_ot_n1_create: NULL argument");
  *out = NULL;
  if (!strcmp(ext, "rot")) return fsn_n1rot_create(out, cot);
  if (!strcmp(ext, "kk13")) return fsn_kk13_create(out, cot, seed);
  return fsn_fail(FSN_E_UNSUPPORTED, "fsn_ot_n1_create: no 1-out-of-N OT named \"%s\" (known: rot, kk13)", ext);
}

fsn_status fsn_ot_n1_create(fsn_ot_n1 **out, const char *ext, fsn_cot *cot) { return create(out, ext, cot, NULL); }

fsn_status fsn_ot_n1_create_test(fsn_ot_n1 **out, const char *ext, fsn_cot *cot, const uint8_t *seed) {
  return create(out, ext, cot, seed);
}

void fsn_ot_n1_destroy(fsn_ot_n1 *n1) {
  if (n1) n1->ops->destroy(n1);
}

const char *fsn_ot_n1_name(const fsn_ot_n1 *n1) { return n1->ops->name; }

static fsn_status check(const fsn_ot_n1 *n1, fsn_ot_role role, size_t n, unsigned logn, unsigned ell,
                        const char *what) {
  if (!n1) return fsn_fail(FSN_E_INVALID, "%s: NULL OT object", what);
  if (n1->role != role)
    return fsn_fail(FSN_E_INVALID, "%s: called on a %s object", what,
                    n1->role == FSN_OT_SENDER ? "sender" : "receiver");
  if (n1->broken) return fsn_fail(FSN_E_INVALID, "%s: the OT object failed earlier and is out of step", what);
  if (n > SIZE_MAX / 4096) return fsn_fail(FSN_E_INVALID, "%s: n = %zu too large", what, n);
  if (logn < 1 || logn > 8) return fsn_fail(FSN_E_INVALID, "%s: logn = %u outside 1 .. 8", what, logn);
  if (ell < 1 || ell > 64) return fsn_fail(FSN_E_INVALID, "%s: ell = %u outside 1 .. 64", what, ell);
  return FSN_OK;
}

static fsn_status send(fsn_ot_n1 *n1, const uint64_t *msgs, fsn_ot_msgs_fn gen, void *arg, size_t n, unsigned logn,
                       unsigned ell, const char *what) {
  fsn_status st = check(n1, FSN_OT_SENDER, n, logn, ell, what);
  if (st == FSN_OK && !msgs && !gen && n) st = fsn_fail(FSN_E_INVALID, "%s: no messages", what);
  if (st != FSN_OK || n == 0) return st;
  return fsn_n1_broke(n1, n1->ops->send(n1, msgs, gen, arg, n, logn, ell));
}

fsn_status fsn_ot_nchoose1_send(fsn_ot_n1 *n1, const uint64_t *msgs, size_t n, unsigned logn, unsigned ell) {
  return send(n1, msgs, NULL, NULL, n, logn, ell, "fsn_ot_nchoose1_send");
}

fsn_status fsn_ot_nchoose1_send_fn(fsn_ot_n1 *n1, fsn_ot_msgs_fn gen, void *arg, size_t n, unsigned logn,
                                   unsigned ell) {
  return send(n1, NULL, gen, arg, n, logn, ell, "fsn_ot_nchoose1_send_fn");
}

fsn_status fsn_ot_nchoose1_recv(fsn_ot_n1 *n1, uint64_t *out, const uint8_t *idx, size_t n, unsigned logn,
                                unsigned ell) {
  fsn_status st = check(n1, FSN_OT_RECEIVER, n, logn, ell, "fsn_ot_nchoose1_recv");
  if (st != FSN_OK || n == 0) return st;
  const size_t N = (size_t)1 << logn;
  for (size_t i = 0; i < n; i++)
    if (idx[i] >= N) return fsn_fail(FSN_E_INVALID, "fsn_ot_nchoose1_recv: idx[%zu] = %u >= N = %zu", i, idx[i], N);
  return fsn_n1_broke(n1, n1->ops->recv(n1, out, idx, n, logn, ell));
}

/* ---- "rot": logn COTs per instance --------------------------------------------------------------------------------
 */

typedef struct n1rot {
  fsn_ot_n1 base;
  uint64_t count; /* instances run so far: the tweaks' instance index */
  uint8_t *rows;  /* FSN_OT_CHUNK COT rows */
  uint8_t *blk;   /* FSN_OT_CHUNK hash inputs */
  uint64_t *ring; /* 4 FSN_OT_CHUNK ciphertexts */
  uint64_t *msgs; /* FSN_OT_CHUNK messages from gen */
} n1rot;

/* tweak(k, j, x): x in bytes 0-1 and j + 1 in byte 2 of the block's low 64 bits, the instance k in the high 64 bits;
 * injective in (k, j, x). */
static uint64_t tweak_word(unsigned j, unsigned x) { return (uint64_t)x | (uint64_t)(j + 1) << 16; }

/* Instances per round trip: logn COTs each fit one COT chunk, N ciphertexts each fit the ring buffer (4 chunks of
 * words, so that a 1-out-of-16 slice fills a whole COT chunk: each slice pays one KOS15 check). */
static size_t slice_len(unsigned logn) {
  const size_t by_cols = FSN_OT_CHUNK / logn, by_ring = 4 * FSN_OT_CHUNK >> logn;
  return by_cols < by_ring ? by_cols : by_ring;
}

static fsn_status rot_send(fsn_ot_n1 *n1, const uint64_t *msgs, fsn_ot_msgs_fn gen, void *arg, size_t n, unsigned logn,
                           unsigned ell) {
  n1rot *r = (n1rot *)(void *)n1;
  fsn_cot *cot = n1->cot;
  fsn_status st;
  const size_t N = (size_t)1 << logn, S = slice_len(logn), per_group = FSN_OT_CHUNK / (N * logn);
  const uint64_t mask = fsn_ring_mask(ell), d0 = fsn_ot_low64(cot->delta), d1 = fsn_ot_high64(cot->delta);
  for (size_t off = 0; off < n; off += S) {
    const size_t s = n - off < S ? n - off : S;
    if ((st = fsn_cot_send(cot, r->rows, s * logn)) != FSN_OK) return st;
    for (size_t g = 0; g < s; g += per_group) {
      const size_t gs = s - g < per_group ? s - g : per_group;
      uint8_t *blk = r->blk;
      for (size_t i = g; i < g + gs; i++)
        for (unsigned x = 0; x < N; x++)
          for (unsigned j = 0; j < logn; j++, blk += 16) {
            const uint8_t *q = r->rows + 16 * (i * logn + j);
            const uint64_t d = 0 - (uint64_t)(x >> j & 1u);
            fsn_ot_store64(blk, fsn_ot_low64(q) ^ (d0 & d) ^ tweak_word(j, x));
            fsn_ot_store64(blk + 8, fsn_ot_high64(q) ^ (d1 & d) ^ (r->count + off + i));
          }
      fsn_ccrh(r->blk, r->blk, gs * N * logn);
      const uint64_t *msg = msgs ? msgs + (off + g) * N : r->msgs;
      if (!msgs) gen(r->msgs, off + g, gs, arg);
      blk = r->blk;
      for (size_t i = g; i < g + gs; i++)
        for (unsigned x = 0; x < N; x++) {
          uint64_t pad = 0;
          for (unsigned j = 0; j < logn; j++, blk += 16) pad ^= fsn_ot_low64(blk);
          r->ring[i * N + x] = (msg[(i - g) * N + x] ^ pad) & mask;
        }
    }
    if ((st = fsn_channel_send_ring(cot->ch, r->ring, s * N, ell)) != FSN_OK ||
        (st = fsn_channel_flush(cot->ch)) != FSN_OK)
      return st;
  }
  r->count += n;
  return FSN_OK;
}

static fsn_status rot_recv(fsn_ot_n1 *n1, uint64_t *out, const uint8_t *idx, size_t n, unsigned logn, unsigned ell) {
  n1rot *r = (n1rot *)(void *)n1;
  fsn_cot *cot = n1->cot;
  fsn_status st;
  const size_t N = (size_t)1 << logn, S = slice_len(logn);
  const uint64_t mask = fsn_ring_mask(ell);
  for (size_t off = 0; off < n; off += S) {
    const size_t s = n - off < S ? n - off : S;
    uint8_t *bits = r->blk; /* packed choice bits of the s logn COTs */
    memset(bits, 0, (s * logn + 7) / 8);
    for (size_t i = 0; i < s; i++)
      for (unsigned j = 0; j < logn; j++) {
        const size_t b = i * logn + j;
        bits[b / 8] |= (uint8_t)((idx[off + i] >> j & 1u) << (b % 8));
      }
    if ((st = fsn_cot_recv(cot, r->rows, bits, s * logn)) != FSN_OK) return st;
    for (size_t i = 0; i < s; i++)
      for (unsigned j = 0; j < logn; j++) {
        uint8_t *t = r->rows + 16 * (i * logn + j);
        fsn_ot_store64(t, fsn_ot_low64(t) ^ tweak_word(j, idx[off + i]));
        fsn_ot_store64(t + 8, fsn_ot_high64(t) ^ (r->count + off + i));
      }
    fsn_ccrh(r->rows, r->rows, s * logn);
    if ((st = fsn_channel_recv_ring(cot->ch, r->ring, s * N, ell)) != FSN_OK) return st;
    for (size_t i = 0; i < s; i++) {
      uint64_t pad = 0, ct = 0;
      for (unsigned j = 0; j < logn; j++) pad ^= fsn_ot_low64(r->rows + 16 * (i * logn + j));
      /* Read every ciphertext so the memory access does not depend on the index. */
      for (size_t x = 0; x < N; x++) ct |= r->ring[i * N + x] & (0 - (uint64_t)(x == idx[off + i]));
      out[off + i] = (ct ^ pad) & mask;
    }
  }
  r->count += n;
  return FSN_OK;
}

static void rot_destroy(fsn_ot_n1 *n1) {
  n1rot *r = (n1rot *)(void *)n1;
  if (r->rows) sodium_memzero(r->rows, 16 * FSN_OT_CHUNK);
  if (r->blk) sodium_memzero(r->blk, 16 * FSN_OT_CHUNK);
  free(r->rows), free(r->blk), free(r->ring), free(r->msgs);
  free(r);
}

static const fsn_ot_n1_ops rot_ops = {.name = "rot", .send = rot_send, .recv = rot_recv, .destroy = rot_destroy};

fsn_status fsn_n1rot_create(fsn_ot_n1 **out, fsn_cot *cot) {
  n1rot *r = calloc(1, sizeof *r);
  if (!r) return fsn_fail(FSN_E_NOMEM, "1-out-of-N OT: %zu bytes", sizeof *r);
  fsn_ot_n1_init(&r->base, &rot_ops, cot);
  r->rows = fsn_ot_alloc64(16 * FSN_OT_CHUNK), r->blk = fsn_ot_alloc64(16 * FSN_OT_CHUNK);
  r->ring = fsn_ot_alloc64(32 * FSN_OT_CHUNK), r->msgs = fsn_ot_alloc64(8 * FSN_OT_CHUNK);
  if (!r->rows || !r->blk || !r->ring || !r->msgs) {
    rot_destroy(&r->base);
    return fsn_fail(FSN_E_NOMEM, "1-out-of-N OT: %zu bytes of working buffers", 72 * FSN_OT_CHUNK);
  }
  *out = &r->base;
  return FSN_OK;
}

/* ---- several small 1-out-of-N OTs per element, on a COT -----------------------------------------------------------
 *
 * Instance j of element i (i counted in the COT object's session from T = cot->tweak) uses logn[j] COTs. Stage 1
 * turns COT k of the element into two keys, key_{k,b} = H(q_k ^ b Delta ^ (T + i, k + 1)) (the receiver knows the one
 * of its choice bit); stage 2 pads message x with the low bits of H(S_x ^ (T + i, 2^63 | j 2^16 | x)), S_x the XOR
 * of the instance's keys key_{k, x_k}. For x other than the receiver's index, S_x contains a key the receiver cannot
 * compute without Delta, so its pad is pseudorandom (H modelled as a random oracle in stage 2). */

#define MULTI_MAX 16

typedef struct multi_shape {
  unsigned m, cots, msgs, bits; /* instances, COTs, messages and ciphertext bits per element */
  unsigned logn[MULTI_MAX], ell[MULTI_MAX], cot0[MULTI_MAX], msg0[MULTI_MAX], bit0[MULTI_MAX];
} multi_shape;

static fsn_status multi_shape_of(multi_shape *s, size_t n, unsigned m, const unsigned *logn, const unsigned *ell,
                                 const char *what) {
  *s = (multi_shape){.m = m};
  if (m < 1 || m > MULTI_MAX || !logn || !ell)
    return fsn_fail(FSN_E_INVALID, "%s: %u instances per element outside 1 .. %d", what, m, MULTI_MAX);
  for (unsigned j = 0; j < m; j++) {
    if (logn[j] < 1 || logn[j] > 8 || ell[j] < 1 || ell[j] > 8)
      return fsn_fail(FSN_E_INVALID, "%s: instance %u: logn = %u, ell = %u outside 1 .. 8", what, j, logn[j], ell[j]);
    s->logn[j] = logn[j], s->ell[j] = ell[j];
    s->cot0[j] = s->cots, s->msg0[j] = s->msgs, s->bit0[j] = s->bits;
    s->cots += logn[j], s->msgs += 1u << logn[j], s->bits += ell[j] << logn[j];
  }
  if (n > SIZE_MAX / 4096 / s->msgs) return fsn_fail(FSN_E_INVALID, "%s: n = %zu too large", what, n);
  return FSN_OK;
}

/* Elements per group of the sender's hashing: the group's message blocks fill at most one chunk. */
static size_t multi_group(const multi_shape *s) { return FSN_OT_CHUNK / s->msgs > 0 ? FSN_OT_CHUNK / s->msgs : 1; }

static void xor_tweak(uint8_t *b, uint64_t lo, uint64_t hi) {
  fsn_ot_store64(b, fsn_ot_low64(b) ^ lo);
  fsn_ot_store64(b + 8, fsn_ot_high64(b) ^ hi);
}

static uint64_t stage2_tweak(unsigned j, unsigned x) { return (uint64_t)1 << 63 | (uint64_t)j << 16 | x; }

/* Sender, count elements whose COT rows start at rows, the first one's instance number t0: keys into k0 / k1
 * (count cots blocks each), then pads into pad (count msgs blocks). */
static void multi_pads(const fsn_cot *cot, const multi_shape *s, const uint8_t *rows, uint8_t *k0, uint8_t *k1,
                       uint8_t *pad, size_t count, uint64_t t0) {
  memcpy(k0, rows, 16 * count * s->cots);
  for (size_t i = 0; i < count; i++)
    for (unsigned k = 0; k < s->cots; k++) xor_tweak(k0 + 16 * (i * s->cots + k), t0 + i, k + 1);
  fsn_ot_xor_delta(k1, k0, cot->delta, count * s->cots);
  fsn_ccrh(k0, k0, count * s->cots);
  fsn_ccrh(k1, k1, count * s->cots);
  for (size_t i = 0; i < count; i++)
    for (unsigned j = 0; j < s->m; j++)
      for (unsigned x = 0; x < 1u << s->logn[j]; x++) {
        uint64_t lo = t0 + i, hi = stage2_tweak(j, x);
        for (unsigned b = 0; b < s->logn[j]; b++) {
          const uint8_t *key = (x >> b & 1 ? k1 : k0) + 16 * (i * s->cots + s->cot0[j] + b);
          lo ^= fsn_ot_low64(key), hi ^= fsn_ot_high64(key);
        }
        uint8_t *p = pad + 16 * (i * s->msgs + s->msg0[j] + x);
        fsn_ot_store64(p, lo), fsn_ot_store64(p + 8, hi);
      }
  fsn_ccrh(pad, pad, count * s->msgs);
}

/* len <= 8 bits at bit position pos of a zeroed buffer (one byte of slack past the last bit). */
static void put_bits(uint8_t *buf, size_t pos, uint64_t v, unsigned len) {
  const unsigned w = (unsigned)(v & ((1u << len) - 1)) << (pos % 8);
  buf[pos / 8] |= (uint8_t)w, buf[pos / 8 + 1] |= (uint8_t)(w >> 8);
}

static uint64_t get_bits(const uint8_t *buf, size_t pos, unsigned len) {
  return ((unsigned)buf[pos / 8] | (unsigned)buf[pos / 8 + 1] << 8) >> (pos % 8) & ((1u << len) - 1);
}

/* Elements per group of COTs: a group's COTs fill at most one chunk (the rows of one call of the extension). */
static size_t cot_group(const multi_shape *s) { return FSN_OT_CHUNK / s->cots; }

/* The receiver's corrections: one byte-aligned section per group of COTs, all in one frame. Bit position of COT q of
 * element i (i in the group starting at c), and the frame's size. */
static size_t corr_pos(const multi_shape *s, size_t i, size_t c, unsigned q) {
  return 8 * (c / cot_group(s)) * ((cot_group(s) * s->cots + 7) / 8) + (i - c) * s->cots + q;
}
static size_t corr_bytes(const multi_shape *s, size_t n) {
  const size_t C = cot_group(s), full = n / C, rest = n % C;
  return full * ((C * s->cots + 7) / 8) + (rest * s->cots + 7) / 8;
}

/* Both parties draw every random COT of the call before they exchange anything else: the sender makes the pads of
 * every message index y of the random frame (y = the receiver's random choice bits r gets pad P[r]), the receiver
 * its one pad and its corrections d = idx ^ r; then the corrections go out in one frame and the ciphertexts
 * ct[x] = msg[x] ^ P[x ^ d] come back in one. So the extension's refills (Ferret's one-way iterations, sender to
 * receiver) all fall before the call's first turn and cost at most one round trip per call, not one each. */
static fsn_status multi_send(fsn_cot *cot, fsn_ot_msgs_fn gen, void *arg, size_t n, const multi_shape *s,
                             fsn_ot_hook_fn hook, void *hook_arg) {
  const size_t G = multi_group(s), C = cot_group(s), gm = G < n ? G : n, bytes = (n * s->bits + 7) / 8;
  const size_t cbytes = corr_bytes(s, n);
  uint8_t *rows = fsn_ot_alloc64(16 * FSN_OT_CHUNK), *keys = fsn_ot_alloc64(32 * gm * s->cots);
  uint8_t *pad = fsn_ot_alloc64(16 * gm * s->msgs), *ct = calloc(bytes + 1, 1), *pads = calloc(bytes + 1, 1);
  uint8_t *corr = malloc(cbytes + 2);
  uint64_t *msgs = malloc(8 * gm * s->msgs);
  fsn_status st = FSN_OK;
  if (!rows || !keys || !pad || !ct || !pads || !corr || !msgs) {
    st = fsn_fail(FSN_E_NOMEM, "1-out-of-N OTs of %zu elements", n);
    goto done;
  }
  const uint64_t t0 = cot->tweak;
  cot->tweak += n;
  /* Per group of COTs, per hashing group inside it: the pads of every index, their low bits kept. */
  for (size_t c = 0; c < n && st == FSN_OK; c += C) {
    const size_t cend = n - c < C ? n : c + C;
    if ((st = fsn_cot_rcot_send(cot, rows, (cend - c) * s->cots)) != FSN_OK) break;
    for (size_t g = c; g < cend; g += G) {
      const size_t count = cend - g < G ? cend - g : G;
      multi_pads(cot, s, rows + 16 * (g - c) * s->cots, keys, keys + 16 * gm * s->cots, pad, count, t0 + g);
      for (size_t i = 0; i < count; i++)
        for (unsigned j = 0; j < s->m; j++)
          for (unsigned y = 0; y < 1u << s->logn[j]; y++)
            put_bits(pads, (g + i) * s->bits + s->bit0[j] + y * s->ell[j],
                     fsn_ot_low64(pad + 16 * (i * s->msgs + s->msg0[j] + y)), s->ell[j]);
    }
  }
  if (st == FSN_OK && hook) st = hook(hook_arg);
  if (st == FSN_OK) st = fsn_channel_recv(cot->ch, corr, cbytes);
  corr[cbytes] = corr[cbytes + 1] = 0;
  for (size_t g = 0; g < n && st == FSN_OK; g += gm) {
    const size_t count = n - g < gm ? n - g : gm;
    gen(msgs, g, count, arg);
    for (size_t i = 0; i < count; i++) {
      const size_t e = g + i, c = e / C * C;
      for (unsigned j = 0; j < s->m; j++) {
        const unsigned d = (unsigned)get_bits(corr, corr_pos(s, e, c, s->cot0[j]), s->logn[j]);
        for (unsigned x = 0; x < 1u << s->logn[j]; x++) {
          const size_t at = e * s->bits + s->bit0[j];
          const uint64_t p = get_bits(pads, at + (x ^ d) * s->ell[j], s->ell[j]);
          put_bits(ct, at + x * s->ell[j], msgs[i * s->msgs + s->msg0[j] + x] ^ p, s->ell[j]);
        }
      }
    }
  }
  if (st == FSN_OK && (st = fsn_channel_send(cot->ch, ct, bytes)) == FSN_OK) st = fsn_channel_flush(cot->ch);
  st = fsn_cot_broke(cot, st);
done:
  if (keys) sodium_memzero(keys, 32 * gm * s->cots);
  if (pads) sodium_memzero(pads, bytes + 1);
  free(rows), free(keys), free(pad), free(ct), free(pads), free(corr), free(msgs);
  return st;
}

static fsn_status multi_recv(fsn_cot *cot, uint8_t *out, const uint8_t *idx, size_t n, const multi_shape *s,
                             fsn_ot_hook_fn hook, void *hook_arg) {
  const size_t C = cot_group(s), bytes = (n * s->bits + 7) / 8, cbytes = corr_bytes(s, n);
  uint8_t *rows = fsn_ot_alloc64(16 * FSN_OT_CHUNK + 16 * C * s->m), *ct = calloc(bytes + 1, 1);
  uint8_t *choice = malloc(FSN_OT_CHUNK / 8 + 2), *mine = malloc(n * s->m), *corr = calloc(cbytes + 2, 1);
  fsn_status st = FSN_OK;
  if (!rows || !ct || !choice || !mine || !corr) {
    st = fsn_fail(FSN_E_NOMEM, "1-out-of-N OTs of %zu elements", n);
    goto done;
  }
  const uint64_t t0 = cot->tweak;
  cot->tweak += n;
  uint8_t *pad = rows + 16 * FSN_OT_CHUNK;
  /* Per group of COTs: random COTs, the pad of the random index r (its low bits are all that is kept until the
   * ciphertexts come) and the corrections d = idx ^ r. */
  for (size_t c = 0; c < n && st == FSN_OK; c += C) {
    const size_t cend = n - c < C ? n : c + C, k = cend - c;
    if ((st = fsn_cot_rcot_recv(cot, rows, choice, k * s->cots)) != FSN_OK) break;
    choice[(k * s->cots + 7) / 8] = choice[(k * s->cots + 7) / 8 + 1] = 0;
    for (size_t i = 0; i < k; i++)
      for (unsigned q = 0; q < s->cots; q++) xor_tweak(rows + 16 * (i * s->cots + q), t0 + c + i, q + 1);
    fsn_ccrh(rows, rows, k * s->cots);
    for (size_t i = 0; i < k; i++)
      for (unsigned j = 0; j < s->m; j++) {
        const unsigned r = (unsigned)get_bits(choice, i * s->cots + s->cot0[j], s->logn[j]);
        uint64_t lo = t0 + c + i, hi = stage2_tweak(j, r);
        for (unsigned b = 0; b < s->logn[j]; b++) {
          const uint8_t *key = rows + 16 * (i * s->cots + s->cot0[j] + b);
          lo ^= fsn_ot_low64(key), hi ^= fsn_ot_high64(key);
        }
        fsn_ot_store64(pad + 16 * (i * s->m + j), lo), fsn_ot_store64(pad + 16 * (i * s->m + j) + 8, hi);
        put_bits(corr, corr_pos(s, c + i, c, s->cot0[j]), idx[(c + i) * s->m + j] ^ r, s->logn[j]);
      }
    fsn_ccrh(pad, pad, k * s->m);
    for (size_t i = 0; i < k * s->m; i++) mine[c * s->m + i] = (uint8_t)fsn_ot_low64(pad + 16 * i);
  }
  if (st == FSN_OK && hook) st = hook(hook_arg);
  if (st == FSN_OK && (st = fsn_channel_send(cot->ch, corr, cbytes)) == FSN_OK) st = fsn_channel_flush(cot->ch);
  if (st == FSN_OK) st = fsn_channel_recv(cot->ch, ct, bytes);
  st = fsn_cot_broke(cot, st);
  for (size_t i = 0; i < n && st == FSN_OK; i++)
    for (unsigned j = 0; j < s->m; j++) {
      const size_t k = i * s->m + j;
      const unsigned c = idx[k];
      uint64_t v = 0; /* read every ciphertext so the memory access does not depend on the index */
      for (unsigned x = 0; x < 1u << s->logn[j]; x++)
        v |= get_bits(ct, i * s->bits + s->bit0[j] + x * s->ell[j], s->ell[j]) & (0 - (uint64_t)(x == c));
      out[k] = (uint8_t)((v ^ mine[k]) & ((1u << s->ell[j]) - 1)); /* after the last read of idx[k]: may alias */
    }
done:
  if (rows) sodium_memzero(rows, 16 * FSN_OT_CHUNK + 16 * C * s->m);
  if (mine) sodium_memzero(mine, n * s->m);
  free(rows), free(ct), free(choice), free(mine), free(corr);
  return st;
}

fsn_status fsn_ot_multi_n1_send(fsn_cot *cot, fsn_ot_msgs_fn gen, void *arg, size_t n, unsigned m, const unsigned *logn,
                                const unsigned *ell, fsn_ot_hook_fn hook, void *hook_arg) {
  multi_shape s;
  fsn_status st = fsn_cot_check(cot, FSN_OT_SENDER, n, "fsn_ot_multi_n1_send");
  if (st == FSN_OK) st = multi_shape_of(&s, n, m, logn, ell, "fsn_ot_multi_n1_send");
  if (st == FSN_OK && !gen) st = fsn_fail(FSN_E_INVALID, "fsn_ot_multi_n1_send: no messages");
  if (st == FSN_OK && n == 0 && hook) st = hook(hook_arg);
  return st != FSN_OK || n == 0 ? st : multi_send(cot, gen, arg, n, &s, hook, hook_arg);
}

fsn_status fsn_ot_multi_n1_recv(fsn_cot *cot, uint8_t *out, const uint8_t *idx, size_t n, unsigned m,
                                const unsigned *logn, const unsigned *ell, fsn_ot_hook_fn hook, void *hook_arg) {
  multi_shape s;
  fsn_status st = fsn_cot_check(cot, FSN_OT_RECEIVER, n, "fsn_ot_multi_n1_recv");
  if (st == FSN_OK) st = multi_shape_of(&s, n, m, logn, ell, "fsn_ot_multi_n1_recv");
  for (size_t i = 0; st == FSN_OK && i < n * m; i++)
    if (idx[i] >> s.logn[i % m])
      return fsn_fail(FSN_E_INVALID, "fsn_ot_multi_n1_recv: idx[%zu] = %u >= 2^%u", i, idx[i], s.logn[i % m]);
  if (st == FSN_OK && n == 0 && hook) st = hook(hook_arg);
  return st != FSN_OK || n == 0 ? st : multi_recv(cot, out, idx, n, &s, hook, hook_arg);
}
