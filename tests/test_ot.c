/* Oblivious transfer over real loopback sockets: every OT type on every extension (IKNP checked and unchecked, IKNP
 * through derandomisation, KK13 and the log N construction) at sizes around the 128-bit blocks and chunks,
 * correlations checked exactly, wire bytes against their formulas, seeded runs identical across ISA levels, a
 * malicious receiver caught by the KOS15 check, malformed peers rejected. */
#include <fusion/bits.h>
#include <fusion/ferret.h>
#include <fusion/ot.h>
#include <fusion/ring.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/ot/ot_testing.h"
#include "tests/common/fsn_test.h"
#include "tests/common/fsn_test_net.h"

typedef enum kind { COT, RCOT, ROT, CHOSEN, ACOT, NCHOOSE1, NKINDS } kind;
static const char *const kind_names[NKINDS] = {"cot", "rcot", "rot", "chosen", "acot", "nchoose1"};

/* The COT extensions under test: IKNP with and without the KOS15 check, and IKNP with only its random-choice entries
 * (so chosen-choice COT goes through the interface's derandomisation). */
typedef struct ext {
  const char *name;
  bool unchecked; /* without the extension's check (IKNP's KOS15, Ferret's MPCOT check) */
  size_t threads; /* Ferret: threads per iteration */
} ext;
static const ext exts[] = {{"iknp", false, 0}, {"iknp", true, 0}, {"iknp-rcot", false, 0}};
#define NEXTS (sizeof exts / sizeof exts[0])

/* One two-party run: the server is the OT sender, the client the receiver. Threads write only their own fields. */
typedef struct run {
  kind k;
  size_t n;
  unsigned ell, logn;
  ext e;                          /* the COT extension */
  const char *n1name;             /* 1-out-of-N: "kk13" or "rot" */
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

static fsn_status sender_body(fsn_cot *ot, fsn_ot_n1 *n1, run *r) {
  switch (r->k) {
  case COT: return fsn_cot_send(ot, r->x0, r->n);
  case RCOT: return fsn_cot_rcot_send(ot, r->x0, r->n);
  case ROT: return fsn_ot_rot_send(ot, r->r0, r->r1, r->n);
  case CHOSEN: return fsn_ot_send(ot, r->m0, r->m1, r->n, r->ell);
  case ACOT: return fsn_ot_acot_send(ot, r->y0, r->corr, r->n, r->ell);
  case NCHOOSE1:
    return r->use_gen ? fsn_ot_nchoose1_send_fn(n1, gen_msgs, r, r->n, r->logn, r->ell)
                      : fsn_ot_nchoose1_send(n1, r->msgs, r->n, r->logn, r->ell);
  default: return FSN_E_INVALID;
  }
}

static fsn_status receiver_body(fsn_cot *ot, fsn_ot_n1 *n1, run *r) {
  switch (r->k) {
  case COT: return fsn_cot_recv(ot, r->xc, r->choice, r->n);
  case RCOT: return fsn_cot_rcot_recv(ot, r->xc, r->choice, r->n);
  case ROT: return fsn_ot_rot_recv(ot, r->xc, r->choice, r->n);
  case CHOSEN: return fsn_ot_recv(ot, r->yc, r->choice, r->n, r->ell);
  case ACOT: return fsn_ot_acot_recv(ot, r->yc, r->choice, r->n, r->ell);
  case NCHOOSE1: return fsn_ot_nchoose1_recv(n1, r->yc, r->idx, r->n, r->logn, r->ell);
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

/* Create the run's objects (the 1-out-of-N one runs its base OTs now), so that the body's traffic is the OTs' alone. */
static fsn_status make(const run *r, fsn_channel *ch, fsn_ot_role role, const uint8_t *seed, fsn_cot **ot,
                       fsn_ot_n1 **n1) {
  const fsn_cot_options opt = {.unchecked = r->e.unchecked, .threads = r->e.threads};
  fsn_status st = fsn_cot_create_test(ot, r->e.name, ch, role, &opt, seed);
  if (st == FSN_OK && r->k == NCHOOSE1) st = fsn_ot_n1_create_test(n1, r->n1name, *ot, seed);
  return st;
}

static void server(fsn_channel *ch, void *arg) {
  run *r = arg;
  fsn_cot *ot = NULL;
  fsn_ot_n1 *n1 = NULL;
  r->st_s = make(r, ch, FSN_OT_SENDER, r->seed_s, &ot, &n1);
  if (r->st_s == FSN_OK) r->st_s = fsn_cot_delta(ot, r->delta);
  const uint64_t before = bytes_sent(ch);
  if (r->st_s == FSN_OK) r->st_s = sender_body(ot, n1, r);
  r->sent_s = bytes_sent(ch) - before;
  keep_error(r->err_s, r->st_s);
  fsn_ot_n1_destroy(n1);
  fsn_cot_destroy(ot);
}

static void client(fsn_channel *ch, void *arg) {
  run *r = arg;
  fsn_cot *ot = NULL;
  fsn_ot_n1 *n1 = NULL;
  r->st_r = make(r, ch, FSN_OT_RECEIVER, r->seed_r, &ot, &n1);
  const uint64_t before = bytes_sent(ch);
  if (r->st_r == FSN_OK) r->st_r = receiver_body(ot, n1, r);
  r->sent_r = bytes_sent(ch) - before;
  keep_error(r->err_r, r->st_r);
  fsn_ot_n1_destroy(n1);
  fsn_cot_destroy(ot);
}

static void run_alloc(run *r, kind k, size_t n, unsigned ell, unsigned logn) {
  memset(r, 0, sizeof *r);
  r->k = k, r->n = n, r->ell = ell, r->logn = logn, r->e = exts[0], r->n1name = "kk13";
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
  ck_assert_msg(r->st_s == FSN_OK, "%s n=%zu on %s%s sender: %s", kind_names[r->k], r->n, r->e.name,
                r->e.unchecked ? " unchecked" : "", r->err_s);
  ck_assert_msg(r->st_r == FSN_OK, "%s n=%zu on %s%s receiver: %s", kind_names[r->k], r->n, r->e.name,
                r->e.unchecked ? " unchecked" : "", r->err_r);
}

static unsigned bit(const uint8_t *packed, size_t i) { return packed[i / 8] >> (i % 8) & 1; }

static void check_outputs(const run *r) {
  const uint64_t mask = fsn_ring_mask(r->ell);
  const size_t N = (size_t)1 << r->logn;
  for (size_t i = 0; i < r->n; i++) {
    const unsigned c = bit(r->choice, i);
    switch (r->k) {
    case RCOT:
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

/* ---- wire bytes, from the formulas of <fusion/ot.h> -------------------------------------------------------------- */

/* The COTs of one call of m OTs on the extension: per chunk of up to 2^15, 16 bytes per padded row from the receiver
 * (rows: round128(m), or round128(m + 192) checked); checked, a 16-byte seed back and a 32-byte proof; through
 * derandomisation, ceil(m / 8) bytes of d from the receiver. */
static void cot_bytes(const ext *e, size_t n, bool random_choice, uint64_t *from_receiver, uint64_t *from_sender) {
  for (size_t off = 0; off < n; off += (size_t)1 << 15) {
    const size_t m = n - off < ((size_t)1 << 15) ? n - off : (size_t)1 << 15;
    *from_receiver += 16 * ((m + (e->unchecked ? 0 : 192) + 127) / 128 * 128);
    if (!e->unchecked) *from_receiver += 32, *from_sender += 16;
    if (!random_choice && !strcmp(e->name, "iknp-rcot")) *from_receiver += (m + 7) / 8;
  }
}

/* A whole run's body: the COTs, and per chunk of 2^15 (chosen, arithmetic) the packed ciphertexts or corrections. */
static void kind_bytes(const run *r, uint64_t *from_receiver, uint64_t *from_sender) {
  *from_receiver = *from_sender = 0;
  const size_t chunk = (size_t)1 << 15;
  if (r->k != CHOSEN && r->k != ACOT) {
    cot_bytes(&r->e, r->n, r->k == RCOT, from_receiver, from_sender);
    return;
  }
  for (size_t off = 0; off < r->n; off += chunk) {
    const size_t m = r->n - off < chunk ? r->n - off : chunk;
    cot_bytes(&r->e, m, false, from_receiver, from_sender);
    *from_sender += fsn_wire_packed_bytes((r->k == CHOSEN ? 2 : 1) * m, r->ell);
  }
}

static void check_bytes(const run *r) {
  uint64_t want_r, want_s;
  kind_bytes(r, &want_r, &want_s);
  ck_assert_msg(r->sent_r == want_r && r->sent_s == want_s, "%s n=%zu on %s%s: bytes %llu / %llu, want %llu / %llu",
                kind_names[r->k], r->n, r->e.name, r->e.unchecked ? " unchecked" : "", (unsigned long long)r->sent_r,
                (unsigned long long)r->sent_s, (unsigned long long)want_r, (unsigned long long)want_s);
}

/* Every extension, both roles, outputs and bytes. */
static void check_kind(kind k, size_t n, unsigned ell) {
  for (size_t e = 0; e < NEXTS; e++) {
    run r;
    run_alloc(&r, k, n, ell, 1);
    r.e = exts[e];
    run_both(&r);
    check_outputs(&r);
    check_bytes(&r);
    if (k == RCOT && n % 8) ck_assert_msg(r.choice[n / 8] >> (n % 8) == 0, "rcot n=%zu: unused choice bits set", n);
    run_free(&r);
  }
}

/* 0 and 1, the 128-row blocks, a chunk of 2^15 and one more, two chunks and one more. */
static const size_t sizes[] = {0, 1, 127, 128, 129, 1000, 32769, 65537};
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

/* Ferret behind the interface (with its MPCOT check, the default): every derived OT satisfies its correlation (its
 * bytes are Ferret's: test_ferret). The reference AES makes an iteration take minutes, so only at the SIMD levels. */
START_TEST(derived_ots_on_ferret) {
  if (fsn_isa_active() == FSN_ISA_REF) return;
  static const kind kinds[] = {COT, RCOT, ROT, CHOSEN, ACOT, NCHOOSE1};
  static const size_t ns[] = {1, 1000, 70000};
  for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++)
    for (size_t s = 0; s < 3; s++) {
      run r;
      run_alloc(&r, kinds[k], ns[s], 37, kinds[k] == NCHOOSE1 ? 4 : 1);
      r.e = (ext){"ferret", false, 0};
      if (kinds[k] == NCHOOSE1) r.n1name = "rot";
      run_both(&r);
      check_outputs(&r);
      run_free(&r);
    }
}
END_TEST

/* The same on Ferret without its MPCOT check (the opt-out), each iteration on two threads. */
START_TEST(derived_ots_on_unchecked_ferret) {
  if (fsn_isa_active() == FSN_ISA_REF) return;
  static const kind kinds[] = {COT, RCOT, ACOT};
  for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
    run r;
    run_alloc(&r, kinds[k], 70000, 37, 1);
    r.e = (ext){"ferret", true, 2};
    run_both(&r);
    check_outputs(&r);
    run_free(&r);
  }
}
END_TEST

START_TEST(cot_sizes) {
  for (size_t s = 0; s < NSIZES; s++) check_kind(COT, sizes[s], 64);
  if (big_runs()) check_kind(COT, 1000000, 64);
}
END_TEST

START_TEST(rcot_sizes) {
  for (size_t s = 0; s < NSIZES; s++) check_kind(RCOT, sizes[s], 64);
}
END_TEST

START_TEST(rot_sizes) {
  for (size_t s = 0; s < NSIZES; s++) check_kind(ROT, sizes[s], 64);
}
END_TEST

START_TEST(chosen_sizes) {
  for (size_t s = 0; s < NSIZES; s++) check_kind(CHOSEN, sizes[s], fsn_test_ells[s % FSN_TEST_NELLS]);
  if (big_runs()) check_kind(CHOSEN, 1000000, 37);
}
END_TEST

START_TEST(acot_sizes) {
  for (size_t s = 0; s < NSIZES; s++) check_kind(ACOT, sizes[s], fsn_test_ells[(s + 3) % FSN_TEST_NELLS]);
}
END_TEST

/* The wire format of <fusion/ot.h>, byte for byte. KK13 (logn >= 2): per chunk of up to 2^14 instances 32 bytes of
 * columns per instance (rounded up to 128 instances) from the receiver; ciphertexts in frames of 2^16 / N
 * instances from the sender, each frame packed to ell bits. "rot" (and KK13 at logn = 1): per slice of up to
 * min(2^15 / logn, 2^17 / N) instances, the slice's logn COTs, then its N packed ciphertexts each. */
static void nchoose1_bytes(const run *r, uint64_t *from_receiver, uint64_t *from_sender) {
  const size_t n = r->n, N = (size_t)1 << r->logn;
  *from_receiver = *from_sender = 0;
  if (r->logn == 1 || !strcmp(r->n1name, "rot")) {
    const size_t by_cols = ((size_t)1 << 15) / r->logn, by_ring = ((size_t)1 << 17) / N;
    const size_t slice = by_cols < by_ring ? by_cols : by_ring;
    for (size_t off = 0; off < n; off += slice) {
      const size_t s = n - off < slice ? n - off : slice;
      cot_bytes(&r->e, s * r->logn, false, from_receiver, from_sender);
      *from_sender += fsn_wire_packed_bytes(s * N, r->ell);
    }
    return;
  }
  /* KK13 on checked IKNP runs the OOS17 check: chunks of 2^14 - 128 instances, 40 padding rows, the sender's 16-byte
   * seed and the receiver's 40 x 33 bytes of proof. */
  const bool checked = !r->e.unchecked;
  const size_t chunk = ((size_t)1 << 14) - (checked ? 128 : 0), frame = ((size_t)1 << 16) / N;
  for (size_t off = 0; off < n; off += chunk) {
    const size_t m = n - off < chunk ? n - off : chunk;
    *from_receiver += 32 * ((m + (checked ? 40 : 0) + 127) / 128 * 128) + (checked ? 40 * 33 : 0);
    *from_sender += checked ? 16 : 0;
    for (size_t f = 0; f < m; f += frame)
      *from_sender += fsn_wire_packed_bytes((m - f < frame ? m - f : frame) * N, r->ell);
  }
}

static const size_t n1_sizes[] = {1, 127, 128, 129, 1000, 16385, 65537, 100000};
static const unsigned n1_ells[] = {1, 4, 8, 13, 32, 37, 63, 64};

/* N = 2, 4, 16, 256 at sizes 1 .. 10^5 (non-multiples of 128, across the frames and the 2^14-instance chunks), as
 * far as the sender's n N messages stay below 2^23 (2^19 at the reference level, whose AES is ~100x slower), on
 * KK13 and on "rot" over checked IKNP, and on both over unchecked IKNP. */
START_TEST(nchoose1_sizes) {
  static const unsigned lognsizes[] = {1, 2, 4, 8};
  const size_t cap = big_runs() ? (size_t)1 << 23 : (size_t)1 << 19;
  for (size_t v = 0; v < 4; v++)
    for (size_t l = 0; l < 4; l++)
      for (size_t s = 0; s < sizeof n1_sizes / sizeof n1_sizes[0]; s++) {
        const size_t n = n1_sizes[s];
        const unsigned logn = lognsizes[l], ell = n1_ells[(s + l) % 8];
        if (n << logn > cap || (v >= 2 && s % 3)) continue;
        run r;
        run_alloc(&r, NCHOOSE1, n, ell, logn);
        r.n1name = v == 0 || v == 3 ? "kk13" : "rot";
        r.e = exts[v >= 2 ? 1 : 0];
        r.use_gen = s % 2; /* every other size through the message generator */
        run_both(&r);
        check_outputs(&r);
        ck_assert_msg(!r.gen_bad && (!r.use_gen || r.gen_next == n), "nchoose1 N=%zu n=%zu: generator contract broken",
                      (size_t)1 << logn, n);
        uint64_t want_r, want_s;
        nchoose1_bytes(&r, &want_r, &want_s);
        ck_assert_msg(r.sent_r == want_r && r.sent_s == want_s,
                      "nchoose1 %s N=%zu n=%zu ell=%u: bytes %llu / %llu, want %llu / %llu", r.n1name,
                      (size_t)1 << logn, n, ell, (unsigned long long)r.sent_r, (unsigned long long)r.sent_s,
                      (unsigned long long)want_r, (unsigned long long)want_s);
        run_free(&r);
      }
}
END_TEST

/* Indices equal to N - 1 and 0 everywhere (the extremes of the code), and messages that are all distinct. */
START_TEST(nchoose1_extreme_indices) {
  for (unsigned logn = 1; logn <= 8; logn++) {
    const size_t n = 300, N = (size_t)1 << logn;
    for (int v = 0; v < 2; v++) {
      run r;
      run_alloc(&r, NCHOOSE1, n, 64, logn);
      r.n1name = v ? "rot" : "kk13";
      for (size_t i = 0; i < n; i++) r.idx[i] = (uint8_t)(i % 3 == 0 ? 0 : i % 3 == 1 ? N - 1 : fsn_test_rand() % N);
      for (size_t k = 0; k < n * N; k++) r.msgs[k] = k * 0x9e3779b97f4a7c15ull;
      run_both(&r);
      check_outputs(&r);
      run_free(&r);
    }
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
  fsn_cot *ot = NULL;
  fsn_ot_n1 *n1 = NULL;
  /* the wire without the OOS17 check (on unchecked IKNP): the check's exchange is pinned by nchoose1_sizes' byte
   * formula and oos17_catches_a_flipped_kk13_column */
  const fsn_cot_options unchecked = {.unchecked = true};
  sp->st_s = fsn_cot_create(&ot, "iknp", ch, FSN_OT_SENDER, &unchecked);
  if (sp->st_s == FSN_OK) sp->st_s = fsn_ot_n1_create(&n1, "kk13", ot);
  if (sp->st_s == FSN_OK) sp->st_s = fsn_ot_nchoose1_send(n1, sp->msgs, SPEC_N, SPEC_LOGN, sp->ell);
  keep_error(sp->err_s, sp->st_s);
  fsn_ot_n1_destroy(n1);
  fsn_cot_destroy(ot);
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

/* A session through the OT pack: several calls of different types on the same objects keep the two sides in step, in
 * both directions (the client also sends chosen OTs to the server). */
typedef struct session {
  const char *pack;
  fsn_status st_s, st_r, bad_idx;
  uint64_t back[300]; /* what the server received from the client */
  char err_s[256], err_r[256];
  uint8_t x0[16 * 300], xc[16 * 300], delta[16], choice[40], idx[300], bad[300];
  uint64_t m0[300], m1[300], mc[300], msgs[300 * 16], out[300];
} session;

static void session_server(fsn_channel *ch, void *arg) {
  session *s = arg;
  fsn_ot_pack *pack = NULL;
  const fsn_ot_pack_options opt = {.ext = s->pack};
  s->st_s = fsn_ot_pack_create(&pack, ch, FSN_ROLE_SERVER, &opt);
  fsn_cot *ot = s->st_s == FSN_OK ? fsn_ot_pack_cot(pack, FSN_OT_SENDER) : NULL;
  if (s->st_s == FSN_OK) s->st_s = fsn_cot_delta(ot, s->delta);
  for (int rep = 0; rep < 3 && s->st_s == FSN_OK; rep++) {
    s->st_s = fsn_cot_send(ot, s->x0, 300);
    if (s->st_s == FSN_OK) s->st_s = fsn_ot_send(ot, s->m0, s->m1, 300, 13);
    if (s->st_s == FSN_OK)
      s->st_s = fsn_ot_nchoose1_send(fsn_ot_pack_n1(pack, FSN_OT_SENDER), s->msgs + 16 * rep, 200 + rep, 4, 5);
    if (s->st_s == FSN_OK) s->st_s = fsn_ot_recv(fsn_ot_pack_cot(pack, FSN_OT_RECEIVER), s->back, s->choice, 300, 13);
  }
  keep_error(s->err_s, s->st_s);
  fsn_ot_pack_destroy(pack);
}

static void session_client(fsn_channel *ch, void *arg) {
  session *s = arg;
  fsn_ot_pack *pack = NULL;
  const fsn_ot_pack_options opt = {.ext = s->pack};
  s->st_r = fsn_ot_pack_create(&pack, ch, FSN_ROLE_CLIENT, &opt);
  fsn_cot *ot = s->st_r == FSN_OK ? fsn_ot_pack_cot(pack, FSN_OT_RECEIVER) : NULL;
  fsn_ot_n1 *n1 = s->st_r == FSN_OK ? fsn_ot_pack_n1(pack, FSN_OT_RECEIVER) : NULL;
  /* An index >= N is refused before anything is sent; the object stays in step. */
  if (s->st_r == FSN_OK) s->bad_idx = fsn_ot_nchoose1_recv(n1, s->out, s->bad, 300, 4, 5);
  for (int rep = 0; rep < 3 && s->st_r == FSN_OK; rep++) {
    s->st_r = fsn_cot_recv(ot, s->xc, s->choice, 300);
    if (s->st_r == FSN_OK) s->st_r = fsn_ot_recv(ot, s->mc, s->choice, 300, 13);
    if (s->st_r == FSN_OK) s->st_r = fsn_ot_nchoose1_recv(n1, s->out, s->idx, 200 + rep, 4, 5);
    if (s->st_r == FSN_OK) s->st_r = fsn_ot_send(fsn_ot_pack_cot(pack, FSN_OT_SENDER), s->m1, s->m0, 300, 13);
  }
  keep_error(s->err_r, s->st_r);
  fsn_ot_pack_destroy(pack);
}

START_TEST(session_reuses_base_ots) {
  static const char *const packs[] = {NULL, "kk13", "iknp", "ferret"};
  for (int p = 0; p < 4; p++) {
    if (packs[p] && !strcmp(packs[p], "ferret") && fsn_isa_active() == FSN_ISA_REF) continue; /* minutes at ref */
    session *s = calloc(1, sizeof *s);
    ck_assert_ptr_nonnull(s);
    s->pack = packs[p];
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
      ck_assert(s->back[i] == (c ? s->m0 : s->m1)[i]);
    }
    for (size_t i = 0; i < 202; i++) ck_assert(s->out[i] == s->msgs[16 * (2 + i) + s->idx[i]]); /* the last call's */
    free(s);
  }
}
END_TEST

/* The default pack follows the ISA level: Ferret where the AES kernels are vectorised, IKNP at ref. */
START_TEST(default_pack_follows_isa) {
  const fsn_isa active = fsn_isa_active();
  ck_assert_str_eq(fsn_ot_pack_resolve(NULL), active >= FSN_ISA_AVX2 ? "ferret" : "iknp");
  ck_assert_int_eq(fsn_isa_force(FSN_ISA_REF), FSN_OK);
  ck_assert_str_eq(fsn_ot_pack_resolve(""), "iknp");
  if (fsn_isa_best() >= FSN_ISA_AVX2) {
    ck_assert_int_eq(fsn_isa_force(FSN_ISA_AVX2), FSN_OK);
    ck_assert_str_eq(fsn_ot_pack_resolve(NULL), "ferret");
  }
  ck_assert_int_eq(fsn_isa_force(active), FSN_OK);
}
END_TEST

/* A pack's memory per session: Ferret's holds each object's pools (16 bytes per output and per base COT of its set,
 * b11) per thread and direction, plus page rounding, frames, buffers and a measured margin of some 10 MiB, and one
 * bootstrap at a time;
 * IKNP's and KK13's a few MiB per thread. Linear in the threads beyond the one bootstrap. */
START_TEST(pack_memory_from_set_sizes) {
  const fsn_ferret_params *b11 = fsn_ferret_params_named("b11");
  const uint64_t pools = 16 * (b11->n + fsn_ferret_reserve(b11)), mib = 1 << 20;
  const uint64_t step = fsn_ot_pack_memory_bytes("ferret", 2) - fsn_ot_pack_memory_bytes("ferret", 1);
  for (size_t t = 1; t <= 8; t++) {
    const uint64_t ferret = fsn_ot_pack_memory_bytes("ferret", t);
    ck_assert_uint_ge(ferret, 2 * t * pools);
    ck_assert_uint_le(ferret, 2 * t * (pools + 16 * mib) + 24 * mib);
    ck_assert_uint_eq(ferret - fsn_ot_pack_memory_bytes("ferret", 1), (t - 1) * step);
    for (int k = 0; k < 2; k++) {
      const uint64_t iknp = fsn_ot_pack_memory_bytes(k ? "kk13" : "iknp", t);
      ck_assert_uint_ge(iknp, 2 * t * mib);
      ck_assert_uint_le(iknp, 16 * t * mib);
    }
  }
  ck_assert_uint_eq(fsn_ot_pack_memory_bytes(NULL, 3), fsn_ot_pack_memory_bytes(fsn_ot_pack_resolve(NULL), 3));
  ck_assert_uint_eq(fsn_ot_pack_memory_bytes("nope", 1), 0);
}
END_TEST

/* The Ferret pack is the session's COT pool: the first call that needs COTs runs an iteration, and when the peer is
 * gone that call fails with a clear error after the read timeout (no hang, nothing handed out), as does every later
 * call on the object. Here the client leaves right after creating its pack; the server then asks for OTs in both
 * directions (its receiver object waits for the client's frame; its sender object for the derandomisation bits). */
typedef struct gone {
  fsn_status st_recv, st_send, st_after;
  char err[256];
} gone;

static void pool_server(fsn_channel *ch, void *arg) {
  gone *g = arg;
  fsn_ot_pack *pack = NULL;
  const fsn_ot_pack_options opt = {.ext = "ferret"};
  static uint64_t m[1000], out[1000];
  static uint8_t choice[125];
  fsn_status st = fsn_ot_pack_create(&pack, ch, FSN_ROLE_SERVER, &opt);
  ck_assert_msg(st == FSN_OK, "pack: %s", fsn_last_error());
  g->st_recv = fsn_ot_recv(fsn_ot_pack_cot(pack, FSN_OT_RECEIVER), out, choice, 1000, 13);
  keep_error(g->err, g->st_recv);
  g->st_after = fsn_ot_recv(fsn_ot_pack_cot(pack, FSN_OT_RECEIVER), out, choice, 1, 13);
  g->st_send = fsn_ot_send(fsn_ot_pack_cot(pack, FSN_OT_SENDER), m, m, 1000, 13);
  fsn_ot_pack_destroy(pack);
}

static void pool_client(fsn_channel *ch, void *arg) {
  (void)arg;
  fsn_ot_pack *pack = NULL;
  const fsn_ot_pack_options opt = {.ext = "ferret"};
  if (fsn_ot_pack_create(&pack, ch, FSN_ROLE_CLIENT, &opt) != FSN_OK) ck_abort_msg("pack: %s", fsn_last_error());
  fsn_ot_pack_destroy(pack); /* gone before any layer runs */
}

static void pool_server_on(fsn_channel **chs, size_t n, void *arg) { (void)n, pool_server(chs[0], arg); }
static void pool_client_on(fsn_channel **chs, size_t n, void *arg) { (void)n, pool_client(chs[0], arg); }

START_TEST(ferret_pool_fails_cleanly_when_peer_gone) {
  if (fsn_isa_active() == FSN_ISA_REF) return; /* the medium set's bootstrap takes minutes at ref */
  gone g = {0};
  const fsn_test_net_opts o = {.chan = {.timeout_ms = 10000}};
  fsn_test_two_party_ex(&o, pool_server_on, &g, pool_client_on, &g);
  ck_assert_msg(g.st_recv == FSN_E_TIMEOUT, "receiving from a pool whose peer is gone: %s (%s)",
                fsn_strerror(g.st_recv), g.err);
  ck_assert_int_eq(g.st_after, FSN_E_INVALID); /* out of step: refused at once */
  ck_assert_msg(g.st_send != FSN_OK, "sending on a pool whose peer is gone succeeded");
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
  case RCOT: crypto_generichash_update(&h, r->choice, (n + 7) / 8); /* fall through */
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
    const char *n1name;
  } variants[] = {{COT, 1, 1000, NULL},         {RCOT, 1, 1000, NULL},       {ROT, 1, 1000, NULL},
                  {CHOSEN, 1, 1000, NULL},      {ACOT, 1, 1000, NULL},       {NCHOOSE1, 1, 1000, "kk13"},
                  {NCHOOSE1, 2, 1000, "kk13"},  {NCHOOSE1, 4, 1000, "kk13"}, {NCHOOSE1, 8, 1000, "kk13"},
                  {NCHOOSE1, 2, 16385, "kk13"}, {NCHOOSE1, 4, 1000, "rot"}};
  for (size_t v = 0; v < sizeof variants / sizeof variants[0]; v++) {
    const kind k = variants[v].k;
    const size_t N = (size_t)1 << variants[v].logn;
    uint8_t first[32], d[32];
    for (int isa = FSN_ISA_REF; isa <= (int)fsn_isa_best(); isa++) {
      ck_assert_int_eq(fsn_isa_force((fsn_isa)isa), FSN_OK);
      run r;
      run_alloc(&r, k, variants[v].n, 37, variants[v].logn); /* same test RNG draws at every level: reseed below */
      r.seed_s = seed_s, r.seed_r = seed_r;
      if (variants[v].n1name) r.n1name = variants[v].n1name;
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
  PROOF_SHORT,   /* ... a short KOS15 proof */
  PROOF_ZERO,    /* ... a u matrix and a proof of zeros, as a receiver without the seeds would */
  CT_SHORT,      /* the extension sender sends short ciphertexts */
  SEED_SHORT,    /* ... a short challenge seed */
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

/* 200 OTs: a checked IKNP chunk of round128(200 + 192) = 512 rows, 8192 bytes of u. */
enum { CHECKED_U = 128 * 512 / 8 };

/* 1-out-of-16 OT of 4-bit messages, 200 instances: what the KK13 faults disturb. */
enum { KK_N = 200 };

static bool kk_fault(fault f) { return f >= KK_U_SHORT; }

/* The honest parties: checked IKNP (the default), with KK13 for the KK13 faults. */
static fsn_status honest_objects(fsn_channel *ch, fsn_ot_role role, fault f, fsn_cot **ot, fsn_ot_n1 **n1) {
  fsn_status st = fsn_cot_create(ot, "iknp", ch, role, NULL);
  return st == FSN_OK && kk_fault(f) ? fsn_ot_n1_create(n1, "kk13", *ot) : st;
}

static void honest_sender(fsn_channel *ch, void *arg) {
  bad *b = arg;
  fsn_cot *ot = NULL;
  fsn_ot_n1 *n1 = NULL;
  b->st = honest_objects(ch, FSN_OT_SENDER, b->f, &ot, &n1);
  if (b->st == FSN_OK && kk_fault(b->f)) {
    uint64_t *msgs = calloc(16 * KK_N, sizeof *msgs);
    ck_assert_ptr_nonnull(msgs);
    b->st = fsn_ot_nchoose1_send(n1, msgs, KK_N, 4, 4);
    b->st_after = fsn_ot_nchoose1_send(n1, msgs, 1, 4, 4);
    free(msgs);
  } else if (b->st == FSN_OK) {
    uint8_t x0[16 * 200];
    b->st = fsn_cot_send(ot, x0, 200);
    b->st_after = fsn_cot_send(ot, x0, 1);
  }
  keep_error(b->err, b->st);
  fsn_ot_n1_destroy(n1);
  fsn_cot_destroy(ot);
}

static void honest_receiver(fsn_channel *ch, void *arg) {
  bad *b = arg;
  fsn_cot *ot = NULL;
  fsn_ot_n1 *n1 = NULL;
  b->st = honest_objects(ch, FSN_OT_RECEIVER, b->f, &ot, &n1);
  if (b->st == FSN_OK && kk_fault(b->f)) {
    uint8_t idx[KK_N] = {0};
    uint64_t out[KK_N];
    b->st = fsn_ot_nchoose1_recv(n1, out, idx, KK_N, 4, 4);
    b->st_after = fsn_ot_nchoose1_recv(n1, out, idx, 1, 4, 4);
  } else if (b->st == FSN_OK) {
    uint8_t choice[25] = {0};
    uint64_t mc[200];
    b->st = fsn_ot_recv(ot, mc, choice, 200, 8);
    b->st_after = fsn_ot_recv(ot, mc, choice, 1, 8);
  } else {
    b->st_after = FSN_E_INVALID; /* no object left to use */
  }
  keep_error(b->err, b->st);
  fsn_ot_n1_destroy(n1);
  fsn_cot_destroy(ot);
}

static void evil(fsn_channel *ch, void *arg) {
  bad *b = arg;
  uint8_t *buf = calloc(1, 128 * 2048);
  fsn_cot *ot = NULL;
  fsn_ot_n1 *n1 = NULL;
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
    st = fsn_cot_create(&ot, "iknp", ch, FSN_OT_RECEIVER, NULL);
    if (st == FSN_OK) st = fsn_channel_send(ch, buf, CHECKED_U - 1);
    break;
  case PROOF_SHORT: /* a genuine set-up, a u matrix, then a proof one byte short */
  case PROOF_ZERO:
    st = fsn_cot_create(&ot, "iknp", ch, FSN_OT_RECEIVER, NULL);
    if (st == FSN_OK) st = fsn_channel_send(ch, buf, CHECKED_U);
    if (st == FSN_OK) st = fsn_channel_flush(ch);
    if (st == FSN_OK) st = fsn_channel_recv(ch, buf + CHECKED_U, 16);
    if (st == FSN_OK) st = fsn_channel_send(ch, buf, b->f == PROOF_SHORT ? 31 : 32);
    break;
  case CT_SHORT: /* genuine COTs, then ciphertexts one byte short */
    st = fsn_cot_create(&ot, "iknp", ch, FSN_OT_SENDER, NULL);
    if (st == FSN_OK) st = fsn_cot_send(ot, buf, 200);
    if (st == FSN_OK) st = fsn_channel_send(ch, buf, 2 * 200 - 1);
    break;
  case SEED_SHORT: /* a genuine set-up, read u, then a 15-byte seed */
    st = fsn_cot_create(&ot, "iknp", ch, FSN_OT_SENDER, NULL);
    if (st == FSN_OK) st = fsn_channel_recv(ch, buf, CHECKED_U);
    if (st == FSN_OK) st = fsn_channel_send(ch, buf, 15);
    break;
  case KK_U_SHORT: /* genuine set-ups (IKNP and KK13), then 256 columns for 256 instances, minus or plus a byte */
  case KK_U_LONG:
    st = honest_objects(ch, FSN_OT_RECEIVER, b->f, &ot, &n1);
    if (st == FSN_OK) st = fsn_channel_send(ch, buf, 256 * 256 / 8 + (b->f == KK_U_SHORT ? -1 : 1));
    break;
  case KK_CT_SHORT: /* genuine set-ups, read the columns, then 200 x 16 4-bit ciphertexts minus a byte */
    st = honest_objects(ch, FSN_OT_SENDER, b->f, &ot, &n1);
    if (st == FSN_OK) st = fsn_channel_recv(ch, buf, 256 * 256 / 8);
    if (st == FSN_OK) st = fsn_channel_send(ch, buf, KK_N * 16 * 4 / 8 - 1);
    break;
  case KK_BASE_SHORT: /* a genuine IKNP set-up, then the KK13 base OTs' receiver message short by a point */
    st = fsn_cot_create(&ot, "iknp", ch, FSN_OT_SENDER, NULL);
    if (st == FSN_OK) st = fsn_channel_recv(ch, buf, 32);
    if (st == FSN_OK) st = fsn_channel_send(ch, buf, 256 * 32 - 32);
    break;
  }
  if (st == FSN_OK) st = fsn_channel_flush(ch);
  (void)st;
  fsn_ot_n1_destroy(n1);
  fsn_cot_destroy(ot);
  free(buf);
}

static void check_fault(fault f, fsn_status want) {
  bad b = {.f = f};
  switch (f) {
  case A_SHORT:
  case A_INVALID:
  case A_IDENTITY:
  case U_SHORT:
  case PROOF_SHORT:
  case PROOF_ZERO:
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
  check_fault(PROOF_SHORT, FSN_E_PROTOCOL);
  check_fault(PROOF_ZERO, FSN_E_CHEATING);
  check_fault(CT_SHORT, FSN_E_PROTOCOL);
  check_fault(SEED_SHORT, FSN_E_PROTOCOL);
  check_fault(KK_U_SHORT, FSN_E_PROTOCOL);
  check_fault(KK_U_LONG, FSN_E_PROTOCOL);
  check_fault(KK_CT_SHORT, FSN_E_PROTOCOL);
  check_fault(KK_BASE_SHORT, FSN_E_PROTOCOL);
}
END_TEST

START_TEST(bad_arguments) {
  uint8_t buf[64];
  ck_assert_int_eq(fsn_base_ot_send(NULL, buf, buf, 1, NULL), FSN_E_INVALID);
  ck_assert_int_eq(fsn_cot_send(NULL, buf, 1), FSN_E_INVALID);
  ck_assert_int_eq(fsn_ot_rot_send(NULL, buf, buf, 1), FSN_E_INVALID);
  ck_assert_int_eq(fsn_ot_parallel(1, 1, NULL, NULL), FSN_E_INVALID);
  ck_assert_int_eq(fsn_ot_n1_create(NULL, "kk13", NULL), FSN_E_INVALID);
  ck_assert_int_eq(fsn_ot_nchoose1_send(NULL, NULL, 1, 4, 4), FSN_E_INVALID);
  ck_assert_int_eq(fsn_ot_nchoose1_send_fn(NULL, NULL, NULL, 1, 4, 4), FSN_E_INVALID);
  /* Unknown names are refused before anything touches the channel (which is NULL here: not even looked at). */
  fsn_cot *cot = (fsn_cot *)buf;
  fsn_channel *ch = (fsn_channel *)buf;
  ck_assert_int_eq(fsn_cot_create(&cot, "ferret?", ch, FSN_OT_SENDER, NULL), FSN_E_UNSUPPORTED);
  ck_assert_ptr_null(cot);
  ck_assert_int_eq(fsn_cot_create(&cot, "iknp-rcot", ch, FSN_OT_SENDER, NULL), FSN_E_UNSUPPORTED);
  const fsn_cot_options bad_set = {.ferret_set = "huge"};
  ck_assert_int_eq(fsn_cot_create(&cot, "ferret", ch, FSN_OT_SENDER, &bad_set), FSN_E_UNSUPPORTED);
  ck_assert_ptr_null(cot);
  fsn_ot_pack *pack = NULL;
  const fsn_ot_pack_options popt = {.ext = "nope"};
  ck_assert_int_eq(fsn_ot_pack_create(&pack, ch, FSN_ROLE_SERVER, &popt), FSN_E_UNSUPPORTED);
}
END_TEST

/* ---- a malicious receiver (issue 19): KOS15 catches a flipped bit of u ------------------------------------------- */

/* The attack: a client flips bit `row` of u column j. Then the sender's q_row moves by Delta_j e_j: if Delta_j = 1 the
 * pair no longer matches what the receiver holds, and whether later results change tells the client Delta_j. With
 * the check, the sender refuses the chunk exactly when Delta_j = 1 (FSN_E_CHEATING, before any output is used);
 * when Delta_j = 0 the flip changes nothing. Unchecked, the broken correlation goes through unnoticed. */
typedef struct flip {
  bool unchecked;
  unsigned column;
  size_t row, n;
  uint8_t delta[16], x0[16 * 300], xc[16 * 300], choice[40];
  uint64_t sent_s; /* what the sender sent in the body */
  fsn_status st_s, st_r, st_flip;
  char err_s[256];
} flip;

static const uint8_t flip_seed[32] = {19, 19, 19};

static void flip_server(fsn_channel *ch, void *arg) {
  flip *f = arg;
  fsn_cot *ot = NULL;
  const fsn_cot_options opt = {.unchecked = f->unchecked};
  f->st_s = fsn_cot_create_test(&ot, "iknp", ch, FSN_OT_SENDER, &opt, flip_seed); /* a known Delta */
  if (f->st_s == FSN_OK) f->st_s = fsn_cot_delta(ot, f->delta);
  const uint64_t before = bytes_sent(ch);
  uint64_t m0[300], m1[300];
  memset(m0, 0, sizeof m0), memset(m1, 0xff, sizeof m1);
  /* a chosen OT: the ciphertexts are what a cheating receiver must not get */
  if (f->st_s == FSN_OK) f->st_s = fsn_ot_send(ot, m0, m1, f->n, 37);
  f->sent_s = bytes_sent(ch) - before;
  keep_error(f->err_s, f->st_s);
  fsn_cot_destroy(ot);
}

static void flip_client(fsn_channel *ch, void *arg) {
  flip *f = arg;
  fsn_cot *ot = NULL;
  const fsn_cot_options opt = {.unchecked = f->unchecked};
  f->st_r = fsn_cot_create(&ot, "iknp", ch, FSN_OT_RECEIVER, &opt);
  if (f->st_r == FSN_OK) f->st_flip = fsn_iknp_test_flip(ot, f->column, f->row);
  uint64_t mc[300];
  if (f->st_r == FSN_OK) f->st_r = fsn_ot_recv(ot, mc, f->choice, f->n, 37);
  /* what the receiver got, as 16-byte blocks for the comparison below: the chosen message's low bits */
  for (size_t i = 0; f->st_r == FSN_OK && i < f->n; i++) memcpy(f->xc + 16 * i, &mc[i], 8);
  fsn_cot_destroy(ot);
}

static void flip_server_ex(fsn_channel **chs, size_t n, void *arg) {
  (void)n;
  flip_server(chs[0], arg);
}

static void flip_client_ex(fsn_channel **chs, size_t n, void *arg) {
  (void)n;
  flip_client(chs[0], arg);
}

/* A caught receiver waits for ciphertexts that never come: a short read timeout ends its wait. */
static void run_flip(flip *f) {
  fsn_test_fill(f->choice, sizeof f->choice);
  const fsn_test_net_opts opts = {.chan = {.timeout_ms = 3000}};
  fsn_test_two_party_ex(&opts, flip_server_ex, f, flip_client_ex, f);
  ck_assert_int_eq(f->st_flip, FSN_OK);
}

START_TEST(kos15_catches_a_flipped_column) {
  int caught = 0, passed = 0;
  for (unsigned column = 0; column < 16; column++) {
    flip *f = calloc(1, sizeof *f);
    ck_assert_ptr_nonnull(f);
    *f = (flip){.column = column, .row = column % 2 ? 5 : 299 + column, .n = 300}; /* a real row, or padding */
    run_flip(f);
    const unsigned dj = bit(f->delta, column);
    if (dj) {
      ck_assert_msg(f->st_s == FSN_E_CHEATING, "column %u, Delta_j = 1: the sender got %s (%s)", column,
                    fsn_strerror(f->st_s), f->err_s);
      ck_assert_msg(strstr(f->err_s, "KOS15"), "the error names the check: %s", f->err_s);
      /* nothing revealed: only the challenge seed went out, no ciphertext */
      ck_assert_uint_eq(f->sent_s, 16);
      ck_assert_msg(f->st_r != FSN_OK, "the cheating receiver got its messages");
      caught++;
    } else {
      ck_assert_msg(f->st_s == FSN_OK && f->st_r == FSN_OK, "column %u, Delta_j = 0: %s", column, f->err_s);
      for (size_t i = 0; i < f->n; i++) {
        uint64_t got;
        memcpy(&got, f->xc + 16 * i, 8);
        ck_assert_uint_eq(got, bit(f->choice, i) ? fsn_ring_mask(37) : 0); /* the flip changed nothing */
      }
      passed++;
    }
    free(f);
  }
  ck_assert_msg(caught && passed, "the seeded Delta must have both bit values among columns 0-15 (%d / %d)", caught,
                passed);
}
END_TEST

/* The same flip against the unchecked extension: no error, and the row's OT is wrong exactly when Delta_j = 1 (the
 * receiver's message no longer decrypts): the leak the client reads Delta from. */
START_TEST(unchecked_iknp_leaks_delta_bits) {
  for (unsigned column = 0; column < 8; column++) {
    flip *f = calloc(1, sizeof *f);
    ck_assert_ptr_nonnull(f);
    *f = (flip){.unchecked = true, .column = column, .row = 7, .n = 300};
    run_flip(f);
    ck_assert_msg(f->st_s == FSN_OK && f->st_r == FSN_OK, "unchecked: %s", f->err_s);
    uint64_t got;
    memcpy(&got, f->xc + 16 * 7, 8);
    const bool right = got == (bit(f->choice, 7) ? fsn_ring_mask(37) : 0);
    ck_assert_msg(right == !bit(f->delta, column), "column %u: the flip should reveal Delta_j", column);
    free(f);
  }
}
END_TEST

/* The same attack on KK13: a flipped bit of u makes the flipped row a non-codeword, and whether that instance still
 * decrypts tells the receiver bit `column` of the sender's s. Checked (the default on checked IKNP), the OOS17 check
 * refuses the chunk exactly when s_column = 1, having sent nothing but its seed; unchecked, the same seeded s makes
 * exactly those instances fail to decrypt: the leak. */
enum { KF_N = 300, KF_LOGN = 4 };

typedef struct kk_flip {
  bool unchecked;
  unsigned column;
  size_t row;
  uint64_t msgs[KF_N << KF_LOGN], out[KF_N];
  uint8_t idx[KF_N];
  uint64_t sent_s;
  fsn_status st_s, st_r, st_flip;
  char err_s[256];
} kk_flip;

static void kk_flip_party(fsn_channel *ch, kk_flip *f, fsn_ot_role role) {
  fsn_cot *ot = NULL;
  fsn_ot_n1 *n1 = NULL;
  const fsn_cot_options opt = {.unchecked = f->unchecked};
  fsn_status st = fsn_cot_create_test(&ot, "iknp", ch, role, &opt, flip_seed);
  if (st == FSN_OK) st = fsn_ot_n1_create_test(&n1, "kk13", ot, flip_seed);
  if (role == FSN_OT_SENDER) {
    const uint64_t before = bytes_sent(ch);
    if (st == FSN_OK) st = fsn_ot_nchoose1_send(n1, f->msgs, KF_N, KF_LOGN, 64);
    f->sent_s = bytes_sent(ch) - before;
    f->st_s = st;
    keep_error(f->err_s, st);
  } else {
    if (st == FSN_OK) st = f->st_flip = fsn_kk13_test_flip(n1, f->column, f->row);
    if (st == FSN_OK) st = fsn_ot_nchoose1_recv(n1, f->out, f->idx, KF_N, KF_LOGN, 64);
    f->st_r = st;
  }
  fsn_ot_n1_destroy(n1);
  fsn_cot_destroy(ot);
}

static void kk_flip_server(fsn_channel **chs, size_t n, void *arg) {
  (void)n;
  kk_flip_party(chs[0], arg, FSN_OT_SENDER);
}

static void kk_flip_client(fsn_channel **chs, size_t n, void *arg) {
  (void)n;
  kk_flip_party(chs[0], arg, FSN_OT_RECEIVER);
}

/* 1: the sender refused (checked) or the flipped row's message did not decrypt (unchecked); 0: nothing happened. */
static int kk_flip_run(bool unchecked, unsigned column) {
  kk_flip *f = calloc(1, sizeof *f);
  ck_assert_ptr_nonnull(f);
  *f = (kk_flip){.unchecked = unchecked, .column = column, .row = 5 + column};
  fsn_test_fill_ring(f->msgs, KF_N << KF_LOGN, 64);
  for (size_t i = 0; i < KF_N; i++) f->idx[i] = (uint8_t)(fsn_test_rand() % 16);
  const fsn_test_net_opts opts = {.chan = {.timeout_ms = 3000}};
  fsn_test_two_party_ex(&opts, kk_flip_server, f, kk_flip_client, f);
  ck_assert_int_eq(f->st_flip, FSN_OK);
  int hit;
  if (f->st_s == FSN_E_CHEATING) {
    ck_assert_msg(!unchecked, "an unchecked sender cannot catch anything");
    ck_assert_msg(strstr(f->err_s, "OOS17"), "the error names the check: %s", f->err_s);
    ck_assert_uint_eq(f->sent_s, 16); /* only the challenge seed: no ciphertext */
    ck_assert_int_ne(f->st_r, FSN_OK);
    hit = 1;
  } else {
    ck_assert_msg(f->st_s == FSN_OK && f->st_r == FSN_OK, "column %u: %s", column, f->err_s);
    for (size_t i = 0; i < KF_N; i++)
      if (i != f->row) ck_assert_uint_eq(f->out[i], f->msgs[(i << KF_LOGN) + f->idx[i]]);
    hit = f->out[f->row] != f->msgs[(f->row << KF_LOGN) + f->idx[f->row]];
    ck_assert_msg(!hit || unchecked, "column %u: a checked run passed with a wrong output", column);
  }
  free(f);
  return hit;
}

START_TEST(oos17_catches_a_flipped_kk13_column) {
  int caught = 0;
  for (unsigned column = 0; column < 12; column++) {
    const int checked = kk_flip_run(false, column), leaked = kk_flip_run(true, column);
    ck_assert_msg(checked == leaked, "column %u: caught %d, but the unchecked flip leaked %d", column, checked, leaked);
    caught += checked;
  }
  ck_assert_msg(caught > 0 && caught < 12, "the seeded s must have both bit values among columns 0-11 (%d)", caught);
}
END_TEST

/* ---- threads ----------------------------------------------------------------------------------------------------- */

enum { MT_THREADS = 2, MT_N = 100000 };

typedef struct mt {
  uint8_t *x0, *xc, *choice, delta[MT_THREADS][16];
  fsn_cot *objs[2][MT_THREADS], **ots;
  fsn_status st_s, st_r;
  char err_s[256], err_r[256];
} mt;

static fsn_status mt_send(size_t t, size_t b, size_t e, void *arg) {
  mt *m = arg;
  return fsn_cot_send(m->ots[t], m->x0 + 16 * b, e - b);
}
static fsn_status mt_recv(size_t t, size_t b, size_t e, void *arg) {
  mt *m = arg;
  return fsn_cot_recv(m->ots[t], m->xc + 16 * b, m->choice + b / 8, e - b);
}

/* One party: one extension object per channel, then the driver with one thread per object. Both parties run in this
 * process, so each keeps its objects in its own half of the array. */
static fsn_status mt_party(mt *m, fsn_channel **chs, fsn_ot_role role) {
  fsn_cot **ots = m->objs[role];
  fsn_status st = FSN_OK;
  for (int t = 0; t < MT_THREADS && st == FSN_OK; t++) {
    st = fsn_cot_create(&ots[t], "iknp", chs[t], role, NULL);
    if (st == FSN_OK && role == FSN_OT_SENDER) st = fsn_cot_delta(ots[t], m->delta[t]);
  }
  mt view = *m;
  view.ots = ots;
  if (st == FSN_OK) st = fsn_ot_parallel(MT_THREADS, MT_N, role == FSN_OT_SENDER ? mt_send : mt_recv, &view);
  keep_error(role == FSN_OT_SENDER ? m->err_s : m->err_r, st);
  for (int t = 0; t < MT_THREADS; t++) fsn_cot_destroy(ots[t]);
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

int main(void) {
  Suite *s = suite_create("ot");
  FSN_TEST_ADD_CASE(s, bad_arguments);
  FSN_TEST_ADD_CASE(s, malformed_peers);
  FSN_TEST_ADD_CASE(s, kos15_catches_a_flipped_column);
  FSN_TEST_ADD_CASE(s, unchecked_iknp_leaks_delta_bits);
  FSN_TEST_ADD_CASE(s, oos17_catches_a_flipped_kk13_column);
  FSN_TEST_ADD_CASE(s, session_reuses_base_ots);
  FSN_TEST_ADD_CASE(s, default_pack_follows_isa);
  FSN_TEST_ADD_CASE(s, pack_memory_from_set_sizes);
  FSN_TEST_ADD_CASE(s, cot_sizes);
  FSN_TEST_ADD_CASE(s, derived_ots_on_ferret);
  FSN_TEST_ADD_CASE(s, derived_ots_on_unchecked_ferret);
  FSN_TEST_ADD_CASE(s, ferret_pool_fails_cleanly_when_peer_gone);
  FSN_TEST_ADD_CASE(s, rcot_sizes);
  FSN_TEST_ADD_CASE(s, rot_sizes);
  FSN_TEST_ADD_CASE(s, chosen_sizes);
  FSN_TEST_ADD_CASE(s, acot_sizes);
  FSN_TEST_ADD_CASE(s, nchoose1_sizes);
  FSN_TEST_ADD_CASE(s, nchoose1_extreme_indices);
  FSN_TEST_ADD_CASE(s, kk13_matches_its_specification);
  FSN_TEST_ADD_CASE(s, seeded_identical_across_isa);
  FSN_TEST_ADD_CASE(s, parallel_driver);
  return fsn_test_main(s);
}
