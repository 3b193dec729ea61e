/* RLWE linear layers (protocol/he): the conv/FC encodings at plaintext level (schoolbook negacyclic products mod
 * 2^ell == fsn_conv2d bit for bit); the scheme (round trips, plaintext products, measured noise against the analysis,
 * modulus switching with dropped bits); the two-party protocol over sockets == fsn_conv2d bit for bit, its exact
 * bytes, and peers that send malformed messages. */
#include <fusion/conv.h>
#include <fusion/he.h>
#include <fusion/linear.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/he/he_encode.h"
#include "protocol/he/he_filter.h"
#include "protocol/he/he_galois.h"
#include "protocol/he/he_scheme.h"
#include "tests/common/fsn_test_net.h"
#include "tests/common/fsn_test.h"

static uint64_t mask_of(unsigned ell) { return ell == 64 ? ~0ull : (1ull << ell) - 1; }

/* acc += a * b in Z_2^ell[X] / (X^n + 1), schoolbook over the nonzero coefficients of b (filters are sparse). */
static void negacyclic_mul_acc(uint64_t *acc, const uint64_t *a, const uint64_t *b, size_t n, unsigned ell) {
  for (size_t j = 0; j < n; j++) {
    if (!b[j]) continue;
    for (size_t i = 0; i < n; i++) {
      uint64_t p = a[i] * b[j];
      if (i + j < n)
        acc[i + j] += p;
      else
        acc[i + j - n] -= p;
    }
  }
  for (size_t i = 0; i < n; i++) acc[i] &= mask_of(ell);
}

static size_t windowed_layers; /* layers whose input ciphertexts carry fewer than N coefficients */

/* Junk at the input coefficients outside the layer's window (he_encode.h): they must never reach an output. */
static void junk_outside_window(const fsn_he_layer *l, uint64_t *poly, unsigned ell) {
  uint64_t *junk = malloc(l->n * 8);
  fsn_test_fill_ring(junk, l->n, ell);
  for (size_t k = l->in_len; k < l->n; k++) {
    const size_t i = (l->in_lo + k) % l->n;
    ck_assert_uint_eq(poly[i], 0); /* the block itself lies inside the window */
    poly[i] = junk[i] | 1;
  }
  free(junk);
}

/* The layer at plaintext level through the encodings: y = decode(sum_b enc(x) enc(w)) for every item, with junk in
 * the input coefficients outside the window. */
static void encoded_layer(const fsn_he_layer *l, uint64_t *y, const uint64_t *x, const uint64_t *w, unsigned ell) {
  const size_t n = l->n, in_size = fsn_he_layer_in_size(l), out_size = fsn_he_layer_out_size(l);
  const size_t nin = fsn_he_layer_in_cts(l);
  uint64_t *in = malloc(nin * n * 8), *f = malloc(n * 8), *acc = malloc(n * 8);
  uint32_t *coeff = malloc(n * 4), *dest = malloc(n * 4);
  uint8_t *seen = calloc(out_size, 1);
  uint64_t *packed = calloc(fsn_he_layer_out_cts(l) * n, 8);
  for (size_t item = 0; item < l->s.batch; item++) {
    for (size_t k = 0; k < nin; k++) {
      fsn_he_layer_encode_input(l, in + k * n, x + item * in_size, k);
      junk_outside_window(l, in + k * n, ell);
    }
    memset(seen, 0, out_size);
    for (size_t g = 0; g < l->groups; g++)
      for (size_t u = 0; u < l->per_group; u++) {
        memset(acc, 0, n * 8);
        for (size_t b = 0; b < l->terms; b++) {
          fsn_he_layer_encode_filter(l, f, w, g, b);
          negacyclic_mul_acc(acc, in + (b * l->per_group + u) * n, f, n, ell);
        }
        if (l->pack_k) { /* what fsn_he_pack makes of the products: product g's multiples of C' at + g mod C' */
          const size_t cp = (size_t)1 << l->pack_k, t = g % cp;
          for (size_t j = 0; j < n; j += cp) packed[g / cp * n + j + t] = acc[j];
          continue;
        }
        size_t m = fsn_he_layer_outputs(l, g, u, coeff, dest);
        for (size_t i = 0; i < m; i++) {
          ck_assert_uint_lt(coeff[i], n);
          ck_assert_uint_lt(dest[i], out_size);
          ck_assert_msg(!seen[dest[i]], "output %u decoded twice", dest[i]);
          seen[dest[i]] = 1;
          y[item * out_size + dest[i]] = acc[coeff[i]];
        }
      }
    for (size_t q = 0; l->pack_k && q < fsn_he_layer_out_cts(l); q++) {
      size_t m = fsn_he_layer_outputs(l, q, 0, coeff, dest);
      for (size_t i = 0; i < m; i++) {
        ck_assert_uint_lt(coeff[i], n);
        ck_assert_uint_lt(dest[i], out_size);
        ck_assert_msg(!seen[dest[i]], "output %u decoded twice", dest[i]);
        seen[dest[i]] = 1;
        y[item * out_size + dest[i]] = packed[q * n + coeff[i]];
      }
    }
    for (size_t i = 0; i < out_size; i++) ck_assert_msg(seen[i], "output %zu never decoded", i);
  }
  free(in), free(f), free(acc), free(coeff), free(dest), free(seen), free(packed);
}

static const fsn_he_cost test_cost = {.in_bytes = 100, .out_fixed_bytes = 48, .out_coeff_bytes = 5, .max_fan = 1e30};
static size_t packed_outputs; /* layers the tests ran with packed outputs */
/* Costs that push the search to either end: many output channels per polynomial, or many input channels. */
static const fsn_he_cost costs[] = {
    {.in_bytes = 100, .out_fixed_bytes = 48, .out_coeff_bytes = 5, .max_fan = 1e30},
    {.in_bytes = 1, .out_fixed_bytes = 1000, .out_coeff_bytes = 5, .max_fan = 1e30, .max_pack_k = 6},
    {.in_bytes = 1000, .out_fixed_bytes = 1, .out_coeff_bytes = 5, .max_fan = 1e30},
    {.in_bytes = 100, .out_fixed_bytes = 100, .out_coeff_bytes = 5, .max_fan = 1e30, .max_pack_k = 3},
};
static size_t packed_layers; /* layers the tests ran with more than one output channel per polynomial */

static void check_conv_encoding(fsn_conv2d_shape s, size_t n, unsigned ell, const fsn_he_cost *cost) {
  fsn_he_layer l;
  ck_assert_int_eq(fsn_he_layer_conv(&l, &s, n, cost), FSN_OK);
  packed_layers += l.ob > 1, windowed_layers += l.in_len<n, packed_outputs += l.pack_k> 0;
  ck_assert_uint_le(l.ob * l.cb * l.hb * l.wb, n);
  const size_t nx = s.batch * s.in_c * s.in_h * s.in_w, nw = s.out_c * s.in_c * s.k_h * s.k_w;
  const size_t ny = s.batch * s.out_c * fsn_conv2d_out_h(&s) * fsn_conv2d_out_w(&s);
  uint64_t *x = malloc(nx * 8), *w = malloc(nw * 8), *y = malloc(ny * 8), *want = malloc(ny * 8);
  void *scratch = aligned_alloc(64, (fsn_conv2d_scratch_bytes(&s) + 64) / 64 * 64);
  fsn_test_fill_ring(x, nx, ell);
  fsn_test_fill_ring(w, nw, ell);
  fsn_conv2d(want, x, w, NULL, &s, scratch);
  encoded_layer(&l, y, x, w, ell);
  for (size_t i = 0; i < ny; i++)
    ck_assert_msg(y[i] == (want[i] & mask_of(ell)), "conv C%zu H%zu W%zu O%zu k%zux%zu s%zu p%zu N%zu: y[%zu]", s.in_c,
                  s.in_h, s.in_w, s.out_c, s.k_h, s.k_w, s.stride_h, s.pad_h, n, i);
  free(x), free(w), free(y), free(want), free(scratch);
}

START_TEST(conv_encoding_matches_conv2d) {
  /* {batch, C, H, W, O, kh, kw, sh, sw, ph, pw}: one block; channel blocks; spatial tiles; padding; strides. */
  const fsn_conv2d_shape shapes[] = {
      {1, 1, 5, 5, 1, 3, 3, 1, 1, 0, 0},   {2, 3, 6, 7, 2, 3, 3, 1, 1, 1, 1},   {1, 16, 8, 8, 3, 3, 3, 1, 1, 1, 1},
      {1, 4, 20, 20, 2, 3, 3, 1, 1, 1, 1}, {1, 2, 17, 13, 2, 5, 5, 1, 1, 2, 2}, {1, 3, 16, 16, 2, 7, 7, 2, 2, 3, 3},
      {1, 8, 9, 9, 3, 3, 3, 2, 2, 1, 1},   {1, 6, 10, 11, 4, 1, 1, 1, 1, 0, 0}, {2, 5, 11, 9, 3, 1, 1, 2, 2, 0, 0},
      {1, 3, 8, 8, 2, 1, 1, 2, 3, 1, 1},   {1, 40, 4, 4, 2, 3, 3, 1, 1, 1, 1},  {1, 2, 12, 5, 2, 3, 2, 3, 1, 1, 0},
      {1, 1, 28, 28, 2, 5, 5, 1, 1, 0, 0}, {1, 64, 7, 7, 2, 3, 3, 1, 1, 1, 1},  {1, 9, 14, 14, 2, 3, 3, 2, 2, 1, 1},
  };
  const unsigned ells[] = {37, 20, 40, 64};
  for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
    for (size_t n = 64; n <= 1024; n *= 4) {
      fsn_conv2d_shape s = shapes[i];
      if (s.k_h * s.k_w > n) continue;
      check_conv_encoding(s, n, ells[(i + n) % 4], &costs[(i + n / 64) % 4]);
    }
  ck_assert_uint_gt(packed_layers, 5);
  ck_assert_uint_gt(windowed_layers, 5);
  /* the protocol's ring degree on a few shapes */
  check_conv_encoding((fsn_conv2d_shape){1, 3, 24, 24, 2, 7, 7, 2, 2, 3, 3}, 4096, 37, &costs[0]);
  check_conv_encoding((fsn_conv2d_shape){1, 70, 7, 7, 1, 3, 3, 1, 1, 1, 1}, 4096, 37, &costs[0]);
  check_conv_encoding((fsn_conv2d_shape){1, 20, 7, 7, 12, 3, 3, 1, 1, 1, 1}, 4096, 37, &costs[1]);
  /* packed outputs: 1x1 at 7x7 and 14x14, strided 1x1, a 2x2 stride-2 kernel (4 phases, tap (0, 0) each) */
  const size_t before = packed_outputs;
  check_conv_encoding((fsn_conv2d_shape){1, 70, 7, 7, 9, 1, 1, 1, 1, 0, 0}, 4096, 37, &costs[1]);
  check_conv_encoding((fsn_conv2d_shape){1, 33, 14, 14, 17, 1, 1, 1, 1, 0, 0}, 4096, 37, &costs[3]);
  check_conv_encoding((fsn_conv2d_shape){2, 40, 14, 14, 20, 1, 1, 2, 2, 0, 0}, 4096, 20, &costs[1]);
  check_conv_encoding((fsn_conv2d_shape){1, 5, 8, 8, 7, 2, 2, 2, 2, 0, 0}, 1024, 64, &costs[1]);
  ck_assert_uint_eq(packed_outputs - before, 4);
}
END_TEST

START_TEST(conv_encoding_rejects_bad_shapes) {
  fsn_he_layer l;
  fsn_conv2d_shape too_big = {1, 1, 9, 9, 1, 9, 9, 1, 1, 0, 0}, no_stride = {1, 1, 5, 5, 1, 3, 3, 0, 1, 0, 0};
  ck_assert_int_eq(fsn_he_layer_conv(&l, &too_big, 64, &test_cost), FSN_E_INVALID);
  ck_assert_int_eq(fsn_he_layer_conv(&l, &no_stride, 64, &test_cost), FSN_E_INVALID);
  ck_assert_int_eq(fsn_he_layer_fc(&l, 1, 0, 3, 64, &test_cost), FSN_E_INVALID);
}
END_TEST

static void check_fc_encoding(size_t batch, size_t in, size_t out, size_t n, unsigned ell) {
  fsn_he_layer l;
  ck_assert_int_eq(fsn_he_layer_fc(&l, batch, in, out, n, &costs[(in + out) % 4]), FSN_OK);
  ck_assert_uint_le(l.ob * l.cb * l.hb * l.wb, n);
  uint64_t *x = malloc(batch * in * 8), *w = malloc(in * out * 8), *y = malloc(batch * out * 8);
  fsn_test_fill_ring(x, batch * in, ell);
  fsn_test_fill_ring(w, in * out, ell);
  encoded_layer(&l, y, x, w, ell);
  for (size_t b = 0; b < batch; b++)
    for (size_t o = 0; o < out; o++) {
      uint64_t want = 0;
      for (size_t i = 0; i < in; i++) want += w[o * in + i] * x[b * in + i];
      ck_assert_msg(y[b * out + o] == (want & mask_of(ell)), "fc %zu -> %zu N%zu: y[%zu][%zu]", in, out, n, b, o);
    }
  free(x), free(w), free(y);
}

START_TEST(fc_encoding_matches_matvec) {
  check_fc_encoding(1, 20, 7, 64, 37);
  check_fc_encoding(3, 256, 100, 256, 37);
  check_fc_encoding(2, 100, 10, 64, 40);
  check_fc_encoding(1, 1000, 3, 256, 64);
  check_fc_encoding(1, 5, 300, 64, 20);
  check_fc_encoding(1, 2048, 10, 4096, 37);
}
END_TEST

/* ---- the scheme ---- */

static const unsigned scheme_ells[] = {37, 40, 20, 13, 2};

START_TEST(params_are_consistent) {
  for (size_t e = 0; e < sizeof scheme_ells / sizeof scheme_ells[0]; e++) {
    fsn_he_params par;
    const unsigned ell = scheme_ells[e];
    ck_assert_int_eq(fsn_he_params_make(&par, ell), FSN_OK);
    const unsigned lg = ell > 13 ? ell : 13;
    ck_assert(par.p1 != par.p2 && par.p1 < (1ull << 50) && par.p2 < (1ull << 50));
    ck_assert(fsn_ntt_is_prime(par.p1) && fsn_ntt_is_prime(par.p2));
    ck_assert_uint_eq(par.p1 % (1ull << lg), 1);
    ck_assert_uint_eq(par.p2 % (1ull << lg), 1);
    ck_assert(log2((double)par.p1) + log2((double)par.p2) <= 109); /* HE standard, N = 4096, 128-bit */
    ck_assert(par.switch_bound < par.budget && par.max_noise > 0);
    double h, f;
    ck_assert_int_eq(fsn_he_flooding(&par, 3 * 3 * 512, &h, &f), FSN_OK); /* ResNet-50's widest 3x3 */
    ck_assert(f > h && h + f <= par.max_noise);
    printf("# he params ell=%u: p1=%llu p2=%llu log2 q=%.2f drop c0 %u c1 %u, budget 2^%.2f, switch 2^%.2f, "
           "max noise 2^%.2f\n",
           ell, (unsigned long long)par.p1, (unsigned long long)par.p2, log2((double)par.p1) + log2((double)par.p2),
           par.drop_c0, par.drop_c1, log2(par.budget), log2(par.switch_bound), log2(par.max_noise));
  }
  fsn_he_params par;
  ck_assert_int_eq(fsn_he_params_make(&par, 41), FSN_E_UNSUPPORTED);
  ck_assert_int_eq(fsn_he_params_make(&par, 64), FSN_E_UNSUPPORTED);
  ck_assert_int_eq(fsn_he_params_make(&par, 1), FSN_E_UNSUPPORTED);
  ck_assert_int_eq(fsn_he_params_make(&par, 37), FSN_OK);
  double h, f;
  ck_assert_int_eq(fsn_he_flooding(&par, 1e9, &h, &f), FSN_E_UNSUPPORTED);
}
END_TEST

/* Filter transforms (he_filter.h) equal lift + full NTT of the encoded filter, for every (group, block) of layers
 * that take the small transform (1 x 1 convs: N' = N / 2^a for d = H'W') and layers that do not; the small one is
 * taken exactly where expected, so a fallback to the full transform cannot go unnoticed. */
START_TEST(filter_transforms_match_full_ntt) {
  static const struct {
    fsn_conv2d_shape s;
    size_t small_n; /* 0: full transforms */
  } cases[] = {
      {{1, 16, 8, 8, 4, 1, 1, 1, 1, 0, 0}, 64},         /* d = 64: a = 6 */
      {{1, 64, 56, 56, 64, 1, 1, 1, 1, 0, 0}, 64},      /* ResNet-50 res2 1x1: d = 3136 = 2^6 49 */
      {{1, 128, 28, 28, 512, 1, 1, 1, 1, 0, 0}, 256},   /* res3 1x1: d = 784 = 2^4 49 */
      {{1, 256, 14, 14, 1024, 1, 1, 1, 1, 0, 0}, 1024}, /* res4 1x1: d = 196 = 2^2 49 */
      {{1, 512, 7, 7, 2048, 1, 1, 1, 1, 0, 0}, 4096},   /* res5 1x1: d = 49, odd: a permutation of the full size */
      {{1, 8, 9, 9, 5, 1, 1, 2, 2, 0, 0}, 4096},        /* 1x1 s2 on 5x5 phases: d = 25 */
      {{1, 16, 8, 8, 4, 3, 3, 1, 1, 1, 1}, 0},          /* 3x3 */
  };
  fsn_he_ctx ctx;
  ck_assert_int_eq(fsn_he_ctx_init(&ctx, 37), FSN_OK);
  const size_t n = ctx.par.n;
  uint64_t *got = malloc(2 * n * 8), *want = malloc(2 * n * 8), *poly = malloc(n * 8), *scratch = malloc(n * 8);
  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
    const fsn_conv2d_shape *s = &cases[c].s;
    fsn_he_layer l;
    const fsn_he_cost cost = {.in_bytes = 51200, .out_fixed_bytes = 25088, .out_coeff_bytes = 5, .max_fan = 2e6};
    ck_assert_int_eq(fsn_he_layer_conv(&l, s, n, &cost), FSN_OK);
    const size_t nw = s->out_c * s->in_c * s->k_h * s->k_w;
    uint64_t *w = malloc(nw * 8);
    for (size_t i = 0; i < nw; i++) w[i] = fsn_test_rand() & mask_of(37);
    fsn_he_filters f;
    ck_assert_int_eq(fsn_he_filters_init(&f, &ctx, &l), FSN_OK);
    ck_assert_msg(f.small_n == cases[c].small_n, "case %zu: small transform of size %zu, expected %zu", c, f.small_n,
                  cases[c].small_n);
    ck_assert(!f.small_n || f.run == n / f.small_n); /* the runs of the bit-reversed order hold */
    ck_assert(!f.small_n || (f.p_len * l.hb * l.wb >= n && f.p_len <= f.small_n));        /* deg P < p_len */
    const size_t groups = l.groups < 3 ? l.groups : 3, terms = l.terms < 3 ? l.terms : 3; /* first few: enough */
    for (size_t g = 0; g < groups; g++)
      for (size_t b = 0; b < terms; b++) {
        fsn_he_filter_transform(&f, &ctx, &l, got, w, g, b, poly, scratch);
        fsn_he_layer_encode_filter(&l, poly, w, g, b);
        fsn_he_lift(&ctx, want, poly, NULL);
        fsn_he_ntt(&ctx, want);
        ck_assert_msg(!memcmp(got, want, 2 * n * 8), "case %zu filter (%zu, %zu)", c, g, b);
      }
    fsn_he_filters_free(&f);
    free(w);
  }
  free(got), free(want), free(poly), free(scratch);
  fsn_he_ctx_free(&ctx);
}
END_TEST

/* Packed layers (C' = 2^k, pack_k > 0): the filter transform is of Q = X^(C' - 1) F (fsn_ntt_forward_low), and an
 * input shifted by fsn_he_filters_shift_input times it equals the input times the lifted full NTT of F, for the
 * ResNet-50 1 x 1 shapes whose packs differ (C' = 4, 16, 64) and a partial block. */
START_TEST(packed_filter_transforms_match_full_ntt) {
  static const fsn_conv2d_shape cases[] = {
      {1, 128, 28, 28, 512, 1, 1, 1, 1, 0, 0},  /* C' = 4 */
      {1, 256, 14, 14, 1024, 1, 1, 1, 1, 0, 0}, /* C' = 16 */
      {1, 512, 7, 7, 2048, 1, 1, 1, 1, 0, 0},   /* C' = 64 */
      {1, 40, 7, 7, 20, 1, 1, 1, 1, 0, 0},      /* fewer input channels than the pack */
  };
  fsn_he_ctx ctx;
  ck_assert_int_eq(fsn_he_ctx_init(&ctx, 37), FSN_OK);
  const size_t n = ctx.par.n;
  uint64_t *got = malloc(2 * n * 8), *want = malloc(2 * n * 8), *poly = malloc(n * 8), *scratch = malloc(n * 8);
  uint64_t *in = malloc(2 * n * 8), *prod_got = malloc(2 * n * 8), *prod_want = malloc(2 * n * 8);
  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
    const fsn_conv2d_shape *s = &cases[c];
    fsn_he_layer l;
    const fsn_he_cost cost = {
        .in_bytes = 51200, .out_fixed_bytes = 25088, .out_coeff_bytes = 5, .max_fan = 2e6, .max_pack_k = 6};
    ck_assert_int_eq(fsn_he_layer_conv(&l, s, n, &cost), FSN_OK);
    ck_assert_msg(l.pack_k > 0, "case %zu: not packed", c);
    const size_t nw = s->out_c * s->in_c;
    uint64_t *w = malloc(nw * 8);
    for (size_t i = 0; i < nw; i++) w[i] = fsn_test_rand() & mask_of(37);
    fsn_he_filters f;
    ck_assert_int_eq(fsn_he_filters_init(&f, &ctx, &l), FSN_OK);
    ck_assert_msg(f.low == (size_t)1 << l.pack_k && !f.small_n, "case %zu: low %zu", c, f.low);
    for (int i = 0; i < 2; i++)
      for (size_t k = 0; k < n; k++) in[i * n + k] = fsn_test_rand() % ctx.p[i];
    const size_t groups = l.groups < 3 ? l.groups : 3, terms = l.terms < 3 ? l.terms : 3;
    for (size_t g = 0; g < groups; g++)
      for (size_t b = 0; b < terms; b++) {
        fsn_he_filter_transform(&f, &ctx, &l, got, w, g, b, poly, scratch);
        fsn_he_layer_encode_filter(&l, poly, w, g, b);
        fsn_he_lift(&ctx, want, poly, NULL);
        fsn_he_ntt(&ctx, want);
        memcpy(prod_got, in, 2 * n * 8);
        fsn_he_filters_shift_input(&f, &ctx, prod_got);
        for (int i = 0; i < 2; i++) {
          fsn_ntt_mul(prod_got + i * n, prod_got + i * n, got + i * n, n, ctx.tab[i]);
          fsn_ntt_mul(prod_want + i * n, in + i * n, want + i * n, n, ctx.tab[i]);
        }
        ck_assert_msg(!memcmp(prod_got, prod_want, 2 * n * 8), "case %zu filter (%zu, %zu)", c, g, b);
      }
    fsn_he_filters_free(&f);
    free(w);
  }
  free(got), free(want), free(poly), free(scratch), free(in), free(prod_got), free(prod_want);
  fsn_he_ctx_free(&ctx);
}
END_TEST

typedef struct scheme_fixture {
  fsn_he_ctx ctx;
  fsn_prg prg;
  size_t n;
  uint64_t *s_hat, *a_hat, *c0, *c1, *scratch, *m, *out;
  uint8_t seed[32];
} scheme_fixture;

static void fixture_init(scheme_fixture *f, unsigned ell) {
  ck_assert_int_eq(fsn_he_ctx_init(&f->ctx, ell), FSN_OK);
  f->n = f->ctx.par.n;
  uint8_t key[16];
  fsn_test_fill(key, sizeof key);
  fsn_test_fill(f->seed, sizeof f->seed);
  fsn_prg_seed(&f->prg, key);
  const size_t w = 2 * f->n * 8;
  f->s_hat = malloc(w), f->a_hat = malloc(w), f->c0 = malloc(w), f->c1 = malloc(w), f->scratch = malloc(w);
  f->m = malloc(w), f->out = malloc(w);
  fsn_he_keygen(&f->ctx, &f->prg, f->s_hat);
}

static void fixture_free(scheme_fixture *f) {
  fsn_he_ctx_free(&f->ctx);
  free(f->s_hat), free(f->a_hat), free(f->c0), free(f->c1), free(f->scratch), free(f->m), free(f->out);
}

/* A fresh symmetric encryption of m: c0 and c1 = a in the coefficient domain (a_hat kept). */
static void fixture_encrypt(scheme_fixture *f, uint64_t index) {
  fsn_he_expand_a(&f->ctx, f->a_hat, f->seed, index);
  fsn_he_encrypt(&f->ctx, &f->prg, f->c0, f->a_hat, f->s_hat, f->m, f->scratch);
  memcpy(f->c1, f->a_hat, 2 * f->n * 8);
  fsn_he_intt(&f->ctx, f->c1);
}

START_TEST(encrypt_decrypt_round_trip) {
  for (size_t e = 0; e < sizeof scheme_ells / sizeof scheme_ells[0]; e++) {
    scheme_fixture f;
    fixture_init(&f, scheme_ells[e]);
    for (uint64_t trial = 0; trial < 3; trial++) {
      fsn_test_fill_ring(f.m, f.n, scheme_ells[e]);
      fixture_encrypt(&f, trial);
      fsn_he_decrypt(&f.ctx, f.out, f.c0, f.c1, f.s_hat, f.scratch);
      ck_assert_mem_eq(f.out, f.m, f.n * 8);
      /* the same under the wire form */
      uint8_t *wire = malloc(fsn_he_rns_bytes(&f.ctx));
      fsn_he_rns_pack(&f.ctx, wire, f.c0);
      ck_assert_int_eq(fsn_he_rns_unpack(&f.ctx, f.c0, wire), FSN_OK);
      fsn_he_decrypt(&f.ctx, f.out, f.c0, f.c1, f.s_hat, f.scratch);
      ck_assert_mem_eq(f.out, f.m, f.n * 8);
      /* a residue at or above its prime is refused */
      uint64_t *bad = malloc(2 * f.n * 8);
      memcpy(bad, f.c0, 2 * f.n * 8);
      bad[f.n + 7] = f.ctx.p[1];
      fsn_he_rns_pack(&f.ctx, wire, bad);
      ck_assert_int_eq(fsn_he_rns_unpack(&f.ctx, bad, wire), FSN_E_PROTOCOL);
      /* a cyclic window (from 4000, 200 coefficients) travels alone: zeros elsewhere, and is range-checked too */
      uint64_t *win = malloc(2 * f.n * 8), *scratch = malloc(f.n * 8);
      const size_t lo = f.n - 96, len = 200;
      ck_assert_uint_lt(fsn_he_rns_window_bytes(&f.ctx, len), fsn_he_rns_bytes(&f.ctx) / 20);
      fsn_he_rns_pack_window(&f.ctx, wire, f.c0, lo, len, scratch);
      ck_assert_int_eq(fsn_he_rns_unpack_window(&f.ctx, win, wire, lo, len, scratch), FSN_OK);
      for (size_t i = 0; i < 2 * f.n; i++) ck_assert_uint_eq(win[i], (i % f.n - lo) % f.n < len ? f.c0[i] : 0);
      bad[f.n + 7] = f.ctx.p[1]; /* inside the window (4096 - 96 + 103) */
      fsn_he_rns_pack_window(&f.ctx, wire, bad, lo, len, scratch);
      ck_assert_int_eq(fsn_he_rns_unpack_window(&f.ctx, win, wire, lo, len, scratch), FSN_E_PROTOCOL);
      free(win), free(scratch);
      /* a wrong key decrypts to garbage */
      uint64_t *s2 = malloc(2 * f.n * 8);
      fsn_he_keygen(&f.ctx, &f.prg, s2);
      fsn_he_decrypt(&f.ctx, f.out, f.c0, f.c1, s2, f.scratch);
      ck_assert(memcmp(f.out, f.m, f.n * 8) != 0);
      free(wire), free(bad), free(s2);
    }
    fixture_free(&f);
  }
}
END_TEST

/* The noise of (c0, c1) as a plaintext of `want` (N values mod t): max |c0 + c1 s - Delta want| over the centred
 * representatives mod q, by CRT. */
static double measured_noise(scheme_fixture *f, const uint64_t *c0, const uint64_t *c1, const uint64_t *want) {
  const size_t n = f->n;
  const uint64_t p1 = f->ctx.p[0], p2 = f->ctx.p[1];
  uint64_t *x = malloc(2 * n * 8), *dm = malloc(2 * n * 8);
  memcpy(x, c1, 2 * n * 8);
  fsn_he_ntt(&f->ctx, x);
  for (int i = 0; i < 2; i++) fsn_ntt_mul(x + i * n, x + i * n, f->s_hat + i * n, n, f->ctx.tab[i]);
  fsn_he_intt(&f->ctx, x);
  fsn_he_lift(&f->ctx, dm, want, f->ctx.delta);
  /* Delta times the centred lift of want, as in the analysis */
  uint64_t inv = 1; /* p1^-1 mod p2 */
  for (uint64_t e = p2 - 2, b = p1 % p2; e; e >>= 1, b = (uint64_t)((unsigned __int128)b * b % p2))
    if (e & 1) inv = (uint64_t)((unsigned __int128)inv * b % p2);
  const unsigned __int128 q = (unsigned __int128)p1 * p2;
  double worst = 0;
  for (size_t j = 0; j < n; j++) {
    uint64_t v1 = ((x[j] + c0[j]) % p1 + p1 - dm[j]) % p1;
    uint64_t v2 = ((x[n + j] + c0[n + j]) % p2 + p2 - dm[n + j]) % p2;
    uint64_t k = (uint64_t)((unsigned __int128)((v2 + p2 - v1 % p2) % p2) * inv % p2);
    unsigned __int128 v = (unsigned __int128)k * p1 + v1;
    double centred = v > q / 2 ? -(double)(q - v) : (double)v;
    if (fabs(centred) > worst) worst = fabs(centred);
  }
  free(x), free(dm);
  return worst;
}

/* in(X^g) mod X^n + 1 over Z_2^ell. */
static void plain_automorphism(uint64_t *out, const uint64_t *in, size_t n, size_t g, unsigned ell) {
  for (size_t j = 0; j < n; j++) {
    const size_t e = j * g % (2 * n);
    if (e < n)
      out[e] = in[j];
    else
      out[e - n] = (0 - in[j]) & mask_of(ell);
  }
}

/* Automorphisms and key switching decrypt to the automorphism of the plaintext; a pack of 2^k ciphertexts with junk
 * off the multiples of 2^k decrypts to their contents interleaved, with the noise measured against the bound. */
static void check_galois(unsigned ell) {
  scheme_fixture f;
  fixture_init(&f, ell);
  const size_t n = f.n, words = 2 * n;
  const unsigned k = 3;
  uint64_t *want = malloc(n * 8), *t0 = malloc(words * 8), *t1 = malloc(words * 8), *scratch = malloc(18 * n * 8);
  /* tau_g then tau_(g^-1) and X^k then X^(2N - k) are the identity */
  fsn_test_fill_ring(f.m, n, ell);
  fixture_encrypt(&f, 0);
  const uint32_t g = 5;
  uint32_t g_inv = 1;
  while (g_inv * g % (2 * n) != 1) g_inv += 2;
  fsn_he_automorphism(&f.ctx, t0, f.c0, g);
  fsn_he_automorphism(&f.ctx, t1, t0, g_inv);
  ck_assert_mem_eq(t1, f.c0, words * 8);
  fsn_he_monomial_mul(&f.ctx, t0, f.c0, 77);
  fsn_he_monomial_mul(&f.ctx, t1, t0, 2 * n - 77);
  ck_assert_mem_eq(t1, f.c0, words * 8);
  /* one key switch */
  fsn_he_galois_key keys[3];
  uint8_t seed[32];
  memcpy(seed, f.seed, 32);
  seed[0] ^= 0x5a;
  ck_assert_int_eq(fsn_he_galois_keygen(&f.ctx, &f.prg, &keys[0], f.s_hat, seed, 0, g), FSN_OK);
  fsn_he_apply_galois(&f.ctx, &keys[0], f.c0, f.c1, scratch);
  plain_automorphism(want, f.m, n, g, ell);
  fsn_he_decrypt(&f.ctx, f.out, f.c0, f.c1, f.s_hat, f.scratch);
  ck_assert_mem_eq(f.out, want, n * 8);
  const double switched = measured_noise(&f, f.c0, f.c1, want);
  fsn_he_galois_key_free(&keys[0]);
  /* a pack of 2^k */
  for (unsigned l = 1; l <= k; l++) {
    seed[1] = (uint8_t)l;
    ck_assert_int_eq(
        fsn_he_galois_keygen(&f.ctx, &f.prg, &keys[l - 1], f.s_hat, seed, 0, fsn_he_pack_galois(&f.ctx, k, l)), FSN_OK);
  }
  uint64_t *ct[8];
  for (size_t t = 0; t < 8; t++) {
    ct[t] = malloc(2 * words * 8);
    fsn_test_fill_ring(f.m, n, ell); /* content at the multiples of 8, junk elsewhere */
    for (size_t j = 0; j < n; j += 8) want[j + t] = f.m[j];
    fixture_encrypt(&f, 10 + t);
    memcpy(ct[t], f.c0, words * 8), memcpy(ct[t] + words, f.c1, words * 8);
  }
  fsn_he_pack(&f.ctx, keys, k, ct, scratch);
  fsn_he_decrypt(&f.ctx, f.out, ct[0], ct[0] + words, f.s_hat, f.scratch);
  ck_assert_mem_eq(f.out, want, n * 8);
  const double packed = measured_noise(&f, ct[0], ct[0] + words, want);
  printf("# he key switching ell=%u: noise after one switch 2^%.2f, after a pack of %u 2^%.2f; max_noise 2^%.2f\n", ell,
         log2(switched), 1u << k, log2(packed), log2(f.ctx.par.max_noise));
  ck_assert(packed < ldexp(1, 48));
  for (size_t t = 0; t < 8; t++) free(ct[t]);
  for (unsigned l = 0; l < k; l++) fsn_he_galois_key_free(&keys[l]);
  free(want), free(t0), free(t1), free(scratch);
  fixture_free(&f);
}

START_TEST(galois_switch_and_pack) {
  for (size_t e = 0; e < 3; e++) check_galois(scheme_ells[e]); /* 37, 40, 20 */
}
END_TEST

/* w (N values mod t, centred in the product) times the ciphertext, in the NTT domain; back to coefficients. */
static void multiply_plain(scheme_fixture *f, uint64_t *c0, uint64_t *c1, const uint64_t *w) {
  const size_t n = f->n;
  uint64_t *w_hat = malloc(2 * n * 8);
  fsn_he_lift(&f->ctx, w_hat, w, NULL);
  fsn_he_ntt(&f->ctx, w_hat);
  fsn_he_ntt(&f->ctx, c0);
  fsn_he_ntt(&f->ctx, c1);
  for (int i = 0; i < 2; i++) {
    fsn_ntt_mul(c0 + i * n, c0 + i * n, w_hat + i * n, n, f->ctx.tab[i]);
    fsn_ntt_mul(c1 + i * n, c1 + i * n, w_hat + i * n, n, f->ctx.tab[i]);
  }
  fsn_he_intt(&f->ctx, c0);
  fsn_he_intt(&f->ctx, c1);
  free(w_hat);
}

START_TEST(plaintext_product_and_noise) {
  for (size_t e = 0; e < 3; e++) {
    const unsigned ell = scheme_ells[e];
    scheme_fixture f;
    fixture_init(&f, ell);
    const size_t n = f.n;
    uint64_t *w = malloc(n * 8), *want = calloc(n, 8);
    fsn_test_fill_ring(f.m, n, ell);
    fsn_test_fill_ring(w, n, ell); /* every weight at full width: the worst case of the analysis */
    negacyclic_mul_acc(want, f.m, w, n, ell);
    fixture_encrypt(&f, 0);
    double fresh = measured_noise(&f, f.c0, f.c1, f.m);
    ck_assert(fresh <= FSN_HE_ETA);
    multiply_plain(&f, f.c0, f.c1, w);
    fsn_he_decrypt(&f.ctx, f.out, f.c0, f.c1, f.s_hat, f.scratch);
    ck_assert_mem_eq(f.out, want, n * 8);
    double h, flood;
    ck_assert_int_eq(fsn_he_flooding(&f.ctx.par, (double)n, &h, &flood), FSN_OK);
    double noise = measured_noise(&f, f.c0, f.c1, want);
    /* re-randomised with a public key made as the protocol makes it */
    uint64_t *b = malloc(2 * n * 8), *a = malloc(2 * n * 8), *zero = calloc(n, 8);
    fsn_he_expand_a(&f.ctx, a, f.seed, UINT64_MAX);
    fsn_he_encrypt(&f.ctx, &f.prg, b, a, f.s_hat, zero, f.scratch);
    fsn_he_ntt(&f.ctx, b);
    fsn_he_ntt(&f.ctx, f.c0);
    fsn_he_ntt(&f.ctx, f.c1);
    fsn_he_rerandomise(&f.ctx, &f.prg, f.c0, f.c1, b, a, f.scratch);
    double rerand = measured_noise(&f, f.c0, f.c1, want);
    fsn_he_decrypt(&f.ctx, f.out, f.c0, f.c1, f.s_hat, f.scratch);
    ck_assert_mem_eq(f.out, want, n * 8);
    printf("# he noise ell=%u: fresh %.0f, after a full-width product 2^%.2f, re-randomised 2^%.2f; bound 2^%.2f, "
           "flooding 2^%.2f\n",
           ell, fresh, log2(noise), log2(rerand), log2(h), log2(flood));
    ck_assert(noise <= h && rerand <= h);
    ck_assert(noise > h / (1 << 20)); /* the bound is not vacuous: within 20 bits of what a full product reaches */
    free(w), free(want), free(b), free(a), free(zero);
    fixture_free(&f);
  }
}
END_TEST

START_TEST(switched_decryption) {
  for (size_t e = 0; e < 3; e++) {
    const unsigned ell = scheme_ells[e];
    scheme_fixture f;
    fixture_init(&f, ell);
    const size_t n = f.n;
    uint64_t *w = malloc(n * 8), *want = calloc(n, 8), *d0 = malloc(n * 8), *d1 = malloc(n * 8);
    uint32_t *pos = malloc(n * 4);
    for (size_t trial = 0; trial < 3; trial++) {
      fsn_test_fill_ring(f.m, n, ell);
      fsn_test_fill_ring(w, n, ell);
      memset(want, 0, n * 8);
      negacyclic_mul_acc(want, f.m, w, n, ell);
      fixture_encrypt(&f, trial);
      multiply_plain(&f, f.c0, f.c1, w);
      /* the largest flooding the analysis allows, at the extremes, on every coefficient */
      double h, flood;
      ck_assert_int_eq(fsn_he_flooding(&f.ctx.par, (double)n, &h, &flood), FSN_OK);
      const uint64_t fl = (uint64_t)flood;
      for (size_t j = 0; j < n; j++) {
        const bool neg = fsn_test_rand() & 1;
        for (int i = 0; i < 2; i++) {
          const uint64_t p = f.ctx.p[i], v = fl % p;
          f.c0[i * n + j] = neg ? (f.c0[i * n + j] + p - v) % p : (f.c0[i * n + j] + v) % p;
        }
        pos[j] = (uint32_t)j;
      }
      fsn_he_switch_drop(&f.ctx, d1, f.c1, NULL, n, f.ctx.par.drop_c1, f.scratch);
      fsn_he_switch_drop(&f.ctx, d0, f.c0, pos, n, f.ctx.par.drop_c0, f.scratch);
      for (size_t j = 0; j < n; j++) {
        ck_assert_uint_le(d1[j], fsn_he_dropped_max(&f.ctx, f.ctx.par.drop_c1));
        ck_assert_uint_le(d0[j], fsn_he_dropped_max(&f.ctx, f.ctx.par.drop_c0));
      }
      fsn_he_decrypt_switched(&f.ctx, f.out, d0, d1, pos, n, f.s_hat);
      ck_assert_mem_eq(f.out, want, n * 8);
    }
    free(w), free(want), free(d0), free(d1), free(pos);
    fixture_free(&f);
  }
}
END_TEST

/* ---- the two-party protocol ---- */

typedef struct he_case {
  fsn_conv2d_shape s;
  bool fc;
  unsigned ell, bits, pack;
  uint64_t *x0, *x1, *w, *bias, *y0, *y1;
  fsn_counters server_layer, client_layer; /* bytes during the layer only */
  fsn_status st_server, st_client;
} he_case;

static void he_party(fsn_channel **chs, size_t nch, he_case *c, fsn_role role) {
  fsn_2pc *p;
  fsn_he *he = NULL;
  const bool server = role == FSN_ROLE_SERVER;
  const fsn_2pc_options ot = {.ot = fsn_test_ot_pack()};
  fsn_status st = fsn_2pc_create(&p, chs, nch, role, c->ell, 12 < c->ell ? 12 : 0, &ot);
  if (st != FSN_OK) goto done;
  st = fsn_he_create_ex(&he, p, c->pack);
  if (st == FSN_OK) {
    fsn_counters before, after;
    fsn_2pc_counters(p, &before);
    uint64_t *y = server ? c->y0 : c->y1, *x = server ? c->x0 : c->x1, *w = server ? c->w : NULL;
    uint64_t *b = server ? c->bias : NULL;
    st = c->fc ? fsn_he_fc(he, p, y, x, w, b, c->s.batch, c->s.in_c, c->s.out_c)
               : fsn_he_conv2d(he, p, y, x, w, b, &c->s, c->bits ? c->bits : c->ell);
    fsn_2pc_counters(p, &after);
    fsn_counters *d = server ? &c->server_layer : &c->client_layer;
    d->bytes_sent = after.bytes_sent - before.bytes_sent, d->bytes_recv = after.bytes_recv - before.bytes_recv;
    d->rounds = after.rounds - before.rounds;
  }
  fsn_he_destroy(he);
  fsn_2pc_destroy(p);
done:
  if (st != FSN_OK) fprintf(stderr, "%s: %s\n", server ? "server" : "client", fsn_last_error());
  *(server ? &c->st_server : &c->st_client) = st;
}

static void he_server(fsn_channel **chs, size_t n, void *arg) { he_party(chs, n, arg, FSN_ROLE_SERVER); }
static void he_client(fsn_channel **chs, size_t n, void *arg) { he_party(chs, n, arg, FSN_ROLE_CLIENT); }

/* Random shares of a random x (bits: the client's share is x below 2^bits, the server's 0), random weights and
 * bias at full width; the reconstructed output must be fsn_conv2d's mod 2^ell and the bytes the cost model's. */
static size_t protocol_windowed; /* protocol runs whose input ciphertexts carried fewer than N coefficients */
static size_t protocol_packed;   /* protocol runs with packed outputs */
static unsigned protocol_pack;   /* the max_pack_k both parties ask for (fsn_he_create_ex) */

static void check_protocol_threads(fsn_conv2d_shape s, bool fc, unsigned ell, unsigned bits, size_t threads) {
  he_case c = {.s = s, .fc = fc, .ell = ell, .bits = bits, .pack = protocol_pack};
  const uint64_t mask = mask_of(ell);
  const size_t nx = s.batch * s.in_c * s.in_h * s.in_w, nw = s.out_c * s.in_c * s.k_h * s.k_w;
  const size_t ny = s.batch * s.out_c * fsn_conv2d_out_h(&s) * fsn_conv2d_out_w(&s);
  c.x0 = malloc(nx * 8), c.x1 = malloc(nx * 8), c.w = malloc(nw * 8), c.bias = malloc(s.out_c * 8);
  c.y0 = malloc(ny * 8), c.y1 = malloc(ny * 8);
  uint64_t *x = malloc(nx * 8), *want = malloc(ny * 8);
  void *scratch = aligned_alloc(64, (fsn_conv2d_scratch_bytes(&s) + 64) / 64 * 64);
  fsn_test_fill_ring(x, nx, bits ? bits : ell);
  fsn_test_fill_ring(c.x0, nx, ell);
  if (bits) memset(c.x0, 0, nx * 8);
  for (size_t i = 0; i < nx; i++) c.x1[i] = (x[i] - c.x0[i]) & mask;
  fsn_test_fill_ring(c.w, nw, ell);
  fsn_test_fill_ring(c.bias, s.out_c, ell);
  /* a generous read timeout: under the emulated AVX-512 intrinsics (tests/avx512emu) the server computes slowly */
  fsn_test_net_opts opts = {
      .channels = threads, .params = {.ell = ell, .scale = 12 < ell ? 12 : 0}, .chan = {.timeout_ms = 600000}};
  fsn_test_two_party_ex(&opts, he_server, &c, he_client, &c);
  ck_assert_int_eq(c.st_server, FSN_OK);
  ck_assert_int_eq(c.st_client, FSN_OK);
  fsn_conv2d(want, x, c.w, c.bias, &s, scratch);
  for (size_t i = 0; i < ny; i++)
    ck_assert_msg(((c.y0[i] + c.y1[i]) & mask) == (want[i] & mask),
                  "%s C%zu H%zu W%zu O%zu k%zu s%zu p%zu ell %u: y[%zu]", fc ? "fc" : "conv", s.in_c, s.in_h, s.in_w,
                  s.out_c, s.k_h, s.stride_h, s.pad_h, ell, i);
  fsn_he_params par;
  fsn_he_layer_cost cost;
  ck_assert_int_eq(fsn_he_params_make(&par, ell), FSN_OK);
  par.max_pack_k = protocol_pack;
  ck_assert_int_eq(fc ? fsn_he_fc_cost(&par, s.batch, s.in_c, s.out_c, &cost) : fsn_he_conv2d_cost(&par, &s, &cost),
                   FSN_OK);
  ck_assert_uint_eq(c.client_layer.bytes_sent, cost.client_bytes);
  ck_assert_uint_eq(c.server_layer.bytes_sent, cost.server_bytes);
  protocol_windowed += cost.in_coeffs<par.n, protocol_packed += cost.pack> 1;
  ck_assert_uint_eq(c.server_layer.bytes_recv, cost.client_bytes);
  ck_assert_uint_le(c.client_layer.rounds, 1); /* one round trip: the client sends, then receives */
  if (threads > 1) printf("# he measured on %zu channels:\n", threads);
  printf("# he measured %s C%zu H%zu W%zu O%zu k%zu s%zu batch %zu: client sent %llu bytes, server sent %llu bytes\n",
         fc ? "fc" : "conv", s.in_c, s.in_h, s.in_w, s.out_c, s.k_h, s.stride_h, s.batch,
         (unsigned long long)c.client_layer.bytes_sent, (unsigned long long)c.server_layer.bytes_sent);
  free(c.x0), free(c.x1), free(c.w), free(c.bias), free(c.y0), free(c.y1), free(x), free(want), free(scratch);
}

static void check_protocol(fsn_conv2d_shape s, bool fc, unsigned ell, unsigned bits) {
  check_protocol_threads(s, fc, ell, bits, 1);
}

START_TEST(conv_protocol_matches_conv2d) {
  /* {batch, C, H, W, O, kh, kw, sh, sw, ph, pw} */
  check_protocol((fsn_conv2d_shape){1, 2, 5, 5, 3, 3, 3, 1, 1, 1, 1}, false, 37, 0);    /* 3x3, pad 1 */
  check_protocol((fsn_conv2d_shape){2, 3, 7, 6, 2, 3, 3, 2, 2, 1, 1}, false, 37, 0);    /* stride 2, batch 2 */
  check_protocol((fsn_conv2d_shape){1, 1, 28, 28, 4, 5, 5, 1, 1, 0, 0}, false, 37, 13); /* 4-layer net, narrow */
  check_protocol((fsn_conv2d_shape){1, 3, 40, 40, 2, 7, 7, 2, 2, 3, 3}, false, 37, 0);  /* 7x7 s2, spatial tiles */
  check_protocol((fsn_conv2d_shape){1, 600, 3, 3, 2, 3, 3, 1, 1, 1, 1}, false, 40, 0);  /* channel blocks */
  check_protocol((fsn_conv2d_shape){1, 8, 9, 9, 5, 1, 1, 2, 2, 0, 0}, false, 20, 0);    /* 1x1 s2: subsampled */
  check_protocol((fsn_conv2d_shape){1, 16, 8, 8, 4, 1, 1, 1, 1, 0, 0}, false, 32, 0);   /* 1x1 */
  /* ResNet-50 shapes at full width: res4 3x3 and res5 3x3 */
  check_protocol((fsn_conv2d_shape){1, 256, 14, 14, 256, 3, 3, 1, 1, 1, 1}, false, 37, 0);
  check_protocol((fsn_conv2d_shape){1, 512, 7, 7, 512, 3, 3, 1, 1, 1, 1}, false, 37, 0);
  /* input windows: res2's 1x1 at full size (one 56 x 56 channel per block, 3136 of 4096 coefficients) */
  check_protocol((fsn_conv2d_shape){1, 2, 56, 56, 3, 1, 1, 1, 1, 0, 0}, false, 37, 0);
  ck_assert_uint_gt(protocol_windowed, 3);
  /* packed outputs: 1x1 at 7x7 (a last pack only partly filled), strided 1x1 with batch 2, narrow client input, and
   * ell = 40 (smaller packs: the switch noise must fit a smaller budget) */
  const size_t packed = protocol_packed;
  check_protocol((fsn_conv2d_shape){1, 256, 7, 7, 100, 1, 1, 1, 1, 0, 0}, false, 37, 0); /* not asked for */
  ck_assert_uint_eq(protocol_packed, packed);
  protocol_pack = 6;
  check_protocol((fsn_conv2d_shape){1, 256, 7, 7, 100, 1, 1, 1, 1, 0, 0}, false, 37, 0);
  check_protocol((fsn_conv2d_shape){2, 96, 14, 14, 40, 1, 1, 2, 2, 0, 0}, false, 37, 13);
  check_protocol((fsn_conv2d_shape){1, 128, 14, 14, 48, 1, 1, 1, 1, 0, 0}, false, 40, 0);
  check_protocol((fsn_conv2d_shape){1, 3, 9, 9, 4, 3, 3, 1, 1, 1, 1}, false, 37, 0); /* 3x3: never packed */
  protocol_pack = 0;
  ck_assert_uint_eq(protocol_packed - packed, 3);
}
END_TEST

START_TEST(fc_protocol_matches_matvec) {
  check_protocol(fsn_linear_fc_shape(3, 20, 7), true, 37, 0);
  check_protocol(fsn_linear_fc_shape(1, 256, 100), true, 37, 0);
  check_protocol(fsn_linear_fc_shape(1, 5000, 10), true, 37, 0); /* several input blocks */
  /* ResNet-50's, packs asked for: never packed (its inputs would fill C' <= 64 of N coefficients, encode.c) */
  const size_t packed = protocol_packed;
  protocol_pack = 6;
  check_protocol(fsn_linear_fc_shape(1, 2048, 1000), true, 37, 0);
  protocol_pack = 0;
  ck_assert_uint_eq(protocol_packed, packed);
}
END_TEST

/* ell = 64 (above FSN_HE_MAX_ELL): both parties refuse the keys locally, before any message. */
static void wide_party(fsn_channel *ch, void *arg, fsn_role role) {
  fsn_status *st = arg;
  fsn_2pc *p;
  fsn_he *he = NULL;
  const fsn_2pc_options ot = {.ot = fsn_test_ot_pack()};
  ck_assert_int_eq(fsn_2pc_create(&p, &ch, 1, role, 64, 12, &ot), FSN_OK);
  fsn_counters before, after;
  fsn_channel_counters(ch, &before);
  st[role] = fsn_he_create(&he, p);
  fsn_channel_counters(ch, &after);
  ck_assert_ptr_null(he);
  ck_assert_uint_eq(after.bytes_sent, before.bytes_sent);
  fsn_2pc_destroy(p);
}
static void wide_server(fsn_channel *ch, void *arg) { wide_party(ch, arg, FSN_ROLE_SERVER); }
static void wide_client(fsn_channel *ch, void *arg) { wide_party(ch, arg, FSN_ROLE_CLIENT); }

START_TEST(unsupported_ell_refused) {
  fsn_status st[2] = {FSN_OK, FSN_OK};
  fsn_test_two_party(wide_server, st, wide_client, st);
  ck_assert_int_eq(st[FSN_ROLE_SERVER], FSN_E_UNSUPPORTED);
  ck_assert_int_eq(st[FSN_ROLE_CLIENT], FSN_E_UNSUPPORTED);
}
END_TEST

/* Every distinct linear layer shape of ResNet-50 (torchvision v1.5: stride on the 3x3), channels divided by 16. */
START_TEST(resnet50_shapes_reduced) {
  /* {in_c, hw, out_c, k, stride} at full width */
  static const size_t layers[][5] = {
      {3, 224, 64, 7, 2},     {64, 56, 64, 1, 1},   {64, 56, 64, 3, 1},    {64, 56, 256, 1, 1},   {256, 56, 64, 1, 1},
      {256, 56, 128, 1, 1},   {128, 56, 128, 3, 2}, {128, 28, 512, 1, 1},  {256, 56, 512, 1, 2},  {512, 28, 128, 1, 1},
      {128, 28, 128, 3, 1},   {512, 28, 256, 1, 1}, {256, 28, 256, 3, 2},  {256, 14, 1024, 1, 1}, {512, 28, 1024, 1, 2},
      {1024, 14, 256, 1, 1},  {256, 14, 256, 3, 1}, {1024, 14, 512, 1, 1}, {512, 14, 512, 3, 2},  {512, 7, 2048, 1, 1},
      {1024, 14, 2048, 1, 2}, {2048, 7, 512, 1, 1}, {512, 7, 512, 3, 1},
  };
  for (size_t i = 0; i < sizeof layers / sizeof layers[0]; i++) {
    const size_t *L = layers[i], c = L[0] < 16 ? L[0] : L[0] / 16, k = L[3];
    check_protocol((fsn_conv2d_shape){1, c, L[1], L[1], L[2] / 16, k, k, L[4], L[4], k / 2, k / 2}, false, 37, 0);
  }
  check_protocol(fsn_linear_fc_shape(1, 2048 / 16, 1000 / 16), true, 37, 0);
}
END_TEST

START_TEST(protocol_on_several_threads) {
  /* the work split over 2 and 3 channels: same result, same bytes in total */
  check_protocol_threads((fsn_conv2d_shape){2, 20, 9, 9, 7, 3, 3, 2, 2, 1, 1}, false, 37, 0, 2);
  check_protocol_threads((fsn_conv2d_shape){1, 64, 14, 14, 33, 3, 3, 1, 1, 1, 1}, false, 37, 0, 3);
  check_protocol_threads(fsn_linear_fc_shape(3, 300, 50), true, 37, 0, 2);
  protocol_pack = 6;
  check_protocol_threads((fsn_conv2d_shape){2, 64, 7, 7, 70, 1, 1, 1, 1, 0, 0}, false, 37, 0, 3); /* packed */
  protocol_pack = 0;
}
END_TEST

/* Peers that break the protocol, each scripted by hand from the wire layout of protocol/he/layer.c. */
typedef enum misbehaviour {
  BAD_RESIDUES,   /* client: input ciphertexts with residues >= p */
  BAD_COUNT,      /* client: a header announcing one ciphertext too many */
  BAD_KEY_PARAMS, /* client: a key header with another p1 */
  BAD_KEY_SWITCH, /* client: a key switching key frame with residues >= p */
  BAD_SHAPE,      /* honest parties that disagree on the layer (server: one more output channel) */
  BAD_OUTPUTS,    /* server: returned values above the dropped range */
} misbehaviour;

typedef struct bad_case {
  misbehaviour what;
  fsn_status st_server, st_client, refusal;
} bad_case;

static const fsn_conv2d_shape bad_shape = {1, 1, 5, 5, 1, 3, 3, 1, 1, 0, 0}; /* one input and one output ct */

static void put32le(uint8_t *p, uint32_t v) {
  for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static void put64le(uint8_t *p, uint64_t v) {
  for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}

static fsn_status read_status(fsn_channel *ch, fsn_status *code) {
  uint8_t b[8];
  fsn_status st = fsn_channel_recv(ch, b, 8);
  *code = (fsn_status)(int32_t)(b[4] | b[5] << 8 | b[6] << 16 | (uint32_t)b[7] << 24);
  return st;
}

static void bad_server(fsn_channel *ch, void *arg) {
  bad_case *c = arg;
  fsn_2pc *p;
  fsn_he *he = NULL;
  const fsn_2pc_options ot = {.ot = fsn_test_ot_pack()};
  ck_assert_int_eq(fsn_2pc_create(&p, &ch, 1, FSN_ROLE_SERVER, 37, 12, &ot), FSN_OK);
  c->st_server = fsn_he_create_ex(&he, p, c->what == BAD_KEY_SWITCH ? 6 : 0);
  uint64_t x[25] = {0}, w[18] = {1, 2, 3}, y[18];
  fsn_conv2d_shape s = bad_shape;
  if (c->what == BAD_SHAPE) s.out_c = 2;
  if (c->st_server == FSN_OK && c->what != BAD_OUTPUTS) c->st_server = fsn_he_conv2d(he, p, y, x, w, NULL, &s, 37);
  if (c->st_server == FSN_OK && c->what == BAD_OUTPUTS) {
    fsn_he_ctx ctx;
    fsn_he_layer_cost cost;
    ck_assert_int_eq(fsn_he_ctx_init(&ctx, 37), FSN_OK);
    ck_assert_int_eq(fsn_he_conv2d_cost(&ctx.par, &s, &cost), FSN_OK);
    uint8_t *buf = malloc(cost.client_bytes > cost.server_bytes ? cost.client_bytes : cost.server_bytes);
    ck_assert_int_eq(fsn_channel_recv(ch, buf, 72), FSN_OK);
    ck_assert_int_eq(fsn_channel_recv(ch, buf, cost.client_bytes - 72), FSN_OK); /* the one input ciphertext */
    uint8_t ok[8] = {0x46, 0x48, 0x45, 0x53};                                    /* "FHES", status 0 */
    ck_assert_int_eq(fsn_channel_send(ch, ok, 8), FSN_OK);
    memset(buf, 0xff, cost.server_bytes - 8);
    ck_assert_int_eq(fsn_channel_send(ch, buf, cost.server_bytes - 8), FSN_OK);
    ck_assert_int_eq(fsn_channel_flush(ch), FSN_OK);
    free(buf);
    fsn_he_ctx_free(&ctx);
  }
  fsn_he_destroy(he);
  fsn_2pc_destroy(p);
}

static void bad_client(fsn_channel *ch, void *arg) {
  bad_case *c = arg;
  fsn_2pc *p;
  fsn_he *he = NULL;
  const fsn_2pc_options ot = {.ot = fsn_test_ot_pack()};
  ck_assert_int_eq(fsn_2pc_create(&p, &ch, 1, FSN_ROLE_CLIENT, 37, 12, &ot), FSN_OK);
  fsn_he_ctx ctx;
  ck_assert_int_eq(fsn_he_ctx_init(&ctx, 37), FSN_OK);
  const fsn_he_params *par = &ctx.par;
  uint8_t h[80] = {0};
  if (c->what == BAD_KEY_PARAMS || c->what == BAD_KEY_SWITCH) {
    /* BAD_KEY_PARAMS: the key header with p2 in place of p1, then a zero key; BAD_KEY_SWITCH: the right header, a
     * zero pk and six key switching keys of three frames each, the last frame's residues 2^50 - 1 >= p */
    put32le(h, 0x4b454846), put32le(h + 4, 2), put32le(h + 8, par->n), put32le(h + 12, par->ell);
    put64le(h + 16, c->what == BAD_KEY_PARAMS ? par->p2 : par->p1), put64le(h + 24, par->p2);
    put32le(h + 32, par->drop_c0), put32le(h + 36, par->drop_c1), put32le(h + 72, c->what == BAD_KEY_SWITCH ? 6 : 0);
    uint8_t *zero = calloc(fsn_he_rns_bytes(&ctx), 1), *ff = malloc(fsn_he_rns_bytes(&ctx));
    uint64_t *big = malloc(2 * par->n * 8);
    for (size_t i = 0; i < 2 * par->n; i++) big[i] = (1ull << 50) - 1;
    fsn_he_rns_pack(&ctx, ff, big);
    ck_assert_int_eq(fsn_channel_send(ch, h, 80), FSN_OK);
    ck_assert_int_eq(fsn_channel_send(ch, zero, fsn_he_rns_bytes(&ctx)), FSN_OK);
    for (int f = 0; c->what == BAD_KEY_SWITCH && f < 18; f++)
      ck_assert_int_eq(fsn_channel_send(ch, f == 17 ? ff : zero, fsn_he_rns_bytes(&ctx)), FSN_OK);
    ck_assert_int_eq(fsn_channel_flush(ch), FSN_OK);
    c->st_client = read_status(ch, &c->refusal);
    free(zero), free(ff), free(big);
  } else {
    c->st_client = fsn_he_create(&he, p);
    ck_assert_int_eq(c->st_client, FSN_OK);
    uint64_t x[25] = {1, 2, 3}, y[9];
    if (c->what == BAD_SHAPE || c->what == BAD_OUTPUTS) {
      c->st_client = fsn_he_conv2d(he, p, y, x, NULL, NULL, &bad_shape, 37);
    } else {
      fsn_he_layer_cost cost;
      ck_assert_int_eq(fsn_he_conv2d_cost(par, &bad_shape, &cost), FSN_OK);
      put32le(h, 0x4c454846), put32le(h + 4, 2), put32le(h + 8, 0), put32le(h + 12, par->n);
      put64le(h + 16, cost.in_cts + (c->what == BAD_COUNT)), put64le(h + 24, cost.out_cts);
      put64le(h + 32, cost.out_coeffs);
      ck_assert_int_eq(fsn_channel_send(ch, h, 72), FSN_OK);
      if (c->what == BAD_RESIDUES) { /* its window of residues, every one 2^50 - 1 >= p */
        const size_t frame = cost.client_bytes - 72;
        uint64_t *big = malloc(2 * par->n * 8), *scratch = malloc(par->n * 8);
        uint8_t *ff = malloc(frame);
        for (size_t i = 0; i < 2 * par->n; i++) big[i] = (1ull << 50) - 1;
        ck_assert_uint_eq(fsn_he_rns_window_bytes(&ctx, cost.in_coeffs), frame);
        fsn_he_rns_pack_window(&ctx, ff, big, 0, cost.in_coeffs, scratch);
        ck_assert_int_eq(fsn_channel_send(ch, ff, frame), FSN_OK);
        free(big), free(scratch), free(ff);
      }
      c->st_client = read_status(ch, &c->refusal);
    }
  }
  fsn_he_destroy(he);
  fsn_he_ctx_free(&ctx);
  fsn_2pc_destroy(p);
}

START_TEST(malformed_peers_fail_cleanly) {
  bad_case c = {.what = BAD_RESIDUES};
  fsn_test_two_party(bad_server, &c, bad_client, &c);
  ck_assert_int_eq(c.st_server, FSN_E_PROTOCOL);
  ck_assert_int_eq(c.st_client, FSN_OK);
  ck_assert_int_eq(c.refusal, FSN_E_PROTOCOL);

  c = (bad_case){.what = BAD_COUNT};
  fsn_test_two_party(bad_server, &c, bad_client, &c);
  ck_assert_int_eq(c.st_server, FSN_E_MISMATCH);
  ck_assert_int_eq(c.refusal, FSN_E_MISMATCH);

  c = (bad_case){.what = BAD_KEY_PARAMS};
  fsn_test_two_party(bad_server, &c, bad_client, &c);
  ck_assert_int_eq(c.st_server, FSN_E_MISMATCH);
  ck_assert_int_eq(c.refusal, FSN_E_MISMATCH);

  c = (bad_case){.what = BAD_KEY_SWITCH};
  fsn_test_two_party(bad_server, &c, bad_client, &c);
  ck_assert_int_eq(c.st_server, FSN_E_PROTOCOL);
  ck_assert_int_eq(c.refusal, FSN_E_PROTOCOL);

  c = (bad_case){.what = BAD_SHAPE};
  fsn_test_two_party(bad_server, &c, bad_client, &c);
  ck_assert_int_eq(c.st_server, FSN_E_MISMATCH);
  ck_assert_int_eq(c.st_client, FSN_E_MISMATCH); /* the honest client fails with the server's refusal */

  c = (bad_case){.what = BAD_OUTPUTS};
  fsn_test_two_party(bad_server, &c, bad_client, &c);
  ck_assert_int_eq(c.st_server, FSN_OK);
  ck_assert_int_eq(c.st_client, FSN_E_PROTOCOL);
}
END_TEST

/* Exact bytes of ResNet-50's linear layer shapes (batch 1, from the cost model that the protocol tests hold to the
 * channel counters), beside the vector-COT formula of include/fusion/linear.h. */
START_TEST(resnet50_layer_bytes) {
  static const struct {
    const char *name;
    fsn_conv2d_shape s;
  } layers[] = {
      {"conv1 7x7/2 3->64 @224", {1, 3, 224, 224, 64, 7, 7, 2, 2, 3, 3}},
      {"res2 1x1 64->64 @56", {1, 64, 56, 56, 64, 1, 1, 1, 1, 0, 0}},
      {"res2 3x3 64->64 @56", {1, 64, 56, 56, 64, 3, 3, 1, 1, 1, 1}},
      {"res2 1x1 64->256 @56", {1, 64, 56, 56, 256, 1, 1, 1, 1, 0, 0}},
      {"res3 3x3/2 128->128 @56", {1, 128, 56, 56, 128, 3, 3, 2, 2, 1, 1}},
      {"res4 3x3 256->256 @14", {1, 256, 14, 14, 256, 3, 3, 1, 1, 1, 1}},
      {"res5 1x1/2 1024->2048 @14", {1, 1024, 14, 14, 2048, 1, 1, 2, 2, 0, 0}},
      {"res5 3x3 512->512 @7", {1, 512, 7, 7, 512, 3, 3, 1, 1, 1, 1}},
      {"fc 2048->1000", {1, 2048, 1, 1, 1000, 1, 1, 1, 1, 0, 0}},
  };
  fsn_he_params par;
  ck_assert_int_eq(fsn_he_params_make(&par, 37), FSN_OK);
  for (size_t i = 0; i < sizeof layers / sizeof layers[0]; i++) {
    const fsn_conv2d_shape *s = &layers[i].s;
    fsn_he_layer_cost c;
    const bool fc = s->in_h == 1 && s->k_h == 1 && i + 1 == sizeof layers / sizeof layers[0];
    ck_assert_int_eq(fc ? fsn_he_fc_cost(&par, 1, s->in_c, s->out_c, &c) : fsn_he_conv2d_cost(&par, s, &c), FSN_OK);
    /* vcot: per client element ell random OTs (about 16 bytes each with IKNP) plus m_j ell (ell + 1) / 2 bits */
    double touches = 0, oh = (double)fsn_conv2d_out_h(s), ow = (double)fsn_conv2d_out_w(s);
    touches = (double)s->out_c * s->in_c * s->k_h * s->k_w * oh * ow;
    const double vcot = touches * 37 * 38 / 2 / 8 + (double)s->in_c * s->in_h * s->in_w * 37 * 16;
    printf("# he bytes %-26s in %5llu cts, out %6llu cts (%5.1f%% of coefficients used): client %8.2f MiB, "
           "server %8.2f MiB; vcot ~%9.1f MiB\n",
           layers[i].name, (unsigned long long)c.in_cts, (unsigned long long)c.out_cts,
           100.0 * (double)c.out_coeffs / ((double)c.out_cts * par.n), c.client_bytes / 1048576.0,
           c.server_bytes / 1048576.0, vcot / 1048576.0);
    ck_assert(c.client_bytes + c.server_bytes < vcot);
  }
  /* The whole network: every linear layer of one ResNet-50 inference, {in_c, hw, out_c, k, stride, count}. */
  static const size_t net[][6] = {
      {3, 224, 64, 7, 2, 1},                                                                               /* conv1 */
      {64, 56, 64, 1, 1, 1},    {64, 56, 64, 3, 1, 3},   {64, 56, 256, 1, 1, 4},   {256, 56, 64, 1, 1, 2}, /* res2 */
      {256, 56, 128, 1, 1, 1},  {128, 56, 128, 3, 2, 1}, {128, 28, 512, 1, 1, 4},  {256, 56, 512, 1, 2, 1},
      {512, 28, 128, 1, 1, 3},  {128, 28, 128, 3, 1, 3}, /* res3 */
      {512, 28, 256, 1, 1, 1},  {256, 28, 256, 3, 2, 1}, {256, 14, 1024, 1, 1, 6}, {512, 28, 1024, 1, 2, 1},
      {1024, 14, 256, 1, 1, 5}, {256, 14, 256, 3, 1, 5}, /* res4 */
      {1024, 14, 512, 1, 1, 1}, {512, 14, 512, 3, 2, 1}, {512, 7, 2048, 1, 1, 3},  {1024, 14, 2048, 1, 2, 1},
      {2048, 7, 512, 1, 1, 2},  {512, 7, 512, 3, 1, 2}, /* res5 */
  };
  /* Per stage (conv1, res2 .. res5, fc): the rows of net[] each stage ends with. */
  static const char *stage_name[] = {"conv1", "res2", "res3", "res4", "res5", "fc"};
  static const size_t stage_end[] = {1, 5, 11, 17, 23};
  for (unsigned pack = 0; pack <= 6; pack += 6) { /* he, then he-packed */
    par.max_pack_k = pack;
    fsn_he_layer_cost stage[6] = {0};
    double client = 0, server = 0;
    size_t convs = 0;
    for (size_t i = 0, k = 0; i < sizeof net / sizeof net[0]; i++) {
      const size_t *L = net[i];
      fsn_conv2d_shape s = {1, L[0], L[1], L[1], L[2], L[3], L[3], L[4], L[4], L[3] / 2, L[3] / 2};
      fsn_he_layer_cost c;
      ck_assert_int_eq(fsn_he_conv2d_cost(&par, &s, &c), FSN_OK);
      client += (double)L[5] * c.client_bytes, server += (double)L[5] * c.server_bytes, convs += L[5];
      if (i == stage_end[k]) k++;
      stage[k].in_cts += L[5] * c.in_cts, stage[k].out_cts += L[5] * c.out_cts;
      stage[k].out_coeffs += L[5] * c.out_coeffs;
      stage[k].client_bytes += L[5] * c.client_bytes, stage[k].server_bytes += L[5] * c.server_bytes;
    }
    fsn_he_layer_cost c;
    ck_assert_int_eq(fsn_he_fc_cost(&par, 1, 2048, 1000, &c), FSN_OK);
    client += c.client_bytes, server += c.server_bytes;
    stage[5] = c;
    for (size_t k = 0; k < 6; k++)
      printf(
          "# he bytes ResNet-50 %s %-5s in %5llu cts, out %5llu cts (%5.1f%% of coefficients used): client %6.1f MiB, "
          "server %6.1f MiB\n",
          pack ? "packed" : "      ", stage_name[k], (unsigned long long)stage[k].in_cts,
          (unsigned long long)stage[k].out_cts,
          100.0 * (double)stage[k].out_coeffs / ((double)stage[k].out_cts * par.n), stage[k].client_bytes / 1048576.0,
          stage[k].server_bytes / 1048576.0);
    ck_assert_uint_eq(convs, 53);
    printf("# he bytes ResNet-50%s, all 53 convs + fc, batch 1: client %.1f MiB, server %.1f MiB, both %.1f MiB\n",
           pack ? " packed" : "", client / 1048576, server / 1048576, (client + server) / 1048576);
    ck_assert((client + server) / 1048576 < (pack ? 310 : 470));
  }
}
END_TEST

int main(void) {
  Suite *s = suite_create("he");
  TCase *enc = tcase_create("encoding");
  tcase_set_timeout(enc, 300);
  tcase_add_test(enc, conv_encoding_matches_conv2d);
  tcase_add_test(enc, conv_encoding_rejects_bad_shapes);
  tcase_add_test(enc, fc_encoding_matches_matvec);
  tcase_add_test(enc, filter_transforms_match_full_ntt);
  tcase_add_test(enc, packed_filter_transforms_match_full_ntt);
  suite_add_tcase(s, enc);
  TCase *sch = tcase_create("scheme");
  tcase_set_timeout(sch, 300);
  tcase_add_test(sch, params_are_consistent);
  tcase_add_test(sch, encrypt_decrypt_round_trip);
  tcase_add_test(sch, plaintext_product_and_noise);
  tcase_add_test(sch, switched_decryption);
  tcase_add_test(sch, galois_switch_and_pack);
  suite_add_tcase(s, sch);
  TCase *two = tcase_create("protocol");
  tcase_set_timeout(two, 600);
  tcase_add_test(two, conv_protocol_matches_conv2d);
  tcase_add_test(two, fc_protocol_matches_matvec);
  tcase_add_test(two, protocol_on_several_threads);
  tcase_add_test(two, resnet50_shapes_reduced);
  tcase_add_test(two, unsupported_ell_refused);
  tcase_add_test(two, malformed_peers_fail_cleanly);
  tcase_add_test(two, resnet50_layer_bytes);
  suite_add_tcase(s, two);
  return fsn_test_main(s);
}
