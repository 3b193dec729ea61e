/* Monte Carlo evidence for the escape formula, run through the real plan and check code. */
#include <fusion/mc.h>

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

enum { DIM = 4 }; /* logits per output: enough for distinct labels */

/* Honest outputs: query q answers one-hot at q % DIM, public sample i at its committed label i % DIM. */
static void honest_row(uint64_t *row, fsn_mc_source src, size_t index) {
  memset(row, 0, DIM * sizeof *row);
  row[index % DIM] = 1;
  (void)src;
}

fsn_status fsn_mc_simulate(size_t n, unsigned R, size_t B, size_t t, size_t trials, const uint8_t seed[32],
                           size_t *escapes) {
  size_t N = n * R + B, public_size = B ? 2 * B : 1;
  *escapes = 0;
  if (t > N) return fsn_fail(FSN_E_INVALID, "cannot alter %zu of %zu positions", t, N);
  uint64_t *logits = malloc(N * DIM * sizeof *logits);
  uint8_t *labels = malloc(public_size);
  if (!logits || !labels) {
    free(logits), free(labels);
    return fsn_fail(FSN_E_NOMEM, "simulation buffers");
  }
  for (size_t i = 0; i < public_size; i++) labels[i] = (uint8_t)(i % DIM);
  const fsn_mc_expect expect = {.labels = labels, .committed = true};
  fsn_status st = FSN_OK;
  for (size_t trial = 0; trial < trials && st == FSN_OK; trial++) {
    uint8_t trial_seed[32];
    crypto_generichash(trial_seed, sizeof trial_seed, (const uint8_t *)&trial, sizeof trial, seed, 32);
    fsn_mc_plan plan;
    if ((st = fsn_mc_plan_create_seeded(&plan, n, R, B, public_size, trial_seed)) != FSN_OK) break;
    for (size_t p = 0; p < N; p++) {
      size_t index;
      fsn_mc_source src = fsn_mc_plan_source(&plan, p, &index);
      honest_row(logits + p * DIM, src, index);
      if (p < t) logits[p * DIM + (index + 1) % DIM] += 2; /* the server's alteration: a different label */
    }
    fsn_mc_report report;
    *escapes += fsn_mc_check(&plan, logits, DIM, 64, &expect, &report) == FSN_OK;
    fsn_mc_plan_destroy(&plan);
  }
  free(logits), free(labels);
  return st;
}
