/* The execution plan (include/fusion/nn.h) and its walk (nn_internal.h): the conv/fc + ReLU fusion, tensor sizes and
 * lifetimes decided once, and the one allocate / run / free loop the float, fixed and secure engines share. */
#include <fusion/nn.h>

#include <stdlib.h>
#include <string.h>

#include "protocol/nn/nn_internal.h"

struct fsn_nn_plan {
  size_t n_steps, n_tensors;
  fsn_nn_step *steps;
  size_t *values; /* per tensor, per sample; 0 if never materialised */
  size_t *death;  /* per tensor: the step after which it goes; SIZE_MAX for the output and unmaterialised ones */
  size_t *dead;   /* every step's dead list, back to back */
  size_t peak;
};

/* For each tensor, the last layer that reads it (SIZE_MAX if none does). */
static void last_readers(const fsn_model *m, size_t *last) {
  const size_t L = fsn_model_num_layers(m);
  for (size_t t = 0; t <= L; t++) last[t] = SIZE_MAX;
  for (size_t i = 0; i < L; i++) {
    const fsn_layer_desc *d = &fsn_model_layer(m, i)->desc;
    last[d->in] = i;
    if (fsn_layer_kind_binary(d->kind)) last[d->in2] = i;
  }
}

/* Layer i is a conv/fc whose output only the ReLU at layer i + 1 reads (its readers all come after i, so the last
 * being i + 1 means it is the only one). */
static bool fuses_relu(const fsn_model *m, size_t i, const size_t *last) {
  const fsn_layer_kind k = fsn_model_layer(m, i)->desc.kind;
  if ((k != FSN_LAYER_CONV && k != FSN_LAYER_FC) || i + 1 >= fsn_model_num_layers(m)) return false;
  const fsn_layer_desc *next = &fsn_model_layer(m, i + 1)->desc;
  return next->kind == FSN_LAYER_RELU && next->in == i + 1 && last[i + 1] == i + 1;
}

/* Steps in layer order; step_of[i] is the step that runs layer i. */
static size_t make_steps(fsn_nn_plan *p, const fsn_model *m, const size_t *last, size_t *step_of) {
  const size_t L = fsn_model_num_layers(m);
  size_t n = 0;
  for (size_t i = 0; i < L; n++) {
    const fsn_layer_desc *d = &fsn_model_layer(m, i)->desc;
    const bool fused = fuses_relu(m, i, last);
    p->steps[n] = (fsn_nn_step){.layer = i,
                                .kind = d->kind,
                                .in = d->in,
                                .in2 = fsn_layer_kind_binary(d->kind) ? d->in2 : SIZE_MAX,
                                .out = i + 1 + fused,
                                .fused_relu = fused};
    step_of[i] = n;
    if (fused) step_of[i + 1] = n, p->values[i + 1] = 0;
    i += 1 + fused;
  }
  return n;
}

/* Deaths, the steps' dead lists (each ascending) and the peak; count and live are scratch of n_steps + 1 entries. */
static void lifetimes(fsn_nn_plan *p, const size_t *last, const size_t *step_of, size_t *count, size_t *live) {
  const size_t T = p->n_tensors, S = p->n_steps;
  memset(count, 0, (S + 1) * sizeof *count);
  memset(live, 0, (S + 1) * sizeof *live);
  for (size_t t = 0; t < T; t++) {
    p->death[t] = SIZE_MAX;
    if (!p->values[t] || t + 1 == T) continue;
    p->death[t] = last[t] != SIZE_MAX ? step_of[last[t]] : step_of[t - 1]; /* tensor 0 always has a reader */
    count[p->death[t]]++;
  }
  for (size_t s = 0, offset = 0; s < S; offset += count[s++]) p->steps[s].dead = p->dead + offset;
  /* live[s]: the values born at step s minus those that died after step s - 1 (unsigned: exact modulo 2^64) */
  for (size_t t = 0; t < T; t++) {
    if (!p->values[t]) continue;
    const size_t born = t ? step_of[t - 1] : 0, end = p->death[t] == SIZE_MAX ? S : p->death[t] + 1;
    live[born] += p->values[t];
    live[end] -= p->values[t];
    if (p->death[t] != SIZE_MAX) {
      fsn_nn_step *st = &p->steps[p->death[t]];
      p->dead[st->dead - p->dead + st->n_dead++] = t;
    }
  }
  p->peak = S ? 0 : p->values[0];
  for (size_t s = 0, now = 0; s < S; s++) {
    now += live[s];
    if (now > p->peak) p->peak = now;
  }
}

fsn_status fsn_nn_plan_create(fsn_nn_plan **out, const fsn_model *m) {
  const size_t L = fsn_model_num_layers(m), T = L + 1;
  fsn_nn_plan *p = calloc(1, sizeof *p);
  size_t *scratch = malloc(4 * T * sizeof *scratch); /* last readers, step of each layer, and lifetimes()' two */
  *out = NULL;
  if (p) {
    p->n_tensors = T;
    p->steps = calloc(T, sizeof *p->steps);
    p->values = malloc(T * sizeof *p->values);
    p->death = malloc(T * sizeof *p->death);
    p->dead = malloc(T * sizeof *p->dead);
  }
  if (!p || !scratch || !p->steps || !p->values || !p->death || !p->dead) {
    free(scratch);
    fsn_nn_plan_destroy(p);
    return fsn_fail(FSN_E_NOMEM, "execution plan of %zu layers", L);
  }
  size_t *last = scratch, *step_of = scratch + T;
  for (size_t t = 0; t < T; t++) p->values[t] = fsn_shape_size(fsn_model_tensor_shape(m, t));
  last_readers(m, last);
  p->n_steps = make_steps(p, m, last, step_of);
  lifetimes(p, last, step_of, scratch + 2 * T, scratch + 3 * T);
  free(scratch);
  *out = p;
  return FSN_OK;
}

void fsn_nn_plan_destroy(fsn_nn_plan *p) {
  if (!p) return;
  free(p->steps), free(p->values), free(p->death), free(p->dead);
  free(p);
}

size_t fsn_nn_plan_num_steps(const fsn_nn_plan *p) { return p->n_steps; }
const fsn_nn_step *fsn_nn_plan_step(const fsn_nn_plan *p, size_t i) { return &p->steps[i]; }
size_t fsn_nn_plan_num_tensors(const fsn_nn_plan *p) { return p->n_tensors; }
size_t fsn_nn_plan_tensor_values(const fsn_nn_plan *p, size_t t) { return p->values[t]; }
size_t fsn_nn_plan_tensor_death(const fsn_nn_plan *p, size_t t) { return p->death[t]; }
size_t fsn_nn_plan_peak_values(const fsn_nn_plan *p) { return p->peak; }

/* ---- the walk ---- */

/* batch x values x elem_size bytes, or false on overflow. */
static bool buffer_bytes(const fsn_nn_walk *w, size_t values, size_t *bytes) {
  return fsn_nn_mul_ok(w->batch, values, bytes) && fsn_nn_mul_ok(*bytes, w->elem_size, bytes);
}

fsn_status fsn_nn_walk_run(const fsn_nn_walk *w) {
  const fsn_nn_plan *p = w->plan;
  const size_t S = p->n_steps, T = p->n_tensors;
  size_t bytes;
  if (!S) {
    if (!buffer_bytes(w, p->values[0], &bytes))
      return fsn_fail(FSN_E_NOMEM, "%s: batch of %zu too large", w->who, w->batch);
    memmove(w->out, w->in, bytes);
    if (w->own_input) free(w->in);
    return FSN_OK;
  }
  void **t = calloc(T, sizeof *t);
  if (!t) {
    if (w->own_input) free(w->in);
    return fsn_fail(FSN_E_NOMEM, "%s: tensor table of %zu entries", w->who, T);
  }
  t[0] = w->in;
  fsn_status st = FSN_OK;
  for (size_t s = 0; s < S && st == FSN_OK; s++) {
    const fsn_nn_step *step = &p->steps[s];
    if (step->out + 1 == T) {
      t[step->out] = w->out;
    } else if (!buffer_bytes(w, p->values[step->out], &bytes) || !(t[step->out] = malloc(bytes ? bytes : 1))) {
      st = fsn_fail(FSN_E_NOMEM, "%s: out of memory for the output of layer %zu (%zu values a sample, batch %zu)",
                    w->who, step->layer, p->values[step->out], w->batch);
      break;
    }
    st = w->step(w->engine, step, t);
    for (size_t k = 0; k < step->n_dead; k++) {
      const size_t d = step->dead[k];
      if (d || w->own_input) free(t[d]);
      t[d] = NULL;
    }
  }
  /* after a failure: what is still held (never the caller's output, nor a borrowed input) */
  for (size_t k = 0; k + 1 < T; k++)
    if (t[k] && (k || w->own_input)) free(t[k]);
  free(t);
  return st;
}

fsn_status fsn_nn_walk_model(const fsn_model *m, const fsn_nn_walk *w) {
  fsn_nn_walk with_plan = *w;
  fsn_nn_plan *plan;
  fsn_status st = fsn_nn_plan_create(&plan, m);
  if (st != FSN_OK) {
    if (w->own_input) free(w->in);
    return st;
  }
  with_plan.plan = plan;
  st = fsn_nn_walk_run(&with_plan);
  fsn_nn_plan_destroy(plan);
  return st;
}
