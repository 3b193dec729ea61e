#include "apps/server_opts.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "apps/common.h"

#define PER_CLIENT_DEFAULT (~0ull) /* --max-per-client not given: two sessions' channels */

void fsn_server_opts_init(fsn_server_opts *o) {
  *o = (fsn_server_opts){.images = FSN_APP_FMNIST_IMAGES,
                         .labels = FSN_APP_FMNIST_LABELS,
                         .public_range = FSN_APP_PUBLIC_RANGE,
                         .threads = 2,
                         .max_batch = 100000,
                         .ell = FSN_DEFAULT_ELL,
                         .scale = FSN_DEFAULT_SCALE,
                         .seed = 1,
                         .timeout = 120,
                         .max_sessions = 2,
                         .max_per_client = PER_CLIENT_DEFAULT,
                         .handshake_timeout = 10};
}

static bool parse_seconds(const char *arg, double *out) {
  char *end;
  *out = strtod(arg, &end);
  return end != arg && !*end && *out >= 0 && *out <= 86400;
}

/* BYTES with an optional k, M or G (binary) suffix. */
static bool parse_bytes(const char *arg, unsigned long long *out) {
  char *end;
  errno = 0;
  unsigned long long v = strtoull(arg, &end, 10);
  unsigned shift = 0;
  if (*end == 'k' || *end == 'K')
    shift = 10, end++;
  else if (*end == 'M')
    shift = 20, end++;
  else if (*end == 'G')
    shift = 30, end++;
  if (end == arg || *end || errno || arg[0] == '-' || v > (~0ull >> shift)) return false;
  *out = v << shift;
  return true;
}

/* A quarter of the physical memory, so a few servers and the system fit beside each other. */
static unsigned long long default_memory_budget(void) {
  long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
  return pages > 0 && page > 0 ? (unsigned long long)pages * (unsigned long long)page / 4 : 1ull << 30;
}

bool fsn_server_opt(fsn_server_opts *o, int c, const char *arg) {
  switch (c) {
  case 'm': o->model = arg; return true;
  case 'L': o->listen = arg; return true;
  case 't': return fsn_app_parse_uint(arg, 64, &o->threads) && o->threads > 0;
  case 'N': o->net = arg; return true;
  case 'e': return fsn_app_parse_uint(arg, 64, &o->ell);
  case 's': return fsn_app_parse_uint(arg, 62, &o->scale);
  case 'i': o->images = arg; return true;
  case 'l': o->labels = arg; return true;
  case 'P': o->public_range = arg; return true;
  case 'C': o->no_commit = true; return true;
  case 'A': o->claimed = atof(arg); return o->claimed > 0 && o->claimed <= 1;
  case 'k': return fsn_app_parse_uint(arg, 1u << 30, &o->sessions);
  case 'b': return fsn_app_parse_uint(arg, 1u << 24, &o->max_batch) && o->max_batch > 0;
  case 'r': return fsn_app_parse_uint(arg, ~0ull, &o->seed);
  case 'T': return fsn_app_parse_uint(arg, 86400, &o->timeout) && o->timeout > 0;
  case FSN_SERVER_OPT_MAX_SESSIONS: return fsn_app_parse_uint(arg, 4096, &o->max_sessions) && o->max_sessions > 0;
  case FSN_SERVER_OPT_MAX_PER_CLIENT: return fsn_app_parse_uint(arg, 1u << 20, &o->max_per_client);
  case FSN_SERVER_OPT_SESSION_TIMEOUT: return parse_seconds(arg, &o->session_timeout);
  case FSN_SERVER_OPT_HANDSHAKE_TIMEOUT: return parse_seconds(arg, &o->handshake_timeout) && o->handshake_timeout > 0;
  case FSN_SERVER_OPT_MEMORY_BUDGET: return parse_bytes(arg, &o->memory_budget) && o->memory_budget > 0;
  case FSN_SERVER_OPT_LOG_JSON: o->log_json = true; return true;
  case FSN_SERVER_OPT_BACKEND: o->backend = arg; return fsn_linear_backend_find(arg) != NULL;
  case FSN_SERVER_OPT_OT: o->ot = arg; return fsn_ot_pack_resolve(arg) != NULL;
  case FSN_SERVER_OPT_PREPROCESS: o->preprocess = arg; return true;
  case 'V':
    o->reveal = !strcmp(arg, "logits") ? FSN_REVEAL_LOGITS : FSN_REVEAL_LABEL;
    return !strcmp(arg, "logits") || !strcmp(arg, "label");
  }
  return false;
}

/* The public set: from the IDX files, or (--images random) seeded random images of the model's input shape. */
static fsn_status public_set(const fsn_server_opts *o, const fsn_model *m, fsn_sampleset *set) {
  if (!strcmp(o->images, "random"))
    return fsn_app_random_public_set(set, fsn_model_input_shape(m), o->public_range, o->seed);
  fsn_images im = {0};
  fsn_labels lb = {0};
  fsn_status st = fsn_idx_read_images(&im, o->images);
  if (st == FSN_OK) st = fsn_idx_read_labels(&lb, o->labels);
  if (st == FSN_OK) st = fsn_app_public_set(set, &im, &lb, o->public_range);
  fsn_idx_images_free(&im);
  fsn_idx_labels_free(&lb);
  return st;
}

fsn_status fsn_server_setup(const fsn_server_opts *o, fsn_serve_config *cfg, fsn_model **model, fsn_sampleset *set) {
  if (!o->model || !o->listen) return fsn_fail(FSN_E_INVALID, "--model and --listen are required");
  if (o->no_commit && o->claimed <= 0) return fsn_fail(FSN_E_INVALID, "--no-commit needs --claimed-accuracy");
  fsn_status st = fsn_app_load_model(model, o->model, o->seed);
  if (st == FSN_OK) st = fsn_model_quantize(*model, (unsigned)o->ell, (unsigned)o->scale);
  fsn_preprocess pp = {0};
  if (st == FSN_OK) st = fsn_app_model_preprocess(&pp, o->model, o->preprocess);
  if (st == FSN_OK) st = public_set(o, *model, set);
  if (st != FSN_OK) return st;
  fsn_shape in = fsn_model_input_shape(*model);
  if (in.c != set->images.channels || in.h != set->images.rows || in.w != set->images.cols)
    return fsn_fail(FSN_E_INVALID, "the model takes %zux%zux%zu inputs, the public set holds %zux%zux%zu images", in.c,
                    in.h, in.w, set->images.channels, set->images.rows, set->images.cols);
  uint64_t budget = o->memory_budget ? o->memory_budget : default_memory_budget(), each, fixed;
  size_t fits = fsn_fusion_batch_limit(*model, o->ot, (size_t)o->threads, budget / o->max_sessions, &each, &fixed);
  if (fits == 0)
    return fsn_fail(FSN_E_INVALID,
                    "a memory budget of %llu MiB for %llu session(s) does not fit one batch item of this model "
                    "(%llu MiB per session on the %s OT pack with %llu thread(s), plus %llu KiB per item)",
                    (unsigned long long)(budget >> 20), o->max_sessions, (unsigned long long)(fixed >> 20),
                    fsn_ot_pack_resolve(o->ot), o->threads, (unsigned long long)(each >> 10));
  *cfg = (fsn_serve_config){.listen = o->listen,
                            .threads = o->threads,
                            .sessions = o->sessions,
                            .fusion = {.run_model = *model,
                                       .card_model = *model,
                                       .model_name = o->model,
                                       .set = set,
                                       .no_commit = o->no_commit,
                                       .claimed = o->claimed,
                                       .reveal = o->reveal,
                                       .max_batch = fits < o->max_batch ? fits : (size_t)o->max_batch,
                                       .secure = {.linear_backend = o->backend, .ot = o->ot},
                                       .preprocess = pp},
                            .accept = {.max_sessions = o->max_sessions,
                                       .max_per_address = o->max_per_client == PER_CLIENT_DEFAULT ? 2 * o->threads
                                                          : o->max_per_client                     ? o->max_per_client
                                                                                                  : SIZE_MAX,
                                       .handshake_s = o->handshake_timeout,
                                       .session_s = o->session_timeout},
                            .memory_budget = budget,
                            .log_json = o->log_json};
  return fsn_app_channel_opts(&cfg->chan, o->net, (unsigned)o->timeout);
}
