/* Fusion mix-and-check (Dong et al., NDSS 2023): the client hides each of its n queries among R replicas of itself
 * and B public samples with known answers, shuffles the N = nR + B inputs with a secret uniform permutation, and
 * after the secure run checks that (1) all replicas of a query agree and (2) the public samples came out right.
 *
 * Escape probability. A server that alters the outputs at a set T of batch positions (it cannot see the permutation,
 * so T is independent of it) escapes only if T holds no public sample and T is a union of whole replica groups.
 * For |T| = jR that happens with probability C(n, j) / C(nR + B, jR); a server picks the j that suits it best, so the
 * guarantee is the worst case over j = 1..n. This is exact when the server has committed its predicted labels for
 * the public set (the default): every altered public sample is then caught. Without commitments the public samples
 * are judged by an accuracy test (a binomial quantile), which bounds model quality rather than single alterations. */
#ifndef FUSION_MC_H
#define FUSION_MC_H

#include <fusion/status.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* log2 of C(n, j) / C(nR + B, jR): the escape probability of a server altering j whole replica groups. */
double fsn_mc_log2_escape_j(size_t n, unsigned R, size_t B, size_t j);
/* The worst case over j = 1..n (the guarantee), and the j that attains it (may be NULL). */
double fsn_mc_log2_escape(size_t n, unsigned R, size_t B, size_t *worst_j);

/* Accuracy test on B public samples of a model claimed to have accuracy alpha: accept iff at least
 * fsn_mc_accuracy_threshold(B, alpha, delta) are correct; an honest model fails with probability <= delta. */
size_t fsn_mc_accuracy_threshold(size_t B, double alpha, double delta);
/* P[Bin(B, p) < threshold]: the probability a model of true accuracy p fails the test. */
double fsn_mc_fail_probability(size_t B, double p, size_t threshold);

/* One (R, B) choice and its figures. */
typedef struct fsn_mc_choice {
  unsigned R;
  size_t B, N;        /* N = nR + B, the batch the secure engine runs */
  double log2_escape; /* worst case over j */
  size_t worst_j;
  size_t threshold; /* accuracy test threshold (0 when predictions are committed) */
} fsn_mc_choice;

typedef struct fsn_mc_goal {
  size_t n;           /* client queries */
  double kappa;       /* escape probability <= 2^-kappa */
  bool committed;     /* the server committed its labels on the public set */
  double alpha;       /* claimed accuracy on the public set (accuracy test only) */
  double delta;       /* false-alarm rate of the accuracy test */
  double drop;        /* accuracy drop the test must detect with probability >= 1 - delta (0: no requirement) */
  size_t public_size; /* size of the public set B is drawn from (B <= public_size) */
  unsigned max_R;     /* largest R considered */
} fsn_mc_goal;

/* For R = 1..max_R, the smallest B reaching the goal (choices[R-1]; B = 0 and N = 0 where none exists within
 * public_size), and the recommended choice (smallest N, then smallest R). FSN_E_INVALID if nothing reaches it. */
FSN_NODISCARD fsn_status fsn_mc_search(const fsn_mc_goal *goal, fsn_mc_choice *choices, fsn_mc_choice *best);

/* A batch plan: which input goes at each of the N batch positions. Slots k < nR are query k / R (replica k % R);
 * slots k >= nR are public sample public_index[k - nR]. Position p of the batch holds slot slot_of[p]. */
typedef struct fsn_mc_plan {
  size_t n, B, N;
  unsigned R;
  uint32_t *slot_of;      /* N entries: a uniform permutation from libsodium's CSPRNG */
  uint32_t *public_index; /* B distinct indices into the public set, uniform */
} fsn_mc_plan;

FSN_NODISCARD fsn_status fsn_mc_plan_create(fsn_mc_plan *plan, size_t n, unsigned R, size_t B, size_t public_size);
/* The same from a given 32-byte seed (expanded with ChaCha20): for reproducible simulations and tests only;
 * fsn_mc_plan_create draws the seed from the OS CSPRNG. */
FSN_NODISCARD fsn_status fsn_mc_plan_create_seeded(fsn_mc_plan *plan, size_t n, unsigned R, size_t B,
                                                   size_t public_size, const uint8_t seed[32]);
void fsn_mc_plan_destroy(fsn_mc_plan *plan);

/* Monte Carlo of the checks against a server that alters the outputs at t fixed batch positions (it cannot see the
 * permutation, so fixed positions are as good as any): runs `trials` plans from seeds derived from `seed`, through
 * fsn_mc_check in committed mode, and returns how many escaped. */
FSN_NODISCARD fsn_status fsn_mc_simulate(size_t n, unsigned R, size_t B, size_t t, size_t trials,
                                         const uint8_t seed[32], size_t *escapes);

typedef enum fsn_mc_source { FSN_MC_QUERY, FSN_MC_PUBLIC } fsn_mc_source;
/* What goes at batch position p: a client query (index < n) or a public sample (index into the public set). */
fsn_mc_source fsn_mc_plan_source(const fsn_mc_plan *plan, size_t p, size_t *index);

/* What the public samples are checked against. */
typedef struct fsn_mc_expect {
  const uint8_t *labels; /* per public-set index: committed predictions, or ground truth for the accuracy test */
  bool committed;        /* labels are the server's committed predictions: each must match exactly */
  size_t threshold;      /* accuracy test: minimum number correct (ignored when committed) */
  uint64_t tolerance;    /* 0: replicas must be bit-identical (exact mode); else (approximate truncation) they must
                            have the same label and every logit within `tolerance` units of the first replica's */
} fsn_mc_expect;

/* The outcome of the checks, for the client's report. */
typedef struct fsn_mc_report {
  bool replicas_ok, public_ok;
  size_t groups_inconsistent; /* queries whose replicas disagree */
  size_t public_mismatches;   /* committed mode: public samples whose label differs from the commitment */
  size_t public_correct;      /* accuracy mode: public samples labelled correctly */
  size_t threshold;
} fsn_mc_report;

/* Check batch outputs (N x dim logits, signed ell-bit values, in batch order) against the plan. Replicas must be
 * bit-identical in exact mode, or agree within expect->tolerance in approximate mode; a public sample's label is the
 * argmax of its logits (first maximum on ties).
 * Returns FSN_OK if both checks pass, FSN_E_CHEATING otherwise (the report says which and by how much). */
FSN_NODISCARD fsn_status fsn_mc_check(const fsn_mc_plan *plan, const uint64_t *logits, size_t dim, unsigned ell,
                                      const fsn_mc_expect *expect, fsn_mc_report *report);

/* The same when only labels were revealed (one per batch position, the server's reveal policy `label`): replicas must
 * have the same label, public samples the expected one. A server altering outputs must now change labels to matter,
 * and is caught on exactly the same positions (the escape formula is unchanged). */
FSN_NODISCARD fsn_status fsn_mc_check_labels(const fsn_mc_plan *plan, const uint64_t *labels,
                                             const fsn_mc_expect *expect, fsn_mc_report *report);

/* The batch position of query q's first replica, and its logits, un-permuted. */
size_t fsn_mc_query_position(const fsn_mc_plan *plan, size_t q);
const uint64_t *fsn_mc_query_logits(const fsn_mc_plan *plan, const uint64_t *logits, size_t dim, size_t q);

/* 2^64 mod bound: the rejection threshold of the plan's uniform draws (Lemire), exposed so tests can check it. */
uint64_t fsn_mc_rejection_threshold(uint32_t bound);

#ifdef __cplusplus
}
#endif
#endif
