/* Oblivious transfer over real loopback sockets: every OT type at sizes around the 128-bit blocks and chunks,
 * correlations checked exactly, seeded runs identical across ISA levels, malformed peers rejected. */
#include <fusion/bits.h>
#include <fusion/ot.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/common/fsn_test.h"
#include "tests/common/fsn_test_net.h"

typedef enum kind { COT, ROT, CHOSEN, ACOT, NCHOOSE1, NKINDS } kind;
static const char *const kind_names[NKINDS] = {"cot", "rot", "chosen", "acot", "nchoose1"};

/* One two-party run: the server is the OT sender, the client the receiver. Threads write only their own fields. */
typedef struct run {
  kind k;
  size_t n;
  unsigned ell, logn;
  const uint8_t *seed_s, *seed_r; /* NULL: production randomness */
  /* inputs */
  uint8_t *choice, *idx;
  uint64_t *m0, *m1, *corr, *msgs;
  /* outputs */
  uint8_t *x0, *r0, *r1, *xc, delta[16];
  uint64_t *y0, *yc;
  fsn_status st_s, st_r;
  char err_s[256], err_r[256];
} run;

static void *xmalloc(size_t bytes) {
  void *p = malloc(bytes ? bytes : 1);
  ck_assert_ptr_nonnull(p);
  return p;
}

static fsn_status sender_body(fsn_ot *ot, run *r) {
  switch (r->k) {
  case COT: return fsn_ot_cot_send(ot, r->x0, r->n);
  case ROT: return fsn_ot_rot_send(ot, r->r0, r->r1, r->n);
  case CHOSEN: return fsn_ot_send(ot, r->m0, r->m1, r->n, r->ell);
  case ACOT: return fsn_ot_acot_send(ot, r->y0, r->corr, r->n, r->ell);
  case NCHOOSE1: return fsn_ot_nchoose1_send(ot, r->msgs, r->n, r->logn, r->ell);
  default: return FSN_E_INVALID;
  }
}

static fsn_status receiver_body(fsn_ot *ot, run *r) {
  switch (r->k) {
  case COT: return fsn_ot_cot_recv(ot, r->xc, r->choice, r->n);
  case ROT: return fsn_ot_rot_recv(ot, r->xc, r->choice, r->n);
  case CHOSEN: return fsn_ot_recv(ot, r->yc, r->choice, r->n, r->ell);
  case ACOT: return fsn_ot_acot_recv(ot, r->yc, r->choice, r->n, r->ell);
  case NCHOOSE1: return fsn_ot_nchoose1_recv(ot, r->yc, r->idx, r->n, r->logn, r->ell);
  default: return FSN_E_INVALID;
  }
}

static void keep_error(char *dst, fsn_status st) {
  if (st != FSN_OK) snprintf(dst, 256, "%s: %s", fsn_strerror(st), fsn_last_error());
}

static void server(fsn_channel *ch, void *arg) {
  run *r = arg;
  fsn_ot *ot = NULL;
  r->st_s = r->seed_s ? fsn_ot_create_seeded(&ot, ch, FSN_OT_SENDER, r->seed_s) : fsn_ot_create(&ot, ch, FSN_OT_SENDER);
  if (r->st_s == FSN_OK) r->st_s = fsn_ot_delta(ot, r->delta);
  if (r->st_s == FSN_OK) r->st_s = sender_body(ot, r);
  keep_error(r->err_s, r->st_s);
  fsn_ot_destroy(ot);
}

static void client(fsn_channel *ch, void *arg) {
  run *r = arg;
  fsn_ot *ot = NULL;
  r->st_r =
      r->seed_r ? fsn_ot_create_seeded(&ot, ch, FSN_OT_RECEIVER, r->seed_r) : fsn_ot_create(&ot, ch, FSN_OT_RECEIVER);
  if (r->st_r == FSN_OK) r->st_r = receiver_body(ot, r);
  keep_error(r->err_r, r->st_r);
  fsn_ot_destroy(ot);
}

static void run_alloc(run *r, kind k, size_t n, unsigned ell, unsigned logn) {
  memset(r, 0, sizeof *r);
  r->k = k, r->n = n, r->ell = ell, r->logn = logn;
  const size_t N = (size_t)1 << logn;
  r->choice = xmalloc((n + 7) / 8);
  fsn_test_fill(r->choice, (n + 7) / 8);
  r->idx = xmalloc(n);
  for (size_t i = 0; i < n; i++) r->idx[i] = (uint8_t)(fsn_test_rand() % N);
  r->m0 = xmalloc(n * 8), r->m1 = xmalloc(n * 8), r->corr = xmalloc(n * 8);
  fsn_test_fill_ring(r->m0, n, ell);
  fsn_test_fill_ring(r->m1, n, ell);
  fsn_test_fill_ring(r->corr, n, ell);
  r->msgs = xmalloc(n * N * 8);
  fsn_test_fill_ring(r->msgs, n * N, ell);
  r->x0 = xmalloc(n * 16), r->r0 = xmalloc(n * 16), r->r1 = xmalloc(n * 16), r->xc = xmalloc(n * 16);
  r->y0 = xmalloc(n * 8), r->yc = xmalloc(n * 8);
}

static void run_free(run *r) {
  void *ps[] = {r->choice, r->idx, r->m0, r->m1, r->corr, r->msgs, r->x0, r->r0, r->r1, r->xc, r->y0, r->yc};
  for (size_t i = 0; i < sizeof ps / sizeof ps[0]; i++) free(ps[i]);
}

static void run_both(run *r) {
  fsn_test_two_party(server, r, client, r);
  ck_assert_msg(r->st_s == FSN_OK, "%s n=%zu sender: %s", kind_names[r->k], r->n, r->err_s);
  ck_assert_msg(r->st_r == FSN_OK, "%s n=%zu receiver: %s", kind_names[r->k], r->n, r->err_r);
}

static unsigned bit(const uint8_t *packed, size_t i) { return packed[i / 8] >> (i % 8) & 1; }

static void check_outputs(const run *r) {
  const uint64_t mask = fsn_ring_mask(r->ell);
  const size_t N = (size_t)1 << r->logn;
  for (size_t i = 0; i < r->n; i++) {
    const unsigned c = bit(r->choice, i);
    switch (r->k) {
    case COT: {
      uint8_t want[16];
      for (int b = 0; b < 16; b++) want[b] = r->x0[16 * i + b] ^ (c ? r->delta[b] : 0);
      ck_assert_msg(!memcmp(r->xc + 16 * i, want, 16), "cot n=%zu: x_c != x0 ^ c Delta at %zu", r->n, i);
      break;
    }
    case ROT: {
      ck_assert_msg(!memcmp(r->xc + 16 * i, (c ? r->r1 : r->r0) + 16 * i, 16), "rot n=%zu: wrong message at %zu", r->n,
                    i);
      ck_assert_msg(memcmp(r->r0 + 16 * i, r->r1 + 16 * i, 16), "rot n=%zu: m0 == m1 at %zu", r->n, i);
      uint8_t x[16];
      for (int b = 0; b < 16; b++) x[b] = r->r0[16 * i + b] ^ r->r1[16 * i + b];
      ck_assert_msg(memcmp(x, r->delta, 16), "rot n=%zu: m0 ^ m1 == Delta at %zu (hash missing)", r->n, i);
      break;
    }
    case CHOSEN:
      ck_assert_msg(r->yc[i] == (c ? r->m1 : r->m0)[i], "chosen n=%zu ell=%u: got %#llx want %#llx at %zu", r->n,
                    r->ell, (unsigned long long)r->yc[i], (unsigned long long)(c ? r->m1 : r->m0)[i], i);
      break;
    case ACOT:
      ck_assert_msg(r->y0[i] <= mask, "acot: x0 not reduced");
      ck_assert_msg(r->yc[i] == ((r->y0[i] + (c ? r->corr[i] : 0)) & mask), "acot n=%zu ell=%u: wrong at %zu", r->n,
                    r->ell, i);
      break;
    case NCHOOSE1:
      ck_assert_msg(r->yc[i] == r->msgs[i * N + r->idx[i]], "nchoose1 N=%zu n=%zu ell=%u: wrong at %zu", N, r->n,
                    r->ell, i);
      break;
    default: ck_abort();
    }
  }
}

static void check_kind(kind k, size_t n, unsigned ell, unsigned logn) {
  run r;
  run_alloc(&r, k, n, ell, logn);
  run_both(&r);
  check_outputs(&r);
  run_free(&r);
}

static const size_t sizes[] = {1, 127, 128, 129, 1000, 65537};
#define NSIZES (sizeof sizes / sizeof sizes[0])

/* One-million runs for the streaming (cot) and the round-trip (chosen) paths, only without sanitizers (they slow the
 * AES and transpose reference paths ~10x). */
#if defined(__SANITIZE_ADDRESS__)
#define FSN_TEST_BIG 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define FSN_TEST_BIG 0
#endif
#endif
#ifndef FSN_TEST_BIG
#define FSN_TEST_BIG 1
#endif

/* The portable reference AES is bitsliced one block at a time (~100x slower than AES-NI), so the largest runs go
 * only at the SIMD levels; seeded_identical_across_isa ties the levels together. */
static int big_runs(void) { return FSN_TEST_BIG && fsn_isa_active() != FSN_ISA_REF; }

START_TEST(cot_sizes) {
  for (size_t s = 0; s < NSIZES; s++) check_kind(COT, sizes[s], 64, 1);
  if (big_runs()) check_kind(COT, 1000000, 64, 1);
}
END_TEST

START_TEST(rot_sizes) {
  for (size_t s = 0; s < NSIZES; s++) check_kind(ROT, sizes[s], 64, 1);
}
END_TEST

START_TEST(chosen_sizes) {
  for (size_t s = 0; s < NSIZES; s++) check_kind(CHOSEN, sizes[s], fsn_test_ells[s % FSN_TEST_NELLS], 1);
  if (big_runs()) check_kind(CHOSEN, 1000000, 37, 1);
}
END_TEST

START_TEST(acot_sizes) {
  for (size_t s = 0; s < NSIZES; s++) check_kind(ACOT, sizes[s], fsn_test_ells[(s + 3) % FSN_TEST_NELLS], 1);
}
END_TEST

START_TEST(nchoose1_sizes) {
  static const unsigned lognsizes[] = {1, 2, 4, 8};
  for (size_t l = 0; l < 4; l++)
    for (size_t s = 0; s < NSIZES; s++)
      if (sizes[s] * lognsizes[l] << lognsizes[l] <= (big_runs() ? (size_t)1 << 23 : (size_t)1 << 19))
        check_kind(NCHOOSE1, sizes[s], 1 + 7 * (unsigned)s, lognsizes[l]);
}
END_TEST

/* A session: several calls of different types on the same objects keep the two sides in step. */
typedef struct session {
  fsn_status st_s, st_r;
  char err_s[256], err_r[256];
  uint8_t x0[16 * 300], xc[16 * 300], delta[16], choice[40];
  uint64_t m0[300], m1[300], mc[300];
} session;

static void session_server(fsn_channel *ch, void *arg) {
  session *s = arg;
  fsn_ot *ot = NULL;
  s->st_s = fsn_ot_create(&ot, ch, FSN_OT_SENDER);
  if (s->st_s == FSN_OK) s->st_s = fsn_ot_delta(ot, s->delta);
  for (int rep = 0; rep < 3 && s->st_s == FSN_OK; rep++) {
    s->st_s = fsn_ot_cot_send(ot, s->x0, 300);
    if (s->st_s == FSN_OK) s->st_s = fsn_ot_send(ot, s->m0, s->m1, 300, 13);
  }
  keep_error(s->err_s, s->st_s);
  fsn_ot_destroy(ot);
}

static void session_client(fsn_channel *ch, void *arg) {
  session *s = arg;
  fsn_ot *ot = NULL;
  s->st_r = fsn_ot_create(&ot, ch, FSN_OT_RECEIVER);
  for (int rep = 0; rep < 3 && s->st_r == FSN_OK; rep++) {
    s->st_r = fsn_ot_cot_recv(ot, s->xc, s->choice, 300);
    if (s->st_r == FSN_OK) s->st_r = fsn_ot_recv(ot, s->mc, s->choice, 300, 13);
  }
  keep_error(s->err_r, s->st_r);
  fsn_ot_destroy(ot);
}

START_TEST(session_reuses_base_ots) {
  session *s = calloc(1, sizeof *s);
  ck_assert_ptr_nonnull(s);
  fsn_test_fill(s->choice, sizeof s->choice);
  fsn_test_fill_ring(s->m0, 300, 13);
  fsn_test_fill_ring(s->m1, 300, 13);
  fsn_test_two_party(session_server, s, session_client, s);
  ck_assert_msg(s->st_s == FSN_OK && s->st_r == FSN_OK, "%s / %s", s->err_s, s->err_r);
  for (size_t i = 0; i < 300; i++) {
    const unsigned c = bit(s->choice, i);
    for (int b = 0; b < 16; b++) ck_assert(s->xc[16 * i + b] == (s->x0[16 * i + b] ^ (c ? s->delta[b] : 0)));
    ck_assert(s->mc[i] == (c ? s->m1 : s->m0)[i]);
  }
  free(s);
}
END_TEST

/* Seeded runs give the same bytes at every ISA level this machine has (both parties in this process). */
static void digest_run(const run *r, uint8_t out[32]) {
  crypto_generichash_state h;
  crypto_generichash_init(&h, NULL, 0, 32);
  const size_t n = r->n, N = (size_t)1 << r->logn;
  (void)N;
  crypto_generichash_update(&h, r->delta, 16);
  switch (r->k) {
  case COT:
    crypto_generichash_update(&h, r->x0, 16 * n);
    crypto_generichash_update(&h, r->xc, 16 * n);
    break;
  case ROT:
    crypto_generichash_update(&h, r->r0, 16 * n);
    crypto_generichash_update(&h, r->r1, 16 * n);
    crypto_generichash_update(&h, r->xc, 16 * n);
    break;
  case ACOT: crypto_generichash_update(&h, (const uint8_t *)r->y0, 8 * n); /* fall through */
  default: crypto_generichash_update(&h, (const uint8_t *)r->yc, 8 * n);
  }
  crypto_generichash_final(&h, out, 32);
}

START_TEST(seeded_identical_across_isa) {
  static const uint8_t seed_s[32] = {1, 2, 3}, seed_r[32] = {4, 5, 6};
  for (kind k = COT; k < NKINDS; k++) {
    uint8_t first[32], d[32];
    for (int isa = FSN_ISA_REF; isa <= (int)fsn_isa_best(); isa++) {
      ck_assert_int_eq(fsn_isa_force((fsn_isa)isa), FSN_OK);
      run r;
      run_alloc(&r, k, 1000, 37, 4); /* same test RNG draws at every level: reseed below */
      r.seed_s = seed_s, r.seed_r = seed_r;
      memset(r.choice, 0x5a, (r.n + 7) / 8);
      for (size_t i = 0; i < r.n; i++)
        r.idx[i] = (uint8_t)(i * 7 % 16), r.m0[i] = i, r.m1[i] = ~i & fsn_ring_mask(37), r.corr[i] = 3 * i;
      for (size_t i = 0; i < r.n * 16; i++) r.msgs[i] = i & fsn_ring_mask(37);
      run_both(&r);
      check_outputs(&r);
      digest_run(&r, isa == FSN_ISA_REF ? first : d);
      if (isa != FSN_ISA_REF)
        ck_assert_msg(!memcmp(first, d, 32), "%s: seeded output differs between ref and %s", kind_names[k],
                      fsn_isa_name((fsn_isa)isa));
      run_free(&r);
    }
  }
}
END_TEST

/* ---- malformed peers --------------------------------------------------------------------------------------------- */

typedef enum fault {
  A_SHORT,    /* the base-OT sender's point is 16 bytes */
  A_INVALID,  /* ... is not a canonical ristretto255 encoding */
  A_IDENTITY, /* ... is the identity */
  B_SHORT,    /* the base-OT receiver sends too few points */
  B_INVALID,  /* ... sends invalid encodings */
  U_SHORT,    /* the extension receiver sends a short u matrix */
  CT_SHORT,   /* the extension sender sends short ciphertexts */
} fault;

typedef struct bad {
  fault f;
  fsn_status st; /* what the honest party got */
  fsn_status st_after;
  char err[256];
} bad;

enum { POINTS = 128 * 32 };

/* The honest party: server is the OT sender (base-OT receiver), except for faults the base-OT receiver commits. */
static void honest_sender(fsn_channel *ch, void *arg) {
  bad *b = arg;
  fsn_ot *ot = NULL;
  b->st = fsn_ot_create(&ot, ch, FSN_OT_SENDER);
  if (b->st == FSN_OK) {
    uint8_t x0[16 * 200];
    uint64_t m[200] = {0};
    b->st = b->f == U_SHORT ? fsn_ot_cot_send(ot, x0, 200) : fsn_ot_send(ot, m, m, 200, 8);
    b->st_after = fsn_ot_cot_send(ot, x0, 1);
  }
  keep_error(b->err, b->st);
  fsn_ot_destroy(ot);
}

static void honest_receiver(fsn_channel *ch, void *arg) {
  bad *b = arg;
  fsn_ot *ot = NULL;
  b->st = fsn_ot_create(&ot, ch, FSN_OT_RECEIVER);
  if (b->st == FSN_OK) {
    uint8_t choice[25] = {0};
    uint64_t mc[200];
    b->st = fsn_ot_recv(ot, mc, choice, 200, 8);
    b->st_after = fsn_ot_recv(ot, mc, choice, 1, 8);
  }
  keep_error(b->err, b->st);
  fsn_ot_destroy(ot);
}

static void evil(fsn_channel *ch, void *arg) {
  bad *b = arg;
  uint8_t *buf = calloc(1, 128 * 2048);
  fsn_ot *ot = NULL;
  fsn_status st = FSN_OK;
  switch (b->f) {
  case A_SHORT: st = fsn_channel_send(ch, buf, 16); break;
  case A_INVALID:
    memset(buf, 0xff, 32);
    st = fsn_channel_send(ch, buf, 32);
    break;
  case A_IDENTITY: st = fsn_channel_send(ch, buf, 32); break;
  case B_SHORT:
  case B_INVALID:
    st = fsn_channel_recv(ch, buf, 32);
    if (b->f == B_INVALID) memset(buf, 0xff, POINTS);
    if (st == FSN_OK) st = fsn_channel_send(ch, buf, b->f == B_SHORT ? POINTS - 32 : POINTS);
    break;
  case U_SHORT: /* a genuine receiver set-up, then a u matrix one byte short */
    st = fsn_ot_create(&ot, ch, FSN_OT_RECEIVER);
    if (st == FSN_OK) st = fsn_channel_send(ch, buf, 128 * 256 / 8 - 1);
    break;
  case CT_SHORT: /* a genuine sender set-up, read u, then ciphertexts one byte short */
    st = fsn_ot_create(&ot, ch, FSN_OT_SENDER);
    if (st == FSN_OK) st = fsn_channel_recv(ch, buf, 128 * 256 / 8);
    if (st == FSN_OK) st = fsn_channel_send(ch, buf, 2 * 200 - 1);
    break;
  }
  if (st == FSN_OK) st = fsn_channel_flush(ch);
  (void)st;
  fsn_ot_destroy(ot);
  free(buf);
}

static void check_fault(fault f, fsn_status want) {
  bad b = {.f = f};
  switch (f) {
  case A_SHORT:
  case A_INVALID:
  case A_IDENTITY:
  case U_SHORT: fsn_test_two_party(honest_sender, &b, evil, &b); break;
  default: fsn_test_two_party(evil, &b, honest_receiver, &b); break;
  }
  ck_assert_msg(b.st == want, "fault %d: got %s (%s), want %s", (int)f, fsn_strerror(b.st), b.err, fsn_strerror(want));
  if (f == U_SHORT || f == CT_SHORT) ck_assert_msg(b.st_after == FSN_E_INVALID, "fault %d: object still usable", f);
}

START_TEST(malformed_peers) {
  check_fault(A_SHORT, FSN_E_PROTOCOL);
  check_fault(A_INVALID, FSN_E_CRYPTO);
  check_fault(A_IDENTITY, FSN_E_CRYPTO);
  check_fault(B_SHORT, FSN_E_PROTOCOL);
  check_fault(B_INVALID, FSN_E_CRYPTO);
  check_fault(U_SHORT, FSN_E_PROTOCOL);
  check_fault(CT_SHORT, FSN_E_PROTOCOL);
}
END_TEST

START_TEST(bad_arguments) {
  uint8_t buf[64];
  ck_assert_int_eq(fsn_base_ot_send(NULL, buf, buf, 1, NULL), FSN_E_INVALID);
  ck_assert_int_eq(fsn_ot_cot_send(NULL, buf, 1), FSN_E_INVALID);
  ck_assert_int_eq(fsn_ot_parallel(NULL, 1, 1, NULL, NULL), FSN_E_INVALID);
}
END_TEST

/* ---- threads ----------------------------------------------------------------------------------------------------- */

enum { MT_THREADS = 2, MT_N = 100000 };

typedef struct mt {
  uint8_t *x0, *xc, *choice, delta[MT_THREADS][16];
  fsn_status st_s, st_r;
  char err_s[256], err_r[256];
} mt;

static fsn_status mt_send(fsn_ot *ot, size_t b, size_t e, void *arg) {
  return fsn_ot_cot_send(ot, ((mt *)arg)->x0 + 16 * b, e - b);
}
static fsn_status mt_recv(fsn_ot *ot, size_t b, size_t e, void *arg) {
  mt *m = arg;
  return fsn_ot_cot_recv(ot, m->xc + 16 * b, m->choice + b / 8, e - b);
}

/* One party: one extension object per channel, then the driver with one thread per object. */
static fsn_status mt_party(mt *m, fsn_channel **chs, fsn_ot_role role) {
  fsn_ot *ots[MT_THREADS] = {0};
  fsn_status st = FSN_OK;
  for (int t = 0; t < MT_THREADS && st == FSN_OK; t++) {
    st = fsn_ot_create(&ots[t], chs[t], role);
    if (st == FSN_OK && role == FSN_OT_SENDER) st = fsn_ot_delta(ots[t], m->delta[t]);
  }
  if (st == FSN_OK) st = fsn_ot_parallel(ots, MT_THREADS, MT_N, role == FSN_OT_SENDER ? mt_send : mt_recv, m);
  keep_error(role == FSN_OT_SENDER ? m->err_s : m->err_r, st);
  for (int t = 0; t < MT_THREADS; t++) fsn_ot_destroy(ots[t]);
  return st;
}

static void mt_server(fsn_channel **chs, size_t n, void *arg) {
  (void)n;
  mt *m = arg;
  m->st_s = mt_party(m, chs, FSN_OT_SENDER);
}

static void mt_client(fsn_channel **chs, size_t n, void *arg) {
  (void)n;
  mt *m = arg;
  m->st_r = mt_party(m, chs, FSN_OT_RECEIVER);
}

START_TEST(parallel_driver) {
  mt m = {.x0 = xmalloc(16 * MT_N), .xc = xmalloc(16 * MT_N), .choice = xmalloc(MT_N / 8 + 1)};
  fsn_test_fill(m.choice, MT_N / 8 + 1);
  const fsn_test_net_opts opts = {.channels = MT_THREADS};
  fsn_test_two_party_ex(&opts, mt_server, &m, mt_client, &m);
  ck_assert_msg(m.st_s == FSN_OK && m.st_r == FSN_OK, "%s / %s", m.err_s, m.err_r);
  /* Range t (multiples of 128) ran on object t, with that object's Delta. */
  const size_t per = ((MT_N + MT_THREADS - 1) / MT_THREADS + 127) / 128 * 128;
  for (size_t i = 0; i < MT_N; i++) {
    const uint8_t *delta = m.delta[i / per];
    for (int b = 0; b < 16; b++) ck_assert(m.xc[16 * i + b] == (m.x0[16 * i + b] ^ (bit(m.choice, i) ? delta[b] : 0)));
  }
  free(m.x0);
  free(m.xc);
  free(m.choice);
}
END_TEST

/* One test case per test, so one can run alone: CK_RUN_CASE=cot_sizes build/tests/test_ot */
#define ADD(suite, name)                                                                                               \
  do {                                                                                                                 \
    TCase *tc = tcase_create(#name);                                                                                   \
    tcase_add_test(tc, name);                                                                                          \
    suite_add_tcase(suite, tc);                                                                                        \
  } while (0)

int main(void) {
  Suite *s = suite_create("ot");
  ADD(s, bad_arguments);
  ADD(s, malformed_peers);
  ADD(s, session_reuses_base_ots);
  ADD(s, cot_sizes);
  ADD(s, rot_sizes);
  ADD(s, chosen_sizes);
  ADD(s, acot_sizes);
  ADD(s, nchoose1_sizes);
  ADD(s, seeded_identical_across_isa);
  ADD(s, parallel_driver);
  return fsn_test_main(s);
}
