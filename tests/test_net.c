/* The network layer over real sockets: counters, packing, handshake mismatches, closed peers, timeouts, hostile
 * frames, IPv6, link emulation, profiles, multi-channel sessions; the acceptor against concurrent and hostile
 * clients (dribbling, flooding, incomplete groups, busy), draining on stop; error frames. */
#include <arpa/inet.h>
#include <fusion/acceptor.h>
#include <math.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "net/wire.h"
#include "tests/common/fsn_test.h"
#include "tests/common/fsn_test_net.h"

#define OK(call) ck_assert_msg((call) == FSN_OK, "%s: %s", #call, fsn_last_error())

static double now_s(void) { return (double)fsn_net_now_ns() / 1e9; }

static void sleep_ms(int ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
  nanosleep(&ts, NULL);
}

/* Expect `st` to be `want` with a detail message containing `needle`. */
static void expect_fail(fsn_status st, fsn_status want, const char *needle, const char *what) {
  ck_assert_msg(st == want, "%s: got %s (%s), wanted %s", what, fsn_strerror(st), fsn_last_error(), fsn_strerror(want));
  ck_assert_msg(strstr(fsn_last_error(), needle), "%s: message '%s' lacks '%s'", what, fsn_last_error(), needle);
}

/* Deterministic values both parties can regenerate. */
static uint64_t value_at(unsigned ell, size_t n, size_t i) {
  uint64_t z = (uint64_t)ell * 0x9e3779b97f4a7c15ull ^ (uint64_t)n << 20 ^ i;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

/* Raw bytes onto a channel's socket, as a misbehaving peer would send them. */
static void raw_write(fsn_channel *ch, const void *p, size_t n) {
  ck_assert_int_eq(write(fsn_channel_fd(ch), p, n), (ssize_t)n);
}

static void raw_header(fsn_channel *ch, uint8_t kind, uint64_t len) {
  uint8_t h[FSN_FRAME_HEADER_BYTES];
  fsn_wire_header_encode(h, &(fsn_wire_header){.kind = kind, .length = len});
  raw_write(ch, h, sizeof h);
}

/* ---- counters ---- */

static void counters_server(fsn_channel *ch, void *arg) {
  (void)arg;
  uint8_t buf[1000];
  OK(fsn_channel_recv(ch, buf, 10));
  OK(fsn_channel_recv(ch, buf, 0));
  OK(fsn_channel_recv(ch, buf, 1000));
  OK(fsn_channel_send(ch, buf, 5));
  uint64_t v[100];
  OK(fsn_channel_recv_ring(ch, v, 100, 37));
  OK(fsn_channel_send(ch, buf, 1));
  OK(fsn_channel_flush(ch));
  uint8_t done;
  OK(fsn_channel_recv(ch, &done, 1));
  fsn_counters c;
  fsn_channel_counters(ch, &c);
  ck_assert_uint_eq(c.bytes_recv, 10 + 0 + 1000 + 463 + 1);
  ck_assert_uint_eq(c.msgs_recv, 5);
  ck_assert_uint_eq(c.bytes_sent, 6);
  ck_assert_uint_eq(c.msgs_sent, 2);
  ck_assert_uint_eq(c.rounds, 2); /* receives first: the ring vector and the final byte each follow a send */
  ck_assert_uint_eq(c.wire_bytes_recv, c.bytes_recv + 5 * FSN_FRAME_HEADER_BYTES);
  ck_assert_uint_eq(c.wire_bytes_sent, c.bytes_sent + 2 * FSN_FRAME_HEADER_BYTES);
}

static void counters_client(fsn_channel *ch, void *arg) {
  (void)arg;
  uint8_t buf[1000] = {0};
  OK(fsn_channel_send(ch, buf, 10));
  OK(fsn_channel_send(ch, buf, 0));
  OK(fsn_channel_send(ch, buf, 1000));
  OK(fsn_channel_recv(ch, buf, 5));
  fsn_counters c;
  fsn_channel_counters(ch, &c);
  ck_assert_uint_eq(c.bytes_sent, 1010);
  ck_assert_uint_eq(c.msgs_sent, 3);
  ck_assert_uint_eq(c.bytes_recv, 5);
  ck_assert_uint_eq(c.msgs_recv, 1);
  ck_assert_uint_eq(c.rounds, 1);
  ck_assert_uint_eq(c.wire_bytes_sent, 1010 + 3 * FSN_FRAME_HEADER_BYTES);
  ck_assert_uint_eq(c.wire_bytes_recv, 5 + FSN_FRAME_HEADER_BYTES);

  OK(fsn_channel_set_phase(ch, "layer 2"));
  uint64_t v[100] = {0};
  OK(fsn_channel_send_ring(ch, v, 100, 37)); /* ceil(3700 / 8) = 463 bytes */
  OK(fsn_channel_recv(ch, buf, 1));
  OK(fsn_channel_set_phase(ch, NULL));
  OK(fsn_channel_send(ch, buf, 1));
  fsn_counters p;
  OK(fsn_channel_phase_find(ch, "layer 2", &p));
  ck_assert_uint_eq(p.bytes_sent, 463);
  ck_assert_uint_eq(p.msgs_sent, 1);
  ck_assert_uint_eq(p.bytes_recv, 1);
  ck_assert_uint_eq(p.rounds, 1);
  ck_assert_uint_eq(fsn_channel_phase_count(ch), 1);
  ck_assert_str_eq(fsn_channel_phase_name(ch, 0), "layer 2");
  ck_assert_int_eq(fsn_channel_phase_find(ch, "nope", &p), FSN_E_INVALID);
  fsn_channel_counters(ch, &c);
  ck_assert_uint_eq(c.bytes_sent, 1010 + 463 + 1);
  ck_assert_uint_eq(c.rounds, 2);

  char json[512];
  size_t need = fsn_channel_counters_json(json, sizeof json, ch);
  ck_assert_uint_lt(need, sizeof json);
  ck_assert_uint_eq(need, strlen(json));
  ck_assert_msg(strstr(json, "\"bytes_sent\":1474,") && strstr(json, "\"rounds\":2,") &&
                    strstr(json, "\"phases\":[{\"name\":\"layer 2\",\"bytes_sent\":463,"),
                "json: %s", json);
  char tiny[8];
  ck_assert_uint_eq(fsn_channel_counters_json(tiny, sizeof tiny, ch), need); /* truncated, length still reported */
  ck_assert_uint_eq(strlen(tiny), 7);
}

START_TEST(counters_are_exact) { fsn_test_two_party(counters_server, NULL, counters_client, NULL); }
END_TEST

/* ---- packing ---- */

static const size_t pack_ns[] = {0, 1, 7, 8, 1000};

/* Index of the first element where out differs from v mod 2^ell, n if none (one Check assertion per vector: each
 * assertion costs a pipe write in fork mode). */
static size_t first_bad(const uint64_t *out, const uint64_t *v, size_t n, unsigned ell) {
  for (size_t i = 0; i < n; i++)
    if (out[i] != (v[i] & fsn_ring_mask(ell))) return i;
  return n;
}

START_TEST(ring_pack_round_trips_every_ell) {
  for (unsigned ell = 1; ell <= 64; ell++)
    for (size_t k = 0; k < sizeof pack_ns / sizeof pack_ns[0]; k++) {
      size_t n = pack_ns[k], bytes = fsn_wire_packed_bytes(n, ell);
      ck_assert_uint_eq(bytes, (n * ell + 7) / 8);
      fsn_test_buf bv, bp, bo;
      uint64_t *v = fsn_test_buf_alloc(&bv, n * 8, 8), *out = fsn_test_buf_alloc(&bo, n * 8, 24);
      uint8_t *packed = fsn_test_buf_alloc(&bp, bytes, 3);
      for (size_t i = 0; i < n; i++) v[i] = value_at(ell, n, i); /* high bits set: pack must mask them */
      fsn_wire_pack(packed, v, n, ell);
      OK(fsn_wire_unpack(out, packed, n, ell));
      ck_assert_msg(first_bad(out, v, n, ell) == n, "ell=%u n=%zu: element %zu differs", ell, n,
                    first_bad(out, v, n, ell));
      fsn_test_buf_check(&bv);
      fsn_test_buf_check(&bp);
      fsn_test_buf_check(&bo);
      fsn_test_buf_free(&bv);
      fsn_test_buf_free(&bp);
      fsn_test_buf_free(&bo);
    }
}
END_TEST

START_TEST(ring_pack_known_answers) {
  uint8_t b[16];
  fsn_wire_pack(b, (const uint64_t[]){1, 2, 3}, 3, 4);
  ck_assert_uint_eq(b[0], 0x21);
  ck_assert_uint_eq(b[1], 0x03);
  fsn_wire_pack(b, (const uint64_t[]){(1ull << 37) - 1, 1}, 2, 37); /* 74 bits: 10 bytes */
  const uint8_t want[10] = {0xff, 0xff, 0xff, 0xff, 0x3f, 0, 0, 0, 0, 0};
  ck_assert_mem_eq(b, want, 10);
  uint64_t v[3];
  expect_fail(fsn_wire_unpack(v, (const uint8_t[]){0x21, 0x13}, 3, 4), FSN_E_PROTOCOL, "padding", "ring padding");
}
END_TEST

static const size_t wire_ns[] = {0, 1, 7, 8, 1000, 40000};

static void ring_server(fsn_channel *ch, void *arg) {
  (void)arg;
  static uint64_t v[40000];
  uint64_t expect_bytes = 0;
  for (unsigned ell = 1; ell <= 64; ell++)
    for (size_t k = 0; k < sizeof wire_ns / sizeof wire_ns[0]; k++) {
      size_t n = wire_ns[k];
      OK(fsn_channel_recv_ring(ch, v, n, ell));
      size_t bad = n;
      for (size_t i = n; i-- > 0;)
        if (v[i] != (value_at(ell, n, i) & fsn_ring_mask(ell))) bad = i;
      ck_assert_msg(bad == n, "ell=%u n=%zu: element %zu differs", ell, n, bad);
      expect_bytes += fsn_wire_packed_bytes(n, ell);
    }
  fsn_counters c;
  fsn_channel_counters(ch, &c);
  ck_assert_uint_eq(c.bytes_recv, expect_bytes);
  OK(fsn_channel_send(ch, "", 0));
}

static void ring_client(fsn_channel *ch, void *arg) {
  (void)arg;
  static uint64_t v[40000];
  for (unsigned ell = 1; ell <= 64; ell++)
    for (size_t k = 0; k < sizeof wire_ns / sizeof wire_ns[0]; k++) {
      size_t n = wire_ns[k];
      for (size_t i = 0; i < n; i++) v[i] = value_at(ell, n, i);
      OK(fsn_channel_send_ring(ch, v, n, ell));
    }
  OK(fsn_channel_recv(ch, NULL, 0));
}

START_TEST(ring_vectors_over_a_socket) { fsn_test_two_party(ring_server, NULL, ring_client, NULL); }
END_TEST

static const size_t bit_ns[] = {0, 1, 7, 8, 9, 1000, 20000};

static void bits_server(fsn_channel *ch, void *arg) {
  (void)arg;
  static uint8_t b[20000];
  for (size_t k = 0; k < sizeof bit_ns / sizeof bit_ns[0]; k++) {
    OK(fsn_channel_recv_bits(ch, b, bit_ns[k]));
    size_t bad = bit_ns[k];
    for (size_t i = bit_ns[k]; i-- > 0;)
      if (b[i] != (value_at(1, bit_ns[k], i) & 1)) bad = i;
    ck_assert_msg(bad == bit_ns[k], "n=%zu: bit %zu differs", bit_ns[k], bad);
  }
  /* A raw frame with a stray padding bit: 3 bits in one byte, bit 5 set. */
  raw_header(ch, FSN_WIRE_KIND_DATA, 1);
  raw_write(ch, (const uint8_t[]){0x25}, 1);
}

static void bits_client(fsn_channel *ch, void *arg) {
  (void)arg;
  static uint8_t b[20000];
  for (size_t k = 0; k < sizeof bit_ns / sizeof bit_ns[0]; k++) {
    for (size_t i = 0; i < bit_ns[k]; i++) b[i] = (uint8_t)value_at(1, bit_ns[k], i); /* only bit 0 counts */
    OK(fsn_channel_send_bits(ch, b, bit_ns[k]));
  }
  fsn_counters c;
  fsn_channel_counters(ch, &c);
  ck_assert_uint_eq(c.bytes_sent, 0 + 1 + 1 + 1 + 2 + 125 + 2500);
  expect_fail(fsn_channel_recv_bits(ch, b, 3), FSN_E_PROTOCOL, "padding", "bit padding");
}

START_TEST(bit_vectors_over_a_socket) { fsn_test_two_party(bits_server, NULL, bits_client, NULL); }
END_TEST

/* ---- handshake ---- */

typedef struct hs_party {
  fsn_channel *ch;
  fsn_wire_hello hello;
  fsn_status st;
  char why[512];
} hs_party;

static void *hs_run(void *p) {
  hs_party *h = p;
  h->st = fsn_channel_handshake_hello(h->ch, &h->hello);
  snprintf(h->why, sizeof h->why, "%s", fsn_last_error());
  return NULL;
}

/* Both parties handshake concurrently; each must fail with FSN_E_MISMATCH and a message naming the field. */
static void handshake_both(fsn_wire_hello a, fsn_wire_hello b, fsn_status want, const char *needle_a,
                           const char *needle_b) {
  hs_party pa = {.hello = a}, pb = {.hello = b};
  fsn_test_channel_pair(&pa.ch, &pb.ch, &(fsn_channel_opts){.timeout_ms = 5000});
  pthread_t t;
  ck_assert_int_eq(pthread_create(&t, NULL, hs_run, &pa), 0);
  hs_run(&pb);
  pthread_join(t, NULL);
  fsn_channel_destroy(pa.ch);
  fsn_channel_destroy(pb.ch);
  ck_assert_msg(pa.st == want, "side a: %s (%s)", fsn_strerror(pa.st), pa.why);
  ck_assert_msg(pb.st == want, "side b: %s (%s)", fsn_strerror(pb.st), pb.why);
  ck_assert_msg(strstr(pa.why, needle_a), "side a: '%s' lacks '%s'", pa.why, needle_a);
  ck_assert_msg(strstr(pb.why, needle_b), "side b: '%s' lacks '%s'", pb.why, needle_b);
}

static fsn_wire_hello hello(fsn_role role, uint32_t ell, uint32_t scale, uint64_t session) {
  fsn_wire_hello h;
  fsn_channel_params p = {.ell = ell, .scale = scale, .session_id = session};
  fsn_wire_hello_make(&h, role, &p, 0, 1, &(fsn_channel_opts){.max_frame = 1 << 20});
  return h;
}

START_TEST(handshake_accepts_and_agrees) {
  handshake_both(hello(FSN_ROLE_SERVER, 37, 12, 0), hello(FSN_ROLE_CLIENT, 37, 12, 77), FSN_OK, "", "");
}
END_TEST

START_TEST(handshake_mismatches_fail_on_both_sides) {
  const fsn_role S = FSN_ROLE_SERVER, C = FSN_ROLE_CLIENT;
  handshake_both(hello(S, 37, 12, 0), hello(C, 32, 12, 9), FSN_E_MISMATCH, "ell 37", "ell 32");
  handshake_both(hello(S, 37, 12, 0), hello(C, 37, 13, 9), FSN_E_MISMATCH, "scale", "scale");
  handshake_both(hello(S, 37, 12, 0), hello(S, 37, 12, 0), FSN_E_MISMATCH, "server role", "server role");
  handshake_both(hello(C, 37, 12, 9), hello(C, 37, 12, 9), FSN_E_MISMATCH, "client role", "client role");
  handshake_both(hello(S, 37, 12, 5), hello(C, 37, 12, 6), FSN_E_MISMATCH, "session id", "session id");
  fsn_wire_hello v2 = hello(C, 37, 12, 9);
  v2.version = 2;
  handshake_both(hello(S, 37, 12, 0), v2, FSN_E_MISMATCH, "version 2", "version 2 (this side) vs 1");
  fsn_wire_hello bad = hello(C, 37, 12, 9);
  bad.magic = 0x12345678;
  handshake_both(hello(S, 37, 12, 0), bad, FSN_E_MISMATCH, "magic", "magic");
  fsn_wire_hello wan = hello(C, 37, 12, 9);
  wan.link_bps = 400000000;
  handshake_both(hello(S, 37, 12, 0), wan, FSN_E_MISMATCH, "link", "link");
}
END_TEST

START_TEST(handshake_public_api_and_misuse) {
  fsn_channel *a, *b;
  fsn_test_channel_pair(&a, &b, NULL);
  expect_fail(fsn_channel_send(a, "x", 1), FSN_E_INVALID, "handshake", "send before handshake");
  expect_fail(fsn_channel_handshake(a, FSN_ROLE_CLIENT, &(fsn_channel_params){.ell = 65}), FSN_E_INVALID, "ell",
              "ell 65");
  fsn_channel_destroy(a);
  fsn_channel_destroy(b);
}
END_TEST

/* ---- closed peers ---- */

static void close_mid_message_server(fsn_channel *ch, void *arg) {
  (void)arg;
  raw_header(ch, FSN_WIRE_KIND_DATA, 1000);
  raw_write(ch, "0123456789", 10);
  shutdown(fsn_channel_fd(ch), SHUT_WR);
}

static void close_mid_message_client(fsn_channel *ch, void *arg) {
  (void)arg;
  uint8_t buf[1000];
  expect_fail(fsn_channel_recv(ch, buf, 1000), FSN_E_CLOSED, "10 of 1000 payload", "close mid-message");
  expect_fail(fsn_channel_recv(ch, buf, 1000), FSN_E_CLOSED, "earlier error", "call after failure");
}

START_TEST(peer_closes_mid_message) {
  fsn_test_two_party(close_mid_message_server, NULL, close_mid_message_client, NULL);
}
END_TEST

static void close_while_waiting_server(fsn_channel *ch, void *arg) {
  (void)arg;
  sleep_ms(100);
  shutdown(fsn_channel_fd(ch), SHUT_RDWR);
}

static void close_while_waiting_client(fsn_channel *ch, void *arg) {
  (void)arg;
  uint64_t v[4];
  expect_fail(fsn_channel_recv_ring(ch, v, 4, 37), FSN_E_CLOSED, "while this side waited", "close while waiting");
}

START_TEST(peer_closes_while_the_other_waits) {
  fsn_test_two_party(close_while_waiting_server, NULL, close_while_waiting_client, NULL);
}
END_TEST

START_TEST(peer_closes_during_handshake) {
  fsn_channel_params p = {.ell = 37, .scale = 12};
  /* The peer goes away without a word. */
  fsn_channel *a, *b;
  fsn_test_channel_pair(&a, &b, &(fsn_channel_opts){.timeout_ms = 5000});
  fsn_channel_destroy(b);
  fsn_status st = fsn_channel_handshake(a, FSN_ROLE_SERVER, &p);
  ck_assert_msg(st == FSN_E_CLOSED, "silent close: %s (%s)", fsn_strerror(st), fsn_last_error());
  fsn_channel_destroy(a);
  /* The peer sends 10 bytes of a header and goes away. */
  fsn_test_channel_pair(&a, &b, &(fsn_channel_opts){.timeout_ms = 5000});
  uint8_t h[FSN_FRAME_HEADER_BYTES];
  fsn_wire_header_encode(h, &(fsn_wire_header){.kind = FSN_WIRE_KIND_HELLO, .length = FSN_WIRE_HELLO_SIZE});
  raw_write(b, h, 10);
  fsn_channel_destroy(b);
  expect_fail(fsn_channel_handshake(a, FSN_ROLE_SERVER, &p), FSN_E_CLOSED, "10 of 24", "half a header");
  fsn_channel_destroy(a);
  /* A whole hello but no verdict. */
  fsn_test_channel_pair(&a, &b, &(fsn_channel_opts){.timeout_ms = 5000});
  uint8_t hb[FSN_WIRE_HELLO_SIZE];
  fsn_wire_hello hc = hello(FSN_ROLE_CLIENT, 37, 12, 9);
  fsn_wire_hello_encode(hb, &hc);
  raw_write(b, h, sizeof h);
  raw_write(b, hb, sizeof hb);
  shutdown(fsn_channel_fd(b), SHUT_WR);
  expect_fail(fsn_channel_handshake(a, FSN_ROLE_SERVER, &p), FSN_E_CLOSED, "while this side waited", "no verdict");
  fsn_channel_destroy(a);
  fsn_channel_destroy(b);
}
END_TEST

/* ---- timeouts and hostile frames ---- */

static void silent_party(fsn_channel **chs, size_t n, void *arg) { (void)chs, (void)n, (void)arg; }

static void timeout_client(fsn_channel **chs, size_t n, void *arg) {
  (void)n, (void)arg;
  uint8_t b[4];
  double t0 = now_s();
  expect_fail(fsn_channel_recv(chs[0], b, 4), FSN_E_TIMEOUT, "300 ms", "read timeout");
  double dt = now_s() - t0;
  ck_assert_msg(dt >= 0.25 && dt < 5, "timed out after %.3f s, configured 0.3 s", dt);
}

START_TEST(read_times_out) {
  fsn_test_net_opts o = {.chan = {.timeout_ms = 300}};
  fsn_test_two_party_ex(&o, silent_party, NULL, timeout_client, NULL);
}
END_TEST

typedef enum hostile { OVERSIZED, HUGE_LENGTH, WRONG_LENGTH, BAD_TAG, BAD_KIND, TRUNCATED_HEADER } hostile;

static void hostile_server(fsn_channel **chs, size_t n, void *arg) {
  (void)n;
  fsn_channel *ch = chs[0];
  switch (*(const hostile *)arg) {
  case OVERSIZED: raw_header(ch, FSN_WIRE_KIND_DATA, 2000); break;
  case HUGE_LENGTH: raw_header(ch, FSN_WIRE_KIND_DATA, (uint64_t)1 << 62); break;
  case WRONG_LENGTH: OK(fsn_channel_send(ch, "abcde", 5)); break;
  case BAD_TAG: raw_write(ch, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", 24); break;
  case BAD_KIND: raw_header(ch, FSN_WIRE_KIND_HELLO, 4); break;
  case TRUNCATED_HEADER: raw_write(ch, "FSN\0\0\0\0\0\0\0", 10); break;
  }
  OK(fsn_channel_flush(ch));
  shutdown(fsn_channel_fd(ch), SHUT_WR);
}

static void hostile_client(fsn_channel **chs, size_t n, void *arg) {
  (void)n;
  static uint8_t buf[2000];
  fsn_channel *ch = chs[0];
  switch (*(const hostile *)arg) {
  case OVERSIZED:
    expect_fail(fsn_channel_send(ch, buf, 1001), FSN_E_INVALID, "peer's limit of 1000", "send above peer limit");
    expect_fail(fsn_channel_recv(ch, buf, 2000), FSN_E_PROTOCOL, "2000 is above the limit of 1000", "oversized");
    break;
  case HUGE_LENGTH: expect_fail(fsn_channel_recv(ch, buf, 8), FSN_E_PROTOCOL, "above the limit", "huge length"); break;
  case WRONG_LENGTH:
    expect_fail(fsn_channel_recv(ch, buf, 6), FSN_E_PROTOCOL, "expected a frame of 6 bytes, the peer sent 5", "len");
    break;
  case BAD_TAG: expect_fail(fsn_channel_recv(ch, buf, 8), FSN_E_PROTOCOL, "bad frame header", "bad tag"); break;
  case BAD_KIND: expect_fail(fsn_channel_recv(ch, buf, 4), FSN_E_PROTOCOL, "kind 1", "bad kind"); break;
  case TRUNCATED_HEADER:
    expect_fail(fsn_channel_recv(ch, buf, 8), FSN_E_CLOSED, "10 of 24 header", "truncated header");
    break;
  }
}

START_TEST(hostile_frames_are_clear_errors) {
  for (hostile h = OVERSIZED; h <= TRUNCATED_HEADER; h++) {
    fsn_test_net_opts o = {.chan = {.timeout_ms = 5000, .max_frame = 1000}};
    fsn_test_two_party_ex(&o, hostile_server, &h, hostile_client, &h);
  }
}
END_TEST

/* ---- IPv6, sessions ---- */

static void echo_server(fsn_channel **chs, size_t n, void *arg) {
  (void)arg;
  for (size_t i = 0; i < n; i++) {
    uint64_t x;
    OK(fsn_channel_recv(chs[i], &x, sizeof x));
    x *= 10;
    OK(fsn_channel_send(chs[i], &x, sizeof x));
    OK(fsn_channel_flush(chs[i]));
  }
}

typedef struct worker {
  fsn_channel *ch;
  uint64_t id;
} worker;

static void *echo_worker(void *p) {
  worker *w = p;
  uint64_t x = w->id + 1, y;
  OK(fsn_channel_send(w->ch, &x, sizeof x));
  OK(fsn_channel_recv(w->ch, &y, sizeof y));
  ck_assert_uint_eq(y, 10 * x);
  return NULL;
}

/* One worker thread per channel, as protocols use them. */
static void echo_client(fsn_channel **chs, size_t n, void *arg) {
  (void)arg;
  pthread_t t[8];
  worker w[8];
  ck_assert_uint_le(n, 8);
  for (size_t i = 0; i < n; i++) {
    w[i] = (worker){chs[i], i};
    ck_assert_int_eq(pthread_create(&t[i], NULL, echo_worker, &w[i]), 0);
    ck_assert_uint_eq(fsn_channel_session_id(chs[i]), fsn_channel_session_id(chs[0]));
  }
  for (size_t i = 0; i < n; i++) pthread_join(t[i], NULL);
}

START_TEST(ipv6_loopback_if_available) {
  fsn_listener *l;
  if (fsn_listen(&l, "[::1]:0") != FSN_OK) {
    fprintf(stderr, "# IPv6 loopback unavailable (%s): skipped\n", fsn_last_error());
    return;
  }
  fsn_listener_destroy(l);
  fsn_test_net_opts o = {.channels = 2, .listen_address = "[::1]:0"};
  fsn_test_two_party_ex(&o, echo_server, NULL, echo_client, NULL);
}
END_TEST

START_TEST(multi_channel_session) {
  fsn_test_net_opts o = {.channels = 4, .params = {.ell = 64, .scale = 16}};
  fsn_test_two_party_ex(&o, echo_server, NULL, echo_client, NULL);
}
END_TEST

START_TEST(addresses_are_validated) {
  fsn_listener *l;
  ck_assert_int_eq(fsn_listen(&l, "127.0.0.1"), FSN_E_INVALID);
  ck_assert_int_eq(fsn_listen(&l, "::1:80"), FSN_E_INVALID);
  ck_assert_int_eq(fsn_listen(&l, "127.0.0.1:99999"), FSN_E_INVALID);
  ck_assert_int_eq(fsn_listen(&l, "[::1:80"), FSN_E_INVALID);
}
END_TEST

/* ---- link emulation ---- */

static void link_server(fsn_channel **chs, size_t n, void *arg) {
  (void)n, (void)arg;
  static uint8_t big[1000000];
  uint8_t b;
  for (int i = 0; i < 3; i++) {
    OK(fsn_channel_recv(chs[0], &b, 1));
    OK(fsn_channel_send(chs[0], &b, 1));
  }
  OK(fsn_channel_recv(chs[0], big, sizeof big));
  OK(fsn_channel_send(chs[0], &b, 1));
}

static void link_client(fsn_channel **chs, size_t n, void *arg) {
  (void)n, (void)arg;
  static uint8_t big[1000000];
  uint8_t b = 1;
  double t0 = now_s();
  for (int i = 0; i < 3; i++) {
    OK(fsn_channel_send(chs[0], &b, 1));
    OK(fsn_channel_recv(chs[0], &b, 1));
  }
  double ping = now_s() - t0;
  ck_assert_msg(ping >= 3 * 0.040 * 0.95 && ping < 10, "3 round trips at 40 ms RTT took %.3f s", ping);
  t0 = now_s();
  OK(fsn_channel_send(chs[0], big, sizeof big));
  OK(fsn_channel_recv(chs[0], &b, 1));
  double bulk = now_s() - t0, model = 8e6 / 100e6 + 0.040;
  ck_assert_msg(bulk >= model * 0.9 && bulk < 20, "1 MB at 100 Mbit/s + 1 RTT took %.3f s, model %.3f s", bulk, model);
}

START_TEST(emulated_link_adds_rtt_and_serialisation) {
  fsn_test_net_opts o = {.chan = {.link = {100e6, 0.040}}};
  fsn_test_two_party_ex(&o, link_server, NULL, link_client, NULL);
}
END_TEST

static void shared_link_worker_server(fsn_channel **chs, size_t n, void *arg) {
  (void)arg;
  static uint8_t big[1000000];
  for (size_t i = 0; i < n; i++) OK(fsn_channel_recv(chs[i], big, sizeof big));
  for (size_t i = 0; i < n; i++) OK(fsn_channel_send(chs[i], big, 1));
}

static void *send_megabyte(void *p) {
  static uint8_t big[1000000];
  OK(fsn_channel_send(p, big, sizeof big));
  OK(fsn_channel_flush(p));
  return NULL;
}

/* Two channels of one session share the emulated link: 2 x 1 MB at 100 Mbit/s take 160 ms, not 80. */
static void shared_link_worker_client(fsn_channel **chs, size_t n, void *arg) {
  (void)arg;
  pthread_t t[2];
  uint8_t b;
  double t0 = now_s();
  for (size_t i = 0; i < n; i++) ck_assert_int_eq(pthread_create(&t[i], NULL, send_megabyte, chs[i]), 0);
  for (size_t i = 0; i < n; i++) pthread_join(t[i], NULL);
  for (size_t i = 0; i < n; i++) OK(fsn_channel_recv(chs[i], &b, 1));
  double dt = now_s() - t0, model = 2 * 8e6 / 100e6 + 0.010;
  ck_assert_msg(dt >= 0.9 * model && dt < 20, "2 MB over a shared 100 Mbit/s link took %.3f s, model %.3f s", dt,
                model);
}

START_TEST(session_channels_share_the_emulated_link) {
  fsn_test_net_opts o = {.channels = 2, .chan = {.link = {100e6, 0.010}}};
  fsn_test_two_party_ex(&o, shared_link_worker_server, NULL, shared_link_worker_client, NULL);
}
END_TEST

START_TEST(link_profiles_parse) {
  fsn_link_profile p;
  OK(fsn_link_parse("lan", &p));
  ck_assert(p.bandwidth_bps == 3e9 && p.rtt_s == 0.3e-3);
  OK(fsn_link_parse("wan", &p));
  ck_assert(p.bandwidth_bps == 400e6 && p.rtt_s == 40e-3);
  OK(fsn_link_parse("wan-slow", &p));
  ck_assert(p.bandwidth_bps == 100e6 && p.rtt_s == 80e-3);
  OK(fsn_link_parse("off", &p));
  ck_assert(p.bandwidth_bps == 0 && p.rtt_s == 0);
  OK(fsn_link_parse("bw=400mbit,rtt=40ms", &p));
  ck_assert(p.bandwidth_bps == 400e6 && p.rtt_s == 40e-3);
  OK(fsn_link_parse("rtt=250us,bw=2.5Gbit/s", &p));
  ck_assert(p.bandwidth_bps == 2.5e9 && p.rtt_s == 250e-6);
  OK(fsn_link_parse("rtt=1s", &p));
  ck_assert(p.bandwidth_bps == 0 && p.rtt_s == 1);
  expect_fail(fsn_link_parse("bw=abc", &p), FSN_E_INVALID, "bw", "non-number");
  expect_fail(fsn_link_parse("bw=10furlong", &p), FSN_E_INVALID, "unknown unit", "unit");
  expect_fail(fsn_link_parse("moon", &p), FSN_E_INVALID, "expected lan", "unknown profile");
  expect_fail(fsn_link_parse("bw=1mbit,bw=2mbit", &p), FSN_E_INVALID, "repeated", "repeated key");
  expect_fail(fsn_link_parse("bw=1bit", &p), FSN_E_INVALID, "below", "tiny bandwidth");
  expect_fail(fsn_link_parse("", &p), FSN_E_INVALID, "empty", "empty");
  char s[64];
  fsn_link_parse("wan", &p) == FSN_OK ? (void)fsn_link_format(s, sizeof s, &p) : (void)0;
  ck_assert_str_eq(s, "400 Mbit/s, 40 ms RTT");
  ck_assert(fabs(fsn_link_model_seconds(&p, 1.0, 50000000, 10) - 2.4) < 1e-9);
}
END_TEST

/* ---- the acceptor: many sessions, hostile clients ---- */

static const fsn_channel_params acc_params = {.ell = 37, .scale = 12};

/* What the test's session callback does and saw. */
typedef struct acc_run {
  fsn_listener *l;
  fsn_acceptor_opts o;
  fsn_channel_opts chan;
  fsn_acceptor_stats stats;
  fsn_status st;
  pthread_t thread;
  atomic_int running, most_running, served, failed, rejected;
  char rejected_why[256];
  double failed_after_s; /* how long the last failed session lasted */
  int wait_for_two;      /* each session waits (up to 5 s) until two run at once */
  atomic_int release;    /* sessions hold until this is set (when hold is on) */
  int hold;
} acc_run;

/* Each session: channel i receives 64 ring values and sends each back plus i + 1. */
static void acc_session(void *arg, const fsn_acceptor_session *s) {
  acc_run *r = arg;
  if (s->status != FSN_OK) { /* a fusion client whose handshake failed: reported, not served */
    ck_assert_ptr_null(s->chs);
    snprintf(r->rejected_why, sizeof r->rejected_why, "%s", s->error);
    atomic_fetch_add(&r->rejected, 1);
    return;
  }
  int now_running = atomic_fetch_add(&r->running, 1) + 1;
  int seen = atomic_load(&r->most_running);
  while (now_running > seen && !atomic_compare_exchange_weak(&r->most_running, &seen, now_running)) {
  }
  double t0 = now_s();
  for (int k = 0; r->wait_for_two && atomic_load(&r->most_running) < 2 && k < 500; k++) sleep_ms(10);
  for (int k = 0; r->hold && !atomic_load(&r->release) && k < 1000; k++) sleep_ms(10);
  fsn_status st = FSN_OK;
  for (size_t i = 0; i < s->n && st == FSN_OK; i++) {
    uint64_t v[64];
    st = fsn_channel_recv_ring(s->chs[i], v, 64, 37);
    for (int j = 0; j < 64; j++) v[j] = (v[j] + i + 1) & fsn_ring_mask(37);
    if (st == FSN_OK) st = fsn_channel_send_ring(s->chs[i], v, 64, 37);
    if (st == FSN_OK) st = fsn_channel_flush(s->chs[i]);
  }
  if (st == FSN_OK) {
    atomic_fetch_add(&r->served, 1);
  } else {
    r->failed_after_s = now_s() - t0;
    atomic_fetch_add(&r->failed, 1);
  }
  atomic_fetch_sub(&r->running, 1);
}

static void *acc_main(void *arg) {
  acc_run *r = arg;
  r->st = fsn_acceptor_run(r->l, &acc_params, &r->chan, &r->o, acc_session, r, &r->stats);
  return NULL;
}

static void acc_start(acc_run *r) {
  OK(fsn_listen(&r->l, "127.0.0.1:0"));
  ck_assert_int_eq(pthread_create(&r->thread, NULL, acc_main, r), 0);
}

static void acc_join(acc_run *r) {
  pthread_join(r->thread, NULL);
  fsn_listener_destroy(r->l);
  OK(r->st);
}

static void acc_address(const acc_run *r, char *buf, size_t cap) {
  snprintf(buf, cap, "127.0.0.1:%u", fsn_listener_port(r->l));
}

/* An honest client of n channels: sends values, checks each came back plus its channel's index + 1. */
typedef struct honest {
  const acc_run *r;
  size_t n;
  fsn_status st;
  char why[256];
  double seconds;
} honest;

static void *honest_main(void *arg) {
  honest *h = arg;
  char addr[64];
  acc_address(h->r, addr, sizeof addr);
  fsn_channel *chs[8];
  double t0 = now_s();
  fsn_channel_opts o = {.timeout_ms = 10000};
  h->st = fsn_channels_connect(chs, h->n, addr, FSN_ROLE_CLIENT, &acc_params, &o);
  for (size_t i = 0; i < h->n && h->st == FSN_OK; i++) {
    uint64_t v[64], w[64];
    for (int j = 0; j < 64; j++) v[j] = value_at(37, 64, (size_t)j) & fsn_ring_mask(37);
    h->st = fsn_channel_send_ring(chs[i], v, 64, 37);
    if (h->st == FSN_OK) h->st = fsn_channel_recv_ring(chs[i], w, 64, 37);
    for (int j = 0; h->st == FSN_OK && j < 64; j++)
      if (w[j] != ((v[j] + i + 1) & fsn_ring_mask(37))) h->st = fsn_fail(FSN_E_PROTOCOL, "wrong value back");
  }
  if (h->st != FSN_OK) snprintf(h->why, sizeof h->why, "%s", fsn_last_error());
  if (h->st == FSN_OK) fsn_channels_close(chs, h->n);
  h->seconds = now_s() - t0;
  return NULL;
}

static void honest_run(honest *h, pthread_t *t) { ck_assert_int_eq(pthread_create(t, NULL, honest_main, h), 0); }

static void honest_ok(pthread_t t, const honest *h, const char *what) {
  pthread_join(t, NULL);
  ck_assert_msg(h->st == FSN_OK, "%s: %s", what, h->why);
}

/* A raw TCP connection from a chosen loopback source address (127.0.0.2 is a different client to the acceptor). */
static int raw_connect(const acc_run *r, const char *from) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  ck_assert_int_ge(fd, 0);
  struct sockaddr_in a = {.sin_family = AF_INET};
  inet_pton(AF_INET, from, &a.sin_addr);
  ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
  a.sin_port = htons(fsn_listener_port(r->l));
  inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
  ck_assert_int_eq(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
  return fd;
}

START_TEST(acceptor_serves_two_clients_at_once) {
  acc_run r = {.o = {.channels = 2, .max_sessions = 2, .sessions = 2}, .wait_for_two = 1};
  acc_start(&r);
  honest a = {.r = &r, .n = 2}, b = {.r = &r, .n = 2};
  pthread_t ta, tb;
  honest_run(&a, &ta);
  honest_run(&b, &tb);
  honest_ok(ta, &a, "first client");
  honest_ok(tb, &b, "second client");
  acc_join(&r);
  ck_assert_int_eq(atomic_load(&r.most_running), 2); /* they really ran side by side */
  ck_assert_int_eq(atomic_load(&r.served), 2);
  ck_assert_uint_eq(r.stats.sessions, 2);
  ck_assert_uint_eq(r.stats.accepted, 4);
}
END_TEST

/* A client that completes its handshake, then dribbles a frame one byte every 200 ms: the per-read timeout (5 s)
 * never fires, the session deadline (1 s) does; an honest client is served meanwhile. */
START_TEST(acceptor_cuts_a_dribbling_client_at_the_session_deadline) {
  acc_run r = {.o = {.channels = 1, .max_sessions = 2, .sessions = 2, .session_s = 1.0}, .chan = {.timeout_ms = 5000}};
  acc_start(&r);
  char addr[64];
  acc_address(&r, addr, sizeof addr);
  fsn_channel *slow;
  OK(fsn_channels_connect(&slow, 1, addr, FSN_ROLE_CLIENT, &acc_params, &(fsn_channel_opts){.timeout_ms = 5000}));
  raw_header(slow, FSN_WIRE_KIND_DATA, fsn_wire_packed_bytes(64, 37));
  honest h = {.r = &r, .n = 1};
  pthread_t t;
  honest_run(&h, &t);
  double t0 = now_s();
  uint8_t byte = 0;
  while (atomic_load(&r.failed) == 0 && now_s() - t0 < 8) {
    if (write(fsn_channel_fd(slow), &byte, 1) != 1) break; /* the server may have cut us already */
    sleep_ms(200);
  }
  honest_ok(t, &h, "honest client beside a dribbler");
  fsn_channel_destroy(slow);
  acc_join(&r);
  ck_assert_int_eq(atomic_load(&r.failed), 1);
  ck_assert_int_eq(atomic_load(&r.served), 1);
  ck_assert_msg(r.failed_after_s >= 0.9 && r.failed_after_s < 2.5, "dribbler held its session %.2f s",
                r.failed_after_s);
  ck_assert_msg(h.seconds < 3, "the honest client took %.2f s", h.seconds);
}
END_TEST

/* 40 connections from 127.0.0.2 that never say hello: the per-address cap refuses all but two at once, they hold no
 * session slot, and an honest client from 127.0.0.1 is served promptly. */
START_TEST(acceptor_hello_flood_does_not_starve_honest_clients) {
  acc_run r = {.o = {.channels = 1, .max_sessions = 1, .max_per_address = 2, .sessions = 1, .handshake_s = 2}};
  acc_start(&r);
  int flood[40];
  for (int i = 0; i < 40; i++) flood[i] = raw_connect(&r, "127.0.0.2");
  /* A refused connection reads a server hello saying why, then the end of the stream. */
  uint8_t buf[FSN_FRAME_HEADER_BYTES + FSN_WIRE_HELLO_SIZE];
  ssize_t got = 0;
  for (int k = 0; k < 100 && got < (ssize_t)sizeof buf; k++) {
    ssize_t m = recv(flood[39], buf + got, sizeof buf - (size_t)got, MSG_DONTWAIT);
    if (m > 0)
      got += m;
    else
      sleep_ms(10);
  }
  ck_assert_int_eq(got, (ssize_t)sizeof buf);
  fsn_wire_hello hello;
  OK(fsn_wire_hello_decode(&hello, buf + FSN_FRAME_HEADER_BYTES, FSN_WIRE_HELLO_SIZE));
  ck_assert_uint_eq(hello.verdict, FSN_VERDICT_CROWDED);
  honest h = {.r = &r, .n = 1};
  pthread_t t;
  honest_run(&h, &t);
  honest_ok(t, &h, "honest client during a flood");
  ck_assert_msg(h.seconds < 2, "the honest client took %.2f s", h.seconds);
  for (int i = 0; i < 40; i++) close(flood[i]);
  acc_join(&r);
  ck_assert_uint_ge(r.stats.refused_crowd, 38);
  ck_assert_int_eq(atomic_load(&r.served), 1);
}
END_TEST

/* One session slot: a group that never completes (channel 0 of 2, then nothing) gives its slot back at the
 * handshake deadline; a client arriving while a session runs is told the server is busy, at once. */
START_TEST(acceptor_busy_and_incomplete_groups) {
  acc_run r = {.o = {.channels = 2, .max_sessions = 1, .sessions = 1, .handshake_s = 1}, .hold = 1};
  acc_start(&r);
  char addr[64];
  acc_address(&r, addr, sizeof addr);
  fsn_channel *half;
  fsn_channel_opts o = {.timeout_ms = 5000};
  OK(fsn_connect(&half, addr, &o));
  fsn_wire_hello mine;
  fsn_wire_hello_make(&mine, FSN_ROLE_CLIENT, &(fsn_channel_params){.ell = 37, .scale = 12, .session_id = 77}, 0, 2,
                      &(fsn_channel_opts){.max_frame = 1 << 20});
  OK(fsn_channel_handshake_hello(half, &mine));
  /* The slot is taken by the half-open group: a new client is busy now... */
  fsn_channel *chs[2];
  expect_fail(fsn_channels_connect(chs, 2, addr, FSN_ROLE_CLIENT, &acc_params, &o), FSN_E_CLOSED, "busy",
              "a client while the only slot is forming");
  /* ...and served once the group expires. */
  sleep_ms(1300);
  honest h = {.r = &r, .n = 2};
  pthread_t t;
  honest_run(&h, &t);
  for (int k = 0; k < 300 && atomic_load(&r.running) == 0; k++) sleep_ms(10);
  double t0 = now_s();
  expect_fail(fsn_channels_connect(chs, 2, addr, FSN_ROLE_CLIENT, &acc_params, &o), FSN_E_CLOSED, "busy",
              "a client while the only slot runs");
  ck_assert_msg(now_s() - t0 < 1, "the busy refusal took %.2f s", now_s() - t0);
  atomic_store(&r.release, 1);
  honest_ok(t, &h, "client after the expired group");
  fsn_channel_destroy(half);
  acc_join(&r);
  ck_assert_uint_ge(r.stats.refused_busy, 2);
}
END_TEST

/* A client announcing another channel count fails its handshake on both sides; the acceptor reports it as a failed
 * session (which counts towards `sessions`), so an operator sees misconfigured clients in the log. */
START_TEST(acceptor_reports_a_failed_handshake) {
  acc_run r = {.o = {.channels = 2, .sessions = 1}};
  acc_start(&r);
  char addr[64];
  acc_address(&r, addr, sizeof addr);
  fsn_channel *ch;
  expect_fail(fsn_channels_connect(&ch, 1, addr, FSN_ROLE_CLIENT, &acc_params, &(fsn_channel_opts){.timeout_ms = 3000}),
              FSN_E_MISMATCH, "channel", "a client with one channel of a two-channel server");
  acc_join(&r);
  ck_assert_int_eq(atomic_load(&r.rejected), 1);
  ck_assert_int_eq(atomic_load(&r.served), 0);
  ck_assert_msg(strstr(r.rejected_why, "channel 0 of 2 (this side) vs 0 of 1 (peer)"), "%s", r.rejected_why);
}
END_TEST

/* The stop flag: running sessions finish, newcomers are refused as busy, then the acceptor returns. */
START_TEST(acceptor_stop_drains_running_sessions) {
  static volatile sig_atomic_t stop;
  stop = 0;
  acc_run r = {.o = {.channels = 1, .max_sessions = 2, .stop = &stop}, .hold = 1};
  acc_start(&r);
  honest h = {.r = &r, .n = 1};
  pthread_t t;
  honest_run(&h, &t);
  for (int k = 0; k < 300 && atomic_load(&r.running) == 0; k++) sleep_ms(10);
  ck_assert_int_eq(atomic_load(&r.running), 1);
  stop = 1;
  sleep_ms(300);
  char addr[64];
  acc_address(&r, addr, sizeof addr);
  fsn_channel *late;
  expect_fail(
      fsn_channels_connect(&late, 1, addr, FSN_ROLE_CLIENT, &acc_params, &(fsn_channel_opts){.timeout_ms = 3000}),
      FSN_E_CLOSED, "busy", "a client while draining");
  atomic_store(&r.release, 1);
  honest_ok(t, &h, "the session running at the stop");
  acc_join(&r);
  ck_assert_int_eq(atomic_load(&r.served), 1);
}
END_TEST

static void error_frame_server(fsn_channel *ch, void *arg) {
  (void)arg;
  OK(fsn_channel_send_error(ch, "batch of 9 above this server's limit of 4\n\x01"));
}

static void error_frame_client(fsn_channel *ch, void *arg) {
  (void)arg;
  uint8_t b[8];
  expect_fail(fsn_channel_recv(ch, b, 8), FSN_E_CLOSED, "the peer ended the session: batch of 9 above", "error frame");
  ck_assert_ptr_null(strchr(fsn_last_error(), '\n')); /* control characters of the peer's text are not shown */
}

START_TEST(error_frames_end_the_session_with_a_reason) {
  fsn_test_two_party(error_frame_server, NULL, error_frame_client, NULL);
}
END_TEST

int main(void) {
  Suite *s = suite_create("net");
  TCase *tc = tcase_create("net");
  tcase_add_test(tc, counters_are_exact);
  tcase_add_test(tc, ring_pack_round_trips_every_ell);
  tcase_add_test(tc, ring_pack_known_answers);
  tcase_add_test(tc, ring_vectors_over_a_socket);
  tcase_add_test(tc, bit_vectors_over_a_socket);
  tcase_add_test(tc, handshake_accepts_and_agrees);
  tcase_add_test(tc, handshake_mismatches_fail_on_both_sides);
  tcase_add_test(tc, handshake_public_api_and_misuse);
  tcase_add_test(tc, peer_closes_mid_message);
  tcase_add_test(tc, peer_closes_while_the_other_waits);
  tcase_add_test(tc, peer_closes_during_handshake);
  tcase_add_test(tc, read_times_out);
  tcase_add_test(tc, hostile_frames_are_clear_errors);
  tcase_add_test(tc, ipv6_loopback_if_available);
  tcase_add_test(tc, multi_channel_session);
  tcase_add_test(tc, addresses_are_validated);
  tcase_add_test(tc, emulated_link_adds_rtt_and_serialisation);
  tcase_add_test(tc, session_channels_share_the_emulated_link);
  tcase_add_test(tc, link_profiles_parse);
  tcase_add_test(tc, acceptor_serves_two_clients_at_once);
  tcase_add_test(tc, acceptor_cuts_a_dribbling_client_at_the_session_deadline);
  tcase_add_test(tc, acceptor_hello_flood_does_not_starve_honest_clients);
  tcase_add_test(tc, acceptor_busy_and_incomplete_groups);
  tcase_add_test(tc, acceptor_reports_a_failed_handshake);
  tcase_add_test(tc, acceptor_stop_drains_running_sessions);
  tcase_add_test(tc, error_frames_end_the_session_with_a_reason);
  suite_add_tcase(s, tc);
  return fsn_test_main(s);
}
