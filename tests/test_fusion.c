/* Fusion's client and server as library calls (include/fusion/inference.h), and the fixes of the Fusion layer's
 * security review: whole sessions over loopback against an honest and a tampering server, the silent verdict, the
 * caught-server records, both reveal policies; short and oversized model cards; fsn_fail on its own buffer; the plan's
 * rejection threshold. */
#include <fusion/inference.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/common/fsn_test.h"
#include "tests/common/fsn_test_models.h"
#include "tests/common/fsn_test_net.h"

/* ---- small findings ---- */

START_TEST(fail_may_wrap_its_own_message) {
  ck_assert_int_eq(fsn_fail(FSN_E_IO, "recv: peer closed"), FSN_E_IO);
  ck_assert_int_eq(fsn_fail(FSN_E_PROTOCOL, "model card: %s", fsn_last_error()), FSN_E_PROTOCOL);
  ck_assert_str_eq(fsn_last_error(), "model card: recv: peer closed");
  /* Twice more, and with a message filling the buffer: the nesting stays readable and bounded. */
  char longer[600];
  memset(longer, 'x', sizeof longer - 1);
  longer[sizeof longer - 1] = 0;
  (void)fsn_fail(FSN_E_IO, "%s", longer);
  (void)fsn_fail(FSN_E_IO, "a: %s", fsn_last_error());
  ck_assert_uint_eq(strlen(fsn_last_error()), 511);
  ck_assert(!strncmp(fsn_last_error(), "a: xxx", 6));
  (void)fsn_fail(FSN_E_IO, "inner");
  (void)fsn_fail(FSN_E_IO, "%s / %s", fsn_last_error(), fsn_last_error());
  ck_assert_str_eq(fsn_last_error(), "inner / inner");
}
END_TEST

START_TEST(rejection_threshold_is_two_to_the_64_mod_bound) {
  /* 2^64 mod 7 = 2 where 32-bit arithmetic gave 2^32 mod 7 = 4. */
  ck_assert_uint_eq(fsn_mc_rejection_threshold(7), 2);
  ck_assert_uint_eq(fsn_mc_rejection_threshold(1), 0);
  ck_assert_uint_eq(fsn_mc_rejection_threshold(2), 0);
  ck_assert_uint_eq(fsn_mc_rejection_threshold(3), 1);
  ck_assert_uint_eq(fsn_mc_rejection_threshold(UINT32_MAX), 1);
  for (int i = 0; i < 10000; i++) {
    uint32_t b = (uint32_t)fsn_test_rand() | 1;
    b >>= fsn_test_rand() % 32;
    if (!b) continue;
    ck_assert_uint_eq(fsn_mc_rejection_threshold(b), (uint64_t)(((unsigned __int128)1 << 64) % b));
  }
}
END_TEST

/* A card's bytes as a server would send them (its 8-byte length, then the bytes), and what fsn_card_recv says. */
typedef struct raw_card {
  const uint8_t *bytes;
  size_t len;
  fsn_status st;
} raw_card;

static void send_raw_card(fsn_channel *ch, void *arg) {
  const raw_card *c = arg;
  uint8_t n[8];
  for (int i = 0; i < 8; i++) n[i] = (uint8_t)((uint64_t)c->len >> (8 * i));
  ck_assert_int_eq(fsn_channel_send(ch, n, 8), FSN_OK);
  if (c->len) ck_assert_int_eq(fsn_channel_send(ch, c->bytes, c->len), FSN_OK);
  ck_assert_int_eq(fsn_channel_flush(ch), FSN_OK);
}

static void recv_raw_card(fsn_channel *ch, void *arg) {
  raw_card *c = arg;
  fsn_card card;
  c->st = fsn_card_recv(ch, &card);
  if (c->st == FSN_OK) fsn_card_free(&card);
}

static fsn_status recv_card_bytes(const uint8_t *bytes, size_t len) {
  raw_card c = {bytes, len, FSN_OK};
  fsn_test_two_party(send_raw_card, &c, recv_raw_card, &c);
  return c.st;
}

START_TEST(short_cards_are_rejected) {
  /* The magic, then too few bytes for the model hash and the rest: this used to copy the hash from NULL. */
  uint8_t card[64] = {'F', 'S', 'N', 'C', 'A', 'R', 'D', '2'};
  fsn_test_fill(card + 8, sizeof card - 8);
  for (size_t len = 0; len < sizeof card; len++) ck_assert_int_eq(recv_card_bytes(card, len), FSN_E_PROTOCOL);
}
END_TEST

static void put32(uint8_t **p, uint32_t v) {
  for (int i = 0; i < 4; i++) *(*p)++ = (uint8_t)(v >> (8 * i));
}

/* An architecture of `layers` fully connected layers of width `width` on a width x 1 x 1 input. */
static size_t wide_fc_arch(uint8_t *buf, uint32_t layers, uint32_t width) {
  uint8_t *p = buf;
  put32(&p, width), put32(&p, 1), put32(&p, 1), put32(&p, layers);
  for (uint32_t i = 0; i < layers; i++) {
    *p++ = FSN_LAYER_FC;
    const uint32_t f[10] = {i, 0, width, 0, 0, 0, 0, 0, 0, 0};
    for (int k = 0; k < 10; k++) put32(&p, f[k]);
    put32(&p, 0); /* empty name */
  }
  return (size_t)(p - buf);
}

START_TEST(oversized_architectures_are_refused_before_allocating) {
  /* Six 16384 x 16384 FC layers in 284 bytes of architecture: 1.6 G parameters, refused at the first layer. */
  uint8_t buf[1024];
  size_t len = wide_fc_arch(buf, 6, 16384);
  fsn_model *m = NULL;
  ck_assert_int_eq(fsn_card_arch_decode(&m, buf, len), FSN_E_UNSUPPORTED);
  ck_assert_ptr_null(m);
  ck_assert_ptr_nonnull(strstr(fsn_last_error(), "budget"));
  /* The budget counts the whole model: 4 layers of 4096^2 fill it exactly, a fifth is one too many. */
  len = wide_fc_arch(buf, 5, 4096);
  ck_assert_int_eq(fsn_card_arch_decode(&m, buf, len), FSN_E_UNSUPPORTED);
  /* A small one decodes. */
  len = wide_fc_arch(buf, 3, 64);
  ck_assert_int_eq(fsn_card_arch_decode(&m, buf, len), FSN_OK);
  ck_assert_uint_eq(fsn_model_num_layers(m), 3);
  fsn_model_destroy(m);
}
END_TEST

START_TEST(architectures_decode_to_shapes_without_weights) {
  /* 4 layers of 4096^2 fill the parameter budget (64 M weights, 256 MiB as floats): decoded, they cost the client
   * the layer records only. mallinfo2 counts every byte malloc holds, mmapped blocks included. */
  uint8_t buf[1024];
  size_t len = wide_fc_arch(buf, 4, 4096);
  fsn_model *m = NULL;
  const size_t before = mallinfo2().uordblks + mallinfo2().hblkhd;
  ck_assert_int_eq(fsn_card_arch_decode(&m, buf, len), FSN_OK);
  const size_t held = mallinfo2().uordblks + mallinfo2().hblkhd - before;
  ck_assert_msg(held < (64u << 10), "decoding held %zu bytes", held);
  ck_assert(fsn_model_shapes_only(m));
  ck_assert_ptr_null(fsn_model_layer(m, 0)->desc.weight);
  ck_assert_uint_eq(fsn_model_layer(m, 3)->desc.out_c, 4096);
  ck_assert_uint_eq(fsn_model_output_shape(m).c, 4096);
  /* What needs weights refuses clearly instead of reading what is not there. */
  ck_assert_int_eq(fsn_model_quantize(m, 37, 12), FSN_E_INVALID);
  ck_assert_ptr_nonnull(strstr(fsn_last_error(), "shapes only"));
  double x[4096] = {0}, y[4096];
  ck_assert_int_eq(fsn_model_run_float(m, y, x, 1, NULL), FSN_E_INVALID);
  uint8_t hash[32];
  ck_assert_int_eq(fsn_model_hash(m, hash), FSN_E_INVALID);
  fsn_model_destroy(m);
}
END_TEST

/* ---- whole sessions ---- */

enum { CLASSES = 16, PUBLIC = 12, QUERIES = 2, SIDE = 6 };

typedef struct session {
  /* shared set-up */
  fsn_model *m;
  fsn_sampleset set;
  uint64_t *public_inputs, *queries;
  /* server */
  fsn_reveal reveal;
  bool tamper;
  int timeout_ms; /* 0: the library's; short where the client walks away after the card and the server waits */
  fsn_fusion_session_log log;
  /* client */
  fsn_fusion_client_opts opts;
  fsn_fusion_result result;
  fsn_status client_status;
} session;

/* Every position gets a huge logit on class p mod CLASSES: with N <= CLASSES every position has its own label, so
 * replicas (R >= 2) always disagree. The server cannot see the permutation; this is what makes the test certain. */
static void tamper_all(size_t layer, const uint64_t *in, uint64_t *out, size_t batch, size_t out_size, void *arg) {
  const session *s = arg;
  (void)in;
  if (layer + 1 != fsn_model_num_layers(s->m)) return;
  for (size_t p = 0; p < batch; p++) out[p * out_size + p % CLASSES] += (uint64_t)1 << 30;
}

static void server_party(fsn_channel **chs, size_t n, void *arg) {
  session *s = arg;
  fsn_fusion_server_config cfg = {.run_model = s->m,
                                  .model_name = "every-layer",
                                  .set = &s->set,
                                  .reveal = s->reveal,
                                  .secure = {.tamper = s->tamper ? tamper_all : NULL, .tamper_arg = s}};
  fsn_fusion_server *srv;
  ck_assert_int_eq(fsn_fusion_server_create(&srv, &cfg), FSN_OK);
  s->log.index = 7;
  fsn_status st = fsn_fusion_serve_session(srv, chs, n, &s->log);
  ck_assert_int_eq(st, s->log.status);
  ck_assert_uint_eq(s->log.index, 7);
  fsn_fusion_server_destroy(srv);
}

static void client_party(fsn_channel **chs, size_t n, void *arg) {
  session *s = arg;
  s->client_status = fsn_fusion_client_run(chs, n, &s->opts, &s->result);
}

static void session_setup(session *s) {
  *s = (session){0};
  s->m = fsn_test_model_every_layer(1, SIDE, SIDE, CLASSES, 0.5);
  ck_assert_int_eq(fsn_model_quantize(s->m, 37, 12), FSN_OK);
  enum { IN = SIDE * SIDE };
  fsn_images im = {.count = PUBLIC + QUERIES, .channels = 1, .rows = SIDE, .cols = SIDE};
  fsn_labels lb = {.count = PUBLIC + QUERIES};
  im.pixels = malloc(im.count * IN), lb.labels = malloc(lb.count);
  fsn_test_fill(im.pixels, im.count * IN);
  for (size_t i = 0; i < lb.count; i++) lb.labels[i] = (uint8_t)(i % CLASSES);
  size_t index[PUBLIC];
  for (size_t i = 0; i < PUBLIC; i++) index[i] = i;
  ck_assert_int_eq(fsn_sampleset_build(&s->set, "test-set", &im, &lb, index, PUBLIC, NULL), FSN_OK);
  s->public_inputs = malloc(PUBLIC * IN * sizeof *s->public_inputs);
  s->queries = malloc(QUERIES * IN * sizeof *s->queries);
  fsn_nn_pixels_to_fixed(s->public_inputs, im.pixels, PUBLIC * IN, 37, 12);
  fsn_nn_pixels_to_fixed(s->queries, im.pixels + PUBLIC * IN, QUERIES * IN, 37, 12);
  free(im.pixels), free(lb.labels);
  s->opts = (fsn_fusion_client_opts){.queries = s->queries,
                                     .n = QUERIES,
                                     .input = {.c = 1, .h = SIDE, .w = SIDE},
                                     .ell = 37,
                                     .scale = 12,
                                     .input_bits = 13,
                                     .public_set = {.name = s->set.name,
                                                    .hash = s->set.set_hash,
                                                    .count = PUBLIC,
                                                    .labels = s->set.labels,
                                                    .inputs = s->public_inputs},
                                     .kappa = 5,
                                     .max_R = 4,
                                     .server_id = "test-server:1"};
}

static void session_run(session *s) {
  fsn_fusion_result_free(&s->result);
  s->log = (fsn_fusion_session_log){0};
  fsn_test_net_opts o = {.channels = 2, .chan = {.timeout_ms = s->timeout_ms}};
  fsn_test_two_party_ex(&o, server_party, s, client_party, s);
}

static void session_end(session *s) {
  fsn_fusion_result_free(&s->result);
  fsn_sampleset_free(&s->set);
  fsn_model_destroy(s->m);
  free(s->public_inputs), free(s->queries);
}

/* The plaintext fixed-point engine on the queries: the oracle. */
static uint64_t *plain_logits(const session *s) {
  uint64_t *y = malloc(QUERIES * CLASSES * sizeof *y);
  ck_assert_int_eq(fsn_model_run_fixed(s->m, y, s->queries, QUERIES, NULL), FSN_OK);
  return y;
}

/* The card parser accepts only the two policies. */
typedef struct policy_card {
  session *s;
  int policy;
  fsn_status st;
} policy_card;

static void send_policy_card(fsn_channel *ch, void *arg) {
  policy_card *c = arg;
  fsn_card card;
  ck_assert_int_eq(fsn_card_make(&card, c->s->m, "policy", &c->s->set, true, 0), FSN_OK);
  card.reveal = (fsn_reveal)c->policy;
  ck_assert_int_eq(fsn_card_send(ch, &card, c->s->m), FSN_OK);
  fsn_card_free(&card);
}

static void recv_policy_card(fsn_channel *ch, void *arg) {
  policy_card *c = arg;
  fsn_card card;
  c->st = fsn_card_recv(ch, &card);
  if (c->st == FSN_OK) {
    ck_assert_int_eq(card.reveal, c->policy);
    fsn_card_free(&card);
  }
}

START_TEST(card_states_one_of_two_policies) {
  session s;
  session_setup(&s);
  const int policies[4] = {FSN_REVEAL_LABEL, FSN_REVEAL_LOGITS, 2, 255};
  for (int k = 0; k < 4; k++) {
    policy_card c = {&s, policies[k], FSN_OK};
    fsn_test_two_party(send_policy_card, &c, recv_policy_card, &c);
    ck_assert_int_eq(c.st, k < 2 ? FSN_OK : FSN_E_PROTOCOL);
  }
  session_end(&s);
}
END_TEST

START_TEST(honest_server_label_policy) {
  session s;
  session_setup(&s);
  session_run(&s);
  ck_assert_msg(s.client_status == FSN_OK, "%s", fsn_last_error());
  ck_assert_int_eq(s.log.status, FSN_OK);
  ck_assert_int_eq(s.log.verdict, FSN_VERDICT_SILENT);
  ck_assert_uint_eq(s.log.batch, s.result.choice.N);
  ck_assert_int_eq(s.result.card.reveal, FSN_REVEAL_LABEL);
  ck_assert_uint_ge(s.result.choice.R, 2);
  ck_assert_uint_le(s.result.choice.N, CLASSES);
  ck_assert_ptr_null(s.result.logits); /* the client learns labels only */
  uint64_t *y = plain_logits(&s);
  for (size_t q = 0; q < QUERIES; q++)
    ck_assert_uint_eq(s.result.labels[q], fsn_nn_argmax_fixed(y + q * CLASSES, CLASSES, 37));
  free(y);
  session_end(&s);
}
END_TEST

START_TEST(honest_server_logits_policy) {
  session s;
  session_setup(&s);
  s.reveal = FSN_REVEAL_LOGITS;
  s.opts.require_logits = true;
  session_run(&s);
  ck_assert_msg(s.client_status == FSN_OK, "%s", fsn_last_error());
  ck_assert_int_eq(s.result.card.reveal, FSN_REVEAL_LOGITS);
  /* Mix-and-check's own time is measured phase by phase, outside the batch's. */
  const fsn_fusion_overhead *ov = &s.result.overhead;
  ck_assert(ov->plan > 0 && ov->shuffle > 0 && ov->check > 0);
  ck_assert_double_eq_tol(fsn_fusion_overhead_seconds(ov), ov->plan + ov->shuffle + ov->check, 1e-12);
  ck_assert(s.result.cost.seconds > 0);
  uint64_t *y = plain_logits(&s);
  ck_assert_ptr_nonnull(s.result.logits);
  ck_assert_mem_eq(s.result.logits, y, QUERIES * CLASSES * sizeof *y);
  for (size_t q = 0; q < QUERIES; q++)
    ck_assert_uint_eq(s.result.labels[q], fsn_nn_argmax_fixed(y + q * CLASSES, CLASSES, 37));
  free(y);
  /* A client that wants logits refuses a labels-only server after the card. */
  s.reveal = FSN_REVEAL_LABEL;
  s.timeout_ms = 1000;
  session_run(&s);
  ck_assert_int_eq(s.client_status, FSN_E_MISMATCH);
  session_end(&s);
}
END_TEST

/* The tampering server is caught, and by default receives exactly what it receives from a client whose checks
 * pass: the same batch header, the same protocol bytes (counted) and the same verdict byte. */
START_TEST(tampering_server_is_caught_and_learns_nothing) {
  const fsn_reveal policies[2] = {FSN_REVEAL_LABEL, FSN_REVEAL_LOGITS};
  for (int k = 0; k < 2; k++) {
    session s;
    session_setup(&s);
    s.reveal = policies[k];
    session_run(&s);
    ck_assert_int_eq(s.client_status, FSN_OK);
    fsn_fusion_session_log honest = s.log;
    size_t N = s.result.choice.N;

    s.tamper = true;
    session_run(&s);
    ck_assert_int_eq(s.client_status, FSN_E_CHEATING);
    ck_assert_int_eq(s.result.check, FSN_E_CHEATING);
    ck_assert(!s.result.refused);
    ck_assert(!s.result.report.replicas_ok);
    ck_assert_ptr_null(s.result.labels);
    ck_assert_ptr_null(s.result.logits);
    ck_assert_uint_eq(s.result.choice.N, N);
    ck_assert_int_eq(s.log.status, FSN_OK);
    ck_assert_int_eq(s.log.verdict, FSN_VERDICT_SILENT);
    ck_assert_int_eq(s.log.verdict, honest.verdict);
    ck_assert_uint_eq(s.log.batch, honest.batch);
    ck_assert_uint_eq(s.log.cost.bytes_recv, honest.cost.bytes_recv);
    ck_assert_uint_eq(s.log.cost.bytes_sent, honest.cost.bytes_sent);
    ck_assert_uint_eq(s.log.cost.rounds, honest.cost.rounds);

    /* Opting in reports the real verdict. */
    s.opts.report_verdict = true;
    session_run(&s);
    ck_assert_int_eq(s.client_status, FSN_E_CHEATING);
    ck_assert_int_eq(s.log.verdict, FSN_VERDICT_FAIL);
    s.tamper = false;
    session_run(&s);
    ck_assert_int_eq(s.client_status, FSN_OK);
    ck_assert_int_eq(s.log.verdict, FSN_VERDICT_PASS);
    session_end(&s);
  }
}
END_TEST

START_TEST(caught_server_is_refused_until_trusted_again) {
  char dir[] = "/tmp/fsn-state-XXXXXX", path[128];
  ck_assert_ptr_nonnull(mkdtemp(dir));
  snprintf(path, sizeof path, "%s/sub/caught-servers", dir);
  session s;
  session_setup(&s);
  s.opts.state_path = path;
  s.tamper = true;
  session_run(&s);
  ck_assert_int_eq(s.client_status, FSN_E_CHEATING);
  bool caught = false;
  ck_assert_int_eq(fsn_fusion_state_lookup(path, s.result.card.model_hash, "test-server:1", &caught), FSN_OK);
  ck_assert(caught);
  ck_assert_int_eq(fsn_fusion_state_lookup(path, s.result.card.model_hash, "other:1", &caught), FSN_OK);
  ck_assert(!caught);

  /* The same server, honest this time, is refused: nothing runs after the card. */
  s.tamper = false;
  s.timeout_ms = 1000;
  session_run(&s);
  s.timeout_ms = 0;
  ck_assert_int_eq(s.client_status, FSN_E_CHEATING);
  ck_assert(s.result.refused);
  ck_assert_ptr_null(s.result.labels);
  ck_assert_int_ne(s.log.status, FSN_OK);
  ck_assert_uint_eq(s.log.batch, 0);

  /* Trusting it again forgets the record and runs. */
  s.opts.trust_again = true;
  session_run(&s);
  ck_assert_msg(s.client_status == FSN_OK, "%s", fsn_last_error());
  uint8_t hash[32];
  memcpy(hash, s.result.card.model_hash, 32);
  ck_assert_int_eq(fsn_fusion_state_lookup(path, hash, "test-server:1", &caught), FSN_OK);
  ck_assert(!caught);
  session_end(&s);
  unlink(path);
  char sub[160];
  snprintf(sub, sizeof sub, "%s/sub", dir);
  rmdir(sub), rmdir(dir);
}
END_TEST

START_TEST(state_records) {
  char dir[] = "/tmp/fsn-state-XXXXXX", path[128];
  ck_assert_ptr_nonnull(mkdtemp(dir));
  snprintf(path, sizeof path, "%s/a/b/state", dir);
  uint8_t h1[32] = {1}, h2[32] = {2};
  bool caught = true;
  ck_assert_int_eq(fsn_fusion_state_lookup(path, h1, "x:1", &caught), FSN_OK); /* no file: none recorded */
  ck_assert(!caught);
  ck_assert_int_eq(fsn_fusion_state_record(path, h1, "x:1"), FSN_OK);
  ck_assert_int_eq(fsn_fusion_state_record(path, h1, "x:1"), FSN_OK); /* once only */
  ck_assert_int_eq(fsn_fusion_state_record(path, h2, "x:1"), FSN_OK);
  ck_assert_int_eq(fsn_fusion_state_lookup(path, h1, "x:1", &caught), FSN_OK);
  ck_assert(caught);
  ck_assert_int_eq(fsn_fusion_state_lookup(path, h1, "x:2", &caught), FSN_OK);
  ck_assert(!caught);
  ck_assert_int_eq(fsn_fusion_state_forget(path, h1, "x:1"), FSN_OK);
  ck_assert_int_eq(fsn_fusion_state_lookup(path, h1, "x:1", &caught), FSN_OK);
  ck_assert(!caught);
  ck_assert_int_eq(fsn_fusion_state_lookup(path, h2, "x:1", &caught), FSN_OK);
  ck_assert(caught);
  /* The default path honours FSN_STATE_FILE, then XDG_STATE_HOME. */
  char def[256];
  setenv("FSN_STATE_FILE", "/some/file", 1);
  ck_assert_int_eq(fsn_fusion_state_default_path(def, sizeof def), FSN_OK);
  ck_assert_str_eq(def, "/some/file");
  unsetenv("FSN_STATE_FILE");
  setenv("XDG_STATE_HOME", "/xdg", 1);
  ck_assert_int_eq(fsn_fusion_state_default_path(def, sizeof def), FSN_OK);
  ck_assert_str_eq(def, "/xdg/fusion/caught-servers");
  unlink(path);
  char p[160];
  snprintf(p, sizeof p, "%s/a/b", dir), rmdir(p);
  snprintf(p, sizeof p, "%s/a", dir), rmdir(p);
  rmdir(dir);
}
END_TEST

int main(void) {
  Suite *s = suite_create("fusion");
  TCase *small = tcase_create("findings");
  tcase_add_test(small, fail_may_wrap_its_own_message);
  tcase_add_test(small, rejection_threshold_is_two_to_the_64_mod_bound);
  tcase_add_test(small, short_cards_are_rejected);
  tcase_add_test(small, oversized_architectures_are_refused_before_allocating);
  tcase_add_test(small, architectures_decode_to_shapes_without_weights);
  tcase_add_test(small, state_records);
  suite_add_tcase(s, small);
  TCase *sessions = tcase_create("sessions");
  tcase_add_test(sessions, card_states_one_of_two_policies);
  tcase_add_test(sessions, honest_server_label_policy);
  tcase_add_test(sessions, honest_server_logits_policy);
  tcase_add_test(sessions, tampering_server_is_caught_and_learns_nothing);
  tcase_add_test(sessions, caught_server_is_refused_until_trusted_again);
  suite_add_tcase(s, sessions);
  return fsn_test_main(s);
}
