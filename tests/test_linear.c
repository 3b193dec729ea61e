/* Secure conv2d / fc over real sockets: the reconstructed output equals the plaintext conv2d mod 2^ell, bit for
 * bit, and the server's correction traffic matches the formula sum_i M (ell - i) bits (i < the client's bits).
 * The same through the linear backend table (the secure executor's only way to conv/fc): "vcot" there sends exactly
 * the bytes of the direct calls. */
#include <fusion/conv.h>
#include <fusion/linear.h>
#ifdef _OPENMP
#include <omp.h>
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/common/fsn_test.h"
#include "tests/common/fsn_test_net.h"

/* How a case reaches the protocol: the vcot functions directly, or the backend table's conv2d or fc entry. */
typedef enum via { DIRECT, BACKEND_CONV2D, BACKEND_FC } via;

typedef struct layer_case {
  fsn_conv2d_shape s;
  via via;
  unsigned ell, bits; /* bits: 0 for fsn_linear_conv2d, else fsn_linear_conv2d_narrow with that many client bits */
  uint64_t *x0, *x1, *w, *bias, *y0, *y1;
  size_t nx, ny, nw;
  uint64_t server_bytes; /* bytes the server sent during the layer */
  fsn_status st_server, st_client;
} layer_case;

static void run_party(fsn_channel *ch, layer_case *c, fsn_role role) {
  fsn_2pc *p;
  const fsn_2pc_options iknp = {.ot = "iknp"}; /* the bytes checked below are vcot's on IKNP COTs */
  fsn_status st = fsn_2pc_create(&p, &ch, 1, role, c->ell, 12 < c->ell ? 12 : 0, &iknp);
  if (st == FSN_OK) {
    fsn_counters before, after;
    fsn_channel_counters(ch, &before);
    const bool server = role == FSN_ROLE_SERVER;
    uint64_t *y = server ? c->y0 : c->y1, *x = server ? c->x0 : c->x1, *w = server ? c->w : NULL;
    uint64_t *b = server ? c->bias : NULL;
    const fsn_linear_backend *vcot = fsn_linear_backend_find("vcot");
    const unsigned bits = c->bits ? c->bits : c->ell;
    if (c->via == BACKEND_CONV2D)
      st = vcot->conv2d(p, y, x, w, b, &c->s, bits);
    else if (c->via == BACKEND_FC)
      st = vcot->fc(p, y, x, w, b, c->s.batch, c->s.in_c, c->s.out_c, bits);
    else
      st = c->bits ? fsn_linear_conv2d_narrow(p, y, x, w, b, &c->s, c->bits) : fsn_linear_conv2d(p, y, x, w, b, &c->s);
    fsn_channel_counters(ch, &after);
    if (role == FSN_ROLE_SERVER) c->server_bytes = after.bytes_sent - before.bytes_sent;
    fsn_2pc_destroy(p);
  }
  if (st != FSN_OK) fprintf(stderr, "%s: %s\n", role == FSN_ROLE_SERVER ? "server" : "client", fsn_last_error());
  *(role == FSN_ROLE_SERVER ? &c->st_server : &c->st_client) = st;
}

static void server_fn(fsn_channel *ch, void *arg) { run_party(ch, arg, FSN_ROLE_SERVER); }
static void client_fn(fsn_channel *ch, void *arg) { run_party(ch, arg, FSN_ROLE_CLIENT); }

/* Touches: how many (input element, weight) pairs the protocol visits = what the server sends corrections for. */
static size_t count_touches(const fsn_conv2d_shape *s) {
  size_t oh = fsn_conv2d_out_h(s), ow = fsn_conv2d_out_w(s), m = 0;
  for (size_t h = 0; h < s->in_h; h++)
    for (size_t w = 0; w < s->in_w; w++)
      for (size_t kh = 0; kh < s->k_h; kh++)
        for (size_t kw = 0; kw < s->k_w; kw++) {
          long th = (long)h + (long)s->pad_h - (long)kh, tw = (long)w + (long)s->pad_w - (long)kw;
          if (th < 0 || tw < 0 || th % (long)s->stride_h || tw % (long)s->stride_w) continue;
          if ((size_t)th / s->stride_h < oh && (size_t)tw / s->stride_w < ow) m += s->out_c;
        }
  return m * s->in_c * s->batch;
}

/* bits = 0: random shares of a random x; else the server's share is 0 and the client's is x, with values below
 * 2^bits, or (wide) with random higher bits too, which the protocol must ignore: the result is for x mod 2^bits. */
static uint64_t check_layer_via(fsn_conv2d_shape s, unsigned ell, int with_bias, unsigned bits, int wide, via via) {
  layer_case c = {.s = s, .ell = ell, .bits = bits, .via = via};
  const uint64_t mask = fsn_ring_mask(ell);
  c.nx = s.batch * s.in_c * s.in_h * s.in_w;
  c.ny = s.batch * s.out_c * fsn_conv2d_out_h(&s) * fsn_conv2d_out_w(&s);
  c.nw = s.out_c * s.in_c * s.k_h * s.k_w;
  c.x0 = malloc(c.nx * 8), c.x1 = malloc(c.nx * 8), c.w = malloc(c.nw * 8), c.bias = malloc(s.out_c * 8);
  c.y0 = malloc(c.ny * 8), c.y1 = malloc(c.ny * 8);
  uint64_t *x = malloc(c.nx * 8), *want = malloc(c.ny * 8);
  void *scratch = aligned_alloc(64, (fsn_conv2d_scratch_bytes(&s) + 64) / 64 * 64);
  fsn_test_fill_ring(x, c.nx, bits && !wide ? bits : ell);
  fsn_test_fill_ring(c.x0, c.nx, ell);
  if (bits) memset(c.x0, 0, c.nx * 8);
  for (size_t i = 0; i < c.nx; i++) c.x1[i] = (x[i] - c.x0[i]) & mask;
  if (bits)
    for (size_t i = 0; i < c.nx; i++) x[i] &= fsn_ring_mask(bits);
  fsn_test_fill_ring(c.w, c.nw, ell);
  fsn_test_fill_ring(c.bias, s.out_c, ell);
  if (!with_bias) c.bias = (free(c.bias), NULL);

  fsn_test_two_party(server_fn, &c, client_fn, &c);
  ck_assert_int_eq(c.st_server, FSN_OK);
  ck_assert_int_eq(c.st_client, FSN_OK);

  fsn_conv2d(want, x, c.w, c.bias, &s, scratch);
  for (size_t i = 0; i < c.ny; i++)
    ck_assert_msg(((c.y0[i] + c.y1[i]) & mask) == (want[i] & mask), "ell=%u output %zu of %zu", ell, i, c.ny);

  uint64_t wire = 0, M = count_touches(&s);
  for (unsigned i = 0; i < (bits ? bits : ell); i++) wire += (M * (ell - i) + 7) / 8 * 8;
  ck_assert_uint_ge(c.server_bytes, wire / 8);
  ck_assert_msg(c.server_bytes <= wire / 8 + 64 * ell * (1 + c.nx * ell / 4096), "server sent %llu, formula %llu",
                (unsigned long long)c.server_bytes, (unsigned long long)(wire / 8));
  free(c.x0), free(c.x1), free(c.w), free(c.bias), free(c.y0), free(c.y1), free(x), free(want), free(scratch);
  return c.server_bytes;
}

static void check_layer_bits(fsn_conv2d_shape s, unsigned ell, int with_bias, unsigned bits, int wide) {
  check_layer_via(s, ell, with_bias, bits, wide, DIRECT);
}

static void check_layer(fsn_conv2d_shape s, unsigned ell, int with_bias) { check_layer_bits(s, ell, with_bias, 0, 0); }

START_TEST(conv_matches_plaintext) {
  static const unsigned ells[] = {32, 37, 64};
  for (int e = 0; e < 3; e++) {
    check_layer((fsn_conv2d_shape){1, 2, 5, 5, 3, 3, 3, 1, 1, 1, 1}, ells[e], 1);   /* 3x3, pad 1 */
    check_layer((fsn_conv2d_shape){2, 3, 7, 6, 2, 3, 3, 2, 2, 1, 1}, ells[e], 0);   /* stride 2, batch 2 */
    check_layer((fsn_conv2d_shape){1, 1, 12, 12, 4, 5, 5, 1, 1, 0, 0}, ells[e], 1); /* the 4-layer net's 5x5 */
    check_layer((fsn_conv2d_shape){1, 4, 4, 4, 8, 1, 1, 1, 1, 0, 0}, ells[e], 1);   /* 1x1 */
  }
}
END_TEST

START_TEST(fc_matches_plaintext) {
  /* fc = conv over 1x1 images: batch 3, 20 -> 7 */
  check_layer((fsn_conv2d_shape){3, 20, 1, 1, 7, 1, 1, 1, 1, 0, 0}, 37, 1);
  check_layer((fsn_conv2d_shape){1, 256, 1, 1, 10, 1, 1, 1, 1, 0, 0}, 64, 0);
}
END_TEST

START_TEST(narrow_input_matches_plaintext) {
  /* the first layer of the 4-layer net on pixel-like inputs (13 bits at s = 12), and 1 and ell bits */
  check_layer_bits((fsn_conv2d_shape){1, 1, 12, 12, 4, 5, 5, 1, 1, 0, 0}, 37, 1, 13, 0);
  check_layer_bits((fsn_conv2d_shape){2, 3, 7, 6, 2, 3, 3, 2, 2, 1, 1}, 32, 1, 1, 0);
  check_layer_bits((fsn_conv2d_shape){3, 20, 1, 1, 7, 1, 1, 1, 1, 0, 0}, 64, 0, 64, 0);
  /* client values with higher bits set: computed modulo 2^bits */
  check_layer_bits((fsn_conv2d_shape){1, 2, 5, 5, 3, 3, 3, 1, 1, 1, 1}, 37, 1, 13, 1);
}
END_TEST

START_TEST(backend_table) {
  const fsn_linear_backend *vcot = fsn_linear_backend_find("vcot");
  ck_assert_ptr_nonnull(vcot);
  ck_assert_str_eq(vcot->name, "vcot");
  const fsn_linear_backend *he = fsn_linear_backend_find("he");
  ck_assert_ptr_nonnull(he);
  ck_assert_ptr_eq(fsn_linear_backend_find(NULL), he); /* the default up to ell = 40 */
  ck_assert_ptr_eq(fsn_linear_backend_find(""), he);
  ck_assert_ptr_eq(fsn_linear_backend_at(0), he);
  ck_assert_ptr_eq(fsn_linear_backend_default(37), he);
  ck_assert_ptr_eq(fsn_linear_backend_default(40), he);
  ck_assert_ptr_eq(fsn_linear_backend_default(41), vcot); /* beyond he's parameters */
  ck_assert_ptr_eq(fsn_linear_backend_default(64), vcot);
  ck_assert_ptr_eq(fsn_linear_backend_resolve(NULL, 64), vcot);
  ck_assert_ptr_eq(fsn_linear_backend_resolve("he", 64), he);
  ck_assert_ptr_null(fsn_linear_backend_resolve("no-such-backend", 37));
  ck_assert_ptr_null(fsn_linear_backend_find("VCOT"));
  ck_assert_ptr_null(fsn_linear_backend_find("no-such-backend"));
  size_t n = 0;
  for (const fsn_linear_backend *b; (b = fsn_linear_backend_at(n)); n++) {
    ck_assert_ptr_nonnull(b->conv2d);
    ck_assert_ptr_nonnull(b->fc);
    ck_assert_ptr_eq(fsn_linear_backend_find(b->name), b);
  }
  ck_assert_uint_ge(n, 1);
}
END_TEST

START_TEST(vcot_through_the_backend) {
  /* conv (full width and narrow client inputs) and fc: exact results, and the direct calls' bytes to the byte */
  const fsn_conv2d_shape conv = {2, 3, 7, 6, 2, 3, 3, 2, 2, 1, 1}, fc = {3, 20, 1, 1, 7, 1, 1, 1, 1, 0, 0};
  ck_assert_uint_eq(check_layer_via(conv, 37, 1, 0, 0, BACKEND_CONV2D), check_layer_via(conv, 37, 1, 0, 0, DIRECT));
  ck_assert_uint_eq(check_layer_via(conv, 37, 1, 13, 0, BACKEND_CONV2D), check_layer_via(conv, 37, 1, 13, 0, DIRECT));
  ck_assert_uint_eq(check_layer_via(fc, 64, 0, 0, 0, BACKEND_FC), check_layer_via(fc, 64, 0, 0, 0, DIRECT));
  ck_assert_uint_eq(check_layer_via(fc, 37, 1, 13, 0, BACKEND_FC), check_layer_via(fc, 37, 1, 13, 0, DIRECT));
}
END_TEST

/* The context's worker threads run kernels without an OpenMP team of their own (protocol/twopc/twopc.c): a server's
 * sessions x threads is its whole thread budget. The caller's OpenMP setting comes back after the task. */
typedef struct team_probe {
  int seen[2];
  int before, after;
  fsn_status st;
} team_probe;

static fsn_status record_team(fsn_2pc *p, size_t t, void *arg) {
  (void)p;
#ifdef _OPENMP
  ((team_probe *)arg)->seen[t] = omp_get_max_threads();
#else
  ((team_probe *)arg)->seen[t] = 1;
#endif
  return FSN_OK;
}

static void team_party(fsn_channel **chs, size_t n, void *arg, fsn_role role) {
  team_probe *tp = (team_probe *)arg + (role == FSN_ROLE_SERVER);
  fsn_2pc *p;
#ifdef _OPENMP
  omp_set_num_threads(3);
  tp->before = omp_get_max_threads();
#endif
  const fsn_2pc_options ot = {.ot = fsn_test_ot_pack()};
  tp->st = fsn_2pc_create(&p, chs, n, role, 37, 12, &ot);
  if (tp->st == FSN_OK) tp->st = fsn_2pc_run(p, record_team, tp);
#ifdef _OPENMP
  tp->after = omp_get_max_threads();
#endif
  if (tp->st == FSN_OK) fsn_2pc_destroy(p);
}

static void team_server(fsn_channel **chs, size_t n, void *arg) { team_party(chs, n, arg, FSN_ROLE_SERVER); }
static void team_client(fsn_channel **chs, size_t n, void *arg) { team_party(chs, n, arg, FSN_ROLE_CLIENT); }

START_TEST(workers_have_no_openmp_team) {
  team_probe tp[2] = {0};
  const fsn_test_net_opts opts = {.channels = 2};
  fsn_test_two_party_ex(&opts, team_server, tp, team_client, tp);
  for (int r = 0; r < 2; r++) {
    ck_assert_int_eq(tp[r].st, FSN_OK);
    ck_assert_int_eq(tp[r].seen[0], 1);
    ck_assert_int_eq(tp[r].seen[1], 1);
    ck_assert_int_eq(tp[r].after, tp[r].before);
  }
}
END_TEST

int main(void) {
  Suite *s = suite_create("linear");
  TCase *tc = tcase_create("linear");
  tcase_set_timeout(tc, 300);
  tcase_add_test(tc, conv_matches_plaintext);
  tcase_add_test(tc, fc_matches_plaintext);
  tcase_add_test(tc, narrow_input_matches_plaintext);
  tcase_add_test(tc, backend_table);
  tcase_add_test(tc, vcot_through_the_backend);
  tcase_add_test(tc, workers_have_no_openmp_team);
  suite_add_tcase(s, tc);
  return fsn_test_main(s);
}
