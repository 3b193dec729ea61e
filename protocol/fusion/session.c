/* Model cards, architecture exchange and the batch run of a session (include/fusion/session.h). */
#include <fusion/session.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

enum {
  CARD_MAX = 64 << 20, /* a card is at most 64 MiB (architecture + committed labels) */
  CARD_MIN = 8 + 32,   /* magic and model hash */
  ARCH_MAX = 1 << 20,  /* an architecture is at most 1 MiB */
  SET_MAX = 1 << 24,   /* public samples */
  LAYER_FIELDS = 10,   /* u32 fields per layer after the kind byte */
};

/* Version 2 adds the reveal policy (the last byte). */
static const uint8_t card_magic[8] = {'F', 'S', 'N', 'C', 'A', 'R', 'D', '2'};

/* ---- a bounded byte writer and reader ---- */

typedef struct writer {
  uint8_t *buf;
  size_t len, cap;
  bool oom;
} writer;

static void put(writer *w, const void *p, size_t n) {
  if (w->oom) return;
  if (w->len + n > w->cap) {
    size_t cap = (w->cap + n) * 2;
    uint8_t *b = realloc(w->buf, cap);
    if (!b) {
      w->oom = true;
      return;
    }
    w->buf = b, w->cap = cap;
  }
  memcpy(w->buf + w->len, p, n);
  w->len += n;
}

static void put_u32(writer *w, uint64_t v) {
  uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
  put(w, b, 4);
}

static void put_u64(writer *w, uint64_t v) {
  put_u32(w, v & 0xffffffffu);
  put_u32(w, v >> 32);
}

static void put_str(writer *w, const char *s) {
  size_t n = strlen(s);
  put_u32(w, n);
  put(w, s, n);
}

typedef struct reader {
  const uint8_t *p;
  size_t left;
  bool bad;
} reader;

static const uint8_t *take(reader *r, size_t n) {
  if (r->bad || n > r->left) {
    r->bad = true;
    return NULL;
  }
  const uint8_t *p = r->p;
  r->p += n, r->left -= n;
  return p;
}

static uint32_t get_u32(reader *r) {
  const uint8_t *b = take(r, 4);
  return b ? (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24 : 0;
}

static uint64_t get_u64(reader *r) {
  uint64_t lo = get_u32(r);
  return lo | (uint64_t)get_u32(r) << 32;
}

/* A string of at most cap - 1 bytes, NUL-terminated into out. */
static void get_str(reader *r, char *out, size_t cap) {
  uint32_t n = get_u32(r);
  const uint8_t *s = n < cap ? take(r, n) : (r->bad = true, NULL);
  if (!s) {
    out[0] = 0;
    return;
  }
  memcpy(out, s, n);
  out[n] = 0;
}

/* ---- architecture ---- */

/* The last u32 of a layer: 0 for every layer of the first eight kinds; a grouped conv's group count, a pool's
 * ceil_mode (bit 30) and an average pool's count_include_pad = 0 (bit 31). */
#define OPT_CEIL    (1u << 30)
#define OPT_EXCLUDE (1u << 31)
static uint32_t layer_options(const fsn_layer_desc *d) {
  return (d->groups > 1 ? (uint32_t)d->groups : 0) | (d->ceil_mode ? OPT_CEIL : 0) | (d->exclude_pad ? OPT_EXCLUDE : 0);
}

static void put_double(writer *w, double v) {
  uint64_t bits;
  memcpy(&bits, &v, 8);
  put_u64(w, bits);
}

static double get_double(reader *r) {
  const uint64_t bits = get_u64(r);
  double v;
  memcpy(&v, &bits, 8);
  return v;
}

fsn_status fsn_card_arch_encode(const fsn_model *m, uint8_t **out, size_t *len) {
  writer w = {0};
  fsn_shape in = fsn_model_input_shape(m);
  put_u32(&w, in.c), put_u32(&w, in.h), put_u32(&w, in.w);
  put_u32(&w, fsn_model_num_layers(m));
  for (size_t i = 0; i < fsn_model_num_layers(m); i++) {
    const fsn_layer_desc *d = &fsn_model_layer(m, i)->desc;
    uint8_t kind = (uint8_t)d->kind;
    put(&w, &kind, 1);
    const size_t f[LAYER_FIELDS] = {d->in,       d->in2,      d->out_c, d->k_h,   d->k_w,
                                    d->stride_h, d->stride_w, d->pad_h, d->pad_w, layer_options(d)};
    for (int k = 0; k < LAYER_FIELDS; k++) put_u32(&w, f[k]);
    put_str(&w, d->name ? d->name : "");
    if (d->kind == FSN_LAYER_CLIP) put_double(&w, d->clip_lo), put_double(&w, d->clip_hi);
  }
  if (w.oom) {
    free(w.buf);
    return fsn_fail(FSN_E_NOMEM, "architecture encoding");
  }
  *out = w.buf, *len = w.len;
  return FSN_OK;
}

/* The number of weights of a conv or fc layer reading tensor `in` of the model built so far (shapes only), or
 * SIZE_MAX for a layer too large to count in size_t. */
static size_t param_count(const fsn_model *m, const fsn_layer_desc *d) {
  fsn_shape s = fsn_model_tensor_shape(m, d->in);
  size_t per_out =
      d->kind == FSN_LAYER_CONV ? s.c / (d->groups > 1 ? d->groups : 1) * d->k_h * d->k_w : s.c * s.h * s.w;
  if (d->kind == FSN_LAYER_CONV && (d->k_h > (1u << 16) || d->k_w > (1u << 16))) return SIZE_MAX;
  return d->out_c && per_out > SIZE_MAX / 2 / d->out_c ? SIZE_MAX : d->out_c * per_out;
}

static size_t shape_size(fsn_shape s) { return s.h && s.w && s.c > SIZE_MAX / s.h / s.w ? SIZE_MAX : s.c * s.h * s.w; }

fsn_status fsn_card_arch_decode(fsn_model **out, const uint8_t *buf, size_t len) {
  reader r = {buf, len, false};
  *out = NULL;
  uint32_t c = get_u32(&r), h = get_u32(&r), w = get_u32(&r), layers = get_u32(&r);
  if (r.bad || layers > 4096) return fsn_fail(FSN_E_PROTOCOL, "model card: malformed architecture header");
  if (shape_size((fsn_shape){.c = c, .h = h, .w = w}) > FSN_CARD_MAX_TENSOR)
    return fsn_fail(FSN_E_UNSUPPORTED, "model card: a %ux%ux%u input is beyond the client's budget of %llu values", c,
                    h, w, (unsigned long long)FSN_CARD_MAX_TENSOR);
  fsn_model *m;
  fsn_status st = fsn_model_create_shapes(&m, c, h, w); /* no weight buffers: the client never reads them */
  if (st != FSN_OK) return fsn_fail(FSN_E_PROTOCOL, "model card: %s", fsn_last_error());
  size_t params = 0;
  for (uint32_t i = 0; i < layers && st == FSN_OK; i++) {
    const uint8_t *kind = take(&r, 1);
    uint32_t f[LAYER_FIELDS];
    for (int k = 0; k < LAYER_FIELDS; k++) f[k] = get_u32(&r);
    char name[128];
    get_str(&r, name, sizeof name);
    const double clip_lo = kind && *kind == FSN_LAYER_CLIP ? get_double(&r) : 0;
    const double clip_hi = kind && *kind == FSN_LAYER_CLIP ? get_double(&r) : 0;
    if (r.bad || !kind || *kind < FSN_LAYER_CONV || *kind > FSN_LAYER_CLIP) {
      st = fsn_fail(FSN_E_PROTOCOL, "model card: malformed layer %u", i);
      break;
    }
    fsn_layer_desc d = {.kind = (fsn_layer_kind)*kind,
                        .name = name,
                        .in = f[0],
                        .in2 = f[1],
                        .out_c = f[2],
                        .k_h = f[3],
                        .k_w = f[4],
                        .stride_h = f[5],
                        .stride_w = f[6],
                        .pad_h = f[7],
                        .pad_w = f[8],
                        .groups = f[9] & ~(OPT_CEIL | OPT_EXCLUDE),
                        .ceil_mode = f[9] & OPT_CEIL,
                        .exclude_pad = f[9] & OPT_EXCLUDE,
                        .clip_lo = clip_lo,
                        .clip_hi = clip_hi};
    if ((d.kind == FSN_LAYER_CONV || d.kind == FSN_LAYER_FC) && d.in <= i) {
      size_t count = param_count(m, &d);
      if (count > FSN_CARD_MAX_PARAMS - params) {
        st = fsn_fail(FSN_E_UNSUPPORTED,
                      "model card: layer '%s' takes the model beyond the client's budget of %llu "
                      "parameters",
                      name, (unsigned long long)FSN_CARD_MAX_PARAMS);
        break;
      }
      params += count;
    }
    size_t tensor;
    st = fsn_model_add(m, &d, &tensor);
    if (st != FSN_OK)
      st = fsn_fail(FSN_E_PROTOCOL, "model card: %s", fsn_last_error());
    else if (shape_size(fsn_model_tensor_shape(m, tensor)) > FSN_CARD_MAX_TENSOR)
      st = fsn_fail(FSN_E_UNSUPPORTED, "model card: layer '%s' outputs more than the client's budget of %llu values",
                    name, (unsigned long long)FSN_CARD_MAX_TENSOR);
  }
  if (st == FSN_OK && r.left) st = fsn_fail(FSN_E_PROTOCOL, "model card: %zu trailing bytes", r.left);
  if (st != FSN_OK) {
    fsn_model_destroy(m);
    return st;
  }
  *out = m;
  return FSN_OK;
}

/* ---- the card ---- */

fsn_status fsn_card_make(fsn_card *card, const fsn_model *m, const char *model_name, const fsn_sampleset *set,
                         bool commit, double claimed) {
  *card = (fsn_card){.ell = fsn_model_ell(m),
                     .scale = fsn_model_scale(m),
                     .set_count = set->images.count,
                     .claimed_accuracy = claimed};
  fsn_status st = fsn_model_hash(m, card->model_hash);
  if (st != FSN_OK) return st;
  snprintf(card->model_name, sizeof card->model_name, "%s", model_name);
  snprintf(card->set_name, sizeof card->set_name, "%s", set->name);
  snprintf(card->linear_backend, sizeof card->linear_backend, "%s", fsn_linear_backend_default(fsn_model_ell(m))->name);
  snprintf(card->ot, sizeof card->ot, "%s", fsn_ot_pack_resolve(NULL));
  memcpy(card->set_hash, set->set_hash, 32);
  if (!commit) return FSN_OK;
  /* Committed labels: what the fixed-point engine (= the secure run) predicts on every public sample. */
  size_t in_size = set->images.channels * set->images.rows * set->images.cols;
  fsn_shape os = fsn_model_output_shape(m);
  size_t out_size = os.c * os.h * os.w, chunk = 256, correct = 0;
  uint64_t *x = malloc(chunk * in_size * sizeof *x), *y = malloc(chunk * out_size * sizeof *y);
  card->predictions = malloc(set->images.count + 1);
  if (!x || !y || !card->predictions) st = fsn_fail(FSN_E_NOMEM, "committed labels for %zu samples", card->set_count);
  for (size_t b = 0; b < set->images.count && st == FSN_OK; b += chunk) {
    size_t k = set->images.count - b < chunk ? set->images.count - b : chunk;
    fsn_nn_pixels_to_fixed(x, set->images.pixels + b * in_size, k * in_size, card->ell, card->scale);
    if ((st = fsn_model_run_fixed(m, y, x, k, NULL)) != FSN_OK) break;
    for (size_t i = 0; i < k; i++) {
      card->predictions[b + i] = (uint8_t)fsn_nn_argmax_fixed(y + i * out_size, out_size, card->ell);
      correct += card->predictions[b + i] == set->labels[b + i];
    }
  }
  free(x), free(y);
  if (st != FSN_OK) {
    fsn_card_free(card);
    return st;
  }
  card->claimed_accuracy = (double)correct / (double)(set->images.count ? set->images.count : 1);
  return FSN_OK;
}

/* The card's optional preprocessing section (session.h): present only when the card declares some. */
static const uint8_t PREPROCESS_TAG = 'P';

static void put_preprocess(writer *w, const fsn_preprocess *p) {
  if (fsn_preprocess_is_none(p)) return;
  put(w, &PREPROCESS_TAG, 1);
  put_u32(w, p->resize), put_u32(w, p->crop_h), put_u32(w, p->crop_w), put_u32(w, p->channels);
  put_double(w, p->scale);
  for (int k = 0; k < 3; k++) put_double(w, p->mean[k]);
  for (int k = 0; k < 3; k++) put_double(w, p->std[k]);
}

static fsn_status get_preprocess(reader *r, fsn_preprocess *p) {
  *p = (fsn_preprocess){0};
  if (!r->left || *r->p != PREPROCESS_TAG) return FSN_OK; /* none: a card without the section */
  (void)take(r, 1);
  p->resize = get_u32(r), p->crop_h = get_u32(r), p->crop_w = get_u32(r), p->channels = get_u32(r);
  p->scale = get_double(r);
  for (int k = 0; k < 3; k++) p->mean[k] = get_double(r);
  for (int k = 0; k < 3; k++) p->std[k] = get_double(r);
  if (r->bad) return fsn_fail(FSN_E_PROTOCOL, "model card: the preprocessing section is cut short");
  if (fsn_preprocess_check(p) != FSN_OK) return fsn_fail(FSN_E_PROTOCOL, "model card: %s", fsn_last_error());
  return FSN_OK;
}

void fsn_card_free(fsn_card *card) {
  fsn_model_destroy(card->arch);
  free(card->predictions);
  *card = (fsn_card){0};
}

fsn_status fsn_card_send(fsn_channel *ch, const fsn_card *card, const fsn_model *m) {
  uint8_t *arch = NULL;
  size_t arch_len = 0;
  fsn_status st = fsn_card_arch_encode(m, &arch, &arch_len);
  if (st != FSN_OK) return st;
  writer w = {0};
  put(&w, card_magic, 8);
  put(&w, card->model_hash, 32);
  put_u32(&w, card->ell), put_u32(&w, card->scale);
  put_str(&w, card->model_name);
  put_u32(&w, arch_len);
  put(&w, arch, arch_len);
  put_str(&w, card->set_name);
  put(&w, card->set_hash, 32);
  put_u32(&w, card->set_count);
  uint64_t acc;
  memcpy(&acc, &card->claimed_accuracy, 8);
  put_u64(&w, acc);
  uint8_t committed = card->predictions != NULL;
  put(&w, &committed, 1);
  if (committed) put(&w, card->predictions, card->set_count);
  uint8_t reveal = (uint8_t)card->reveal;
  put(&w, &reveal, 1);
  put_str(&w, card->linear_backend);
  put_str(&w, card->ot);
  put_preprocess(&w, &card->preprocess);
  free(arch);
  if (w.oom) st = fsn_fail(FSN_E_NOMEM, "model card");
  uint8_t len[8];
  for (int i = 0; i < 8; i++) len[i] = (uint8_t)((uint64_t)w.len >> (8 * i));
  if (st == FSN_OK) st = fsn_channel_send(ch, len, 8);
  if (st == FSN_OK) st = fsn_channel_send(ch, w.buf, w.len);
  if (st == FSN_OK) st = fsn_channel_flush(ch);
  free(w.buf);
  return st;
}

static fsn_status parse_card(fsn_card *card, const uint8_t *buf, size_t n) {
  reader r = {buf, n, false};
  const uint8_t *magic = take(&r, 8), *hash = take(&r, 32);
  if (!magic || memcmp(magic, card_magic, 8)) return fsn_fail(FSN_E_PROTOCOL, "model card: bad magic");
  if (!hash) return fsn_fail(FSN_E_PROTOCOL, "model card: cut short");
  memcpy(card->model_hash, hash, 32);
  card->ell = get_u32(&r), card->scale = get_u32(&r);
  get_str(&r, card->model_name, sizeof card->model_name);
  uint32_t arch_len = get_u32(&r);
  const uint8_t *arch = arch_len <= ARCH_MAX ? take(&r, arch_len) : NULL;
  get_str(&r, card->set_name, sizeof card->set_name);
  const uint8_t *set_hash = take(&r, 32);
  card->set_count = get_u32(&r);
  uint64_t acc = get_u64(&r);
  memcpy(&card->claimed_accuracy, &acc, 8);
  const uint8_t *committed = take(&r, 1);
  if (r.bad || !arch || !committed || card->ell < 2 || card->ell > 64 || card->scale >= card->ell ||
      card->set_count > SET_MAX || !(card->claimed_accuracy >= 0 && card->claimed_accuracy <= 1) || *committed > 1)
    return fsn_fail(FSN_E_PROTOCOL, "model card: malformed or out-of-range fields");
  memcpy(card->set_hash, set_hash, 32);
  if (*committed) {
    const uint8_t *labels = take(&r, card->set_count);
    if (!labels) return fsn_fail(FSN_E_PROTOCOL, "model card: committed labels cut short");
    if (!(card->predictions = malloc(card->set_count + 1))) return fsn_fail(FSN_E_NOMEM, "committed labels");
    memcpy(card->predictions, labels, card->set_count);
  }
  const uint8_t *reveal = take(&r, 1);
  if (!reveal || (*reveal != FSN_REVEAL_LABEL && *reveal != FSN_REVEAL_LOGITS))
    return fsn_fail(FSN_E_PROTOCOL, "model card: the reveal policy must be 'label' or 'logits'");
  card->reveal = (fsn_reveal)*reveal;
  get_str(&r, card->linear_backend, sizeof card->linear_backend);
  if (r.bad) return fsn_fail(FSN_E_PROTOCOL, "model card: the linear backend's name is missing or too long");
  if (!card->linear_backend[0] || !fsn_linear_backend_find(card->linear_backend))
    return fsn_fail(FSN_E_UNSUPPORTED, "model card: the server runs a linear backend this client does not know");
  get_str(&r, card->ot, sizeof card->ot);
  if (r.bad) return fsn_fail(FSN_E_PROTOCOL, "model card: the OT pack's name is missing or too long");
  if (!card->ot[0] || !fsn_ot_pack_resolve(card->ot) || strcmp(fsn_ot_pack_resolve(card->ot), card->ot))
    return fsn_fail(FSN_E_UNSUPPORTED, "model card: the server runs an OT pack this client does not know");
  fsn_status st = get_preprocess(&r, &card->preprocess);
  if (st != FSN_OK) return st;
  if (r.left) return fsn_fail(FSN_E_PROTOCOL, "model card: %zu trailing bytes", r.left);
  return fsn_card_arch_decode(&card->arch, arch, arch_len);
}

fsn_status fsn_card_recv(fsn_channel *ch, fsn_card *card) {
  *card = (fsn_card){0};
  uint8_t len[8];
  fsn_status st = fsn_channel_recv(ch, len, 8);
  if (st != FSN_OK) return st;
  uint64_t n = 0;
  for (int i = 0; i < 8; i++) n |= (uint64_t)len[i] << (8 * i);
  if (n < CARD_MIN) return fsn_fail(FSN_E_PROTOCOL, "model card of %llu bytes is too short", (unsigned long long)n);
  if (n > CARD_MAX)
    return fsn_fail(FSN_E_PROTOCOL, "model card of %llu bytes is above the %d-byte limit", (unsigned long long)n,
                    CARD_MAX);
  uint8_t *buf = malloc(n + 1);
  if (!buf) return fsn_fail(FSN_E_NOMEM, "model card of %llu bytes", (unsigned long long)n);
  if ((st = fsn_channel_recv(ch, buf, n)) == FSN_OK) st = parse_card(card, buf, n);
  free(buf);
  if (st != FSN_OK) fsn_card_free(card);
  return st;
}

/* ---- the batch ---- */

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Create the context, run the batch, reveal to the client what the policy allows (the logits, or only each row's
 * label: the argmax runs inside the protocol); shared by both roles. */
static fsn_status run_batch(fsn_channel *const *chs, size_t T, fsn_role role, const fsn_model *m, unsigned ell,
                            unsigned scale, fsn_reveal reveal, const uint64_t *inputs, size_t n, uint64_t *outputs,
                            const fsn_secure_opts *opts, fsn_cost *total) {
  fsn_shape os = fsn_model_output_shape(m);
  size_t dim = os.c * os.h * os.w, out_n = n * dim;
  double t0 = now();
  fsn_2pc *p;
  const fsn_2pc_options po = {.ot = opts ? opts->ot : NULL};
  fsn_status st = fsn_2pc_create(&p, chs, T, role, ell, scale, &po);
  if (st != FSN_OK) return st;
  uint64_t *share = malloc((out_n + 1) * sizeof *share);
  if (!share) st = fsn_fail(FSN_E_NOMEM, "outputs of %zu values", out_n);
  if (st == FSN_OK) st = fsn_secure_run(p, m, share, inputs, n, opts, NULL);
  if (st == FSN_OK)
    st = reveal == FSN_REVEAL_LOGITS ? fsn_2pc_reveal(p, outputs, share, out_n, FSN_ROLE_CLIENT)
                                     : fsn_nl_argmax(p, outputs, share, n, dim);
  if (total) {
    fsn_counters after;
    fsn_2pc_counters(p, &after);
    *total = (fsn_cost){
        .seconds = now() - t0, .bytes_sent = after.bytes_sent, .bytes_recv = after.bytes_recv, .rounds = after.rounds};
  }
  free(share);
  fsn_2pc_destroy(p);
  return st;
}

/* A name field of a batch request (width bytes, zero padded), checked against this party's choice of `what`: a clear
 * refusal, whatever the bytes. */
static fsn_status check_name(const uint8_t *field, size_t width, const char *own, const char *what) {
  char name[32] = {0};
  bool printable = true;
  for (size_t i = 0; i < width && i + 1 < sizeof name && field[i]; i++)
    name[i] = (char)field[i], printable &= field[i] >= 0x21 && field[i] < 0x7f;
  if (printable && !strcmp(name, own)) return FSN_OK;
  return fsn_fail(FSN_E_MISMATCH, "the client asked for the %s '%s'; this server runs '%s'", what,
                  printable ? name : "(unprintable)", own);
}

/* Offsets of the batch request's name fields. */
enum { REQUEST_BACKEND = 10, REQUEST_OT = REQUEST_BACKEND + FSN_LINEAR_BACKEND_NAME_MAX };

/* Copy a name into a zero-padded field of the request (names are shorter than their field). */
static void put_name(uint8_t *field, size_t width, const char *name) {
  const size_t len = strlen(name);
  memcpy(field, name, len < width ? len : width);
}

fsn_status fsn_session_serve_batch_reveal(fsn_channel *const *chs, size_t T, const fsn_model *m, size_t max_batch,
                                          fsn_reveal reveal, const fsn_secure_opts *opts, fsn_cost *total,
                                          fsn_verdict *verdict, size_t *batch) {
  uint8_t b[FSN_BATCH_REQUEST_BYTES];
  *verdict = FSN_VERDICT_FAIL;
  if (batch) *batch = 0;
  fsn_status st = fsn_channel_recv(chs[0], b, sizeof b);
  if (st != FSN_OK) return st;
  uint64_t n = 0;
  for (int i = 0; i < 8; i++) n |= (uint64_t)b[i] << (8 * i);
  if (n == 0 || n > max_batch)
    return fsn_fail(FSN_E_PROTOCOL, "client asked for a batch of %llu (this server takes 1 .. %zu)",
                    (unsigned long long)n, max_batch);
  if (b[8] != FSN_TRUNC_EXACT && b[8] != FSN_TRUNC_APPROX)
    return fsn_fail(FSN_E_PROTOCOL, "client asked for truncation mode %u", b[8]);
  if (b[9] > fsn_model_ell(m))
    return fsn_fail(FSN_E_PROTOCOL, "client declared %u-bit inputs (ell is %u)", b[9], fsn_model_ell(m));
  const fsn_linear_backend *own = fsn_linear_backend_resolve(opts ? opts->linear_backend : NULL, fsn_model_ell(m));
  if (!own) return fsn_fail(FSN_E_INVALID, "server: unknown linear backend '%s'", opts->linear_backend);
  const char *own_ot = fsn_ot_pack_resolve(opts ? opts->ot : NULL);
  if (!own_ot) return fsn_fail(FSN_E_INVALID, "server: unknown OT pack '%s'", opts->ot);
  if ((st = check_name(b + REQUEST_BACKEND, FSN_LINEAR_BACKEND_NAME_MAX, own->name, "linear backend")) != FSN_OK ||
      (st = check_name(b + REQUEST_OT, FSN_OT_PACK_NAME_MAX, own_ot, "OT pack")) != FSN_OK)
    return st;
  if (batch) *batch = (size_t)n;
  fsn_secure_opts o = opts ? *opts : (fsn_secure_opts){0};
  o.trunc = (fsn_trunc_mode)b[8];
  o.input_bits = b[9];
  o.ot = own_ot;
  st = run_batch(chs, T, FSN_ROLE_SERVER, m, fsn_model_ell(m), fsn_model_scale(m), reveal, NULL, n, NULL, &o, total);
  uint8_t v;
  if (st == FSN_OK && (st = fsn_channel_recv(chs[0], &v, 1)) == FSN_OK) {
    if (v > FSN_VERDICT_SILENT) return fsn_fail(FSN_E_PROTOCOL, "client verdict byte %u", v);
    *verdict = (fsn_verdict)v;
  }
  return st;
}

fsn_status fsn_session_serve_batch(fsn_channel *const *chs, size_t T, const fsn_model *m, size_t max_batch,
                                   const fsn_secure_opts *opts, fsn_cost *total, bool *passed) {
  fsn_verdict v;
  fsn_status st = fsn_session_serve_batch_reveal(chs, T, m, max_batch, FSN_REVEAL_LOGITS, opts, total, &v, NULL);
  *passed = st == FSN_OK && v == FSN_VERDICT_PASS;
  return st;
}

fsn_status fsn_session_client_batch_reveal(fsn_channel *const *chs, size_t T, const fsn_card *card, fsn_reveal reveal,
                                           const uint64_t *inputs, size_t n, uint64_t *outputs,
                                           const fsn_secure_opts *opts, fsn_cost *total) {
  uint8_t b[FSN_BATCH_REQUEST_BYTES] = {0};
  for (int i = 0; i < 8; i++) b[i] = (uint8_t)((uint64_t)n >> (8 * i));
  b[8] = (uint8_t)(opts ? opts->trunc : FSN_TRUNC_EXACT);
  b[9] = (uint8_t)(opts && opts->input_bits <= card->ell ? opts->input_bits : 0);
  /* the client's backend and OT pack, or the card's */
  const char *asked =
      opts && opts->linear_backend && *opts->linear_backend ? opts->linear_backend : card->linear_backend;
  const char *asked_ot = opts && opts->ot && *opts->ot ? opts->ot : card->ot;
  put_name(b + REQUEST_BACKEND, FSN_LINEAR_BACKEND_NAME_MAX, asked);
  put_name(b + REQUEST_OT, FSN_OT_PACK_NAME_MAX, asked_ot);
  fsn_status st = fsn_channel_send(chs[0], b, sizeof b);
  if (st == FSN_OK) st = fsn_channel_flush(chs[0]);
  if (st != FSN_OK) return st;
  const fsn_linear_backend *mine = fsn_linear_backend_find(asked),
                           *theirs = fsn_linear_backend_find(card->linear_backend);
  if (!mine || mine != theirs)
    return fsn_fail(FSN_E_MISMATCH, "this client asked for the linear backend '%s'; the server's card states '%s'",
                    asked, card->linear_backend);
  if (strcmp(asked_ot, card->ot))
    return fsn_fail(FSN_E_MISMATCH, "this client asked for the OT pack '%s'; the server's card states '%s'", asked_ot,
                    card->ot);
  fsn_secure_opts o = opts ? *opts : (fsn_secure_opts){0};
  o.linear_backend = card->linear_backend;
  o.ot = card->ot;
  return run_batch(chs, T, FSN_ROLE_CLIENT, card->arch, card->ell, card->scale, reveal, inputs, n, outputs, &o, total);
}

fsn_status fsn_session_client_batch(fsn_channel *const *chs, size_t T, const fsn_card *card, const uint64_t *inputs,
                                    size_t n, uint64_t *outputs, const fsn_secure_opts *opts, fsn_cost *total) {
  return fsn_session_client_batch_reveal(chs, T, card, FSN_REVEAL_LOGITS, inputs, n, outputs, opts, total);
}

fsn_status fsn_session_send_verdict(fsn_channel *ch, fsn_verdict verdict) {
  uint8_t v = (uint8_t)verdict;
  fsn_status st = fsn_channel_send(ch, &v, 1);
  return st == FSN_OK ? fsn_channel_flush(ch) : st;
}

fsn_status fsn_session_verdict(fsn_channel *ch, bool passed) {
  return fsn_session_send_verdict(ch, passed ? FSN_VERDICT_PASS : FSN_VERDICT_FAIL);
}

/* ---- the report after the verdict ---- */

uint64_t fsn_session_peak_rss(void) {
  struct rusage u;
  return getrusage(RUSAGE_SELF, &u) == 0 && u.ru_maxrss > 0 ? (uint64_t)u.ru_maxrss * 1024 : 0; /* Linux: KiB */
}

fsn_status fsn_session_send_report(fsn_channel *ch) {
  const uint64_t rss = fsn_session_peak_rss();
  uint8_t b[8];
  for (int i = 0; i < 8; i++) b[i] = (uint8_t)(rss >> (8 * i));
  fsn_status st = fsn_channel_send(ch, b, sizeof b);
  return st == FSN_OK ? fsn_channel_flush(ch) : st;
}

fsn_status fsn_session_recv_report(fsn_channel *ch, uint64_t *server_peak_rss) {
  uint8_t b[8];
  *server_peak_rss = 0;
  fsn_status st = fsn_channel_recv(ch, b, sizeof b);
  if (st != FSN_OK) return st;
  uint64_t rss = 0;
  for (int i = 0; i < 8; i++) rss |= (uint64_t)b[i] << (8 * i);
  if (rss > FSN_SESSION_PEAK_RSS_MAX)
    return fsn_fail(FSN_E_PROTOCOL, "the server reported a peak RSS of %llu bytes (at most %llu)",
                    (unsigned long long)rss, (unsigned long long)FSN_SESSION_PEAK_RSS_MAX);
  *server_peak_rss = rss;
  return FSN_OK;
}
