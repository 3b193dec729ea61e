#include "apps/common.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

fsn_status fsn_app_load_model(fsn_model **m, const char *spec, unsigned long long seed) {
  if (!strncmp(spec, "builtin:", 8)) return fsn_model_builtin(m, spec + 8, seed);
  return fsn_model_load_onnx(m, spec);
}

fsn_status fsn_app_model_preprocess(fsn_preprocess *out, const char *model, const char *spec) {
  if (spec) return fsn_preprocess_parse(spec, out);
  if (!strncmp(model, "builtin:", 8)) return fsn_preprocess_parse("none", out);
  return fsn_preprocess_load_sidecar(model, out);
}

fsn_status fsn_app_preprocess_input(fsn_tensor *t, const fsn_preprocess *p, bool given) {
  if (fsn_preprocess_is_none(p) || !(t->image || given)) return FSN_OK;
  return fsn_preprocess_apply(t, p);
}

bool fsn_app_parse_uint(const char *s, unsigned long long max, unsigned long long *out) {
  char *end;
  if (!s || !*s || *s == '-' || *s == '+') return false;
  *out = strtoull(s, &end, 10);
  return *end == 0 && *out <= max;
}

/* One "A" or "A-B" item of a list. */
static bool parse_range(const char *item, size_t limit, size_t *lo, size_t *hi) {
  char buf[64];
  unsigned long long a, b;
  if (strlen(item) >= sizeof buf) return false;
  strcpy(buf, item);
  char *dash = strchr(buf, '-');
  if (dash) *dash = 0;
  if (!fsn_app_parse_uint(buf, limit ? limit - 1 : 0, &a)) return false;
  b = a;
  if (dash && !fsn_app_parse_uint(dash + 1, limit ? limit - 1 : 0, &b)) return false;
  if (b < a) return false;
  *lo = a, *hi = b;
  return true;
}

fsn_status fsn_app_parse_indices(const char *list, size_t limit, size_t max, size_t **out, size_t *n) {
  *out = NULL, *n = 0;
  char *copy = strdup(list ? list : "");
  size_t *v = malloc((max + 1) * sizeof *v);
  fsn_status st = copy && v ? FSN_OK : fsn_fail(FSN_E_NOMEM, "index list");
  char *save = NULL;
  for (char *item = copy ? strtok_r(copy, ",", &save) : NULL; item && st == FSN_OK; item = strtok_r(NULL, ",", &save)) {
    size_t lo, hi;
    if (!parse_range(item, limit, &lo, &hi)) {
      st = fsn_fail(FSN_E_INVALID, "bad index '%s' (expected N or A-B with indices below %zu)", item, limit);
      break;
    }
    for (size_t i = lo; i <= hi && st == FSN_OK; i++) {
      if (*n == max)
        st = fsn_fail(FSN_E_INVALID, "more than %zu indices", max);
      else
        v[(*n)++] = i;
    }
  }
  if (st == FSN_OK && *n == 0) st = fsn_fail(FSN_E_INVALID, "empty index list");
  free(copy);
  if (st != FSN_OK) {
    free(v);
    *n = 0;
    return st;
  }
  *out = v;
  return FSN_OK;
}

fsn_status fsn_app_public_set(fsn_sampleset *set, const fsn_images *im, const fsn_labels *lb, const char *range) {
  size_t *idx, n;
  fsn_status st = fsn_app_parse_indices(range, im->count < lb->count ? im->count : lb->count, 1u << 20, &idx, &n);
  if (st != FSN_OK) return st;
  char name[256];
  snprintf(name, sizeof name, "fashion-mnist-test:%s", range);
  st = fsn_sampleset_build(set, name, im, lb, idx, n, NULL);
  free(idx);
  return st;
}

fsn_status fsn_app_random_images(fsn_images *im, fsn_shape in, size_t n, uint64_t seed) {
  const size_t size = in.c * in.h * in.w;
  *im = (fsn_images){n, in.c, in.h, in.w, malloc(n * size + 1)};
  if (!im->pixels) return fsn_fail(FSN_E_NOMEM, "%zu random images of %zu values", n, size);
  uint64_t x = seed ^ 0x5eed;
  for (size_t i = 0; i < n * size; i++) {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    im->pixels[i] = (uint8_t)(x >> 56);
  }
  return FSN_OK;
}

fsn_status fsn_app_random_public_set(fsn_sampleset *set, fsn_shape in, const char *range, uint64_t seed) {
  size_t *idx, n, count = 0;
  if (fsn_app_parse_indices(range, FSN_APP_RANDOM_SET_MAX, FSN_APP_RANDOM_SET_MAX, &idx, &n) != FSN_OK)
    return fsn_fail(FSN_E_INVALID, "--images random: --public '%s' must pick among the first %d images (e.g. 0-15)",
                    range, FSN_APP_RANDOM_SET_MAX);
  for (size_t i = 0; i < n; i++) count = idx[i] + 1 > count ? idx[i] + 1 : count;
  fsn_images im = {0};
  fsn_labels lb = {count, calloc(count + 1, 1)};
  fsn_status st = lb.labels ? fsn_app_random_images(&im, in, count, seed) : fsn_fail(FSN_E_NOMEM, "labels");
  char name[256];
  snprintf(name, sizeof name, "random-pixels:%zux%zux%zu:seed %llu:%s", in.c, in.h, in.w, (unsigned long long)seed,
           range);
  if (st == FSN_OK) st = fsn_sampleset_build(set, name, &im, &lb, idx, n, NULL);
  fsn_idx_images_free(&im);
  fsn_idx_labels_free(&lb);
  free(idx);
  return st;
}

fsn_status fsn_app_random_public_set_named(fsn_sampleset *set, fsn_shape in, const char *name) {
  size_t c, h, w;
  unsigned long long seed;
  char range[128];
  int end = 0;
  if (sscanf(name, "random-pixels:%zux%zux%zu:seed %llu:%127[0-9,-]%n", &c, &h, &w, &seed, range, &end) != 5 ||
      name[end])
    return fsn_fail(FSN_E_MISMATCH,
                    "the server's public set is '%s', not seeded random images (--images random needs a server run "
                    "with --images random)",
                    name);
  if (c != in.c || h != in.h || w != in.w)
    return fsn_fail(FSN_E_MISMATCH,
                    "the server's random public set holds %zux%zux%zu images, the model takes %zux%zux%zu", c, h, w,
                    in.c, in.h, in.w);
  return fsn_app_random_public_set(set, in, range, seed);
}

fsn_status fsn_app_channel_opts(fsn_channel_opts *o, const char *net, unsigned timeout_s) {
  *o = (fsn_channel_opts){.timeout_ms = (int)(timeout_s * 1000)};
  return net ? fsn_link_parse(net, &o->link) : FSN_OK;
}

double fsn_app_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void fsn_app_json_string(FILE *out, const char *s) {
  fputc('"', out);
  for (; *s; s++) {
    if (*s == '"' || *s == '\\')
      fprintf(out, "\\%c", *s);
    else if ((unsigned char)*s < 0x20)
      fprintf(out, "\\u%04x", (unsigned char)*s);
    else
      fputc(*s, out);
  }
  fputc('"', out);
}

/* Digit by digit rather than sprintf per byte, which GCC's sanitizer builds flag as writing through NULL. */
void fsn_app_hex(char *out, const uint8_t *bytes, size_t n) {
  static const char digits[] = "0123456789abcdef";
  for (size_t i = 0; i < n; i++) out[2 * i] = digits[bytes[i] >> 4], out[2 * i + 1] = digits[bytes[i] & 15];
  out[2 * n] = 0;
}

void fsn_app_json_signed(FILE *out, const uint64_t *v, size_t n, unsigned ell) {
  fputc('[', out);
  for (size_t i = 0; i < n; i++)
    fprintf(out, "%s%lld", i ? ", " : "", (long long)((int64_t)(v[i] << (64 - ell)) >> (64 - ell)));
  fputc(']', out);
}
