/* `fusion params`: the (R, B) choices that reach escape probability <= 2^-kappa, their cost, and a recommendation;
 * with --table, the cost per query as n grows (amortised Fusion); with --simulate, Monte Carlo escape rates beside
 * the formula. */
#include <fusion/channel.h>
#include <fusion/mc.h>

#include <getopt.h>
#include <math.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apps/commands.h"

static int params_usage(void) {
  fprintf(stderr, "usage: fusion params --n N [--kappa K] [--alpha A --delta D --drop X | --committed]\n"
                  "                     [--public-size P] [--max-r R] [--json]\n"
                  "       fusion params --table [--per-inference SECONDS,BYTES,ROUNDS [--net PROFILE]] [--kappa K]\n"
                  "                     [--public-size P] [--json]   (cost per query for n = 1, 4, 16, 64, 256)\n"
                  "         SECONDS,BYTES,ROUNDS: one semi-honest inference of the model (compute time, bytes both\n"
                  "         ways, rounds), e.g. cost.* of `fusion client --no-fusion --json` for one image\n"
                  "       fusion params --simulate TRIALS   (Monte Carlo of the checks vs the formula)\n");
  return 2;
}

/* Wilson score interval for k successes in n trials at z standard deviations. */
static void wilson(size_t k, size_t n, double z, double *lo, double *hi) {
  double p = (double)k / (double)n, z2n = z * z / (double)n, mid = (p + z2n / 2) / (1 + z2n);
  double half = z * sqrt(p * (1 - p) / (double)n + z2n / (4 * (double)n)) / (1 + z2n);
  *lo = mid - half, *hi = mid + half;
}

/* Monte Carlo through the real plan and check code on a grid where escape rates are measurable (the formula is
 * the same for every n, R, B, so small ones test it as well as large ones). */
static int simulate(size_t trials) {
  static const struct {
    size_t n;
    unsigned R;
    size_t B;
  } grid[] = {{2, 2, 2}, {4, 2, 4}, {3, 3, 3}, {2, 3, 0}, {5, 1, 5}, {8, 2, 8}};
  uint8_t seed[32];
  randombytes_buf(seed, sizeof seed);
  int outside = 0;
  printf("Monte Carlo: %zu trials per row; the server alters t fixed batch positions; 99.99%% Wilson interval\n",
         trials);
  printf("%4s %4s %4s %4s %10s %10s %21s\n", "n", "R", "B", "t", "measured", "formula", "interval");
  for (size_t g = 0; g < sizeof grid / sizeof grid[0]; g++) {
    for (size_t t = 1; t <= 2 * (size_t)grid[g].R + 1 && t <= grid[g].n * grid[g].R + grid[g].B; t++) {
      size_t escapes;
      if (fsn_mc_simulate(grid[g].n, grid[g].R, grid[g].B, t, trials, seed, &escapes) != FSN_OK) return 1;
      double formula = t % grid[g].R ? 0 : exp2(fsn_mc_log2_escape_j(grid[g].n, grid[g].R, grid[g].B, t / grid[g].R));
      double lo, hi;
      wilson(escapes, trials, 3.89, &lo, &hi);
      bool in = formula >= lo - 1e-12 && formula <= hi + 1e-12;
      outside += !in;
      printf("%4zu %4u %4zu %4zu %10.5f %10.5f   [%8.5f, %8.5f]%s\n", grid[g].n, grid[g].R, grid[g].B, t,
             (double)escapes / (double)trials, formula, lo, hi, in ? "" : "  OUTSIDE");
    }
  }
  printf("%d of the rows outside their interval\n", outside);
  return outside ? 1 : 0;
}

/* One semi-honest inference of the model: what each of a batch's N inferences costs. */
typedef struct inference_cost {
  double seconds, bytes, rounds;
  bool known;
} inference_cost;

static bool parse_inference(const char *s, inference_cost *c) {
  char tail;
  c->known = sscanf(s, "%lf,%lf,%lf%c", &c->seconds, &c->bytes, &c->rounds, &tail) == 3 && c->seconds >= 0 &&
             c->bytes >= 0 && c->rounds >= 0;
  return c->known;
}

/* Amortised Fusion: for each n the smallest batch N reaching the goal and, from one inference's cost, the cost per
 * query under the link's model estimate. The batch is costed as N inferences (bytes, compute and rounds all times
 * N): batched layers share rounds, so for time over a high-latency link this is an upper bound. */
static int amortised_table(fsn_mc_goal g, const inference_cost *c, const fsn_link_profile *link, bool json) {
  static const size_t ns[] = {1, 4, 16, 64, 256};
  fsn_mc_choice *choices = calloc(g.max_R, sizeof *choices), best;
  if (!choices) return 1;
  char profile[96];
  fsn_link_format(profile, sizeof profile, link);
  if (json)
    printf("{\"kappa\": %g, \"committed\": %s, \"link\": \"%s\", \"rows\": [", g.kappa, g.committed ? "true" : "false",
           profile);
  else
    printf("amortised Fusion at escape <= 2^-%g (%s, public set of %zu); link %s%s\n%6s %4s %6s %7s %10s %9s %12s\n",
           g.kappa, g.committed ? "committed labels" : "accuracy test", g.public_size, profile,
           c->known ? "" : " (no --per-inference: batch factors only)", "n", "R", "B", "N", "N/n", "s/query",
           "MiB/query");
  for (size_t k = 0; k < sizeof ns / sizeof ns[0]; k++) {
    g.n = ns[k];
    bool reached = fsn_mc_search(&g, choices, &best) == FSN_OK;
    double factor = reached ? (double)best.N / (double)g.n : 0;
    double seconds = fsn_link_model_seconds(link, c->seconds, (uint64_t)c->bytes, (uint64_t)c->rounds) * factor;
    double bytes = c->bytes * factor;
    if (json) {
      printf("%s{\"n\": %zu, \"reached\": %s", k ? ", " : "", g.n, reached ? "true" : "false");
      if (reached)
        printf(", \"R\": %u, \"B\": %zu, \"N\": %zu, \"batch_factor\": %.4f", best.R, best.B, best.N, factor);
      if (reached && c->known) printf(", \"seconds_per_query\": %.4f, \"bytes_per_query\": %.0f", seconds, bytes);
      printf("}");
    } else if (!reached) {
      printf("%6zu   no R <= %u reaches the goal with this public set\n", g.n, g.max_R);
    } else if (c->known) {
      printf("%6zu %4u %6zu %7zu %9.2fx %9.2f %12.1f\n", g.n, best.R, best.B, best.N, factor, seconds,
             bytes / 1048576.0);
    } else {
      printf("%6zu %4u %6zu %7zu %9.2fx %9s %12s\n", g.n, best.R, best.B, best.N, factor, "-", "-");
    }
  }
  if (json) printf("]}\n");
  free(choices);
  return 0;
}

int fsn_cmd_params(int argc, char **argv) {
  fsn_mc_goal g = {
      .kappa = 40, .committed = true, .alpha = 0.9, .delta = 1e-3, .drop = 0.05, .public_size = 10000, .max_R = 48};
  size_t trials = 0;
  int json = 0, table = 0;
  inference_cost per = {0};
  fsn_link_profile link = {0};
  static const struct option opts[] = {{"n", required_argument, 0, 'n'},
                                       {"kappa", required_argument, 0, 'k'},
                                       {"alpha", required_argument, 0, 'a'},
                                       {"delta", required_argument, 0, 'd'},
                                       {"drop", required_argument, 0, 'x'},
                                       {"committed", no_argument, 0, 'c'},
                                       {"public-size", required_argument, 0, 'p'},
                                       {"max-r", required_argument, 0, 'r'},
                                       {"simulate", required_argument, 0, 's'},
                                       {"json", no_argument, 0, 'j'},
                                       {"table", no_argument, 0, 'T'},
                                       {"per-inference", required_argument, 0, 'I'},
                                       {"net", required_argument, 0, 'L'},
                                       {0, 0, 0, 0}};
  int o;
  optind = 1;
  while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
    switch (o) {
    case 'n': g.n = strtoull(optarg, NULL, 10); break;
    case 'k': g.kappa = atof(optarg); break;
    case 'a': g.alpha = atof(optarg), g.committed = false; break;
    case 'd': g.delta = atof(optarg), g.committed = false; break;
    case 'x': g.drop = atof(optarg), g.committed = false; break;
    case 'c': g.committed = true; break;
    case 'p': g.public_size = strtoull(optarg, NULL, 10); break;
    case 'r': g.max_R = (unsigned)atoi(optarg); break;
    case 's': trials = strtoull(optarg, NULL, 10); break;
    case 'j': json = 1; break;
    case 'T': table = 1; break;
    case 'I':
      if (!parse_inference(optarg, &per)) return params_usage();
      break;
    case 'L':
      if (fsn_link_parse(optarg, &link) != FSN_OK) {
        fprintf(stderr, "fusion params: %s\n", fsn_last_error());
        return 2;
      }
      break;
    default: return params_usage();
    }
  }
  if (trials && g.n == 0) return simulate(trials);
  if (table && optind == argc && g.max_R > 0 && g.max_R <= 1024) return amortised_table(g, &per, &link, json);
  if (g.n == 0 || optind != argc || g.max_R == 0 || g.max_R > 1024) return params_usage();
  fsn_mc_choice *choices = calloc(g.max_R, sizeof *choices), best;
  if (!choices) return 1;
  fsn_status st = fsn_mc_search(&g, choices, &best);
  if (st != FSN_OK) {
    fprintf(stderr, "fusion params: %s\n", fsn_last_error());
    free(choices);
    return 1;
  }
  if (json) {
    printf("{\"n\": %zu, \"kappa\": %g, \"committed\": %s, \"choices\": [", g.n, g.kappa,
           g.committed ? "true" : "false");
    const char *sep = "";
    for (unsigned r = 0; r < g.max_R; r++) {
      const fsn_mc_choice *c = &choices[r];
      if (!c->N) continue;
      printf("%s{\"R\": %u, \"B\": %zu, \"N\": %zu, \"log2_escape\": %.3f, \"worst_j\": %zu, \"threshold\": %zu}", sep,
             c->R, c->B, c->N, c->log2_escape, c->worst_j, c->threshold);
      sep = ", ";
    }
    printf("], \"recommended\": {\"R\": %u, \"B\": %zu, \"N\": %zu}}\n", best.R, best.B, best.N);
  } else {
    printf("n = %zu queries, escape <= 2^-%g, %s, public set of %zu\n", g.n, g.kappa,
           g.committed ? "committed labels on the public set" : "accuracy test on the public samples", g.public_size);
    if (!g.committed)
      printf("accuracy test: claimed alpha = %g, false alarm <= %g, must catch a drop of %g\n", g.alpha, g.delta,
             g.drop);
    printf("%4s %8s %10s %12s %8s %10s %10s\n", "R", "B", "N (cost)", "log2 escape", "worst j", "threshold",
           "overhead");
    for (unsigned r = 0; r < g.max_R; r++) {
      const fsn_mc_choice *c = &choices[r];
      if (!c->N) continue; /* no B within the public set reaches the goal */
      printf("%4u %8zu %10zu %12.2f %8zu %10zu %9.2fx%s\n", c->R, c->B, c->N, c->log2_escape, c->worst_j, c->threshold,
             (double)c->N / (double)g.n, c->R == best.R ? "  <- recommended" : "");
    }
    if (!g.committed) {
      double caught = fsn_mc_fail_probability(best.B, g.alpha - g.drop, best.threshold);
      printf("accuracy test at B = %zu: accept iff >= %zu correct; an honest model fails with p <= %.2g; "
             "a model at accuracy %g fails with p = %.4f\n",
             best.B, best.threshold, fsn_mc_fail_probability(best.B, g.alpha, best.threshold), g.alpha - g.drop,
             caught);
    }
  }
  free(choices);
  return 0;
}
