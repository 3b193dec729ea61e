/* Input tensors from users' files: .npy arrays, PNG and JPEG images (written here with libpng and libjpeg), TensorProto
 * files, preprocessing known answers, and every bad file giving a clear error that names it. */
#include <fusion/nn.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jpeglib.h>
#include <png.h>

#include "tests/common/fsn_test.h"

/* ---- .npy ---- */

/* A version-1 .npy file of `count` values with the given descr and shape text; *len gets its size. */
static uint8_t *npy(const char *descr, const char *order, const char *shape, const void *data, size_t bytes,
                    size_t *len) {
  char dict[256];
  int n = snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': %s, 'shape': %s, }", descr, order, shape);
  size_t hlen = (size_t)n + 1;
  hlen = (10 + hlen + 63) / 64 * 64 - 10; /* pad the header to a multiple of 64 bytes, ending in '\n' */
  uint8_t *b = calloc(1, 10 + hlen + bytes);
  memcpy(b, "\x93NUMPY\x01\x00", 8);
  b[8] = (uint8_t)hlen, b[9] = (uint8_t)(hlen >> 8);
  memset(b + 10, ' ', hlen);
  memcpy(b + 10, dict, (size_t)n);
  b[10 + hlen - 1] = '\n';
  memcpy(b + 10 + hlen, data, bytes);
  *len = 10 + hlen + bytes;
  return b;
}

START_TEST(npy_arrays) {
  float f[6] = {0.5f, -1.25f, 3.0f, 1e-3f, -7.5f, 2.0f};
  double d[6];
  uint8_t u[6] = {0, 1, 2, 127, 128, 255};
  for (int i = 0; i < 6; i++) d[i] = f[i];
  size_t len;
  fsn_tensor t;
  uint8_t *b = npy("<f4", "False", "(1, 2, 3)", f, sizeof f, &len);
  ck_assert_msg(fsn_tensor_parse(&t, b, len, "x.npy") == FSN_OK, "%s", fsn_last_error());
  ck_assert(t.rank == 3 && t.dims[0] == 1 && t.dims[1] == 2 && t.dims[2] == 3 && t.count == 6);
  ck_assert(!memcmp(t.data, f, sizeof f));
  ck_assert(!t.image); /* a tensor: a model's declared preprocessing does not apply */
  fsn_tensor_free(&t);
  /* cut short, and a byte too many */
  ck_assert_int_eq(fsn_tensor_parse(&t, b, len - 1, "x.npy"), FSN_E_FORMAT);
  ck_assert_ptr_nonnull(strstr(fsn_last_error(), "x.npy"));
  free(b);
  b = npy("<f8", "False", "(6,)", d, sizeof d, &len);
  ck_assert_int_eq(fsn_tensor_parse(&t, b, len, "x.npy"), FSN_OK);
  ck_assert(t.rank == 1 && t.count == 6 && !memcmp(t.data, f, sizeof f));
  fsn_tensor_free(&t), free(b);
  b = npy("|u1", "False", "(2, 3)", u, sizeof u, &len);
  ck_assert_int_eq(fsn_tensor_parse(&t, b, len, "x.npy"), FSN_OK);
  ck_assert(t.data[5] == 255.0f && t.data[3] == 127.0f);
  fsn_tensor_free(&t), free(b);
  b = npy("<i8", "False", "(6,)", d, sizeof d, &len);
  ck_assert_int_eq(fsn_tensor_parse(&t, b, len, "x.npy"), FSN_E_UNSUPPORTED);
  free(b);
  b = npy("<f4", "True", "(2, 3)", f, sizeof f, &len);
  ck_assert_int_eq(fsn_tensor_parse(&t, b, len, "x.npy"), FSN_E_UNSUPPORTED);
  free(b);
  b = npy("<f4", "False", "(2, x)", f, sizeof f, &len);
  ck_assert_int_eq(fsn_tensor_parse(&t, b, len, "x.npy"), FSN_E_FORMAT);
  free(b);
  float nan[1] = {NAN};
  b = npy("<f4", "False", "(1,)", nan, sizeof nan, &len);
  ck_assert_int_eq(fsn_tensor_parse(&t, b, len, "x.npy"), FSN_E_FORMAT);
  free(b);
}
END_TEST

/* ---- images ---- */

typedef struct mem {
  uint8_t *p;
  size_t n;
} mem;

static void png_write_mem(png_structp png, png_bytep data, png_size_t n) {
  mem *m = png_get_io_ptr(png);
  m->p = realloc(m->p, m->n + n);
  memcpy(m->p + m->n, data, n);
  m->n += n;
}
static void png_flush_mem(png_structp png) { (void)png; }

/* An 8-bit PNG of h x w pixels with c channels (1 gray, 3 RGB, 4 RGBA). */
static mem make_png(const uint8_t *pixels, size_t h, size_t w, int c) {
  mem m = {0};
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
  png_infop info = png_create_info_struct(png);
  png_set_write_fn(png, &m, png_write_mem, png_flush_mem);
  int type = c == 1 ? PNG_COLOR_TYPE_GRAY : c == 3 ? PNG_COLOR_TYPE_RGB : PNG_COLOR_TYPE_RGBA;
  png_set_IHDR(png, info, (png_uint_32)w, (png_uint_32)h, 8, type, PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
               PNG_FILTER_TYPE_DEFAULT);
  png_write_info(png, info);
  for (size_t y = 0; y < h; y++) png_write_row(png, (png_const_bytep)(pixels + y * w * (size_t)c));
  png_write_end(png, NULL);
  png_destroy_write_struct(&png, &info);
  return m;
}

static mem make_jpeg(const uint8_t *pixels, size_t h, size_t w, int c) {
  struct jpeg_compress_struct cinfo;
  struct jpeg_error_mgr err;
  unsigned char *out = NULL;
  unsigned long n = 0;
  cinfo.err = jpeg_std_error(&err);
  jpeg_create_compress(&cinfo);
  jpeg_mem_dest(&cinfo, &out, &n);
  cinfo.image_width = (JDIMENSION)w, cinfo.image_height = (JDIMENSION)h, cinfo.input_components = c;
  cinfo.in_color_space = c == 1 ? JCS_GRAYSCALE : JCS_RGB;
  jpeg_set_defaults(&cinfo);
  jpeg_set_quality(&cinfo, 100, TRUE);
  jpeg_start_compress(&cinfo, TRUE);
  while (cinfo.next_scanline < cinfo.image_height) {
    JSAMPROW row = (JSAMPROW)(pixels + cinfo.next_scanline * w * (size_t)c);
    jpeg_write_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_compress(&cinfo);
  jpeg_destroy_compress(&cinfo);
  return (mem){out, n};
}

START_TEST(png_images) {
  enum { H = 5, W = 7 };
  uint8_t rgba[H * W * 4];
  for (size_t i = 0; i < sizeof rgba; i++) rgba[i] = (uint8_t)(fsn_test_rand() >> 56);
  for (int c = 1; c <= 4; c++) {
    if (c == 2) continue;
    mem m = make_png(rgba, H, W, c);
    fsn_tensor t;
    ck_assert_msg(fsn_tensor_parse(&t, m.p, m.n, "x.png") == FSN_OK, "%s", fsn_last_error());
    const size_t oc = c == 4 ? 3 : (size_t)c; /* alpha dropped */
    ck_assert(t.rank == 4 && t.dims[0] == 1 && t.dims[1] == oc && t.dims[2] == H && t.dims[3] == W);
    ck_assert(t.image);
    for (size_t k = 0; k < oc; k++)
      for (size_t y = 0; y < H; y++)
        for (size_t x = 0; x < W; x++)
          ck_assert(t.data[(k * H + y) * W + x] == (float)rgba[(y * W + x) * (size_t)c + k] / 255.0f);
    fsn_tensor_free(&t);
    for (size_t cut = 8; cut < m.n; cut += 13) {
      ck_assert_int_eq(fsn_tensor_parse(&t, m.p, cut, "x.png"), FSN_E_FORMAT);
      ck_assert_ptr_nonnull(strstr(fsn_last_error(), "x.png"));
    }
    free(m.p);
  }
}
END_TEST

START_TEST(jpeg_images) {
  enum { H = 16, W = 24 };
  uint8_t px[H * W * 3];
  for (size_t i = 0; i < sizeof px; i++) px[i] = (uint8_t)(64 + (i / 3 % W) * 4 + (i % 3) * 16); /* smooth ramps */
  for (int c = 1; c <= 3; c += 2) {
    mem m = make_jpeg(px, H, W, c);
    fsn_tensor t;
    ck_assert_msg(fsn_tensor_parse(&t, m.p, m.n, "x.jpg") == FSN_OK, "%s", fsn_last_error());
    ck_assert(t.rank == 4 && t.dims[1] == (size_t)c && t.dims[2] == H && t.dims[3] == W);
    for (size_t k = 0; k < (size_t)c; k++) /* quality 100 on smooth ramps: within a few levels */
      for (size_t i = 0; i < H * W; i++) ck_assert(fabs(t.data[k * H * W + i] * 255.0 - px[i * (size_t)c + k]) <= 4.0);
    fsn_tensor_free(&t);
    ck_assert_int_eq(fsn_tensor_parse(&t, m.p, m.n / 2, "x.jpg"), FSN_E_FORMAT);
    free(m.p);
  }
}
END_TEST

START_TEST(files_and_garbage) {
  fsn_tensor t;
  ck_assert_int_eq(fsn_tensor_load(&t, "/nonexistent/input.npy"), FSN_E_IO);
  ck_assert_ptr_nonnull(strstr(fsn_last_error(), "/nonexistent/input.npy"));
  const uint8_t junk[7] = {1, 2, 3, 4, 5, 6, 7};
  ck_assert_int_ne(fsn_tensor_parse(&t, junk, sizeof junk, "junk.bin"), FSN_OK);
  ck_assert_ptr_nonnull(strstr(fsn_last_error(), "junk.bin"));
  char path[] = "/tmp/fsn-input-XXXXXX";
  int fd = mkstemp(path);
  float f[2] = {1.5f, -2.0f};
  size_t len;
  uint8_t *b = npy("<f4", "False", "(2,)", f, sizeof f, &len);
  ck_assert_int_eq(write(fd, b, len), (ssize_t)len);
  close(fd);
  ck_assert_int_eq(fsn_tensor_load(&t, path), FSN_OK);
  ck_assert(t.count == 2 && t.data[1] == -2.0f);
  fsn_tensor_free(&t);
  unlink(path), free(b);
}
END_TEST

/* 1 x C x H x W image with value (k, y, x) = k * 100 + y * 10 + x (as pixel / 255 would give). */
static fsn_tensor ramp(size_t c, size_t h, size_t w) {
  fsn_tensor t = {.rank = 4, .dims = {1, c, h, w}, .count = c * h * w};
  t.data = malloc(t.count * sizeof *t.data);
  for (size_t k = 0; k < c; k++)
    for (size_t y = 0; y < h; y++)
      for (size_t x = 0; x < w; x++) t.data[(k * h + y) * w + x] = (float)(k * 100 + y * 10 + x);
  return t;
}

START_TEST(preprocessing) {
  /* identity resize, center crop 2 x 3 of 4 x 6 (rows 1-2, columns 1-3), mean/std per channel */
  fsn_tensor t = ramp(3, 4, 6);
  fsn_preprocess p = {.crop_h = 2, .crop_w = 3, .mean = {1, 2, 3}, .std = {2, 1, 0.5}};
  ck_assert_int_eq(fsn_preprocess_apply(&t, &p), FSN_OK);
  ck_assert(t.dims[1] == 3 && t.dims[2] == 2 && t.dims[3] == 3);
  ck_assert_float_eq(t.data[0], (11.0f - 1) / 2);            /* k 0, y 1, x 1 */
  ck_assert_float_eq(t.data[1 * 6 + 1 * 3 + 2], 123 - 2.0f); /* k 1, y 2, x 3 */
  ck_assert_float_eq(t.data[2 * 6], (211.0f - 3) / 0.5f);
  fsn_tensor_free(&t);
  /* downsizing 4 x 8 by 2 (shorter side 4 -> 2) averages 2 x 2 blocks exactly at half-pixel centres */
  t = ramp(1, 4, 8);
  p = (fsn_preprocess){.resize = 2};
  ck_assert_int_eq(fsn_preprocess_apply(&t, &p), FSN_OK);
  ck_assert(t.dims[2] == 2 && t.dims[3] == 4);
  ck_assert_float_eq_tol(t.data[0], 5.5f, 1e-5f);          /* mean of 0, 1, 10, 11 */
  ck_assert_float_eq_tol(t.data[1 * 4 + 3], 31.5f, 1e-5f); /* mean of 26, 27, 36, 37 */
  fsn_tensor_free(&t);
  /* RGB to gray (BT.601) and gray to RGB, with scale */
  t = ramp(3, 1, 1);
  p = (fsn_preprocess){.channels = 1};
  ck_assert_int_eq(fsn_preprocess_apply(&t, &p), FSN_OK);
  ck_assert_float_eq_tol(t.data[0], 0.587f * 100 + 0.114f * 200, 1e-4f);
  p = (fsn_preprocess){.channels = 3, .scale = 2};
  ck_assert_int_eq(fsn_preprocess_apply(&t, &p), FSN_OK);
  ck_assert(t.dims[1] == 3 && t.data[2] == t.data[0]);
  ck_assert_float_eq_tol(t.data[1], 2 * (0.587f * 100 + 0.114f * 200), 1e-3f);
  fsn_tensor_free(&t);
  /* a crop larger than the image, and a tensor that is no image */
  t = ramp(1, 4, 4);
  p = (fsn_preprocess){.crop_h = 5, .crop_w = 2};
  ck_assert_int_eq(fsn_preprocess_apply(&t, &p), FSN_E_INVALID);
  t.dims[1] = 2;
  p = (fsn_preprocess){0};
  ck_assert_int_eq(fsn_preprocess_apply(&t, &p), FSN_E_INVALID);
  fsn_tensor_free(&t);
}
END_TEST

START_TEST(preprocessing_specs) {
  fsn_preprocess p;
  char buf[256];
  ck_assert_int_eq(fsn_preprocess_parse("resize=256,crop=224,mean=0.485/0.456/0.406,std=0.229/0.224/0.225", &p),
                   FSN_OK);
  ck_assert(p.resize == 256 && p.crop_h == 224 && p.crop_w == 224 && p.mean[1] == 0.456 && p.std[2] == 0.225);
  fsn_preprocess q;
  fsn_preprocess_format(buf, sizeof buf, &p);
  ck_assert_int_eq(fsn_preprocess_parse(buf, &q), FSN_OK); /* the canonical form reads back the same */
  ck_assert(!memcmp(&p, &q, sizeof p));
  ck_assert_int_eq(fsn_preprocess_parse("crop=28x20,channels=1,scale=255,mean=0.5,std=2", &p), FSN_OK);
  ck_assert(p.crop_h == 28 && p.crop_w == 20 && p.channels == 1 && p.scale == 255 && p.mean[2] == 0.5 && p.std[1] == 2);
  ck_assert_int_eq(fsn_preprocess_parse("none", &p), FSN_OK);
  ck_assert_uint_eq(fsn_preprocess_format(buf, sizeof buf, &p), 4);
  ck_assert_str_eq(buf, "none");
  static const char *const bad[] = {"resize=0", "crop=5x", "channels=2",   "scale=-1",    "mean=1/2", "std=0",
                                    "zoom=2",   "resize",  "mean=1/2/3/4", "crop=100000", NULL};
  for (const char *const *b = bad; *b; b++) {
    ck_assert_msg(fsn_preprocess_parse(*b, &p) == FSN_E_INVALID, "%s accepted", *b);
    ck_assert_ptr_nonnull(strstr(fsn_last_error(), "bad part"));
  }
}
END_TEST

START_TEST(preprocessing_bounds) {
  /* What a model card may carry: every field inside fsn_preprocess_check's bounds, the refusal naming the field. */
  static const struct {
    fsn_preprocess p;
    const char *field;
  } bad[] = {
      {{.resize = FSN_PREPROCESS_MAX_SIDE + 1}, "resize"},
      {{.crop_h = 4}, "crop"},
      {{.crop_h = 4, .crop_w = 70000}, "crop"},
      {{.channels = 2}, "channels"},
      {{.scale = -1}, "scale"},
      {{.scale = 2e6}, "scale"},
      {{.scale = NAN}, "scale"},
      {{.mean = {0, -2e6, 0}}, "mean"},
      {{.mean = {0, 0, NAN}}, "mean"},
      {{.std = {1, 0, 1}}, "std"},
      {{.std = {1, 1, 1e-7}}, "std"},
      {{.std = {1, INFINITY, 1}}, "std"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    ck_assert_msg(fsn_preprocess_check(&bad[i].p) == FSN_E_INVALID, "case %zu accepted", i);
    char want[64];
    snprintf(want, sizeof want, "%s out of range", bad[i].field);
    ck_assert_msg(strstr(fsn_last_error(), want), "case %zu: %s", i, fsn_last_error());
  }
  const fsn_preprocess good = {.resize = FSN_PREPROCESS_MAX_SIDE,
                               .crop_h = 1,
                               .crop_w = 2,
                               .channels = 3,
                               .scale = 1e6,
                               .mean = {-1e6, 0, 1e6},
                               .std = {1e-6, 1, 1e6}};
  ck_assert_int_eq(fsn_preprocess_check(&good), FSN_OK);
  ck_assert(!fsn_preprocess_is_none(&good));
  ck_assert(fsn_preprocess_is_none(&(fsn_preprocess){0}));
  /* a spec is held to the same bounds */
  fsn_preprocess p;
  ck_assert_int_eq(fsn_preprocess_parse("mean=3e6", &p), FSN_E_INVALID);
  ck_assert_ptr_nonnull(strstr(fsn_last_error(), "mean out of range"));
}
END_TEST

/* A sidecar "<model>.preprocess" holding `text` (NULL: none); returns what fsn_preprocess_load_sidecar says. */
static fsn_status sidecar(const char *text, fsn_preprocess *p) {
  char model[] = "/tmp/fsn_sidecar_XXXXXX", side[64];
  int fd = mkstemp(model);
  ck_assert_int_ge(fd, 0);
  close(fd);
  snprintf(side, sizeof side, "%s.preprocess", model);
  if (text) {
    FILE *f = fopen(side, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
  }
  fsn_status st = fsn_preprocess_load_sidecar(model, p);
  unlink(side), unlink(model);
  return st;
}

START_TEST(preprocessing_sidecar) {
  fsn_preprocess p;
  ck_assert_int_eq(sidecar(NULL, &p), FSN_OK); /* no file: none */
  ck_assert(fsn_preprocess_is_none(&p));
  ck_assert_int_eq(sidecar("# ImageNet style\n\n  resize=256,crop=224,std=0.5  \r\n", &p), FSN_OK);
  ck_assert(p.resize == 256 && p.crop_w == 224 && p.std[2] == 0.5);
  ck_assert_int_eq(sidecar("# nothing declared\n", &p), FSN_OK);
  ck_assert(fsn_preprocess_is_none(&p));
  ck_assert_int_eq(sidecar("zoom=2\n", &p), FSN_E_INVALID);
  ck_assert_ptr_nonnull(strstr(fsn_last_error(), ".preprocess': preprocessing 'zoom=2'"));
}
END_TEST

int main(void) {
  Suite *s = suite_create("inputs");
  TCase *tc = tcase_create("inputs");
  tcase_add_test(tc, npy_arrays);
  tcase_add_test(tc, png_images);
  tcase_add_test(tc, jpeg_images);
  tcase_add_test(tc, files_and_garbage);
  tcase_add_test(tc, preprocessing);
  tcase_add_test(tc, preprocessing_specs);
  tcase_add_test(tc, preprocessing_bounds);
  tcase_add_test(tc, preprocessing_sidecar);
  suite_add_tcase(s, tc);
  return fsn_test_main(s);
}
