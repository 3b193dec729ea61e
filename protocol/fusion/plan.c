/* Batch plans (which input goes where, from libsodium's CSPRNG) and the two checks. */
#include <fusion/mc.h>
#include <fusion/nn.h>
#include <fusion/ring.h>

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

/* A ChaCha20 stream (libsodium) from a 32-byte seed: one OS draw per plan instead of one per element. */
typedef struct stream {
  uint8_t key[crypto_stream_chacha20_ietf_KEYBYTES];
  uint64_t words[64];
  size_t used;
  uint32_t block;
} stream;

static uint64_t next_word(stream *s) {
  if (s->used == 64) {
    static const uint8_t nonce[crypto_stream_chacha20_ietf_NONCEBYTES];
    memset(s->words, 0, sizeof s->words);
    crypto_stream_chacha20_ietf_xor_ic((uint8_t *)s->words, (const uint8_t *)s->words, sizeof s->words, nonce, s->block,
                                       s->key);
    s->block += sizeof s->words / 64;
    s->used = 0;
  }
  return s->words[s->used++];
}

uint64_t fsn_mc_rejection_threshold(uint32_t bound) {
  return (0 - (uint64_t)bound) % bound; /* 2^64 mod bound, in 64-bit arithmetic */
}

/* Uniform in [0, bound), exactly (Lemire's multiply with rejection): the low word of x * bound is below
 * 2^64 mod bound for exactly the x that would make some results one draw likelier than others. */
static uint32_t uniform(stream *s, uint32_t bound) {
  const uint64_t threshold = fsn_mc_rejection_threshold(bound);
  for (;;) {
    unsigned __int128 m = (unsigned __int128)next_word(s) * bound;
    if ((uint64_t)m >= threshold) return (uint32_t)(m >> 64);
  }
}

fsn_status fsn_mc_plan_create(fsn_mc_plan *plan, size_t n, unsigned R, size_t B, size_t public_size) {
  if (sodium_init() < 0) return fsn_fail(FSN_E_CRYPTO, "libsodium failed to initialise");
  uint8_t seed[32];
  randombytes_buf(seed, sizeof seed);
  fsn_status st = fsn_mc_plan_create_seeded(plan, n, R, B, public_size, seed);
  sodium_memzero(seed, sizeof seed);
  return st;
}

fsn_status fsn_mc_plan_create_seeded(fsn_mc_plan *plan, size_t n, unsigned R, size_t B, size_t public_size,
                                     const uint8_t seed[32]) {
  *plan = (fsn_mc_plan){0};
  if (n == 0 || R == 0 || B > public_size || n * R + B > UINT32_MAX || public_size > UINT32_MAX)
    return fsn_fail(FSN_E_INVALID, "batch plan: n = %zu, R = %u, B = %zu out of range (public set of %zu)", n, R, B,
                    public_size);
  size_t N = n * R + B;
  uint32_t *slot_of = malloc(N * sizeof *slot_of), *pool = malloc((public_size + 1) * sizeof *pool);
  uint32_t *public_index = malloc((B + 1) * sizeof *public_index);
  if (!slot_of || !pool || !public_index) {
    free(slot_of), free(pool), free(public_index);
    return fsn_fail(FSN_E_NOMEM, "batch plan of %zu positions", N);
  }
  stream s = {.used = 64};
  memcpy(s.key, seed, sizeof s.key);
  for (size_t i = 0; i < N; i++) slot_of[i] = (uint32_t)i;
  for (size_t i = N; i > 1; i--) { /* Fisher-Yates */
    uint32_t j = uniform(&s, (uint32_t)i), t = slot_of[i - 1];
    slot_of[i - 1] = slot_of[j], slot_of[j] = t;
  }
  for (size_t i = 0; i < public_size; i++) pool[i] = (uint32_t)i;
  for (size_t i = 0; i < B; i++) { /* partial Fisher-Yates: B distinct uniform picks */
    uint32_t j = (uint32_t)i + uniform(&s, (uint32_t)(public_size - i)), t = pool[i];
    pool[i] = pool[j], pool[j] = t;
    public_index[i] = pool[i];
  }
  sodium_memzero(pool, public_size * sizeof *pool); /* its head is the secret choice of public samples */
  free(pool);
  sodium_memzero(&s, sizeof s);
  *plan = (fsn_mc_plan){.n = n, .R = R, .B = B, .N = N, .slot_of = slot_of, .public_index = public_index};
  return FSN_OK;
}

/* The permutation and the public picks are the client's secret: wipe them before the memory is reused. */
void fsn_mc_plan_destroy(fsn_mc_plan *plan) {
  if (plan->slot_of) sodium_memzero(plan->slot_of, plan->N * sizeof *plan->slot_of);
  if (plan->public_index) sodium_memzero(plan->public_index, plan->B * sizeof *plan->public_index);
  free(plan->slot_of);
  free(plan->public_index);
  *plan = (fsn_mc_plan){0};
}

fsn_mc_source fsn_mc_plan_source(const fsn_mc_plan *plan, size_t p, size_t *index) {
  size_t slot = plan->slot_of[p], queries = plan->n * plan->R;
  if (slot < queries) {
    *index = slot / plan->R;
    return FSN_MC_QUERY;
  }
  *index = plan->public_index[slot - queries];
  return FSN_MC_PUBLIC;
}

/* Exact mode: bit-identical. Approximate mode: the same label, and every logit within tol of the other's. */
static bool replicas_agree(const uint64_t *a, const uint64_t *b, size_t dim, unsigned ell, uint64_t tol) {
  if (tol == 0) return !memcmp(a, b, dim * sizeof *a);
  if (fsn_nn_argmax_fixed(a, dim, ell) != fsn_nn_argmax_fixed(b, dim, ell)) return false;
  const unsigned up = 64 - ell;
  for (size_t k = 0; k < dim; k++) {
    int64_t d = ((int64_t)(a[k] << up) >> up) - ((int64_t)(b[k] << up) >> up);
    if ((uint64_t)(d < 0 ? -d : d) > tol) return false;
  }
  return true;
}

const uint64_t *fsn_mc_query_logits(const fsn_mc_plan *plan, const uint64_t *logits, size_t dim, size_t q) {
  size_t p = fsn_mc_query_position(plan, q);
  return p == SIZE_MAX ? NULL : logits + p * dim;
}

/* What the client received for the batch: every logit (dim per position), or only labels (dim = 0). */
typedef struct outputs {
  const uint64_t *v;
  size_t dim;
  unsigned ell;
} outputs;

static size_t label_at(const outputs *o, size_t p) {
  return o->dim ? fsn_nn_argmax_fixed(o->v + p * o->dim, o->dim, o->ell) : (size_t)o->v[p];
}

static bool agree_at(const outputs *o, size_t p, size_t q, uint64_t tol) {
  return o->dim ? replicas_agree(o->v + p * o->dim, o->v + q * o->dim, o->dim, o->ell, tol) : o->v[p] == o->v[q];
}

static fsn_status check(const fsn_mc_plan *plan, const outputs *o, const fsn_mc_expect *expect, fsn_mc_report *report) {
  *report = (fsn_mc_report){.threshold = expect->committed ? 0 : expect->threshold};
  uint32_t *pos_of = malloc(plan->N * sizeof *pos_of);
  if (!pos_of) return fsn_fail(FSN_E_NOMEM, "mix-and-check of %zu positions", plan->N);
  for (size_t p = 0; p < plan->N; p++) pos_of[plan->slot_of[p]] = (uint32_t)p;

  for (size_t q = 0; q < plan->n; q++) {
    for (unsigned r = 1; r < plan->R; r++) {
      if (!agree_at(o, pos_of[q * plan->R], pos_of[q * plan->R + r], expect->tolerance)) {
        report->groups_inconsistent++;
        break;
      }
    }
  }
  for (size_t b = 0; b < plan->B; b++) {
    size_t label = label_at(o, pos_of[plan->n * plan->R + b]);
    bool match = label == expect->labels[plan->public_index[b]];
    if (expect->committed)
      report->public_mismatches += !match;
    else
      report->public_correct += match;
  }
  sodium_memzero(pos_of, plan->N * sizeof *pos_of);
  free(pos_of);
  report->replicas_ok = report->groups_inconsistent == 0;
  report->public_ok = expect->committed ? report->public_mismatches == 0 : report->public_correct >= expect->threshold;
  if (report->replicas_ok && report->public_ok) return FSN_OK;
  return fsn_fail(FSN_E_CHEATING, "%s%s%s", report->replicas_ok ? "" : "replica check failed",
                  !report->replicas_ok && !report->public_ok ? "; " : "",
                  report->public_ok ? "" : "public-sample check failed");
}

fsn_status fsn_mc_check(const fsn_mc_plan *plan, const uint64_t *logits, size_t dim, unsigned ell,
                        const fsn_mc_expect *expect, fsn_mc_report *report) {
  return check(plan, &(outputs){logits, dim, ell}, expect, report);
}

fsn_status fsn_mc_check_labels(const fsn_mc_plan *plan, const uint64_t *labels, const fsn_mc_expect *expect,
                               fsn_mc_report *report) {
  return check(plan, &(outputs){labels, 0, 64}, expect, report);
}

size_t fsn_mc_query_position(const fsn_mc_plan *plan, size_t q) {
  for (size_t p = 0; p < plan->N; p++)
    if (plan->slot_of[p] == q * plan->R) return p;
  return SIZE_MAX;
}
