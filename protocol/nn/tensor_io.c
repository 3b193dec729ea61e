/* Input tensors from files (include/fusion/nn.h): NumPy .npy, ONNX TensorProto .pb, PNG and JPEG images through
 * libpng and libjpeg(-turbo), and the preprocessing a model declares for images. */
#include <errno.h>
#include <fusion/nn.h>
#include <math.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdio.h> /* before jpeglib.h, which uses FILE */
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>
#include <png.h>

#define MAX_FILE_BYTES ((size_t)1 << 30)
#define MAX_ELEMS      ((size_t)1 << 28)
#define MAX_SIDE       FSN_PREPROCESS_MAX_SIDE

/* ---- whole files ---- */

static fsn_status read_all(const char *path, uint8_t **out, size_t *len) {
  *out = NULL, *len = 0;
  FILE *f = fopen(path, "rb");
  if (!f) return fsn_fail(FSN_E_IO, "cannot open '%s': %s", path, strerror(errno));
  size_t cap = 1 << 16, n = 0;
  uint8_t *buf = malloc(cap);
  fsn_status st = buf ? FSN_OK : fsn_fail(FSN_E_NOMEM, "'%s': out of memory", path);
  for (size_t got; st == FSN_OK && (got = fread(buf + n, 1, cap - n, f)) > 0;) {
    n += got;
    if (n == cap) {
      uint8_t *grown = cap > MAX_FILE_BYTES ? NULL : realloc(buf, cap *= 2);
      if (!grown)
        st = fsn_fail(FSN_E_FORMAT, "'%s' is larger than the 1 GiB limit, or memory ran out", path);
      else
        buf = grown;
    }
  }
  if (st == FSN_OK && ferror(f)) st = fsn_fail(FSN_E_IO, "reading '%s' failed after %zu bytes", path, n);
  fclose(f);
  if (st != FSN_OK) {
    free(buf);
    return st;
  }
  *out = buf, *len = n;
  return FSN_OK;
}

/* dims[0..rank) into t, with count checked against MAX_ELEMS; data allocated. */
static fsn_status tensor_alloc(fsn_tensor *t, size_t rank, const size_t *dims, const char *who) {
  *t = (fsn_tensor){.rank = rank, .count = 1};
  if (rank > 8) return fsn_fail(FSN_E_UNSUPPORTED, "%s: rank %zu (at most 8)", who, rank);
  for (size_t i = 0; i < rank; i++) {
    t->dims[i] = dims[i];
    if (dims[i] > MAX_ELEMS || (t->count *= dims[i]) > MAX_ELEMS)
      return fsn_fail(FSN_E_FORMAT, "%s: more than 2^28 elements", who);
  }
  if (!(t->data = malloc((t->count ? t->count : 1) * sizeof *t->data)))
    return fsn_fail(FSN_E_NOMEM, "%s: %zu values", who, t->count);
  return FSN_OK;
}

/* ---- NumPy .npy (format versions 1-3): magic, version, header length, a Python dict literal, then the data ---- */

/* The value text after 'key': in the header dict, or NULL. */
static const char *npy_field(const char *h, const char *key) {
  const char *p = strstr(h, key);
  if (!p) return NULL;
  p = strchr(p + strlen(key), ':');
  if (!p) return NULL;
  for (p++; *p == ' '; p++) {
  }
  return p;
}

static fsn_status npy_parse(fsn_tensor *out, const uint8_t *b, size_t n, const char *who) {
  if (n < 10 || b[6] < 1 || b[6] > 3) return fsn_fail(FSN_E_FORMAT, "%s: not a .npy file of version 1 to 3", who);
  size_t hlen =
      b[6] == 1 ? (size_t)b[8] | (size_t)b[9] << 8
                : (n < 12 ? SIZE_MAX : (size_t)b[8] | (size_t)b[9] << 8 | (size_t)b[10] << 16 | (size_t)b[11] << 24);
  size_t start = b[6] == 1 ? 10 : 12;
  if (hlen > 65536 || start + hlen > n) return fsn_fail(FSN_E_FORMAT, "%s: .npy header cut short", who);
  char h[65537];
  memcpy(h, b + start, hlen);
  h[hlen] = 0;
  const char *descr = npy_field(h, "'descr'"), *order = npy_field(h, "'fortran_order'"),
             *shape = npy_field(h, "'shape'");
  if (!descr || !order || !shape || *shape != '(')
    return fsn_fail(FSN_E_FORMAT, "%s: .npy header lacks descr, fortran_order or shape", who);
  size_t width;
  if (!strncmp(descr, "'<f4'", 5))
    width = 4;
  else if (!strncmp(descr, "'<f8'", 5))
    width = 8;
  else if (!strncmp(descr, "'|u1'", 5))
    width = 1;
  else
    return fsn_fail(FSN_E_UNSUPPORTED, "%s: .npy element type %.8s (supported: <f4, <f8, |u1)", who, descr);
  if (strncmp(order, "False", 5)) return fsn_fail(FSN_E_UNSUPPORTED, "%s: Fortran-order .npy arrays", who);
  size_t dims[9], rank = 0;
  for (const char *p = shape + 1; *p != ')';) {
    char *end;
    errno = 0;
    unsigned long long v = strtoull(p, &end, 10);
    if (end == p || errno || rank == 9) return fsn_fail(FSN_E_FORMAT, "%s: malformed .npy shape", who);
    dims[rank++] = (size_t)v;
    for (p = end; *p == ' ' || *p == ','; p++) {
    }
    if (!*p) return fsn_fail(FSN_E_FORMAT, "%s: malformed .npy shape", who);
  }
  fsn_status st = tensor_alloc(out, rank, dims, who);
  if (st == FSN_OK && n - start - hlen != out->count * width)
    st = fsn_fail(FSN_E_FORMAT, "%s: %zu data bytes for %zu elements of %zu bytes", who, n - start - hlen, out->count,
                  width);
  const uint8_t *d = b + start + hlen;
  for (size_t i = 0; st == FSN_OK && i < out->count; i++) {
    double v;
    if (width == 1) {
      v = d[i];
    } else {
      uint64_t u = 0;
      for (size_t k = width; k-- > 0;) u = u << 8 | d[i * width + k];
      if (width == 4) {
        uint32_t u32 = (uint32_t)u;
        float f;
        memcpy(&f, &u32, 4);
        v = f;
      } else {
        memcpy(&v, &u, 8);
      }
    }
    if (!isfinite(v)) st = fsn_fail(FSN_E_FORMAT, "%s: element %zu is not finite", who, i);
    out->data[i] = (float)v;
  }
  if (st != FSN_OK) fsn_tensor_free(out);
  return st;
}

/* ---- images: 1 x C x H x W, pixel / 255 ---- */

static fsn_status image_tensor(fsn_tensor *out, const uint8_t *const *rows, size_t h, size_t w, size_t c,
                               const char *who) {
  const size_t dims[4] = {1, c, h, w};
  fsn_status st = tensor_alloc(out, 4, dims, who);
  for (size_t y = 0; st == FSN_OK && y < h; y++)
    for (size_t x = 0; x < w; x++)
      for (size_t k = 0; k < c; k++) out->data[(k * h + y) * w + x] = (float)rows[y][x * c + k] / 255.0f;
  out->image = true;
  return st;
}

typedef struct png_source {
  const uint8_t *p;
  size_t left;
} png_source;

static void png_read_mem(png_structp png, png_bytep out, png_size_t n) {
  png_source *s = png_get_io_ptr(png);
  if (n > s->left) png_error(png, "file cut short");
  memcpy(out, s->p, n);
  s->p += n, s->left -= n;
}

/* libpng's messages become our error (through the longjmp); nothing is printed. */
static void png_quiet_error(png_structp png, png_const_charp msg) {
  (void)msg;
  png_longjmp(png, 1);
}
static void png_quiet_warning(png_structp png, png_const_charp msg) { (void)png, (void)msg; }

static fsn_status png_parse(fsn_tensor *out, const uint8_t *b, size_t n, const char *who) {
  png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, NULL, png_quiet_error, png_quiet_warning);
  png_infop info = png ? png_create_info_struct(png) : NULL;
  if (!info) {
    png_destroy_read_struct(&png, NULL, NULL);
    return fsn_fail(FSN_E_NOMEM, "%s: PNG decoder", who);
  }
  uint8_t *volatile pixels = NULL;
  const uint8_t **volatile rows = NULL;
  fsn_status st = FSN_OK;
  png_source src = {b, n};
  if (setjmp(png_jmpbuf(png))) {
    st = fsn_fail(FSN_E_FORMAT, "%s: corrupt or truncated PNG", who);
  } else {
    png_set_read_fn(png, &src, png_read_mem);
    png_set_user_limits(png, MAX_SIDE, MAX_SIDE);
    png_read_info(png, info);
    /* to 8-bit gray or RGB: expand palettes and low bit depths, strip 16 bits and alpha */
    png_set_expand(png);
    png_set_strip_16(png);
    png_set_strip_alpha(png);
    png_read_update_info(png, info);
    size_t w = png_get_image_width(png, info), h = png_get_image_height(png, info);
    size_t c = png_get_channels(png, info), stride = png_get_rowbytes(png, info);
    if (c != 1 && c != 3) {
      st = fsn_fail(FSN_E_UNSUPPORTED, "%s: PNG with %zu channels after conversion", who, c);
    } else if (!(pixels = malloc(h * stride + 1)) || !(rows = malloc(h * sizeof *rows + 1))) {
      st = fsn_fail(FSN_E_NOMEM, "%s: %zu x %zu image", who, w, h);
    } else {
      for (size_t y = 0; y < h; y++) rows[y] = pixels + y * stride;
      png_read_image(png, (png_bytepp)rows);
      png_read_end(png, NULL); /* the file must be whole, up to its end chunk */
      st = image_tensor(out, rows, h, w, c, who);
    }
  }
  png_destroy_read_struct(&png, &info, NULL);
  free(pixels), free((void *)rows);
  return st;
}

typedef struct jpeg_err {
  struct jpeg_error_mgr mgr;
  jmp_buf jump;
} jpeg_err;

static void jpeg_fail(j_common_ptr cinfo) { longjmp(((jpeg_err *)cinfo->err)->jump, 1); }

/* Warnings (a truncated file is one: libjpeg would pad it with grey) are errors here; trace messages are dropped. */
static void jpeg_message(j_common_ptr cinfo, int level) {
  if (level < 0) jpeg_fail(cinfo);
}

static fsn_status jpeg_parse(fsn_tensor *out, const uint8_t *b, size_t n, const char *who) {
  struct jpeg_decompress_struct cinfo;
  jpeg_err err;
  cinfo.err = jpeg_std_error(&err.mgr);
  err.mgr.error_exit = jpeg_fail;
  err.mgr.emit_message = jpeg_message;
  uint8_t *volatile pixels = NULL;
  const uint8_t **volatile rows = NULL;
  fsn_status st = FSN_OK;
  if (setjmp(err.jump)) {
    st = fsn_fail(FSN_E_FORMAT, "%s: corrupt or truncated JPEG", who);
  } else {
    jpeg_create_decompress(&cinfo);
    jpeg_mem_src(&cinfo, b, (unsigned long)n);
    jpeg_read_header(&cinfo, TRUE);
    cinfo.out_color_space = cinfo.num_components == 1 ? JCS_GRAYSCALE : JCS_RGB;
    jpeg_start_decompress(&cinfo);
    size_t w = cinfo.output_width, h = cinfo.output_height, c = (size_t)cinfo.output_components;
    if (w > MAX_SIDE || h > MAX_SIDE) {
      st = fsn_fail(FSN_E_UNSUPPORTED, "%s: %zu x %zu JPEG (at most %d per side)", who, w, h, MAX_SIDE);
    } else if (!(pixels = malloc(h * w * c + 1)) || !(rows = malloc(h * sizeof *rows + 1))) {
      st = fsn_fail(FSN_E_NOMEM, "%s: %zu x %zu image", who, w, h);
    } else {
      for (size_t y = 0; y < h; y++) rows[y] = pixels + y * w * c;
      while (cinfo.output_scanline < cinfo.output_height) {
        JSAMPROW row = (JSAMPROW)rows[cinfo.output_scanline];
        jpeg_read_scanlines(&cinfo, &row, 1);
      }
      jpeg_finish_decompress(&cinfo);
      st = image_tensor(out, rows, h, w, c, who);
    }
  }
  jpeg_destroy_decompress(&cinfo);
  free(pixels), free((void *)rows);
  return st;
}

fsn_status fsn_tensor_parse(fsn_tensor *out, const void *data, size_t n, const char *name) {
  const uint8_t *b = data;
  const char *who = name ? name : "tensor";
  *out = (fsn_tensor){0};
  if (n >= 6 && !memcmp(b, "\x93NUMPY", 6)) return npy_parse(out, b, n, who);
  if (n >= 8 && !memcmp(b, "\x89PNG\r\n\x1a\n", 8)) return png_parse(out, b, n, who);
  if (n >= 3 && b[0] == 0xff && b[1] == 0xd8 && b[2] == 0xff) return jpeg_parse(out, b, n, who);
  fsn_status st = fsn_tensor_parse_pb(out, data, n);
  if (st == FSN_OK) return FSN_OK;
  char detail[256];
  snprintf(detail, sizeof detail, "%s", fsn_last_error());
  return fsn_fail(st, "%s: not a .npy array, a PNG or JPEG image, or an ONNX TensorProto (%s)", who, detail);
}

fsn_status fsn_tensor_load(fsn_tensor *out, const char *path) {
  uint8_t *buf;
  size_t len;
  *out = (fsn_tensor){0};
  fsn_status st = read_all(path, &buf, &len);
  if (st == FSN_OK) st = fsn_tensor_parse(out, buf, len, path);
  free(buf);
  return st;
}

fsn_status fsn_tensor_inputs(const fsn_tensor *t, const char *name, fsn_shape *shape, size_t *count) {
  const char *who = name ? name : "tensor";
  const size_t *d = t->dims;
  switch (t->rank) {
  case 4: *count = d[0], *shape = (fsn_shape){d[1], d[2], d[3]}; break;
  case 3: *count = 1, *shape = (fsn_shape){d[0], d[1], d[2]}; break;
  case 2: *count = d[0], *shape = (fsn_shape){d[1], 1, 1}; break;
  case 1: *count = 1, *shape = (fsn_shape){d[0], 1, 1}; break;
  default:
    return fsn_fail(FSN_E_UNSUPPORTED,
                    "%s: a tensor of rank %zu is not a batch of inputs (N x C x H x W, C x H x W, "
                    "N x F or F)",
                    who, t->rank);
  }
  if (!*count || !shape->c || !shape->h || !shape->w)
    return fsn_fail(FSN_E_FORMAT, "%s: the tensor holds no inputs (a dimension is 0)", who);
  return FSN_OK;
}

/* ---- preprocessing of an image tensor (1 x C x H x W) ---- */

/* Bilinear sample of plane p (h x w) at real coordinates (y, x), edges clamped (align_corners = false). */
static float bilinear(const float *p, size_t h, size_t w, double y, double x) {
  y = fmax(0.0, fmin(y, (double)h - 1)), x = fmax(0.0, fmin(x, (double)w - 1));
  size_t y0 = (size_t)y, x0 = (size_t)x, y1 = y0 + 1 < h ? y0 + 1 : y0, x1 = x0 + 1 < w ? x0 + 1 : x0;
  double fy = y - (double)y0, fx = x - (double)x0;
  double top = p[y0 * w + x0] * (1 - fx) + p[y0 * w + x1] * fx, bot = p[y1 * w + x0] * (1 - fx) + p[y1 * w + x1] * fx;
  return (float)(top * (1 - fy) + bot * fy);
}

fsn_status fsn_preprocess_apply(fsn_tensor *t, const fsn_preprocess *pp) {
  if (t->rank != 4 || t->dims[0] != 1 || (t->dims[1] != 1 && t->dims[1] != 3))
    return fsn_fail(FSN_E_INVALID, "preprocessing needs one image of 1 or 3 channels (1 x C x H x W)");
  size_t c = t->dims[1], h = t->dims[2], w = t->dims[3];
  size_t oc = pp->channels ? pp->channels : c;
  if (oc != 1 && oc != 3) return fsn_fail(FSN_E_INVALID, "preprocessing to %zu channels (1 or 3)", oc);
  /* resize so the shorter side is pp->resize, keeping the aspect ratio */
  size_t rh = h, rw = w;
  if (pp->resize) {
    if (h <= w)
      rh = pp->resize, rw = (size_t)llround((double)w * (double)pp->resize / (double)h);
    else
      rw = pp->resize, rh = (size_t)llround((double)h * (double)pp->resize / (double)w);
  }
  size_t oh = pp->crop_h ? pp->crop_h : rh, ow = pp->crop_w ? pp->crop_w : rw;
  if (oh > rh || ow > rw || !oh || !ow || rh > MAX_SIDE || rw > MAX_SIDE)
    return fsn_fail(FSN_E_INVALID, "crop %zu x %zu does not fit the %zu x %zu image", oh, ow, rh, rw);
  const size_t top = (rh - oh) / 2, left = (rw - ow) / 2;
  const size_t dims[4] = {1, oc, oh, ow};
  fsn_tensor r;
  fsn_status st = tensor_alloc(&r, 4, dims, "preprocessing");
  if (st != FSN_OK) return st;
  const double sy = (double)h / (double)rh, sx = (double)w / (double)rw;
  for (size_t k = 0; k < oc; k++)
    for (size_t y = 0; y < oh; y++)
      for (size_t x = 0; x < ow; x++) {
        double yy = ((double)(y + top) + 0.5) * sy - 0.5, xx = ((double)(x + left) + 0.5) * sx - 0.5;
        double v;
        if (oc == c) {
          v = bilinear(t->data + k * h * w, h, w, yy, xx);
        } else if (oc == 1) { /* RGB to gray, ITU-R BT.601 weights */
          v = 0.299 * bilinear(t->data, h, w, yy, xx) + 0.587 * bilinear(t->data + h * w, h, w, yy, xx) +
              0.114 * bilinear(t->data + 2 * h * w, h, w, yy, xx);
        } else { /* gray to RGB */
          v = bilinear(t->data, h, w, yy, xx);
        }
        const double sd = pp->std[k] != 0 ? pp->std[k] : 1.0;
        r.data[(k * oh + y) * ow + x] = (float)((v * (pp->scale != 0 ? pp->scale : 1.0) - pp->mean[k]) / sd);
      }
  fsn_tensor_free(t);
  *t = r;
  return FSN_OK;
}

/* ---- preprocessing specs ---- */

/* One finite number filling s[0..len). */
static bool parse_number(const char *s, size_t len, double *v) {
  char buf[64], *end;
  if (!len || len >= sizeof buf) return false;
  memcpy(buf, s, len);
  buf[len] = 0;
  errno = 0;
  *v = strtod(buf, &end);
  return *end == 0 && !errno && isfinite(*v);
}

/* 1 or 3 slash-separated numbers into v[3] (one value fills all three). */
static bool parse_triple(const char *s, size_t len, double *v) {
  const char *a = memchr(s, '/', len), *b = a ? memchr(a + 1, '/', len - (size_t)(a + 1 - s)) : NULL;
  if (!a) return parse_number(s, len, &v[0]) && (v[1] = v[2] = v[0], true);
  return b && parse_number(s, (size_t)(a - s), &v[0]) && parse_number(a + 1, (size_t)(b - a - 1), &v[1]) &&
         parse_number(b + 1, len - (size_t)(b + 1 - s), &v[2]);
}

static bool parse_size(const char *s, size_t len, size_t *v) {
  if (!len || len > 5) return false;
  size_t x = 0;
  for (size_t i = 0; i < len; i++) {
    if (s[i] < '0' || s[i] > '9') return false;
    x = x * 10 + (size_t)(s[i] - '0');
  }
  *v = x;
  return x >= 1 && x <= MAX_SIDE;
}

fsn_status fsn_preprocess_parse(const char *spec, fsn_preprocess *out) {
  *out = (fsn_preprocess){0};
  if (!spec || !*spec || !strcmp(spec, "none")) return FSN_OK;
  for (const char *p = spec; *p;) {
    const char *comma = strchr(p, ','), *end = comma ? comma : p + strlen(p), *eq = memchr(p, '=', (size_t)(end - p));
    bool ok = eq != NULL;
    if (ok) {
      const size_t klen = (size_t)(eq - p), vlen = (size_t)(end - eq - 1);
      const char *v = eq + 1, *x;
      if (klen == 6 && !memcmp(p, "resize", 6))
        ok = parse_size(v, vlen, &out->resize);
      else if (klen == 8 && !memcmp(p, "channels", 8))
        ok = vlen == 1 && (*v == '1' || *v == '3'), out->channels = (size_t)(*v - '0');
      else if (klen == 5 && !memcmp(p, "scale", 5))
        ok = parse_number(v, vlen, &out->scale) && out->scale > 0;
      else if (klen == 4 && !memcmp(p, "mean", 4))
        ok = parse_triple(v, vlen, out->mean);
      else if (klen == 3 && !memcmp(p, "std", 3))
        ok = parse_triple(v, vlen, out->std) && out->std[0] > 0 && out->std[1] > 0 && out->std[2] > 0;
      else if (klen == 4 && !memcmp(p, "crop", 4)) {
        x = memchr(v, 'x', vlen);
        ok = x ? parse_size(v, (size_t)(x - v), &out->crop_h) && parse_size(x + 1, (size_t)(end - x - 1), &out->crop_w)
               : parse_size(v, vlen, &out->crop_h) && (out->crop_w = out->crop_h);
      } else
        ok = false;
    }
    if (!ok)
      return fsn_fail(FSN_E_INVALID,
                      "preprocessing '%s': bad part '%.*s' (keys: resize=N, crop=HxW, channels=1|3, scale=X, "
                      "mean=A[/B/C], std=A[/B/C])",
                      spec, (int)(end - p > 64 ? 64 : end - p), p);
    p = comma ? comma + 1 : end;
  }
  return fsn_preprocess_check(out);
}

static bool side_ok(size_t v) { return v <= MAX_SIDE; }
static bool value_ok(double v) { return fabs(v) <= FSN_PREPROCESS_MAX_VALUE; } /* false for NaN */
static bool std_ok(double v) { return v >= 1 / FSN_PREPROCESS_MAX_VALUE && v <= FSN_PREPROCESS_MAX_VALUE; }

fsn_status fsn_preprocess_check(const fsn_preprocess *p) {
  const char *bad = NULL;
  if (!side_ok(p->resize))
    bad = "resize";
  else if (!side_ok(p->crop_h) || !side_ok(p->crop_w) || !p->crop_h != !p->crop_w)
    bad = "crop";
  else if (p->channels != 0 && p->channels != 1 && p->channels != 3)
    bad = "channels";
  else if (p->scale != 0 && !(p->scale > 0 && value_ok(p->scale)))
    bad = "scale";
  else if (!value_ok(p->mean[0]) || !value_ok(p->mean[1]) || !value_ok(p->mean[2]))
    bad = "mean";
  else if (!(p->std[0] == 0 && p->std[1] == 0 && p->std[2] == 0) &&
           !(std_ok(p->std[0]) && std_ok(p->std[1]) && std_ok(p->std[2])))
    bad = "std";
  if (!bad) return FSN_OK;
  char spec[512];
  fsn_preprocess_format(spec, sizeof spec, p);
  return fsn_fail(FSN_E_INVALID,
                  "preprocessing '%s': %s out of range (sides 1..%d, crop both sides, channels 1 or 3, scale and std "
                  "in [1e-6, 1e6], |mean| <= 1e6)",
                  spec, bad, MAX_SIDE);
}

bool fsn_preprocess_is_none(const fsn_preprocess *p) {
  bool none = !p->resize && !p->crop_h && !p->crop_w && !p->channels && p->scale == 0;
  for (int k = 0; k < 3; k++) none &= p->mean[k] == 0 && p->std[k] == 0;
  return none;
}

fsn_status fsn_preprocess_load_sidecar(const char *model_path, fsn_preprocess *out) {
  *out = (fsn_preprocess){0};
  char path[4096];
  if ((size_t)snprintf(path, sizeof path, "%s.preprocess", model_path) >= sizeof path)
    return fsn_fail(FSN_E_INVALID, "model path '%.64s...' is too long", model_path);
  FILE *f = fopen(path, "r");
  if (!f) return errno == ENOENT ? FSN_OK : fsn_fail(FSN_E_IO, "cannot open '%s': %s", path, strerror(errno));
  char line[1024];
  fsn_status st = FSN_OK;
  while (fgets(line, sizeof line, f)) {
    size_t n = strlen(line);
    if (n == sizeof line - 1 && line[n - 1] != '\n') {
      st = fsn_fail(FSN_E_FORMAT, "'%s': a line longer than %zu bytes", path, sizeof line - 2);
      break;
    }
    while (n && (line[n - 1] == '\n' || line[n - 1] == '\r' || line[n - 1] == ' ' || line[n - 1] == '\t'))
      line[--n] = 0;
    const char *spec = line + strspn(line, " \t");
    if (!*spec || *spec == '#') continue;
    if ((st = fsn_preprocess_parse(spec, out)) != FSN_OK) st = fsn_fail(st, "'%s': %s", path, fsn_last_error());
    break;
  }
  if (st == FSN_OK && ferror(f)) st = fsn_fail(FSN_E_IO, "reading '%s' failed", path);
  fclose(f);
  return st;
}

/* v with the fewest digits that read back exactly (0.1, not 0.10000000000000001). */
static const char *shortest(char buf[32], double v) {
  for (int digits = 1; digits <= 17; digits++) {
    snprintf(buf, 32, "%.*g", digits, v);
    if (strtod(buf, NULL) == v) break;
  }
  return buf;
}

size_t fsn_preprocess_format(char *buf, size_t cap, const fsn_preprocess *p) {
  char s[512], a[32], b[32], c[32];
  size_t n = 0;
#define PUT(...) n += (size_t)snprintf(s + n, sizeof s - n, __VA_ARGS__)
  if (p->resize) PUT(",resize=%zu", p->resize);
  if (p->crop_h) PUT(",crop=%zux%zu", p->crop_h, p->crop_w);
  if (p->channels) PUT(",channels=%zu", p->channels);
  if (p->scale != 0) PUT(",scale=%s", shortest(a, p->scale));
  if (p->mean[0] != 0 || p->mean[1] != 0 || p->mean[2] != 0)
    PUT(",mean=%s/%s/%s", shortest(a, p->mean[0]), shortest(b, p->mean[1]), shortest(c, p->mean[2]));
  if (p->std[0] != 0) PUT(",std=%s/%s/%s", shortest(a, p->std[0]), shortest(b, p->std[1]), shortest(c, p->std[2]));
#undef PUT
  return (size_t)snprintf(buf, cap, "%s", n ? s + 1 : "none");
}
