/* A program outside the tree, built against the installed library through pkg-config: a kernel call, then one whole
 * Fusion query (mix-and-check on) against a server thread over loopback TCP through the public API alone, whose
 * predictions must equal the plaintext fixed-point engine's. */
#include <fusion/fusion.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { SIDE = 6, IN = SIDE * SIDE, CLASSES = 8, PUBLIC = 16, QUERIES = 2, ELL = 37, SCALE = 12 };

static uint64_t rng = 0x9e3779b97f4a7c15u;
static uint32_t next(void) {
  rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
  return (uint32_t)(rng >> 32);
}
static void fill_floats(float *v, size_t n) {
  for (size_t i = 0; i < n; i++) v[i] = (float)((double)next() / 4294967296.0 - 0.5);
}

/* conv 3x3 1 -> 4, ReLU, flatten, fc -> CLASSES, with seeded weights, quantised. */
static fsn_status make_model(fsn_model **out) {
  float cw[4 * 9], cb[4], fw[CLASSES * 4 * IN], fb[CLASSES];
  fill_floats(cw, 4 * 9), fill_floats(cb, 4), fill_floats(fw, CLASSES * 4 * IN), fill_floats(fb, CLASSES);
  fsn_model *m;
  size_t t;
  fsn_status st = fsn_model_create(&m, 1, SIDE, SIDE);
  if (st != FSN_OK) return st;
  const fsn_layer_desc layers[4] = {{.kind = FSN_LAYER_CONV,
                                     .in = 0,
                                     .out_c = 4,
                                     .k_h = 3,
                                     .k_w = 3,
                                     .pad_h = 1,
                                     .pad_w = 1,
                                     .weight = cw,
                                     .bias = cb},
                                    {.kind = FSN_LAYER_RELU, .in = 1},
                                    {.kind = FSN_LAYER_FLATTEN, .in = 2},
                                    {.kind = FSN_LAYER_FC, .in = 3, .out_c = CLASSES, .weight = fw, .bias = fb}};
  for (int i = 0; i < 4 && st == FSN_OK; i++) st = fsn_model_add(m, &layers[i], &t);
  if (st == FSN_OK) st = fsn_model_quantize(m, ELL, SCALE);
  if (st != FSN_OK)
    fsn_model_destroy(m);
  else
    *out = m;
  return st;
}

typedef struct server_thread {
  fsn_fusion_server *server;
  fsn_listener *listener;
  fsn_fusion_session_log log;
  fsn_status st;
} server_thread;

static void *serve_one(void *arg) {
  server_thread *s = arg;
  fsn_channel *ch = NULL;
  const fsn_channel_params params = {.ell = ELL, .scale = SCALE};
  s->st = fsn_channels_accept(s->listener, &ch, 1, FSN_ROLE_SERVER, &params, NULL);
  if (s->st == FSN_OK) s->st = fsn_fusion_serve_session(s->server, &ch, 1, &s->log);
  fsn_channels_close(&ch, 1);
  return NULL;
}

static int fail(const char *what) {
  fprintf(stderr, "embed: %s: %s\n", what, fsn_last_error());
  return 1;
}

static int fusion_query(void) {
  fsn_model *m;
  if (make_model(&m) != FSN_OK) return fail("model");
  /* The public set (true labels: whatever; the server commits its own predictions) and two queries. */
  fsn_images im = {.count = PUBLIC + QUERIES, .channels = 1, .rows = SIDE, .cols = SIDE};
  fsn_labels lb = {.count = PUBLIC + QUERIES};
  static uint8_t pixels[(PUBLIC + QUERIES) * IN], labels[PUBLIC + QUERIES];
  for (size_t i = 0; i < sizeof pixels; i++) pixels[i] = (uint8_t)next();
  for (size_t i = 0; i < sizeof labels; i++) labels[i] = (uint8_t)(i % CLASSES);
  im.pixels = pixels, lb.labels = labels;
  size_t index[PUBLIC];
  for (size_t i = 0; i < PUBLIC; i++) index[i] = i;
  fsn_sampleset set;
  if (fsn_sampleset_build(&set, "embed-set", &im, &lb, index, PUBLIC, NULL) != FSN_OK) return fail("public set");
  static uint64_t pub[PUBLIC * IN], queries[QUERIES * IN];
  fsn_nn_pixels_to_fixed(pub, pixels, PUBLIC * IN, ELL, SCALE);
  fsn_nn_pixels_to_fixed(queries, pixels + PUBLIC * IN, QUERIES * IN, ELL, SCALE);

  server_thread s = {0};
  const fsn_fusion_server_config cfg = {.run_model = m, .model_name = "embed", .set = &set};
  if (fsn_fusion_server_create(&s.server, &cfg) != FSN_OK) return fail("server");
  if (fsn_listen(&s.listener, "127.0.0.1:0") != FSN_OK) return fail("listen");
  char addr[64];
  snprintf(addr, sizeof addr, "127.0.0.1:%u", fsn_listener_port(s.listener));
  pthread_t thread;
  if (pthread_create(&thread, NULL, serve_one, &s)) return fail("thread");

  const fsn_fusion_client_opts opts = {
      .queries = queries,
      .n = QUERIES,
      .input = {.c = 1, .h = SIDE, .w = SIDE},
      .ell = ELL,
      .scale = SCALE,
      .input_bits = SCALE + 1,
      .public_set = {.name = set.name, .hash = set.set_hash, .count = PUBLIC, .labels = set.labels, .inputs = pub},
      .kappa = 8,
      .server_id = addr};
  fsn_channel *ch = NULL;
  fsn_fusion_result res = {0};
  const fsn_channel_params params = {.ell = ELL, .scale = SCALE};
  fsn_status st = fsn_channels_connect(&ch, 1, addr, FSN_ROLE_CLIENT, &params, NULL);
  if (st == FSN_OK) st = fsn_fusion_client_run(&ch, 1, &opts, &res);
  if (st != FSN_OK) fprintf(stderr, "embed: client: %s\n", fsn_last_error());
  fsn_channels_close(&ch, 1);
  pthread_join(thread, NULL);

  uint64_t y[QUERIES * CLASSES];
  int rc = st == FSN_OK && s.st == FSN_OK && s.log.verdict == FSN_VERDICT_SILENT ? 0 : 1;
  if (rc == 0 && fsn_model_run_fixed(m, y, queries, QUERIES, NULL) != FSN_OK) rc = fail("plaintext engine");
  for (size_t q = 0; rc == 0 && q < QUERIES; q++)
    if (res.labels[q] != fsn_nn_argmax_fixed(y + q * CLASSES, CLASSES, ELL)) rc = 1;
  printf("fusion query: R = %u, B = %zu, N = %zu; predictions %zu %zu; %s\n", res.choice.R, res.choice.B, res.choice.N,
         res.labels ? res.labels[0] : 0, res.labels ? res.labels[1] : 0,
         rc ? "MISMATCH or error" : "equal to the fixed-point engine's");
  fsn_fusion_result_free(&res);
  fsn_fusion_server_destroy(s.server);
  fsn_listener_destroy(s.listener);
  fsn_sampleset_free(&set);
  fsn_model_destroy(m);
  return rc;
}

int main(void) {
  fsn_status st = fsn_init();
  if (st != FSN_OK) {
    fprintf(stderr, "fsn_init: %s\n", fsn_last_error());
    return st == FSN_E_UNSUPPORTED ? 77 : 1; /* 77: skipped (FSN_ISA names a level this machine lacks) */
  }
  uint64_t x[5] = {1, 2, 3, 4, (1ull << 37) - 1}, y[5] = {10, 20, 30, 40, 1}, z[5];
  fsn_ring_add(z, x, y, 5, 37);
  printf("fusion %s at level %s: %llu %llu\n", FSN_VERSION, fsn_isa_name(fsn_isa_active()), (unsigned long long)z[3],
         (unsigned long long)z[4]);
  if (!(z[0] == 11 && z[3] == 44 && z[4] == 0)) return 1;
  return fusion_query();
}
