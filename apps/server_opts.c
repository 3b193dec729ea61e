#include "apps/server_opts.h"

#include <stdlib.h>
#include <string.h>

#include "apps/common.h"

void fsn_server_opts_init(fsn_server_opts *o) {
  *o = (fsn_server_opts){.images = FSN_APP_FMNIST_IMAGES,
                         .labels = FSN_APP_FMNIST_LABELS,
                         .public_range = FSN_APP_PUBLIC_RANGE,
                         .threads = 2,
                         .max_batch = 100000,
                         .ell = FSN_DEFAULT_ELL,
                         .scale = FSN_DEFAULT_SCALE,
                         .seed = 1,
                         .timeout = 120};
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
  case 'K': o->backend = arg; return fsn_linear_backend_find(arg) != NULL;
  case 'V':
    o->reveal = !strcmp(arg, "logits") ? FSN_REVEAL_LOGITS : FSN_REVEAL_LABEL;
    return !strcmp(arg, "logits") || !strcmp(arg, "label");
  }
  return false;
}

fsn_status fsn_server_setup(const fsn_server_opts *o, fsn_serve_config *cfg, fsn_model **model, fsn_sampleset *set) {
  if (!o->model || !o->listen) return fsn_fail(FSN_E_INVALID, "--model and --listen are required");
  if (o->no_commit && o->claimed <= 0) return fsn_fail(FSN_E_INVALID, "--no-commit needs --claimed-accuracy");
  fsn_status st = fsn_app_load_model(model, o->model, o->seed);
  if (st == FSN_OK) st = fsn_model_quantize(*model, (unsigned)o->ell, (unsigned)o->scale);
  fsn_images im = {0};
  fsn_labels lb = {0};
  if (st == FSN_OK) st = fsn_idx_read_images(&im, o->images);
  if (st == FSN_OK) st = fsn_idx_read_labels(&lb, o->labels);
  if (st == FSN_OK) st = fsn_app_public_set(set, &im, &lb, o->public_range);
  fsn_images_free(&im);
  fsn_labels_free(&lb);
  if (st != FSN_OK) return st;
  fsn_shape in = fsn_model_input_shape(*model);
  if (in.c != set->images.channels || in.h != set->images.rows || in.w != set->images.cols)
    return fsn_fail(FSN_E_INVALID, "the model takes %zux%zux%zu inputs, the public set holds %zux%zux%zu images", in.c,
                    in.h, in.w, set->images.channels, set->images.rows, set->images.cols);
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
                                       .max_batch = o->max_batch,
                                       .secure = {.linear_backend = o->backend}}};
  return fsn_app_channel_opts(&cfg->chan, o->net, (unsigned)o->timeout);
}
