/* IDX files (gzip through zlib) and the public check-sample set format (docs/FORMATS.md). */
#include <fusion/sampleset.h>

#include <errno.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define IDX_IMAGES     0x00000803u
#define IDX_LABELS     0x00000801u
#define MAX_COUNT      ((size_t)1 << 24)
#define MAX_SIDE       4096
#define MAX_BYTES      ((size_t)1 << 31)
#define SET_MAGIC      "FSNSAMP1"
#define SET_VERSION    1u
#define SET_HEADER_LEN 38

/* ---- IDX ---- */

/* Read exactly n bytes (gzread takes unsigned counts, so in chunks); a short read is a truncated file. */
static fsn_status gz_exact(gzFile f, void *buf, size_t n, const char *path, const char *what) {
  uint8_t *p = buf;
  size_t done = 0;
  while (done < n) {
    unsigned chunk = n - done > (1u << 30) ? (1u << 30) : (unsigned)(n - done);
    int got = gzread(f, p + done, chunk);
    if (got <= 0) {
      int err;
      const char *msg = gzerror(f, &err);
      return fsn_fail(FSN_E_FORMAT, "'%s': truncated %s: %zu of %zu bytes (%s)", path, what, done, n,
                      got < 0 && msg ? msg : "end of file");
    }
    done += (size_t)got;
  }
  return FSN_OK;
}

static uint32_t be32(const uint8_t *b) {
  return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

/* Open, check the magic, read `ndims` dimensions. */
static fsn_status idx_open(gzFile *f, const char *path, uint32_t magic, uint32_t *dims, int ndims) {
  *f = gzopen(path, "rb");
  if (!*f) return fsn_fail(FSN_E_IO, "cannot open '%s': %s", path, errno ? strerror(errno) : "gzopen failed");
  uint8_t hdr[16];
  fsn_status st = gz_exact(*f, hdr, 4 + 4 * (size_t)ndims, path, "IDX header");
  if (st == FSN_OK && be32(hdr) != magic)
    st = fsn_fail(FSN_E_FORMAT, "'%s': IDX magic 0x%08x, expected 0x%08x (%s)", path, be32(hdr), magic,
                  magic == IDX_IMAGES ? "unsigned-byte images, 3 dimensions" : "unsigned-byte labels, 1 dimension");
  for (int i = 0; st == FSN_OK && i < ndims; i++) dims[i] = be32(hdr + 4 + 4 * i);
  if (st != FSN_OK) {
    gzclose(*f);
    *f = NULL;
  }
  return st;
}

/* After the payload the file must end. */
static fsn_status idx_close(gzFile f, const char *path) {
  uint8_t extra;
  int got = gzread(f, &extra, 1);
  gzclose(f);
  if (got != 0)
    return fsn_fail(FSN_E_FORMAT, "'%s': %s after the IDX payload", path,
                    got > 0 ? "trailing bytes" : "corrupt compressed data");
  return FSN_OK;
}

fsn_status fsn_idx_read_images(fsn_images *out, const char *path) {
  memset(out, 0, sizeof *out);
  gzFile f;
  uint32_t d[3];
  fsn_status st = idx_open(&f, path, IDX_IMAGES, d, 3);
  if (st != FSN_OK) return st;
  if (d[0] < 1 || d[0] > MAX_COUNT || d[1] < 1 || d[1] > MAX_SIDE || d[2] < 1 || d[2] > MAX_SIDE ||
      (size_t)d[0] * d[1] * d[2] > MAX_BYTES) {
    gzclose(f);
    return fsn_fail(FSN_E_FORMAT, "'%s': IDX images %u x %u x %u out of range", path, d[0], d[1], d[2]);
  }
  size_t bytes = (size_t)d[0] * d[1] * d[2];
  uint8_t *px = malloc(bytes);
  if (!px) {
    gzclose(f);
    return fsn_fail(FSN_E_NOMEM, "'%s': out of memory for %zu bytes", path, bytes);
  }
  st = gz_exact(f, px, bytes, path, "image data");
  if (st == FSN_OK)
    st = idx_close(f, path);
  else
    gzclose(f);
  if (st != FSN_OK) {
    free(px);
    return st;
  }
  *out = (fsn_images){d[0], 1, d[1], d[2], px};
  return FSN_OK;
}

fsn_status fsn_idx_read_labels(fsn_labels *out, const char *path) {
  memset(out, 0, sizeof *out);
  gzFile f;
  uint32_t n;
  fsn_status st = idx_open(&f, path, IDX_LABELS, &n, 1);
  if (st != FSN_OK) return st;
  if (n < 1 || n > MAX_COUNT) {
    gzclose(f);
    return fsn_fail(FSN_E_FORMAT, "'%s': IDX label count %u out of range", path, n);
  }
  uint8_t *l = malloc(n);
  if (!l) {
    gzclose(f);
    return fsn_fail(FSN_E_NOMEM, "'%s': out of memory", path);
  }
  st = gz_exact(f, l, n, path, "labels");
  if (st == FSN_OK)
    st = idx_close(f, path);
  else
    gzclose(f);
  if (st != FSN_OK) {
    free(l);
    return st;
  }
  *out = (fsn_labels){n, l};
  return FSN_OK;
}

void fsn_idx_images_free(fsn_images *im) {
  free(im->pixels);
  memset(im, 0, sizeof *im);
}

void fsn_idx_labels_free(fsn_labels *l) {
  free(l->labels);
  memset(l, 0, sizeof *l);
}

/* ---- public check-sample sets ---- */

static void put_le(uint8_t *p, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; i++) p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_le(const uint8_t *p, int bytes) {
  uint64_t v = 0;
  for (int i = bytes - 1; i >= 0; i--) v = v << 8 | p[i];
  return v;
}

static void set_header(uint8_t h[SET_HEADER_LEN], const fsn_sampleset *s, uint32_t flags) {
  memcpy(h, SET_MAGIC, 8);
  put_le(h + 8, SET_VERSION, 4);
  put_le(h + 12, flags, 4);
  put_le(h + 16, s->images.count, 8);
  put_le(h + 24, s->images.channels, 4);
  put_le(h + 28, s->images.rows, 4);
  put_le(h + 32, s->images.cols, 4);
  put_le(h + 36, strlen(s->name), 2);
}

static size_t set_pixels(const fsn_sampleset *s) {
  return s->images.count * s->images.channels * s->images.rows * s->images.cols;
}

void fsn_sampleset_hash(const fsn_sampleset *s, uint8_t out[32]) {
  uint8_t h[SET_HEADER_LEN];
  set_header(h, s, 0);
  crypto_hash_sha256_state st;
  crypto_hash_sha256_init(&st);
  crypto_hash_sha256_update(&st, h, sizeof h);
  crypto_hash_sha256_update(&st, (const uint8_t *)s->name, strlen(s->name));
  crypto_hash_sha256_update(&st, s->images.pixels, set_pixels(s));
  crypto_hash_sha256_update(&st, s->labels, s->images.count);
  crypto_hash_sha256_final(&st, out);
}

/* SHA-256(set_hash || predictions): binds the committed predictions to the set. */
static void predictions_hash(const fsn_sampleset *s, uint8_t out[32]) {
  crypto_hash_sha256_state st;
  crypto_hash_sha256_init(&st);
  crypto_hash_sha256_update(&st, s->set_hash, 32);
  crypto_hash_sha256_update(&st, s->predictions, s->images.count);
  crypto_hash_sha256_final(&st, out);
}

static bool set_dims_ok(size_t count, size_t c, size_t r, size_t w) {
  return count >= 1 && count <= MAX_COUNT && c >= 1 && c <= 4 && r >= 1 && r <= MAX_SIDE && w >= 1 && w <= MAX_SIDE &&
         count * c * r * w <= MAX_BYTES;
}

fsn_status fsn_sampleset_build(fsn_sampleset *out, const char *name, const fsn_images *images, const fsn_labels *labels,
                               const size_t *index, size_t n, const uint8_t *predictions) {
  memset(out, 0, sizeof *out);
  size_t img = images->channels * images->rows * images->cols;
  if (strlen(name) > 255) return fsn_fail(FSN_E_INVALID, "sample set name of %zu bytes (limit 255)", strlen(name));
  if (!set_dims_ok(n, images->channels, images->rows, images->cols))
    return fsn_fail(FSN_E_INVALID, "sample set of %zu images %zux%zux%zu out of range", n, images->channels,
                    images->rows, images->cols);
  for (size_t i = 0; i < n; i++)
    if (index[i] >= images->count || index[i] >= labels->count)
      return fsn_fail(FSN_E_INVALID, "sample set: index %zu out of range (%zu images, %zu labels)", index[i],
                      images->count, labels->count);
  out->images = (fsn_images){n, images->channels, images->rows, images->cols, malloc(n * img)};
  out->labels = malloc(n);
  out->predictions = predictions ? malloc(n) : NULL;
  if (!out->images.pixels || !out->labels || (predictions && !out->predictions)) {
    fsn_sampleset_free(out);
    return fsn_fail(FSN_E_NOMEM, "sample set: out of memory");
  }
  snprintf(out->name, sizeof out->name, "%s", name);
  for (size_t i = 0; i < n; i++) {
    memcpy(out->images.pixels + i * img, images->pixels + index[i] * img, img);
    out->labels[i] = labels->labels[index[i]];
  }
  if (predictions) memcpy(out->predictions, predictions, n);
  fsn_sampleset_hash(out, out->set_hash);
  return FSN_OK;
}

fsn_status fsn_sampleset_write(const fsn_sampleset *s, const char *path) {
  FILE *f = fopen(path, "wb");
  if (!f) return fsn_fail(FSN_E_IO, "cannot create '%s': %s", path, strerror(errno));
  uint8_t h[SET_HEADER_LEN], ph[32];
  set_header(h, s, s->predictions ? 1u : 0u);
  bool ok = fwrite(h, 1, sizeof h, f) == sizeof h && fwrite(s->name, 1, strlen(s->name), f) == strlen(s->name) &&
            fwrite(s->images.pixels, 1, set_pixels(s), f) == set_pixels(s) &&
            fwrite(s->labels, 1, s->images.count, f) == s->images.count;
  if (ok && s->predictions) ok = fwrite(s->predictions, 1, s->images.count, f) == s->images.count;
  ok = ok && fwrite(s->set_hash, 1, 32, f) == 32;
  if (ok && s->predictions) {
    predictions_hash(s, ph);
    ok = fwrite(ph, 1, 32, f) == 32;
  }
  if (fclose(f) != 0) ok = false;
  return ok ? FSN_OK : fsn_fail(FSN_E_IO, "writing '%s' failed: %s", path, strerror(errno));
}

static fsn_status read_exact(FILE *f, void *buf, size_t n, const char *path, const char *what) {
  size_t got = fread(buf, 1, n, f);
  if (got != n) return fsn_fail(FSN_E_FORMAT, "'%s': truncated %s (%zu of %zu bytes)", path, what, got, n);
  return FSN_OK;
}

static fsn_status read_body(fsn_sampleset *s, FILE *f, const char *path) {
  uint8_t h[SET_HEADER_LEN], stored[32], want[32];
  fsn_status st = read_exact(f, h, sizeof h, path, "header");
  if (st != FSN_OK) return st;
  if (memcmp(h, SET_MAGIC, 8) || get_le(h + 8, 4) != SET_VERSION)
    return fsn_fail(FSN_E_FORMAT, "'%s': not a sample set (magic or version %u wrong)", path,
                    (unsigned)get_le(h + 8, 4));
  uint32_t flags = (uint32_t)get_le(h + 12, 4);
  size_t count = get_le(h + 16, 8), c = get_le(h + 24, 4), r = get_le(h + 28, 4), w = get_le(h + 32, 4);
  size_t name_len = get_le(h + 36, 2);
  if (flags > 1 || name_len > 255 || !set_dims_ok(count, c, r, w))
    return fsn_fail(FSN_E_FORMAT, "'%s': header out of range (flags %u, %zu images %zux%zux%zu, name %zu bytes)", path,
                    flags, count, c, r, w, name_len);
  if ((st = read_exact(f, s->name, name_len, path, "name")) != FSN_OK) return st;
  s->name[name_len] = 0;
  if (strlen(s->name) != name_len) return fsn_fail(FSN_E_FORMAT, "'%s': name contains a NUL byte", path);
  s->images = (fsn_images){count, c, r, w, malloc(count * c * r * w)};
  s->labels = malloc(count);
  s->predictions = flags ? malloc(count) : NULL;
  if (!s->images.pixels || !s->labels || (flags && !s->predictions))
    return fsn_fail(FSN_E_NOMEM, "'%s': out of memory", path);
  if ((st = read_exact(f, s->images.pixels, set_pixels(s), path, "pixels")) != FSN_OK ||
      (st = read_exact(f, s->labels, count, path, "labels")) != FSN_OK ||
      (flags && (st = read_exact(f, s->predictions, count, path, "predictions")) != FSN_OK) ||
      (st = read_exact(f, s->set_hash, 32, path, "set hash")) != FSN_OK)
    return st;
  fsn_sampleset_hash(s, want);
  if (sodium_memcmp(want, s->set_hash, 32))
    return fsn_fail(FSN_E_FORMAT, "'%s': set hash does not match the contents (corrupt file)", path);
  if (flags) {
    if ((st = read_exact(f, stored, 32, path, "predictions hash")) != FSN_OK) return st;
    predictions_hash(s, want);
    if (sodium_memcmp(want, stored, 32))
      return fsn_fail(FSN_E_FORMAT, "'%s': predictions hash does not match (corrupt file)", path);
  }
  if (fgetc(f) != EOF) return fsn_fail(FSN_E_FORMAT, "'%s': trailing bytes after the sample set", path);
  return FSN_OK;
}

fsn_status fsn_sampleset_read(fsn_sampleset *out, const char *path) {
  memset(out, 0, sizeof *out);
  FILE *f = fopen(path, "rb");
  if (!f) return fsn_fail(FSN_E_IO, "cannot open '%s': %s", path, strerror(errno));
  fsn_status st = read_body(out, f, path);
  fclose(f);
  if (st != FSN_OK) fsn_sampleset_free(out);
  return st;
}

void fsn_sampleset_free(fsn_sampleset *s) {
  free(s->images.pixels);
  free(s->labels);
  free(s->predictions);
  memset(s, 0, sizeof *s);
}
