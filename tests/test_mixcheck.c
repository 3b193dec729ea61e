/* Mix-and-check: the escape formula, the accuracy test, the parameter search, batch plans, both checks, and a
 * Monte Carlo through the real plan and check code against the formula. */
#include <fusion/mc.h>
#include <fusion/nn.h>
#include <math.h>
#include <string.h>

#include "tests/common/fsn_test.h"

static void random_seed(uint8_t seed[32]) { fsn_test_fill(seed, 32); }

START_TEST(escape_formula_known_values) {
  /* n = 4, R = 2, B = 4: j = 1 gives 4 / C(12, 2) = 4/66, j = 2 gives C(4,2) / C(12,4) = 6/495. */
  ck_assert_double_eq_tol(fsn_mc_log2_escape_j(4, 2, 4, 1), log2(4.0 / 66), 1e-9);
  ck_assert_double_eq_tol(fsn_mc_log2_escape_j(4, 2, 4, 2), log2(6.0 / 495), 1e-9);
  size_t j;
  ck_assert_double_eq_tol(fsn_mc_log2_escape(4, 2, 4, &j), log2(4.0 / 66), 1e-9);
  ck_assert_uint_eq(j, 1);
  /* With no public samples, altering everything escapes surely. */
  ck_assert_double_eq_tol(fsn_mc_log2_escape(2, 3, 0, &j), 0, 1e-9);
  ck_assert_uint_eq(j, 2);
}
END_TEST

START_TEST(accuracy_threshold_is_the_delta_quantile) {
  const size_t Bs[] = {10, 100, 1000};
  for (size_t i = 0; i < 3; i++) {
    size_t t = fsn_mc_accuracy_threshold(Bs[i], 0.9, 1e-3);
    ck_assert(fsn_mc_fail_probability(Bs[i], 0.9, t) <= 1e-3);
    ck_assert(t == Bs[i] || fsn_mc_fail_probability(Bs[i], 0.9, t + 1) > 1e-3);
  }
  /* A much worse model fails almost surely at B = 1000; a perfect one never. */
  size_t t = fsn_mc_accuracy_threshold(1000, 0.9, 1e-3);
  ck_assert(fsn_mc_fail_probability(1000, 0.75, t) > 0.999999);
  ck_assert_double_eq_tol(fsn_mc_fail_probability(1000, 1.0, t), 0, 1e-12);
}
END_TEST

START_TEST(search_finds_minimal_batches) {
  const size_t ns[] = {1, 16, 100};
  for (size_t i = 0; i < 3; i++) {
    fsn_mc_goal g = {.n = ns[i], .kappa = 40, .committed = true, .public_size = 10000, .max_R = 24};
    fsn_mc_choice choices[24], best;
    ck_assert_int_eq(fsn_mc_search(&g, choices, &best), FSN_OK);
    for (unsigned r = 0; r < g.max_R; r++) {
      if (!choices[r].N) continue;
      ck_assert(choices[r].log2_escape <= -40);
      ck_assert(choices[r].B == 0 || fsn_mc_log2_escape(g.n, choices[r].R, choices[r].B - 1, NULL) > -40);
      ck_assert_uint_le(best.N, choices[r].N);
    }
  }
  /* Accuracy mode: the chosen B also gives the test its power. */
  fsn_mc_goal g = {.n = 16, .kappa = 40, .alpha = 0.9, .delta = 1e-3, .drop = 0.05, .public_size = 10000, .max_R = 8};
  fsn_mc_choice choices[8], best;
  ck_assert_int_eq(fsn_mc_search(&g, choices, &best), FSN_OK);
  ck_assert(fsn_mc_fail_probability(best.B, 0.85, best.threshold) >= 1 - 1e-3);
  ck_assert(fsn_mc_fail_probability(best.B, 0.9, best.threshold) <= 1e-3);
  g.n = 0;
  ck_assert_int_eq(fsn_mc_search(&g, choices, &best), FSN_E_INVALID);
}
END_TEST

START_TEST(plans_are_permutations) {
  for (int trial = 0; trial < 50; trial++) {
    fsn_mc_plan plan;
    size_t n = 1 + fsn_test_rand() % 7, B = fsn_test_rand() % 9;
    unsigned R = 1 + (unsigned)(fsn_test_rand() % 5);
    ck_assert_int_eq(fsn_mc_plan_create(&plan, n, R, B, B + 5), FSN_OK);
    ck_assert_uint_eq(plan.N, n * R + B);
    size_t seen_q[8] = {0}, seen_public = 0;
    uint8_t slot_seen[64] = {0}, public_seen[16] = {0};
    for (size_t p = 0; p < plan.N; p++) {
      ck_assert(!slot_seen[plan.slot_of[p]]++);
      size_t index;
      if (fsn_mc_plan_source(&plan, p, &index) == FSN_MC_QUERY) {
        ck_assert_uint_lt(index, n);
        seen_q[index]++;
      } else {
        ck_assert_uint_lt(index, B + 5);
        ck_assert(!public_seen[index]++);
        seen_public++;
      }
    }
    for (size_t q = 0; q < n; q++) ck_assert_uint_eq(seen_q[q], R);
    ck_assert_uint_eq(seen_public, B);
    fsn_mc_plan_destroy(&plan);
  }
  fsn_mc_plan plan;
  ck_assert_int_eq(fsn_mc_plan_create(&plan, 2, 2, 11, 10), FSN_E_INVALID);
  ck_assert_int_eq(fsn_mc_plan_create(&plan, 0, 2, 1, 10), FSN_E_INVALID);
}
END_TEST

START_TEST(plans_are_uniform) {
  /* Where slot 0 lands over many plans of N = 6: each position with probability 1/6 (5 sigma bounds). */
  enum { TRIALS = 30000, N = 6 };
  size_t count[N] = {0};
  uint8_t seed[32];
  for (int t = 0; t < TRIALS; t++) {
    random_seed(seed);
    fsn_mc_plan plan;
    ck_assert_int_eq(fsn_mc_plan_create_seeded(&plan, 2, 2, 2, 2, seed), FSN_OK);
    for (size_t p = 0; p < N; p++) count[p] += plan.slot_of[p] == 0;
    fsn_mc_plan_destroy(&plan);
  }
  double mean = TRIALS / (double)N, sd = sqrt(TRIALS * (1.0 / N) * (1 - 1.0 / N));
  for (size_t p = 0; p < N; p++)
    ck_assert_msg(fabs((double)count[p] - mean) < 5 * sd, "position %zu: %zu", p, count[p]);
}
END_TEST

/* Honest logits for a plan: query q -> one-hot at q % dim, public i -> one-hot at labels[i]. */
static void honest(const fsn_mc_plan *plan, uint64_t *logits, size_t dim, const uint8_t *labels) {
  memset(logits, 0, plan->N * dim * sizeof *logits);
  for (size_t p = 0; p < plan->N; p++) {
    size_t index;
    fsn_mc_source src = fsn_mc_plan_source(plan, p, &index);
    logits[p * dim + (src == FSN_MC_QUERY ? index % dim : labels[index])] = 5;
  }
}

START_TEST(checks_catch_what_they_should) {
  enum { DIM = 10, PUB = 50 };
  uint8_t labels[PUB];
  for (int i = 0; i < PUB; i++) labels[i] = (uint8_t)(i * 7 % DIM);
  fsn_mc_plan plan;
  ck_assert_int_eq(fsn_mc_plan_create(&plan, 5, 3, 20, PUB), FSN_OK);
  uint64_t logits[35 * DIM];
  fsn_mc_expect committed = {.labels = labels, .committed = true};
  fsn_mc_report rep;

  honest(&plan, logits, DIM, labels);
  ck_assert_int_eq(fsn_mc_check(&plan, logits, DIM, 37, &committed, &rep), FSN_OK);
  ck_assert(rep.replicas_ok && rep.public_ok);
  ck_assert_uint_eq(fsn_mc_query_logits(&plan, logits, DIM, 3)[3], 5);

  /* One replica off by one in a non-label logit: the label is unchanged, the replica check still fails. */
  for (size_t p = 0; p < plan.N; p++) {
    size_t index;
    if (fsn_mc_plan_source(&plan, p, &index) == FSN_MC_QUERY && index == 2) {
      logits[p * DIM + 9] += 1;
      break;
    }
  }
  ck_assert_int_eq(fsn_mc_check(&plan, logits, DIM, 37, &committed, &rep), FSN_E_CHEATING);
  ck_assert(!rep.replicas_ok && rep.public_ok);
  ck_assert_uint_eq(rep.groups_inconsistent, 1);
  ck_assert_ptr_nonnull(strstr(fsn_last_error(), "replica"));

  /* One public sample relabelled: the committed check fails. */
  honest(&plan, logits, DIM, labels);
  for (size_t p = 0; p < plan.N; p++) {
    size_t index;
    if (fsn_mc_plan_source(&plan, p, &index) == FSN_MC_PUBLIC) {
      logits[p * DIM + (labels[index] + 1) % DIM] = 9;
      break;
    }
  }
  ck_assert_int_eq(fsn_mc_check(&plan, logits, DIM, 37, &committed, &rep), FSN_E_CHEATING);
  ck_assert(rep.replicas_ok && !rep.public_ok);
  ck_assert_uint_eq(rep.public_mismatches, 1);

  /* Accuracy mode: 19 of 20 correct passes a threshold of 19, fails one of 20. */
  fsn_mc_expect accuracy = {.labels = labels, .committed = false, .threshold = 19};
  ck_assert_int_eq(fsn_mc_check(&plan, logits, DIM, 37, &accuracy, &rep), FSN_OK);
  ck_assert_uint_eq(rep.public_correct, 19);
  accuracy.threshold = 20;
  ck_assert_int_eq(fsn_mc_check(&plan, logits, DIM, 37, &accuracy, &rep), FSN_E_CHEATING);
  fsn_mc_plan_destroy(&plan);
}
END_TEST

/* Approximate mode: replicas may differ by a little, never in their label or by more than the tolerance. */
START_TEST(tolerance_mode) {
  enum { DIM = 4, PUB = 8 };
  uint8_t labels[PUB] = {0, 1, 2, 3, 0, 1, 2, 3};
  fsn_mc_plan plan;
  ck_assert_int_eq(fsn_mc_plan_create(&plan, 1, 3, 2, PUB), FSN_OK);
  uint64_t logits[5 * DIM];
  fsn_mc_expect e = {.labels = labels, .committed = true, .tolerance = 4};
  fsn_mc_report rep;
  honest(&plan, logits, DIM, labels);
  size_t rep0 = SIZE_MAX, rep1 = SIZE_MAX;
  for (size_t p = 0; p < plan.N; p++) {
    size_t index;
    if (fsn_mc_plan_source(&plan, p, &index) == FSN_MC_QUERY) {
      if (rep0 == SIZE_MAX)
        rep0 = p;
      else if (rep1 == SIZE_MAX)
        rep1 = p;
    }
  }
  logits[rep1 * DIM + 1] = fsn_ring_mask(37) - 3; /* -4 where the first replica has 0: within tolerance */
  ck_assert_int_eq(fsn_mc_check(&plan, logits, DIM, 37, &e, &rep), FSN_OK);
  logits[rep1 * DIM + 1] = fsn_ring_mask(37) - 4; /* -5: outside */
  ck_assert_int_eq(fsn_mc_check(&plan, logits, DIM, 37, &e, &rep), FSN_E_CHEATING);
  logits[rep1 * DIM + 1] = 0;
  logits[rep0 * DIM + 1] = 5; /* query 0's label is 0 (logit 5): a tie at index 1 keeps label 0 ... */
  ck_assert_int_eq(fsn_mc_check(&plan, logits, DIM, 37, &e, &rep), FSN_E_CHEATING); /* ... but 5 - 0 > 4 */
  e.tolerance = 8;
  logits[rep0 * DIM + 1] = 6; /* within 8 of 0, but now the first replica's label is 1: caught */
  ck_assert_int_eq(fsn_mc_check(&plan, logits, DIM, 37, &e, &rep), FSN_E_CHEATING);
  ck_assert(!rep.replicas_ok);
  fsn_mc_plan_destroy(&plan);
}
END_TEST

START_TEST(argmax_is_signed) {
  const uint64_t mask = fsn_ring_mask(37);
  uint64_t v[4] = {mask, (1ull << 36), 3, 3}; /* -1, -2^36, 3, 3 */
  ck_assert_uint_eq(fsn_nn_argmax_fixed(v, 4, 37), 2);
  uint64_t w[3] = {(uint64_t)-5, (uint64_t)-2, (uint64_t)-9};
  ck_assert_uint_eq(fsn_nn_argmax_fixed(w, 3, 64), 1);
}
END_TEST

/* The evidence: >= 10^5 trials per point through the real plan and check code, within a 5-sigma Wilson interval
 * of the formula; positions that are not whole replica groups never escape. */
START_TEST(monte_carlo_matches_formula) {
  static const struct {
    size_t n;
    unsigned R;
    size_t B, t;
  } grid[] = {{2, 2, 2, 2}, {4, 2, 4, 2}, {4, 2, 4, 4}, {3, 3, 3, 3}, {2, 3, 0, 3},
              {5, 1, 5, 2}, {4, 2, 4, 3}, {3, 3, 3, 4}, {2, 3, 0, 6}};
  const size_t trials = 100000;
  uint8_t seed[32];
  random_seed(seed);
  for (size_t g = 0; g < sizeof grid / sizeof grid[0]; g++) {
    size_t escapes;
    ck_assert_int_eq(fsn_mc_simulate(grid[g].n, grid[g].R, grid[g].B, grid[g].t, trials, seed, &escapes), FSN_OK);
    double p =
        grid[g].t % grid[g].R ? 0 : exp2(fsn_mc_log2_escape_j(grid[g].n, grid[g].R, grid[g].B, grid[g].t / grid[g].R));
    double z = 5, k = (double)escapes, n = (double)trials, ph = k / n, z2n = z * z / n;
    double mid = (ph + z2n / 2) / (1 + z2n), half = z * sqrt(ph * (1 - ph) / n + z2n / (4 * n)) / (1 + z2n);
    ck_assert_msg(p >= mid - half - 1e-12 && p <= mid + half + 1e-12, "n=%zu R=%u B=%zu t=%zu: %zu/%zu vs %g",
                  grid[g].n, grid[g].R, grid[g].B, grid[g].t, escapes, trials, p);
    if (p == 0) ck_assert_uint_eq(escapes, 0);
  }
}
END_TEST

int main(void) {
  Suite *s = suite_create("mixcheck");
  TCase *tc = tcase_create("mixcheck");
  tcase_add_test(tc, escape_formula_known_values);
  tcase_add_test(tc, accuracy_threshold_is_the_delta_quantile);
  tcase_add_test(tc, search_finds_minimal_batches);
  tcase_add_test(tc, plans_are_permutations);
  tcase_add_test(tc, plans_are_uniform);
  tcase_add_test(tc, checks_catch_what_they_should);
  tcase_add_test(tc, tolerance_mode);
  tcase_add_test(tc, argmax_is_signed);
  tcase_add_test(tc, monte_carlo_matches_formula);
  suite_add_tcase(s, tc);
  return fsn_test_main(s);
}
