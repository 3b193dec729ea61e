/* A session's choices and reports (include/fusion/session.h, inference.h): the OT pack the server states in its card
 * and the client may insist on, and the server's peak RSS reported after the verdict. Whole sessions of the 4-layer
 * model over loopback TCP, logits compared bit for bit with the fixed-point engine. */
#include <fusion/isa.h>
#include <fusion/inference.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/common/fsn_test.h"
#include "tests/common/fsn_test_net.h"

enum { ELL = 37, SCALE = 12, SIDE = 28, IN = SIDE * SIDE, CLASSES = 10, PUBLIC = 2, QUERIES = 1 };

static const char *const packs[] = {"iknp", "kk13", "ferret"};

typedef struct session {
  fsn_model *m;
  fsn_sampleset set;
  uint64_t *queries;
  const char *server_ot;    /* the server's pack (NULL: the default) */
  fsn_status server_create; /* fsn_fusion_server_create's status */
  char card_ot[FSN_OT_PACK_NAME_MAX];
  fsn_fusion_session_log log;
  fsn_fusion_client_opts opts; /* the client's, opts.ot its insistence */
  fsn_fusion_result result;
  fsn_status client_status;
  char client_error[512];
} session;

static void server_party(fsn_channel **chs, size_t n, void *arg) {
  session *s = arg;
  const fsn_fusion_server_config cfg = {.run_model = s->m,
                                        .model_name = "builtin:4layer",
                                        .set = &s->set,
                                        .reveal = FSN_REVEAL_LOGITS,
                                        .secure = {.ot = s->server_ot}};
  fsn_fusion_server *srv;
  s->server_create = fsn_fusion_server_create(&srv, &cfg);
  if (s->server_create != FSN_OK) return;
  snprintf(s->card_ot, sizeof s->card_ot, "%s", fsn_fusion_server_card(srv)->ot);
  if (fsn_fusion_serve_session(srv, chs, n, &s->log) != FSN_OK) ck_assert_int_ne(s->log.status, FSN_OK);
  fsn_fusion_server_destroy(srv);
}

static void client_party(fsn_channel **chs, size_t n, void *arg) {
  session *s = arg;
  s->client_status = fsn_fusion_client_run(chs, n, &s->opts, &s->result);
  snprintf(s->client_error, sizeof s->client_error, "%s", s->client_status == FSN_OK ? "" : fsn_last_error());
}

static void session_setup(session *s, const char *server_ot, const char *client_ot) {
  *s = (session){.server_ot = server_ot};
  ck_assert_int_eq(fsn_model_builtin(&s->m, "4layer", 3), FSN_OK);
  ck_assert_int_eq(fsn_model_quantize(s->m, ELL, SCALE), FSN_OK);
  fsn_images im = {.count = PUBLIC + QUERIES, .channels = 1, .rows = SIDE, .cols = SIDE};
  fsn_labels lb = {.count = PUBLIC + QUERIES};
  im.pixels = malloc(im.count * IN), lb.labels = calloc(lb.count, 1);
  fsn_test_fill(im.pixels, im.count * IN);
  const size_t index[PUBLIC] = {0, 1};
  ck_assert_int_eq(fsn_sampleset_build(&s->set, "session-test", &im, &lb, index, PUBLIC, NULL), FSN_OK);
  s->queries = malloc(QUERIES * IN * sizeof *s->queries);
  fsn_nn_pixels_to_fixed(s->queries, im.pixels + PUBLIC * IN, QUERIES * IN, ELL, SCALE);
  free(im.pixels), free(lb.labels);
  /* semi-honest: the pack is what is under test, and one query keeps a Ferret session short */
  s->opts = (fsn_fusion_client_opts){.queries = s->queries,
                                     .n = QUERIES,
                                     .input = {.c = 1, .h = SIDE, .w = SIDE},
                                     .ell = ELL,
                                     .scale = SCALE,
                                     .input_bits = SCALE + 1,
                                     .no_fusion = true,
                                     .require_logits = true,
                                     .ot = client_ot};
}

static void session_run(session *s, int timeout_ms) {
  fsn_test_net_opts o = {.channels = 2, .chan = {.timeout_ms = timeout_ms}};
  fsn_test_two_party_ex(&o, server_party, s, client_party, s);
}

static void session_end(session *s) {
  fsn_fusion_result_free(&s->result);
  fsn_sampleset_free(&s->set);
  fsn_model_destroy(s->m);
  free(s->queries);
}

/* Ferret's bootstrap through the reference AES is slow; test_ferret covers Ferret at ref. */
static bool slow_at_ref(const char *ot) { return !strcmp(ot, "ferret") && fsn_isa_active() == FSN_ISA_REF; }

/* Each pack, chosen by the server and asked for by the client, runs the 4-layer model bit for bit; the card and the
 * result name it, and the server's peak RSS arrives plausible (a process running a session holds more than 1 MiB,
 * and less than 64 GiB on any machine this runs on) and equal to what the server logged. */
START_TEST(each_pack_runs_the_model_exactly) {
  const char *ot = packs[_i];
  if (slow_at_ref(ot)) return;
  session s;
  session_setup(&s, ot, ot);
  session_run(&s, 0);
  ck_assert_msg(s.client_status == FSN_OK, "%s: %s", ot, s.client_error);
  ck_assert_int_eq(s.log.status, FSN_OK);
  ck_assert_str_eq(s.card_ot, ot);
  ck_assert_str_eq(s.result.card.ot, ot);
  uint64_t y[QUERIES * CLASSES];
  ck_assert_int_eq(fsn_model_run_fixed(s.m, y, s.queries, QUERIES, NULL), FSN_OK);
  ck_assert_ptr_nonnull(s.result.logits);
  ck_assert_mem_eq(s.result.logits, y, sizeof y);
  ck_assert_uint_gt(s.result.server_peak_rss, 1u << 20);
  ck_assert_uint_lt(s.result.server_peak_rss, (uint64_t)64 << 30);
  ck_assert_uint_eq(s.result.server_peak_rss, s.log.peak_rss);
  session_end(&s);
}
END_TEST

/* A client that names no pack follows the card. */
START_TEST(client_follows_the_card) {
  session s;
  session_setup(&s, "kk13", NULL);
  session_run(&s, 0);
  ck_assert_msg(s.client_status == FSN_OK, "%s", s.client_error);
  ck_assert_str_eq(s.result.card.ot, "kk13");
  session_end(&s);
}
END_TEST

/* A client insisting on another pack than the card's is refused on both sides before any protocol message, each
 * naming both packs; no prediction is delivered. */
START_TEST(mismatched_pack_is_refused_on_both_sides) {
  session s;
  session_setup(&s, "kk13", "iknp");
  session_run(&s, 5000);
  ck_assert_int_eq(s.client_status, FSN_E_MISMATCH);
  ck_assert_ptr_nonnull(strstr(s.client_error, "'iknp'"));
  ck_assert_ptr_nonnull(strstr(s.client_error, "'kk13'"));
  ck_assert_int_eq(s.log.status, FSN_E_MISMATCH);
  ck_assert_ptr_nonnull(strstr(s.log.error, "OT pack 'iknp'"));
  ck_assert_ptr_nonnull(strstr(s.log.error, "'kk13'"));
  ck_assert_ptr_null(s.result.labels);
  ck_assert_uint_eq(s.result.server_peak_rss, 0);
  session_end(&s);
}
END_TEST

/* A server configured with an unknown pack does not start; one configured with none states the default pack. */
START_TEST(unknown_pack_is_refused_by_the_server) {
  session s;
  session_setup(&s, "nope", NULL);
  fsn_fusion_server_config cfg = {.run_model = s.m, .model_name = "x", .set = &s.set, .no_commit = true, .claimed = 1};
  fsn_fusion_server *srv;
  ck_assert_int_eq(fsn_fusion_server_create(&srv, &cfg), FSN_OK);
  ck_assert_str_eq(fsn_fusion_server_card(srv)->ot, fsn_ot_pack_resolve(NULL));
  fsn_fusion_server_destroy(srv);
  cfg.secure.ot = "nope";
  ck_assert_int_eq(fsn_fusion_server_create(&srv, &cfg), FSN_E_INVALID);
  ck_assert_ptr_nonnull(strstr(fsn_last_error(), "nope"));
  ck_assert_ptr_null(fsn_ot_pack_resolve("nope"));
  ck_assert_str_eq(fsn_ot_pack_resolve(""), fsn_ot_pack_resolve(NULL));
  session_end(&s);
}
END_TEST

/* A card naming a pack the client does not know, or none, is refused at the card. */
typedef struct card_case {
  session *s;
  const char *ot;
  fsn_status st;
} card_case;

static void send_card(fsn_channel *ch, void *arg) {
  card_case *c = arg;
  fsn_card card;
  ck_assert_int_eq(fsn_card_make(&card, c->s->m, "card", &c->s->set, false, 0.5), FSN_OK);
  snprintf(card.ot, sizeof card.ot, "%s", c->ot);
  ck_assert_int_eq(fsn_card_send(ch, &card, c->s->m), FSN_OK);
  fsn_card_free(&card);
}

static void recv_card(fsn_channel *ch, void *arg) {
  card_case *c = arg;
  fsn_card card;
  c->st = fsn_card_recv(ch, &card);
  if (c->st == FSN_OK) {
    ck_assert_str_eq(card.ot, c->ot);
    fsn_card_free(&card);
  }
}

START_TEST(card_states_a_known_pack) {
  session s;
  session_setup(&s, NULL, NULL);
  const struct {
    const char *ot;
    fsn_status st;
  } cases[] = {
      {"iknp", FSN_OK}, {"kk13", FSN_OK}, {"ferret", FSN_OK}, {"nope", FSN_E_UNSUPPORTED}, {"", FSN_E_UNSUPPORTED}};
  for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
    card_case c = {&s, cases[k].ot, FSN_OK};
    fsn_test_two_party(send_card, &c, recv_card, &c);
    ck_assert_msg(c.st == cases[k].st, "'%s': %d", cases[k].ot, (int)c.st);
  }
  session_end(&s);
}
END_TEST

/* The server's report is bounded: a peer claiming more than FSN_SESSION_PEAK_RSS_MAX is a protocol error. */
typedef struct report_case {
  uint64_t value;
  fsn_status st;
  uint64_t got;
} report_case;

static void send_report(fsn_channel *ch, void *arg) {
  const report_case *c = arg;
  uint8_t b[8];
  for (int i = 0; i < 8; i++) b[i] = (uint8_t)(c->value >> (8 * i));
  ck_assert_int_eq(fsn_channel_send(ch, b, 8), FSN_OK);
  ck_assert_int_eq(fsn_channel_flush(ch), FSN_OK);
}

static void recv_report(fsn_channel *ch, void *arg) {
  report_case *c = arg;
  c->st = fsn_session_recv_report(ch, &c->got);
}

START_TEST(server_report_is_bounded) {
  const report_case cases[] = {{0, FSN_OK, 0},
                               {123456789, FSN_OK, 123456789},
                               {FSN_SESSION_PEAK_RSS_MAX, FSN_OK, FSN_SESSION_PEAK_RSS_MAX},
                               {FSN_SESSION_PEAK_RSS_MAX + 1, FSN_E_PROTOCOL, 0},
                               {~0ull, FSN_E_PROTOCOL, 0}};
  for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
    report_case c = {.value = cases[k].value, .got = 7};
    fsn_test_two_party(send_report, &c, recv_report, &c);
    ck_assert_int_eq(c.st, cases[k].st);
    ck_assert_uint_eq(c.got, cases[k].got);
  }
  ck_assert_uint_gt(fsn_session_peak_rss(), 0);
}
END_TEST

int main(void) {
  Suite *s = suite_create("session");
  TCase *small = tcase_create("messages");
  tcase_add_test(small, unknown_pack_is_refused_by_the_server);
  tcase_add_test(small, card_states_a_known_pack);
  tcase_add_test(small, server_report_is_bounded);
  suite_add_tcase(s, small);
  TCase *sessions = tcase_create("sessions");
  tcase_add_loop_test(sessions, each_pack_runs_the_model_exactly, 0, sizeof packs / sizeof packs[0]);
  tcase_add_test(sessions, client_follows_the_card);
  tcase_add_test(sessions, mismatched_pack_is_refused_on_both_sides);
  suite_add_tcase(s, sessions);
  return fsn_test_main(s);
}
