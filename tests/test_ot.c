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
  uint64_t sent_s, sent_r;  /* payload bytes each party sent during the body (after the set-up) */
  int use_gen;              /* 1-out-of-N: the sender's messages through fsn_ot_nchoose1_send_fn */
  size_t gen_next, gen_bad; /* the next instance gen expects; contract violations seen */
  fsn_status st_s, st_r;
  char err_s[256], err_r[256];
} run;

static void *xmalloc(size_t bytes) {
  void *p = malloc(bytes ? bytes : 1);
  ck_assert_ptr_nonnull(p);
  return p;
}

/* fsn_ot_msgs_fn over the run's message array, checking the contract: increasing, contiguous, bounded ranges. */
static void gen_msgs(uint64_t *msgs, size_t begin, size_t count, void *arg) {
  run *r = arg;
  const size_t N = (size_t)1 << r->logn;
  if (begin != r->gen_next || count == 0 || count > ((size_t)1 << 15) / N || begin + count > r->n) r->gen_bad++;
  r->gen_next = begin + count;
  memcpy(msgs, r->msgs + begin * N, count * N * sizeof *msgs);
}

static fsn_status sender_body(fsn_ot *ot, run *r) {
  switch (r->k) {
  case COT: return fsn_ot_cot_send(ot, r->x0, r->n);
  case ROT: return fsn_ot_rot_send(ot, r->r0, r->r1, r->n);
  case CHOSEN: return fsn_ot_send(ot, r->m0, r->m1, r->n, r->ell);
  case ACOT: return fsn_ot_acot_send(ot, r->y0, r->corr, r->n, r->ell);
  case NCHOOSE1:
    return r->use_gen ? fsn_ot_nchoose1_send_fn(ot, gen_msgs, r, r->n, r->logn, r->ell)
                      : fsn_ot_nchoose1_send(ot, r->msgs, r->n, r->logn, r->ell);
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

static uint64_t bytes_sent(const fsn_channel *ch) {
  fsn_counters c;
  fsn_channel_counters(ch, &c);
  return c.bytes_sent;
}

/* 1-out-of-N runs its KK13 base OTs up front, so that the body's traffic is the extension's alone. */
static void server(fsn_channel *ch, void *arg) {
  run *r = arg;
  fsn_ot *ot = NULL;
  r->st_s = r->seed_s ? fsn_ot_create_seeded(&ot, ch, FSN_OT_SENDER, r->seed_s) : fsn_ot_create(&ot, ch, FSN_OT_SENDER);
  if (r->st_s == FSN_OK) r->st_s = fsn_ot_delta(ot, r->delta);
  if (r->st_s == FSN_OK && r->k == NCHOOSE1) r->st_s = fsn_ot_nchoose1_setup(ot);
  const uint64_t before = bytes_sent(ch);
  if (r->st_s == FSN_OK) r->st_s = sender_body(ot, r);
  r->sent_s = bytes_sent(ch) - before;
  keep_error(r->err_s, r->st_s);
  fsn_ot_destroy(ot);
}

static void client(fsn_channel *ch, void *arg) {
  run *r = arg;
  fsn_ot *ot = NULL;
  r->st_r =
      r->seed_r ? fsn_ot_create_seeded(&ot, ch, FSN_OT_RECEIVER, r->seed_r) : fsn_ot_create(&ot, ch, FSN_OT_RECEIVER);
  if (r->st_r == FSN_OK && r->k == NCHOOSE1) r->st_r = fsn_ot_nchoose1_setup(ot);
  const uint64_t before = bytes_sent(ch);
  if (r->st_r == FSN_OK) r->st_r = receiver_body(ot, r);
  r->sent_r = bytes_sent(ch) - before;
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

/* The wire format of <fusion/ot.h>, byte for byte. KK13 (logn >= 2): per chunk of up to 2^14 instances 32 bytes of
 * columns per instance (rounded up to 128 instances) from the receiver; ciphertexts in frames of 2^16 / N
 * instances from the sender, each frame packed to ell bits. logn = 1: IKNP, slices of 2^15 instances, 16 bytes of
 * u per instance (rounded up to 128), 2 packed ciphertexts each. */
static void nchoose1_bytes(size_t n, unsigned logn, unsigned ell, uint64_t *from_receiver, uint64_t *from_sender) {
  const size_t N = (size_t)1 << logn, chunk = logn == 1 ? (size_t)1 << 15 : (size_t)1 << 14;
  const size_t frame = logn == 1 ? chunk : ((size_t)1 << 16) / N, col_bytes = logn == 1 ? 16 : 32;
  *from_receiver = *from_sender = 0;
  for (size_t off = 0; off < n; off += chunk) {
    const size_t m = n - off < chunk ? n - off : chunk;
    *from_receiver += col_bytes * ((m + 127) / 128 * 128);
    for (size_t f = 0; f < m; f += frame)
      *from_sender += fsn_ring_packed_bytes((m - f < frame ? m - f : frame) * N, ell);
  }
}

static const size_t n1_sizes[] = {1, 127, 128, 129, 1000, 16385, 65537, 100000};
static const unsigned n1_ells[] = {1, 4, 8, 13, 32, 37, 63, 64};

/* N = 2, 4, 16, 256 at sizes 1 .. 10^5 (non-multiples of 128, across the frames and the 2^14-instance chunks), as
 * far as the sender's n N messages stay below 2^23 (2^19 at the reference level, whose AES is ~100x slower). */
START_TEST(nchoose1_sizes) {
  static const unsigned lognsizes[] = {1, 2, 4, 8};
  const size_t cap = big_runs() ? (size_t)1 << 23 : (size_t)1 << 19;
  for (size_t l = 0; l < 4; l++)
    for (size_t s = 0; s < sizeof n1_sizes / sizeof n1_sizes[0]; s++) {
      const size_t n = n1_sizes[s];
      const unsigned logn = lognsizes[l], ell = n1_ells[(s + l) % 8];
      if (n << logn > cap) continue;
      run r;
      run_alloc(&r, NCHOOSE1, n, ell, logn);
      r.use_gen = s % 2; /* every other size through the message generator */
      run_both(&r);
      check_outputs(&r);
      ck_assert_msg(!r.gen_bad && (!r.use_gen || r.gen_next == n), "nchoose1 N=%zu n=%zu: generator contract broken",
                    (size_t)1 << logn, n);
      uint64_t want_r, want_s;
      nchoose1_bytes(n, logn, ell, &want_r, &want_s);
      ck_assert_msg(r.sent_r == want_r && r.sent_s == want_s,
                    "nchoose1 N=%zu n=%zu ell=%u: bytes %llu / %llu, want %llu / %llu", (size_t)1 << logn, n, ell,
                    (unsigned long long)r.sent_r, (unsigned long long)r.sent_s, (unsigned long long)want_r,
                    (unsigned long long)want_s);
      run_free(&r);
    }
}
END_TEST

/* Indices equal to N - 1 and 0 everywhere (the extremes of the code), and messages that are all distinct. */
START_TEST(nchoose1_extreme_indices) {
  for (unsigned logn = 1; logn <= 8; logn++) {
    const size_t n = 300, N = (size_t)1 << logn;
    run r;
    run_alloc(&r, NCHOOSE1, n, 64, logn);
    for (size_t i = 0; i < n; i++) r.idx[i] = (uint8_t)(i % 3 == 0 ? 0 : i % 3 == 1 ? N - 1 : fsn_test_rand() % N);
    for (size_t k = 0; k < n * N; k++) r.msgs[k] = k * 0x9e3779b97f4a7c15ull;
    run_both(&r);
    check_outputs(&r);
    run_free(&r);
  }
}
END_TEST

/* The KK13 wire format and hash, from the specification in protocol/ot/kk13.c and docs/SECURITY.md, by a receiver
 * written here from the public primitives only: it must decrypt its chosen messages, and (at ell = 64, where a chance
 * match has probability 2^-64) its pad must decrypt no other message. At ell = 4 the sender packs 16 x 4 bits into
 * one word itself; the receiver here reads them with fsn_channel_recv_ring. */
enum { SPEC_N = 384, SPEC_LOGN = 4 };

typedef struct spec {
  unsigned ell;
  uint64_t msgs[SPEC_N << SPEC_LOGN];
  uint8_t idx[SPEC_N];
  fsn_status st_s, st_r;
  char err_s[256];
  int chosen_ok, others_differ;
} spec;

static void spec_server(fsn_channel *ch, void *arg) {
  spec *sp = arg;
  fsn_ot *ot = NULL;
  sp->st_s = fsn_ot_create(&ot, ch, FSN_OT_SENDER);
  if (sp->st_s == FSN_OK) sp->st_s = fsn_ot_nchoose1_setup(ot);
  if (sp->st_s == FSN_OK) sp->st_s = fsn_ot_nchoose1_send(ot, sp->msgs, SPEC_N, SPEC_LOGN, sp->ell);
  keep_error(sp->err_s, sp->st_s);
  fsn_ot_destroy(ot);
}

/* H_j(a || b) = H(b ^ tau(j, 1) ^ H(a ^ tau(j, 0))), tau(j, h): low 64 bits j, high 64 bits h (little-endian). */
static uint64_t spec_hash(const uint8_t a[16], const uint8_t b[16], uint64_t j) {
  uint8_t x[16], y[16];
  memcpy(x, a, 16);
  for (int k = 0; k < 8; k++) x[k] ^= (uint8_t)(j >> (8 * k));
  fsn_ccrh(y, x, 1);
  for (int k = 0; k < 16; k++) x[k] = b[k] ^ y[k];
  for (int k = 0; k < 8; k++) x[k] ^= (uint8_t)(j >> (8 * k));
  x[8] ^= 1;
  fsn_ccrh(y, x, 1);
  uint64_t v = 0;
  for (int k = 7; k >= 0; k--) v = v << 8 | y[k];
  return v;
}

static void spec_client(fsn_channel *ch, void *arg) {
  spec *sp = arg;
  enum { K = 256, LEN = SPEC_N / 8, N = 1 << SPEC_LOGN };
  uint8_t *k0 = xmalloc(16 * K), *k1 = xmalloc(16 * K), *t = xmalloc(K * LEN), *u = xmalloc(K * LEN);
  uint8_t *lo = xmalloc(16 * SPEC_N), *hi = xmalloc(16 * SPEC_N);
  uint64_t *ct = xmalloc(8 * SPEC_N * N);
  /* the IKNP base OTs of fsn_ot_create, then the 256 of the KK13 set-up (this side is the base-OT sender) */
  fsn_status st = fsn_base_ot_send(ch, k0, k1, 128, NULL);
  if (st == FSN_OK) st = fsn_base_ot_send(ch, k0, k1, K, NULL);
  for (unsigned j = 0; j < K && st == FSN_OK; j++) {
    fsn_prg g0, g1;
    uint8_t g1out[LEN];
    fsn_prg_seed(&g0, k0 + 16 * j), fsn_prg_seed(&g1, k1 + 16 * j);
    fsn_prg_bytes(&g0, t + j * LEN, LEN);
    fsn_prg_bytes(&g1, g1out, LEN);
    for (size_t i = 0; i < SPEC_N; i++) /* codeword bit j of index r: parity(r AND j) */
      if (__builtin_parity(sp->idx[i] & j)) g1out[i / 8] ^= (uint8_t)(1u << (i % 8));
    for (int b = 0; b < LEN; b++) u[j * LEN + b] = t[j * LEN + b] ^ g1out[b];
  }
  if (st == FSN_OK) st = fsn_channel_send(ch, u, K * LEN);
  if (st == FSN_OK) st = fsn_channel_flush(ch);
  if (st == FSN_OK) st = fsn_channel_recv_ring(ch, ct, SPEC_N * N, sp->ell);
  fsn_bits_transpose(lo, t, 128, SPEC_N);
  fsn_bits_transpose(hi, t + 128 * LEN, 128, SPEC_N);
  sp->chosen_ok = sp->others_differ = st == FSN_OK;
  for (size_t i = 0; i < SPEC_N && st == FSN_OK; i++) {
    const uint64_t pad = spec_hash(lo + 16 * i, hi + 16 * i, i) & fsn_ring_mask(sp->ell);
    for (unsigned x = 0; x < N; x++) {
      const int match = (ct[i * N + x] ^ pad) == sp->msgs[i * N + x];
      if (x == sp->idx[i])
        sp->chosen_ok &= match;
      else
        sp->others_differ &= !match;
    }
  }
  sp->st_r = st;
  free(k0), free(k1), free(t), free(u), free(lo), free(hi), free(ct);
}

START_TEST(kk13_matches_its_specification) {
  static const unsigned ells[] = {64, 4};
  for (int e = 0; e < 2; e++) {
    spec *sp = calloc(1, sizeof *sp);
    ck_assert_ptr_nonnull(sp);
    sp->ell = ells[e];
    fsn_test_fill_ring(sp->msgs, SPEC_N << SPEC_LOGN, sp->ell);
    for (size_t i = 0; i < SPEC_N; i++) sp->idx[i] = (uint8_t)(fsn_test_rand() % 16);
    fsn_test_two_party(spec_server, sp, spec_client, sp);
    ck_assert_msg(sp->st_s == FSN_OK && sp->st_r == FSN_OK, "%s / %d", sp->err_s, sp->st_r);
    ck_assert_msg(sp->chosen_ok, "ell = %u: a chosen message does not decrypt with H_j(t_i)", sp->ell);
    if (sp->ell == 64) ck_assert_msg(sp->others_differ, "the chosen pad decrypts another message");
    free(sp);
  }
}
END_TEST

/* A session: several calls of different types on the same objects keep the two sides in step. */
typedef struct session {
  fsn_status st_s, st_r, bad_idx;
  char err_s[256], err_r[256];
  uint8_t x0[16 * 300], xc[16 * 300], delta[16], choice[40], idx[300], bad[300];
  uint64_t m0[300], m1[300], mc[300], msgs[300 * 16], out[300];
} session;

static void session_server(fsn_channel *ch, void *arg) {
  session *s = arg;
  fsn_ot *ot = NULL;
  s->st_s = fsn_ot_create(&ot, ch, FSN_OT_SENDER);
  if (s->st_s == FSN_OK) s->st_s = fsn_ot_delta(ot, s->delta);
  for (int rep = 0; rep < 3 && s->st_s == FSN_OK; rep++) {
    s->st_s = fsn_ot_cot_send(ot, s->x0, 300);
    if (s->st_s == FSN_OK) s->st_s = fsn_ot_send(ot, s->m0, s->m1, 300, 13);
    /* the first 1-out-of-N call runs the KK13 base OTs itself (no fsn_ot_nchoose1_setup) */
    if (s->st_s == FSN_OK) s->st_s = fsn_ot_nchoose1_send(ot, s->msgs + 16 * rep, 200 + rep, 4, 5);
  }
  keep_error(s->err_s, s->st_s);
  fsn_ot_destroy(ot);
}

static void session_client(fsn_channel *ch, void *arg) {
  session *s = arg;
  fsn_ot *ot = NULL;
  s->st_r = fsn_ot_create(&ot, ch, FSN_OT_RECEIVER);
  /* An index >= N is refused before anything is sent; the object stays in step. */
  if (s->st_r == FSN_OK) s->bad_idx = fsn_ot_nchoose1_recv(ot, s->out, s->bad, 300, 4, 5);
  for (int rep = 0; rep < 3 && s->st_r == FSN_OK; rep++) {
    s->st_r = fsn_ot_cot_recv(ot, s->xc, s->choice, 300);
    if (s->st_r == FSN_OK) s->st_r = fsn_ot_recv(ot, s->mc, s->choice, 300, 13);
    if (s->st_r == FSN_OK) s->st_r = fsn_ot_nchoose1_recv(ot, s->out, s->idx, 200 + rep, 4, 5);
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
  fsn_test_fill_ring(s->msgs, 300 * 16, 5);
  for (size_t i = 0; i < 300; i++) s->idx[i] = (uint8_t)(fsn_test_rand() % 16), s->bad[i] = i == 299 ? 16 : 0;
  fsn_test_two_party(session_server, s, session_client, s);
  ck_assert_msg(s->st_s == FSN_OK && s->st_r == FSN_OK, "%s / %s", s->err_s, s->err_r);
  ck_assert_int_eq(s->bad_idx, FSN_E_INVALID);
  for (size_t i = 0; i < 300; i++) {
    const unsigned c = bit(s->choice, i);
    for (int b = 0; b < 16; b++) ck_assert(s->xc[16 * i + b] == (s->x0[16 * i + b] ^ (c ? s->delta[b] : 0)));
    ck_assert(s->mc[i] == (c ? s->m1 : s->m0)[i]);
  }
  for (size_t i = 0; i < 202; i++) ck_assert(s->out[i] == s->msgs[16 * (2 + i) + s->idx[i]]); /* the last call's */
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
  /* every kind; 1-out-of-N at each N, and once across a KK13 chunk of 2^14 */
  static const struct {
    kind k;
    unsigned logn;
    size_t n;
  } variants[] = {{COT, 1, 1000},      {ROT, 1, 1000},      {CHOSEN, 1, 1000},
                  {ACOT, 1, 1000},     {NCHOOSE1, 1, 1000}, {NCHOOSE1, 2, 1000},
                  {NCHOOSE1, 4, 1000}, {NCHOOSE1, 8, 1000}, {NCHOOSE1, 2, 16385}};
  for (size_t v = 0; v < sizeof variants / sizeof variants[0]; v++) {
    const kind k = variants[v].k;
    const size_t N = (size_t)1 << variants[v].logn;
    uint8_t first[32], d[32];
    for (int isa = FSN_ISA_REF; isa <= (int)fsn_isa_best(); isa++) {
      ck_assert_int_eq(fsn_isa_force((fsn_isa)isa), FSN_OK);
      run r;
      run_alloc(&r, k, variants[v].n, 37, variants[v].logn); /* same test RNG draws at every level: reseed below */
      r.seed_s = seed_s, r.seed_r = seed_r;
      memset(r.choice, 0x5a, (r.n + 7) / 8);
      for (size_t i = 0; i < r.n; i++)
        r.idx[i] = (uint8_t)(i * 7 % N), r.m0[i] = i, r.m1[i] = ~i & fsn_ring_mask(37), r.corr[i] = 3 * i;
      for (size_t i = 0; i < r.n * N; i++) r.msgs[i] = i & fsn_ring_mask(37);
      run_both(&r);
      check_outputs(&r);
      digest_run(&r, isa == FSN_ISA_REF ? first : d);
      if (isa != FSN_ISA_REF)
        ck_assert_msg(!memcmp(first, d, 32), "%s (N = %zu): seeded output differs between ref and %s", kind_names[k], N,
                      fsn_isa_name((fsn_isa)isa));
      run_free(&r);
    }
  }
}
END_TEST

/* ---- malformed peers --------------------------------------------------------------------------------------------- */

typedef enum fault {
  A_SHORT,       /* the base-OT sender's point is 16 bytes */
  A_INVALID,     /* ... is not a canonical ristretto255 encoding */
  A_IDENTITY,    /* ... is the identity */
  B_SHORT,       /* the base-OT receiver sends too few points */
  B_INVALID,     /* ... sends invalid encodings */
  U_SHORT,       /* the extension receiver sends a short u matrix */
  CT_SHORT,      /* the extension sender sends short ciphertexts */
  KK_U_SHORT,    /* the KK13 receiver sends a short column matrix */
  KK_U_LONG,     /* ... one byte too long */
  KK_CT_SHORT,   /* the KK13 sender sends a short ciphertext frame */
  KK_BASE_SHORT, /* the KK13 base-OT receiver sends too few points */
} fault;

typedef struct bad {
  fault f;
  fsn_status st; /* what the honest party got */
  fsn_status st_after;
  char err[256];
} bad;

enum { POINTS = 128 * 32 };

/* The honest party: server is the OT sender (base-OT receiver), except for faults the base-OT receiver commits. */
/* 1-out-of-16 OT of 4-bit messages, 200 instances: what the KK13 faults disturb. */
enum { KK_N = 200 };

static void honest_sender(fsn_channel *ch, void *arg) {
  bad *b = arg;
  fsn_ot *ot = NULL;
  b->st = fsn_ot_create(&ot, ch, FSN_OT_SENDER);
  if (b->st == FSN_OK && (b->f == KK_U_SHORT || b->f == KK_U_LONG)) {
    uint64_t *msgs = calloc(16 * KK_N, sizeof *msgs);
    ck_assert_ptr_nonnull(msgs);
    b->st = fsn_ot_nchoose1_setup(ot);
    if (b->st == FSN_OK) b->st = fsn_ot_nchoose1_send(ot, msgs, KK_N, 4, 4);
    b->st_after = fsn_ot_nchoose1_send(ot, msgs, 1, 4, 4);
    free(msgs);
  } else if (b->st == FSN_OK) {
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
  if (b->st == FSN_OK && (b->f == KK_CT_SHORT || b->f == KK_BASE_SHORT)) {
    uint8_t idx[KK_N] = {0};
    uint64_t out[KK_N];
    b->st = fsn_ot_nchoose1_setup(ot);
    if (b->st == FSN_OK) b->st = fsn_ot_nchoose1_recv(ot, out, idx, KK_N, 4, 4);
    b->st_after = fsn_ot_nchoose1_recv(ot, out, idx, 1, 4, 4);
  } else if (b->st == FSN_OK) {
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
  case KK_U_SHORT: /* genuine set-ups (IKNP and KK13), then 256 columns for 256 instances, minus or plus a byte */
  case KK_U_LONG:
    st = fsn_ot_create(&ot, ch, FSN_OT_RECEIVER);
    if (st == FSN_OK) st = fsn_ot_nchoose1_setup(ot);
    if (st == FSN_OK) st = fsn_channel_send(ch, buf, 256 * 256 / 8 + (b->f == KK_U_SHORT ? -1 : 1));
    break;
  case KK_CT_SHORT: /* genuine set-ups, read the columns, then 200 x 16 4-bit ciphertexts minus a byte */
    st = fsn_ot_create(&ot, ch, FSN_OT_SENDER);
    if (st == FSN_OK) st = fsn_ot_nchoose1_setup(ot);
    if (st == FSN_OK) st = fsn_channel_recv(ch, buf, 256 * 256 / 8);
    if (st == FSN_OK) st = fsn_channel_send(ch, buf, KK_N * 16 * 4 / 8 - 1);
    break;
  case KK_BASE_SHORT: /* a genuine IKNP set-up, then the KK13 base OTs' receiver message short by a point */
    st = fsn_ot_create(&ot, ch, FSN_OT_SENDER);
    if (st == FSN_OK) st = fsn_channel_recv(ch, buf, 32);
    if (st == FSN_OK) st = fsn_channel_send(ch, buf, 256 * 32 - 32);
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
  case U_SHORT:
  case KK_U_SHORT:
  case KK_U_LONG: fsn_test_two_party(honest_sender, &b, evil, &b); break;
  default: fsn_test_two_party(evil, &b, honest_receiver, &b); break;
  }
  ck_assert_msg(b.st == want, "fault %d: got %s (%s), want %s", (int)f, fsn_strerror(b.st), b.err, fsn_strerror(want));
  if (f >= U_SHORT) ck_assert_msg(b.st_after == FSN_E_INVALID, "fault %d: object still usable", f);
}

START_TEST(malformed_peers) {
  check_fault(A_SHORT, FSN_E_PROTOCOL);
  check_fault(A_INVALID, FSN_E_CRYPTO);
  check_fault(A_IDENTITY, FSN_E_CRYPTO);
  check_fault(B_SHORT, FSN_E_PROTOCOL);
  check_fault(B_INVALID, FSN_E_CRYPTO);
  check_fault(U_SHORT, FSN_E_PROTOCOL);
  check_fault(CT_SHORT, FSN_E_PROTOCOL);
  check_fault(KK_U_SHORT, FSN_E_PROTOCOL);
  check_fault(KK_U_LONG, FSN_E_PROTOCOL);
  check_fault(KK_CT_SHORT, FSN_E_PROTOCOL);
  check_fault(KK_BASE_SHORT, FSN_E_PROTOCOL);
}
END_TEST

START_TEST(bad_arguments) {
  uint8_t buf[64];
  ck_assert_int_eq(fsn_base_ot_send(NULL, buf, buf, 1, NULL), FSN_E_INVALID);
  ck_assert_int_eq(fsn_ot_cot_send(NULL, buf, 1), FSN_E_INVALID);
  ck_assert_int_eq(fsn_ot_parallel(NULL, 1, 1, NULL, NULL), FSN_E_INVALID);
  ck_assert_int_eq(fsn_ot_nchoose1_setup(NULL), FSN_E_INVALID);
  ck_assert_int_eq(fsn_ot_nchoose1_send(NULL, NULL, 1, 4, 4), FSN_E_INVALID);
  ck_assert_int_eq(fsn_ot_nchoose1_send_fn(NULL, NULL, NULL, 1, 4, 4), FSN_E_INVALID);
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
  ADD(s, nchoose1_extreme_indices);
  ADD(s, kk13_matches_its_specification);
  ADD(s, seeded_identical_across_isa);
  ADD(s, parallel_driver);
  return fsn_test_main(s);
}
