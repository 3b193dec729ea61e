/* Non-linear two-party protocols over real loopback sockets: every protocol's reconstructed output equals the
 * plaintext reference exactly (approximate truncation: 0 or 1 ulp below), on random values and the edges 0, +-1,
 * +-2, +-2^(ell-1), with adversarial share splits (one share 0, all ones, 2^(ell-1)); byte counts against the cost
 * formulas of AND, B2A and MUX. */
#include <fusion/conv.h>
#include <fusion/isa.h>
#include <fusion/ferret.h>
#include <fusion/mc.h>
#include <fusion/nn.h>
#include <fusion/nl.h>
#include <fusion/ring.h>
#include <fusion/trunc.h>
#include <fusion/version.h>
#include <stdlib.h>
#include <string.h>

#include "tests/common/fsn_test.h"
#include "tests/common/fsn_test_net.h"

typedef enum op {
  OP_AND,
  OP_B2A,
  OP_MUX,
  OP_MILL,
  OP_MSB,
  OP_WRAP,
  OP_DRELU,
  OP_RELU,
  OP_TRUNC,
  OP_RELU_TRUNC,
  OP_GE,
  OP_MAXPOOL,
  OP_ARGMAX
} op;

/* One two-party run. Index 0 is the server's side, 1 the client's; each party touches only its own entries. */
typedef struct job {
  op op;
  unsigned ell, s, q;
  fsn_trunc_mode mode;
  size_t n, nout, threads, batch, dim;
  fsn_pool_shape pool;
  uint64_t *xa[2], *xb[2], *ya[2];
  uint8_t *ba[2], *bb[2], *yb[2], *yc[2];
  fsn_counters used[2];
  fsn_status st[2];
  bool unchecked_ot; /* the semi-honest OT costs (fsn_2pc_options.ot_unchecked), for the cost formulas */
  const char *ot;    /* the OT pack (fsn_2pc_options.ot), NULL: the default */
  bool warm;         /* ANDs first, outside the counters: a silent extension's first iteration is not counted */
} job;

typedef struct party {
  job *j;
  int who;
} party;

static void *xcalloc(size_t n, size_t size) {
  void *p = calloc(n ? n : 1, size);
  ck_assert_ptr_nonnull(p);
  return p;
}

static fsn_status run_op(fsn_2pc *p, job *j, int w) {
  switch (j->op) {
  case OP_AND: return fsn_nl_and(p, j->yb[w], j->ba[w], j->bb[w], j->n);
  case OP_B2A: return fsn_nl_b2a(p, j->ya[w], j->ba[w], j->n);
  case OP_MUX: return fsn_nl_mux(p, j->ya[w], j->ba[w], j->xa[w], j->n);
  case OP_MILL: return fsn_nl_millionaire(p, j->yb[w], j->yc[w], j->xa[w], j->n, j->q);
  case OP_MSB: return fsn_nl_msb(p, j->yb[w], j->xa[w], j->n);
  case OP_WRAP: return fsn_nl_wrap(p, j->yb[w], j->xa[w], j->n);
  case OP_DRELU: return fsn_nl_drelu(p, j->yb[w], j->xa[w], j->n);
  case OP_RELU: return fsn_nl_relu(p, j->ya[w], j->yb[w], j->xa[w], j->n);
  case OP_TRUNC: return fsn_nl_trunc(p, j->ya[w], j->xa[w], j->n, j->s, j->mode);
  case OP_RELU_TRUNC: return fsn_nl_relu_trunc(p, j->ya[w], j->xa[w], j->n, j->s);
  case OP_GE: return fsn_nl_ge(p, j->yb[w], j->xa[w], j->xb[w], j->n);
  case OP_MAXPOOL: return fsn_nl_maxpool2d(p, j->ya[w], j->xa[w], &j->pool);
  case OP_ARGMAX: return fsn_nl_argmax(p, j->ya[w], j->xa[w], j->batch, j->dim);
  }
  return FSN_E_INVALID;
}

static void party_main(fsn_channel **chs, size_t n, void *arg) {
  party *pa = arg;
  job *j = pa->j;
  fsn_2pc *p = NULL;
  const fsn_2pc_options opt = {.ot = j->ot, .ot_unchecked = j->unchecked_ot};
  j->st[pa->who] = fsn_2pc_create(&p, chs, n, pa->who ? FSN_ROLE_CLIENT : FSN_ROLE_SERVER, j->ell, 12 % j->ell, &opt);
  if (j->st[pa->who] != FSN_OK) return;
  if (j->warm) { /* enough elements that every thread draws (2048 per thread) */
    const size_t nw = n > 1 ? 2048 * n : 1;
    uint8_t *bits = xcalloc(nw, 1);
    j->st[pa->who] = fsn_nl_and(p, bits, bits, bits, nw);
    free(bits);
    if (j->st[pa->who] != FSN_OK) {
      fsn_2pc_destroy(p);
      return;
    }
  }
  fsn_counters before, after;
  fsn_2pc_counters(p, &before);
  j->st[pa->who] = run_op(p, j, pa->who);
  fsn_2pc_counters(p, &after);
  j->used[pa->who] = (fsn_counters){.bytes_sent = after.bytes_sent - before.bytes_sent,
                                    .bytes_recv = after.bytes_recv - before.bytes_recv,
                                    .rounds = after.rounds - before.rounds};
  fsn_2pc_destroy(p);
}

static void run_job(job *j) {
  fsn_test_net_opts o = {.channels = j->threads ? j->threads : 1, .params = {.ell = j->ell, .scale = 12 % j->ell}};
  party s = {j, 0}, c = {j, 1};
  fsn_test_two_party_ex(&o, party_main, &s, party_main, &c);
  ck_assert_msg(j->st[0] == FSN_OK && j->st[1] == FSN_OK, "two-party run failed: %d / %d", j->st[0], j->st[1]);
}

/* ---- inputs ---------------------------------------------------------------------------------------------------- */

static uint64_t edge(size_t k, unsigned ell) {
  const uint64_t mask = fsn_ring_mask(ell), half = (uint64_t)1 << (ell - 1);
  const uint64_t e[] = {0, 1, mask, 2 & mask, (0 - (uint64_t)2) & mask, half, (half - 1) & mask, (half + 1) & mask};
  return e[k % (sizeof e / sizeof e[0])];
}

/* Values: the edges first, then random ones (some small, some full width). */
static void fill_values(uint64_t *x, size_t n, unsigned ell) {
  const uint64_t mask = fsn_ring_mask(ell);
  for (size_t i = 0; i < n; i++) {
    if (i < 16)
      x[i] = edge(i, ell);
    else if (i % 3 == 0)
      x[i] = (fsn_test_rand() % 2001 - 1000) & mask;
    else
      x[i] = fsn_test_rand() & mask;
  }
}

/* Split x into shares, with adversarial server shares on some elements. */
static void share(uint64_t *s0, uint64_t *s1, const uint64_t *x, size_t n, unsigned ell) {
  const uint64_t mask = fsn_ring_mask(ell);
  for (size_t i = 0; i < n; i++) {
    s0[i] = i % 5 == 1 ? edge(fsn_test_rand() % 8, ell) : fsn_test_rand() & mask;
    s1[i] = (x[i] - s0[i]) & mask;
  }
}

static void share_bits(uint8_t *s0, uint8_t *s1, const uint8_t *b, size_t n) {
  for (size_t i = 0; i < n; i++) s0[i] = fsn_test_rand() & 1, s1[i] = s0[i] ^ b[i];
}

static int64_t sval(uint64_t x, unsigned ell) {
  return ell == 64 ? (int64_t)x : (int64_t)(x << (64 - ell)) >> (64 - ell);
}

/* Job with shared ring inputs a (and b) and room for every output. */
static job *make_job(op o, unsigned ell, size_t n, size_t nout, const uint64_t *a, const uint64_t *b) {
  job *j = xcalloc(1, sizeof *j);
  *j = (job){.op = o, .ell = ell, .n = n, .nout = nout};
  for (int w = 0; w < 2; w++) {
    j->xa[w] = xcalloc(n, 8), j->xb[w] = xcalloc(n, 8), j->ya[w] = xcalloc(nout, 8);
    j->ba[w] = xcalloc(n, 1), j->bb[w] = xcalloc(n, 1), j->yb[w] = xcalloc(nout, 1), j->yc[w] = xcalloc(nout, 1);
  }
  if (a) share(j->xa[0], j->xa[1], a, n, ell);
  if (b) share(j->xb[0], j->xb[1], b, n, ell);
  return j;
}

static void free_job(job *j) {
  for (int w = 0; w < 2; w++) {
    free(j->xa[w]), free(j->xb[w]), free(j->ya[w]);
    free(j->ba[w]), free(j->bb[w]), free(j->yb[w]), free(j->yc[w]);
  }
  free(j);
}

static uint64_t open_a(const job *j, size_t i) { return (j->ya[0][i] + j->ya[1][i]) & fsn_ring_mask(j->ell); }
static unsigned open_b(const job *j, size_t i) {
  ck_assert(j->yb[0][i] <= 1 && j->yb[1][i] <= 1);
  return j->yb[0][i] ^ j->yb[1][i];
}

static uint64_t wire_bytes(const job *j) { return j->used[0].bytes_sent + j->used[1].bytes_sent; }

static const unsigned ells[] = {32, 37, 64};
#define NELLS (sizeof ells / sizeof ells[0])
/* The OT packs whose protocols differ: IKNP COTs, and Ferret (the silent-OT forms). Named, since the default pack
 * depends on the ISA level. */
static const char *const packs[] = {"iknp", "ferret"};
#define NPACKS (sizeof packs / sizeof packs[0])

/* Ferret's set-up (its bootstrap iterations) through the reference AES takes minutes per context: the ferret forms run
 * at the vector levels only. Their AES is the only ISA-dependent part, and test_ferret covers Ferret itself at ref. */
static bool slow_at_ref(const char *ot) { return ot && !strcmp(ot, "ferret") && fsn_isa_active() == FSN_ISA_REF; }

/* ---- boolean pieces -------------------------------------------------------------------------------------------- */

/* The bytes of one IKNP COT call of m <= 2^15 OTs (m a multiple of 128): 16 m unchecked; with the KOS15 check
 * (the default) 16 round128(m + 192) of u and 48 of challenge and proof. */
static uint64_t cot_call_bytes(size_t m, bool unchecked) {
  return unchecked ? 16 * m : 16 * ((m + 192 + 127) / 128 * 128) + 48;
}

START_TEST(and_b2a_mux_exact_and_costs) {
  const unsigned ell = ells[_i % NELLS];
  const bool unchecked = _i >= (int)NELLS;
  const size_t n = 256; /* a multiple of 128: no OT padding, so the formulas are exact */
  uint64_t *x = xcalloc(n, 8);
  uint8_t *b = xcalloc(n, 1), *c = xcalloc(n, 1);
  fill_values(x, n, ell);
  for (size_t i = 0; i < n; i++) b[i] = fsn_test_rand() & 1, c[i] = fsn_test_rand() & 1;

  job *j = make_job(OP_AND, ell, n, n, NULL, NULL);
  j->unchecked_ot = unchecked, j->ot = "iknp"; /* IKNP's bytes per COT call */
  share_bits(j->ba[0], j->ba[1], b, n), share_bits(j->bb[0], j->bb[1], c, n);
  run_job(j);
  for (size_t i = 0; i < n; i++) ck_assert_uint_eq(open_b(j, i), b[i] & c[i]);
  /* one ROT each way (16 bytes each unchecked) and the opened d, e (2 bits) from both parties */
  ck_assert_uint_eq(wire_bytes(j), 2 * cot_call_bytes(n, unchecked) + 2 * (2 * n / 8));
  j->op = OP_B2A;
  run_job(j);
  for (size_t i = 0; i < n; i++) ck_assert_uint_eq(open_a(j, i), b[i]);
  ck_assert_uint_eq(wire_bytes(j), cot_call_bytes(n, unchecked) + (n * ell + 7) / 8); /* 128 + ell bits */
  free_job(j);

  j = make_job(OP_MUX, ell, n, n, x, NULL);
  j->unchecked_ot = unchecked, j->ot = "iknp"; /* IKNP's bytes per COT call */
  share_bits(j->ba[0], j->ba[1], b, n);
  run_job(j);
  for (size_t i = 0; i < n; i++) ck_assert_uint_eq(open_a(j, i), b[i] ? x[i] : 0);
  ck_assert_uint_eq(wire_bytes(j), 2 * (cot_call_bytes(n, unchecked) + (n * ell + 7) / 8)); /* 2 (128 + ell) bits */
  free_job(j);
  free(x), free(b), free(c);
}
END_TEST

/* ---- comparisons ----------------------------------------------------------------------------------------------- */

START_TEST(millionaire_every_width) {
  if (slow_at_ref(packs[_i])) return;
  static const unsigned qs[] = {1, 2, 3, 4, 5, 8, 9, 12, 13, 17, 31, 36, 37, 64};
  const size_t n = 160;
  for (size_t k = 0; k < sizeof qs / sizeof qs[0]; k++) {
    const unsigned q = qs[k];
    const uint64_t mask = fsn_ring_mask(q);
    job *j = make_job(OP_MILL, 64, n, n, NULL, NULL);
    j->q = q, j->ot = packs[_i];
    for (size_t i = 0; i < n; i++) {
      uint64_t a = fsn_test_rand(), b = i % 4 == 0 ? a : fsn_test_rand();
      if (i % 7 == 1) b = a ^ ((uint64_t)1 << (fsn_test_rand() % q)); /* differ in one bit */
      if (i < 4) a = i & 1 ? mask : 0, b = i & 2 ? mask : 0;
      const uint64_t junk = q < 64 ? fsn_test_rand() & ~mask : 0; /* bits above q must be ignored */
      j->xa[0][i] = a, j->xa[1][i] = b | junk;
    }
    run_job(j);
    for (size_t i = 0; i < n; i++) {
      const uint64_t a = j->xa[0][i] & mask, b = j->xa[1][i] & mask;
      ck_assert_msg(open_b(j, i) == (a < b), "q = %u, element %zu: lt wrong", q, i);
      ck_assert_msg((j->yc[0][i] ^ j->yc[1][i]) == (a == b), "q = %u, element %zu: eq wrong", q, i);
    }
    free_job(j);
  }
}
END_TEST

START_TEST(msb_wrap_drelu_relu_exact) {
  if (slow_at_ref(packs[_i / NELLS])) return;
  const unsigned ell = ells[_i % NELLS];
  const size_t n = 300;
  const uint64_t mask = fsn_ring_mask(ell);
  uint64_t *x = xcalloc(n, 8);
  fill_values(x, n, ell);
  static const op ops[] = {OP_MSB, OP_WRAP, OP_DRELU, OP_RELU};
  for (size_t k = 0; k < 4; k++) {
    job *j = make_job(ops[k], ell, n, n, x, NULL);
    j->ot = packs[_i / NELLS];
    run_job(j);
    for (size_t i = 0; i < n; i++) {
      const unsigned msb = x[i] >> (ell - 1) & 1;
      const uint64_t s0 = j->xa[0][i], s1 = j->xa[1][i];
      switch (ops[k]) {
      case OP_MSB: ck_assert_uint_eq(open_b(j, i), msb); break;
      case OP_WRAP: ck_assert_uint_eq(open_b(j, i), s0 > mask - s1); break;
      case OP_DRELU: ck_assert_uint_eq(open_b(j, i), !msb); break;
      default: ck_assert_uint_eq(open_a(j, i), (msb ? 0 : x[i])); ck_assert_uint_eq(open_b(j, i), !msb);
      }
    }
    free_job(j);
  }
  free(x);
}
END_TEST

/* The cost of a ReLU with the semi-honest OTs (unchecked IKNP), byte for byte: q = ell - 1 bits of millionaires
 * (4-bit leaves by 1-out-of-16 OT with 4-bit messages: per leaf 16 x 4 bits of ciphertexts and, with the KK13 pack,
 * one 256-bit column, with the default "iknp" pack 4 COTs of 128 bits; a narrower top leaf: 1-out-of-2^wtop, KK13
 * for wtop >= 2, else wtop COTs), one triple (a ROT each way) per AND group above the first level, 3 opened bits per
 * group from each party, then the MUX (two arithmetic COTs). n = 256 keeps every OT call a multiple of 128, and every
 * leaf call within one slice of the "iknp" construction. */
static uint64_t iknp_mill_bytes(size_t n, unsigned q, bool kk13) {
  if (q == 0) return 0;
  const unsigned m = (q + 3) / 4, wtop = q - 4 * (m - 1), full = wtop == 4 ? m : m - 1;
  uint64_t bytes = (uint64_t)n * full * ((kk13 ? 256 : 4 * 128) / 8 + 16 * 4 / 8);
  if (wtop < 4) bytes += (uint64_t)n * ((kk13 && wtop >= 2 ? 256 : 128 * wtop) / 8 + (4u << wtop) / 8);
  for (unsigned cnt = (m + 1) / 2; cnt > 1; cnt = (cnt + 1) / 2)
    bytes += 2 * 16 * (uint64_t)n * (cnt / 2) + 2 * ((3 * (uint64_t)n * (cnt / 2) + 7) / 8);
  return bytes;
}

static uint64_t relu_bytes(size_t n, unsigned ell, bool kk13) {
  return iknp_mill_bytes(n, ell - 1, kk13) + 2 * (16 * (uint64_t)n + ((uint64_t)n * ell + 7) / 8);
}

START_TEST(relu_cost_formula) {
  const unsigned ell = ells[_i % NELLS];
  const bool kk13 = _i >= (int)NELLS;
  const size_t n = 256;
  uint64_t *x = xcalloc(n, 8);
  fill_values(x, n, ell);
  job *j = make_job(OP_RELU, ell, n, n, x, NULL);
  j->unchecked_ot = true, j->ot = kk13 ? "kk13" : "iknp";
  run_job(j);
  for (size_t i = 0; i < n; i++) ck_assert_uint_eq(open_a(j, i), (x[i] >> (ell - 1) & 1) ? 0 : x[i]);
  ck_assert_uint_eq(wire_bytes(j), relu_bytes(n, ell, kk13));
  free_job(j);
  free(x);
}
END_TEST

/* On Ferret (silent OT), byte for byte after a warm-up that runs the extension's first iteration: random COTs are
 * free, a chosen-choice COT costs its 1 correction bit. Leaves: one correction bit per digit bit and 2^w ciphertexts
 * of 2 bits (1 bit for leaf 0 when eq is not wanted) in one frame; the tree: triples from random COTs, the opened
 * bits (3 per group, 2 for the least significant group of a level when eq is not wanted) from both parties. */
static uint64_t bytes_of(uint64_t bits) { return (bits + 7) / 8; }

static uint64_t silent_mill_bytes(size_t n, unsigned q, bool eq) {
  const unsigned m = (q + 3) / 4, wtop = q - 4 * (m - 1);
  uint64_t ct = 0, bytes = 0;
  for (unsigned j = 0; j < m; j++) ct += (uint64_t)(j == 0 && !eq ? 1 : 2) << (j == m - 1 ? wtop : 4);
  /* the corrections: byte-aligned per group of COTs (2^15 / q elements, at most one chunk of COTs) */
  const size_t g = ((size_t)1 << 15) / q;
  bytes = n / g * bytes_of((uint64_t)g * q) + bytes_of((uint64_t)(n % g) * q) + bytes_of(n * ct);
  for (unsigned cnt = m; cnt > 1; cnt = (cnt + 1) / 2)
    bytes += 2 * bytes_of(2 * (uint64_t)n * (cnt / 2) + (uint64_t)n * (cnt / 2 - !eq));
  return bytes;
}

START_TEST(ferret_costs) {
  if (slow_at_ref("ferret")) return;
  const unsigned ell = ells[_i];
  const size_t n = 256;
  uint64_t *x = xcalloc(n, 8);
  uint8_t *b = xcalloc(n, 1), *c = xcalloc(n, 1);
  fill_values(x, n, ell);
  for (size_t i = 0; i < n; i++) b[i] = fsn_test_rand() & 1, c[i] = fsn_test_rand() & 1;
  job *j = make_job(OP_AND, ell, n, n, x, NULL);
  j->ot = "ferret", j->warm = true;
  share_bits(j->ba[0], j->ba[1], b, n), share_bits(j->bb[0], j->bb[1], c, n);
  run_job(j);
  for (size_t i = 0; i < n; i++) ck_assert_uint_eq(open_b(j, i), b[i] & c[i]);
  ck_assert_uint_eq(wire_bytes(j), 2 * bytes_of(2 * n)); /* triples from random COTs: only d, e are sent */
  j->op = OP_B2A;
  run_job(j);
  for (size_t i = 0; i < n; i++) ck_assert_uint_eq(open_a(j, i), b[i]);
  ck_assert_uint_eq(wire_bytes(j), bytes_of(n) + bytes_of(n * ell)); /* 1 + ell bits */
  j->op = OP_MUX;
  run_job(j);
  for (size_t i = 0; i < n; i++) ck_assert_uint_eq(open_a(j, i), b[i] ? x[i] : 0);
  ck_assert_uint_eq(wire_bytes(j), 2 * (bytes_of(n) + bytes_of(n * ell))); /* 2 (1 + ell) bits */
  j->op = OP_RELU;
  run_job(j);
  for (size_t i = 0; i < n; i++) ck_assert_uint_eq(open_a(j, i), (x[i] >> (ell - 1) & 1) ? 0 : x[i]);
  ck_assert_uint_eq(wire_bytes(j), silent_mill_bytes(n, ell - 1, false) + 2 * (bytes_of(n) + bytes_of(n * ell)));
  j->op = OP_MILL, j->q = ell;
  run_job(j);
  ck_assert_uint_eq(wire_bytes(j), silent_mill_bytes(n, ell, true));
  free_job(j);
  /* Known-sign truncation: w = MSB(x_s) OR MSB(x_c) needs only its value mod 2^s (1 + s bits); exact adds the low
   * carry (millionaires on s bits, lt only) and its B2A in Z_2^(ell-s). */
  const unsigned s = 12;
  uint64_t *ref = xcalloc(n, 8);
  for (size_t i = 0; i < n; i++) x[i] &= fsn_ring_mask(ell) >> 1;
  fsn_trunc_sar(ref, x, n, ell, s);
  j = make_job(OP_TRUNC, ell, n, n, x, NULL);
  j->ot = "ferret", j->warm = true, j->s = s;
  j->mode = FSN_TRUNC_NONNEG_APPROX;
  run_job(j);
  for (size_t i = 0; i < n; i++)
    ck_assert(open_a(j, i) == ref[i] || open_a(j, i) == ((ref[i] - 1) & fsn_ring_mask(ell)));
  ck_assert_uint_eq(wire_bytes(j), bytes_of(n) + bytes_of(n * s));
  j->mode = FSN_TRUNC_NONNEG;
  run_job(j);
  for (size_t i = 0; i < n; i++) ck_assert_uint_eq(open_a(j, i), ref[i]);
  ck_assert_uint_eq(wire_bytes(j), silent_mill_bytes(n, s, false) + bytes_of(n) + bytes_of(n * (ell - s)) +
                                       bytes_of(n) + bytes_of(n * s));
  free_job(j);
  free(x), free(b), free(c), free(ref);
}
END_TEST

/* ReLU fused with the exact truncation: max(x >> s, 0) against the plaintext (the shift, then ReLU), on every pack,
 * with multiples of 2^s, low bits all ones and the values around 0 and +-2^(ell-1) among the inputs. */
static const char *const all_packs[] = {"iknp", "kk13", "ferret"};
#define NALLPACKS (sizeof all_packs / sizeof all_packs[0])

static void relu_trunc_ref(uint64_t *ref, const uint64_t *x, size_t n, unsigned ell, unsigned s) {
  fsn_trunc_sar(ref, x, n, ell, s);
  for (size_t i = 0; i < n; i++)
    if (ref[i] >> (ell - 1) & 1) ref[i] = 0;
}

START_TEST(relu_trunc_exact) {
  const char *ot = all_packs[_i / NELLS];
  if (slow_at_ref(ot)) return;
  const unsigned ell = ells[_i % NELLS];
  const unsigned shifts[] = {1, 4, 12, 13, ell - 2, ell - 1};
  const size_t n = 320;
  const uint64_t mask = fsn_ring_mask(ell), half = (uint64_t)1 << (ell - 1);
  uint64_t *x = xcalloc(n, 8), *ref = xcalloc(n, 8);
  for (size_t k = 0; k < sizeof shifts / sizeof shifts[0]; k++) {
    const unsigned s = shifts[k];
    const uint64_t lo = fsn_ring_mask(s);
    fill_values(x, n, ell);
    for (size_t i = 16; i < 96; i++) {
      const uint64_t base = i % 4 < 2 ? (uint64_t)(i / 4) << s : half + ((uint64_t)(i / 4) << s);
      x[i] = (i % 2 ? base | lo : base) & mask; /* multiples of 2^s, and the same with the low bits all ones */
      if (i % 8 >= 4) x[i] = (0 - x[i]) & mask;
    }
    for (size_t i = 96; i < 104; i++) x[i] = (half - 4 + (i - 96)) & mask; /* around +-2^(ell-1) */
    relu_trunc_ref(ref, x, n, ell, s);
    job *j = make_job(OP_RELU_TRUNC, ell, n, n, x, NULL);
    j->s = s, j->ot = ot;
    run_job(j);
    for (size_t i = 0; i < n; i++)
      ck_assert_msg(open_a(j, i) == ref[i], "%s ell %u s %u x %llx: %llx != %llx", ot ? ot : "iknp", ell, s,
                    (unsigned long long)x[i], (unsigned long long)open_a(j, i), (unsigned long long)ref[i]);
    free_job(j);
  }
  free(x), free(ref);
}
END_TEST

/* Its bytes: the millionaires on the low s bits (lt) and on the middle ell - 1 - s (lt, eq), one AND, the carry's B2A
 * and the MUX in Z_2^(ell-s), the lift's product in Z_2^s. IKNP (unchecked, and KK13 leaves) and Ferret (warmed). */
START_TEST(relu_trunc_cost_formula) {
  const char *ot = all_packs[_i / NELLS];
  if (slow_at_ref(ot)) return;
  const unsigned ell = ells[_i % NELLS], s = 12, k = ell - s;
  const size_t n = 256;
  uint64_t *x = xcalloc(n, 8), *ref = xcalloc(n, 8);
  fill_values(x, n, ell);
  relu_trunc_ref(ref, x, n, ell, s);
  job *j = make_job(OP_RELU_TRUNC, ell, n, n, x, NULL);
  j->s = s, j->ot = ot;
  uint64_t bytes;
  if (ot && !strcmp(ot, "ferret")) {
    j->warm = true;
    bytes = silent_mill_bytes(n, s, false) + silent_mill_bytes(n, k - 1, true) + 2 * bytes_of(2 * n) +
            3 * (bytes_of(n) + bytes_of(n * k)) + bytes_of(n) + bytes_of(n * s);
  } else {
    j->unchecked_ot = true;
    const bool kk13 = !strcmp(ot, "kk13");
    bytes = iknp_mill_bytes(n, s, kk13) + iknp_mill_bytes(n, k - 1, kk13) + 2 * 16 * n + 2 * (2 * n / 8) +
            3 * (16 * n + bytes_of(n * k)) + 16 * n + bytes_of(n * s);
  }
  run_job(j);
  for (size_t i = 0; i < n; i++) ck_assert_uint_eq(open_a(j, i), ref[i]);
  ck_assert_uint_eq(wire_bytes(j), bytes);
  free_job(j);
  free(x), free(ref);
}
END_TEST

START_TEST(signed_ge_exact) {
  const unsigned ell = ells[_i];
  const size_t n = 300;
  uint64_t *a = xcalloc(n, 8), *b = xcalloc(n, 8);
  fill_values(a, n, ell), fill_values(b, n, ell);
  for (size_t i = 0; i < 64; i++) a[i] = edge(i / 8, ell), b[i] = edge(i, ell); /* every pair of edges */
  for (size_t i = 64; i < n; i += 5) b[i] = a[i];
  job *j = make_job(OP_GE, ell, n, n, a, b);
  run_job(j);
  for (size_t i = 0; i < n; i++)
    ck_assert_msg(open_b(j, i) == (sval(a[i], ell) >= sval(b[i], ell)), "ell %u, %zu: %llx >= %llx", ell, i,
                  (unsigned long long)a[i], (unsigned long long)b[i]);
  free_job(j);
  free(a), free(b);
}
END_TEST

/* ---- truncation ------------------------------------------------------------------------------------------------ */

START_TEST(trunc_every_mode) {
  if (slow_at_ref(packs[_i / NELLS])) return;
  const unsigned ell = ells[_i % NELLS];
  const size_t n = 256;
  static const unsigned shifts[] = {1, 12, 13};
  const uint64_t mask = fsn_ring_mask(ell);
  uint64_t *x = xcalloc(n, 8), *ref = xcalloc(n, 8);
  for (int mode = FSN_TRUNC_EXACT; mode <= FSN_TRUNC_NONNEG_APPROX; mode++)
    for (size_t k = 0; k < 3 + (mode == FSN_TRUNC_EXACT); k++) {
      const unsigned s = k < 3 ? shifts[k] : ell - 1;
      fill_values(x, n, ell);
      if (mode >= FSN_TRUNC_NONNEG)
        for (size_t i = 0; i < n; i++) x[i] &= mask >> 1; /* non-negative values, edges 0 .. 2^(ell-1) - 1 kept */
      fsn_trunc_sar(ref, x, n, ell, s);
      job *j = make_job(OP_TRUNC, ell, n, n, x, NULL);
      j->s = s, j->mode = (fsn_trunc_mode)mode, j->ot = packs[_i / NELLS];
      run_job(j);
      for (size_t i = 0; i < n; i++) {
        const uint64_t got = open_a(j, i);
        if (mode == FSN_TRUNC_EXACT || mode == FSN_TRUNC_NONNEG)
          ck_assert_msg(got == ref[i], "ell %u s %u mode %d x %llx: %llx != %llx", ell, s, mode,
                        (unsigned long long)x[i], (unsigned long long)got, (unsigned long long)ref[i]);
        else
          ck_assert_msg(got == ref[i] || got == ((ref[i] - 1) & mask), "ell %u s %u mode %d x %llx: %llx vs %llx", ell,
                        s, mode, (unsigned long long)x[i], (unsigned long long)got, (unsigned long long)ref[i]);
      }
      free_job(j);
    }
  free(x), free(ref);
}
END_TEST

/* ---- pooling and argmax ---------------------------------------------------------------------------------------- */

START_TEST(maxpool_matches_plaintext) {
  const unsigned ell = ells[_i];
  static const fsn_pool_shape shapes[] = {
      {.batch = 2,
       .channels = 3,
       .in_h = 7,
       .in_w = 6,
       .k_h = 3,
       .k_w = 3,
       .stride_h = 2,
       .stride_w = 2,
       .pad_h = 1,
       .pad_w = 1},
      {.batch = 1, .channels = 2, .in_h = 4, .in_w = 4, .k_h = 2, .k_w = 2, .stride_h = 2, .stride_w = 2},
      {.batch = 1, .channels = 1, .in_h = 5, .in_w = 5, .k_h = 5, .k_w = 1, .stride_h = 1, .stride_w = 1},
  };
  for (size_t k = 0; k < sizeof shapes / sizeof shapes[0]; k++) {
    const fsn_pool_shape *sh = &shapes[k];
    const size_t nin = sh->batch * sh->channels * sh->in_h * sh->in_w;
    const size_t nout = sh->batch * sh->channels * fsn_pool_out_h(sh) * fsn_pool_out_w(sh);
    uint64_t *x = xcalloc(nin, 8), *ref = xcalloc(nout, 8);
    fill_values(x, nin, ell);
    for (size_t i = 16; i < nin; i += 4) x[i] = edge(fsn_test_rand(), ell);
    fsn_maxpool2d(ref, x, sh, ell);
    job *j = make_job(OP_MAXPOOL, ell, nin, nout, x, NULL);
    j->pool = *sh;
    run_job(j);
    for (size_t i = 0; i < nout; i++) ck_assert_uint_eq(open_a(j, i), ref[i]);
    free_job(j);
    free(x), free(ref);
  }
}
END_TEST

START_TEST(argmax_first_maximum) {
  const unsigned ell = ells[_i];
  static const size_t dims[] = {1, 2, 3, 10, 17};
  for (size_t k = 0; k < sizeof dims / sizeof dims[0]; k++) {
    const size_t dim = dims[k], batch = 9, n = batch * dim;
    uint64_t *x = xcalloc(n, 8);
    fill_values(x, n, ell);
    for (size_t i = 0; i < n; i++)
      if (fsn_test_rand() % 3 == 0) x[i] = edge(fsn_test_rand(), ell); /* ties and extremes */
    job *j = make_job(OP_ARGMAX, ell, n, batch, x, NULL);
    j->batch = batch, j->dim = dim;
    run_job(j);
    for (size_t b = 0; b < batch; b++) ck_assert_uint_eq(j->ya[1][b], fsn_nn_argmax_fixed(x + b * dim, dim, ell));
    free_job(j);
    free(x);
  }
}
END_TEST

/* ---- rounds that do not grow with the layer -------------------------------------------------------------------- */

/* The Ferret iterations an object runs to hand out `draws` more COTs after the warm-up (its first iteration, then
 * 2048 COTs drawn), on the default set with the MPCOT check (the default): each adds FSN_FERRET_CHECK_COTS fewer
 * COTs to the pool than the set's usable ones. */
static uint64_t ferret_iterations(uint64_t draws) {
  const uint64_t pool = fsn_ferret_usable(fsn_ferret_params_named("b11")) - FSN_FERRET_CHECK_COTS, left = pool - 2048;
  return draws <= left ? 0 : (draws - left + pool - 1) / pool;
}

/* Their bytes: per iteration one frame of fsn_ferret_iteration_bytes and the check's FSN_FERRET_CHECK_BYTES. */
static uint64_t ferret_bytes(uint64_t draws) {
  return ferret_iterations(draws) *
         (fsn_ferret_iteration_bytes(fsn_ferret_params_named("b11")) + FSN_FERRET_CHECK_BYTES);
}

/* One Ferret run of op on n elements over two threads: bit-exact, bytes = formula; returns the rounds both parties'
 * channels saw, and in *iters the Ferret iterations each thread's objects ran. AND, B2A, MUX and truncation at these
 * sizes fit the pool one warm-up leaves (1.5 M COTs per object on the default set); ReLU's bytes include its Ferret
 * iterations' frames. */
static uint64_t ferret_rounds(op o, unsigned ell, size_t n, const uint64_t *x, const uint8_t *b, const uint8_t *c,
                              uint64_t *iters) {
  const unsigned s = 12;
  job *j = make_job(o, ell, n, n, x, NULL);
  j->ot = "ferret", j->warm = true, j->threads = 2, j->s = s, j->mode = FSN_TRUNC_NONNEG_APPROX;
  share_bits(j->ba[0], j->ba[1], b, n), share_bits(j->bb[0], j->bb[1], c, n);
  run_job(j);
  const size_t per = n / 2; /* each thread's share: a multiple of 8, so its bytes add up to the formula */
  const unsigned q = ell - 1, m = (q + 3) / 4;
  unsigned groups = 0;
  for (unsigned cnt = m; cnt > 1; cnt = (cnt + 1) / 2) groups += cnt / 2;
  /* random COTs per element each thread draws from the server-to-client pair and from the other */
  const uint64_t draws[2] = {o == OP_RELU ? q + groups + 1 : 1, o == OP_RELU ? groups + 1 : o == OP_AND || o == OP_MUX};
  uint64_t bytes = ferret_bytes(draws[0] * per) + ferret_bytes(draws[1] * per);
  *iters = ferret_iterations(draws[0] * per) + ferret_iterations(draws[1] * per);
  for (size_t i = 0; i < n; i++) switch (o) {
    case OP_AND: ck_assert_uint_eq(open_b(j, i), b[i] & c[i]); break;
    case OP_B2A: ck_assert_uint_eq(open_a(j, i), b[i]); break;
    case OP_MUX: ck_assert_uint_eq(open_a(j, i), b[i] ? x[i] : 0); break;
    case OP_RELU: ck_assert_uint_eq(open_a(j, i), (x[i] >> (ell - 1) & 1) ? 0 : x[i]); break;
    default: {
      const uint64_t want = x[i] >> s, got = open_a(j, i);
      ck_assert(got == want || got == ((want - 1) & fsn_ring_mask(ell)));
    }
    }
  switch (o) {
  case OP_AND: bytes += 2 * bytes_of(2 * per); break;
  case OP_B2A: bytes += bytes_of(per) + bytes_of(per * ell); break;
  case OP_MUX: bytes += 2 * (bytes_of(per) + bytes_of(per * ell)); break;
  case OP_RELU: bytes += silent_mill_bytes(per, q, false) + 2 * (bytes_of(per) + bytes_of(per * ell)); break;
  default: bytes += bytes_of(per) + bytes_of(per * s); break;
  }
  ck_assert_uint_eq(wire_bytes(j), 2 * bytes);
  const uint64_t rounds = j->used[0].rounds + j->used[1].rounds;
  free_job(j);
  return rounds;
}

/* AND, B2A, MUX, known-sign truncation and ReLU on 2^16 and on 2^20 elements (2^19 per thread, twice the old silent
 * block of 2^18): the same rounds (ReLU: up to Ferret's iterations, bounded per call). Rounds do not depend on memory
 * checking, and these sizes took the suite past its timeout under the sanitizers, so sanitizer builds skip the case
 * (the same code paths run there at the smaller sizes of the cost tests). */
START_TEST(ferret_rounds_flat) {
  if (slow_at_ref("ferret") || strcmp(FSN_BUILD_SANITIZE, "none") != 0) return;
  const unsigned ell = 32;
  const size_t small = (size_t)1 << 16, big = (size_t)1 << 20;
  static const op ops[] = {OP_AND, OP_B2A, OP_MUX, OP_TRUNC, OP_RELU};
  const op o = ops[_i];
  uint64_t *x = xcalloc(big, 8);
  uint8_t *b = xcalloc(big, 1), *c = xcalloc(big, 1);
  fill_values(x, big, ell);
  for (size_t i = 0; i < big; i++) {
    b[i] = fsn_test_rand() & 1, c[i] = fsn_test_rand() & 1;
    if (o == OP_TRUNC) x[i] &= fsn_ring_mask(ell) >> 1;
  }
  uint64_t it_small, it_big;
  const uint64_t r_small = ferret_rounds(o, ell, small, x, b, c, &it_small);
  const uint64_t r_big = ferret_rounds(o, ell, big, x, b, c, &it_big);
  /* ReLU at 2^20 runs about ten Ferret iterations per thread (none at 2^16); those falling against a flight's
   * direction (the leaves' and the MUX's draws after a receive) cost at most one round per call, not one each: at
   * most 2 per party and thread. The MPCOT check's round trip adds at most one round per party and iteration. */
  ck_assert_uint_eq(it_small, 0);
  const uint64_t slack = o == OP_RELU ? 2 * 2 * 2 + 2 * it_big : 0;
  if (o != OP_RELU) ck_assert_uint_eq(it_big, 0); /* the warm pool covers them */
  ck_assert_msg(r_small <= r_big && r_big <= r_small + slack, "op %d: %llu rounds at 2^16, %llu at 2^20", (int)o,
                (unsigned long long)r_small, (unsigned long long)r_big);
  ck_assert_uint_gt(r_small, 0);
  free(x), free(b), free(c);
}
END_TEST

/* Several worker threads, each on its own channel: the split must not change a single bit. */
START_TEST(threads_relu_and_trunc) {
  const unsigned ell = 37;
  const size_t n = 4200; /* two threads from 4096 elements on */
  uint64_t *x = xcalloc(n, 8), *ref = xcalloc(n, 8);
  fill_values(x, n, ell);
  job *j = make_job(OP_RELU, ell, n, n, x, NULL);
  j->threads = 2;
  run_job(j);
  for (size_t i = 0; i < n; i++) ck_assert_uint_eq(open_a(j, i), (x[i] >> (ell - 1) ? 0 : x[i]));
  j->op = OP_TRUNC, j->s = 12, j->mode = FSN_TRUNC_EXACT;
  run_job(j);
  fsn_trunc_sar(ref, x, n, ell, 12);
  for (size_t i = 0; i < n; i++) ck_assert_uint_eq(open_a(j, i), ref[i]);
  free_job(j);
  free(x), free(ref);
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("nonlinear");
  TCase *tc = tcase_create("nonlinear");
  tcase_set_timeout(tc, 300);
  tcase_add_loop_test(tc, and_b2a_mux_exact_and_costs, 0, 2 * NELLS);
  tcase_add_loop_test(tc, millionaire_every_width, 0, NPACKS);
  tcase_add_loop_test(tc, msb_wrap_drelu_relu_exact, 0, NPACKS * NELLS);
  tcase_add_loop_test(tc, relu_cost_formula, 0, 2 * NELLS);
  tcase_add_loop_test(tc, ferret_costs, 0, NELLS);
  tcase_add_loop_test(tc, relu_trunc_exact, 0, NALLPACKS * NELLS);
  tcase_add_loop_test(tc, relu_trunc_cost_formula, 0, NALLPACKS * NELLS);
  tcase_add_loop_test(tc, signed_ge_exact, 0, NELLS);
  tcase_add_loop_test(tc, trunc_every_mode, 0, NPACKS * NELLS);
  tcase_add_loop_test(tc, maxpool_matches_plaintext, 0, NELLS);
  tcase_add_loop_test(tc, argmax_first_maximum, 0, NELLS);
  tcase_add_test(tc, threads_relu_and_trunc);
  suite_add_tcase(s, tc);
  TCase *rounds = tcase_create("rounds");
  tcase_set_timeout(rounds, 600);
  tcase_add_loop_test(rounds, ferret_rounds_flat, 0, 5);
  suite_add_tcase(s, rounds);
  return s;
}

int main(void) { return fsn_test_main(suite()); }
