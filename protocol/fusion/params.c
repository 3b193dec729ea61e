/* The mix-and-check parameter search: escape probability (worst case over the altered set), the binomial accuracy
 * test, and the smallest batch reaching both. */
#include <fusion/mc.h>

#include <math.h>

/* log2 C(a, b), exact enough for comparing against 2^-kappa (lgamma keeps ~1e-9 absolute error here). */
static double log2_binom(double a, double b) {
  if (b < 0 || b > a) return -INFINITY;
  return (lgamma(a + 1) - lgamma(b + 1) - lgamma(a - b + 1)) / M_LN2;
}

double fsn_mc_log2_escape_j(size_t n, unsigned R, size_t B, size_t j) {
  return log2_binom((double)n, (double)j) - log2_binom((double)(n * R + B), (double)(j * R));
}

double fsn_mc_log2_escape(size_t n, unsigned R, size_t B, size_t *worst_j) {
  double worst = -INFINITY;
  size_t arg = 1;
  for (size_t j = 1; j <= n; j++) {
    double e = fsn_mc_log2_escape_j(n, R, B, j);
    if (e > worst) worst = e, arg = j;
  }
  if (worst_j) *worst_j = arg;
  return worst;
}

/* ln P[Bin(B, p) = i]. */
static double log_pmf(size_t B, double p, size_t i) {
  if (p <= 0) return i == 0 ? 0 : -INFINITY;
  if (p >= 1) return i == B ? 0 : -INFINITY;
  return lgamma((double)B + 1) - lgamma((double)i + 1) - lgamma((double)(B - i) + 1) + (double)i * log(p) +
         (double)(B - i) * log1p(-p);
}

double fsn_mc_fail_probability(size_t B, double p, size_t threshold) {
  double sum = 0;
  for (size_t i = 0; i < threshold && i <= B; i++) sum += exp(log_pmf(B, p, i));
  return sum > 1 ? 1 : sum;
}

size_t fsn_mc_accuracy_threshold(size_t B, double alpha, double delta) {
  double cdf = 0; /* P[Bin(B, alpha) < t] for the t under consideration */
  size_t t = 0;
  while (t < B) {
    double next = cdf + exp(log_pmf(B, alpha, t));
    if (next > delta) break;
    cdf = next;
    t++;
  }
  return t;
}

/* Smallest B <= limit with escape <= 2^-kappa (escape falls as B grows); limit + 1 if none. */
static size_t min_public_for_escape(size_t n, unsigned R, double kappa, size_t limit) {
  if (fsn_mc_log2_escape(n, R, limit, NULL) > -kappa) return limit + 1;
  size_t lo = 0, hi = limit;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (fsn_mc_log2_escape(n, R, mid, NULL) <= -kappa)
      hi = mid;
    else
      lo = mid + 1;
  }
  return lo;
}

/* Does an accuracy test on B samples both keep false alarms <= delta and catch a drop of `drop`? */
static bool accuracy_test_ok(const fsn_mc_goal *g, size_t B) {
  if (B == 0) return false;
  size_t t = fsn_mc_accuracy_threshold(B, g->alpha, g->delta);
  return g->drop <= 0 || fsn_mc_fail_probability(B, g->alpha - g->drop, t) >= 1 - g->delta;
}

/* Smallest B <= limit whose accuracy test is good enough; limit + 1 if none. Detection power grows with B up to
 * the discreteness of the quantile, so a binary search lands close and a short upward scan finishes it. */
static size_t min_public_for_accuracy(const fsn_mc_goal *g, size_t limit) {
  if (g->committed) return 0;
  if (!accuracy_test_ok(g, limit)) return limit + 1;
  size_t lo = 1, hi = limit;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (accuracy_test_ok(g, mid))
      hi = mid;
    else
      lo = mid + 1;
  }
  return lo;
}

fsn_status fsn_mc_search(const fsn_mc_goal *g, fsn_mc_choice *choices, fsn_mc_choice *best) {
  if (g->n == 0 || g->max_R == 0 || g->kappa <= 0 || g->public_size == 0)
    return fsn_fail(FSN_E_INVALID, "mix-and-check needs n >= 1, R >= 1, kappa > 0 and a public set");
  if (!g->committed && (g->alpha <= 0 || g->alpha > 1 || g->delta <= 0 || g->delta >= 1 || g->drop < 0))
    return fsn_fail(FSN_E_INVALID, "accuracy test needs 0 < alpha <= 1, 0 < delta < 1, drop >= 0");
  size_t b_acc = min_public_for_accuracy(g, g->public_size);
  bool found = false;
  for (unsigned R = 1; R <= g->max_R; R++) {
    fsn_mc_choice *c = &choices[R - 1];
    *c = (fsn_mc_choice){.R = R};
    size_t B = min_public_for_escape(g->n, R, g->kappa, g->public_size);
    if (B < b_acc) B = b_acc;
    if (B > g->public_size) continue;
    c->B = B;
    c->N = g->n * R + B;
    c->log2_escape = fsn_mc_log2_escape(g->n, R, B, &c->worst_j);
    c->threshold = g->committed ? 0 : fsn_mc_accuracy_threshold(B, g->alpha, g->delta);
    if (!found || c->N < best->N) *best = *c, found = true;
  }
  if (!found)
    return fsn_fail(FSN_E_INVALID, "no R <= %u reaches 2^-%.0f for n = %zu with at most %zu public samples", g->max_R,
                    g->kappa, g->n, g->public_size);
  return FSN_OK;
}
