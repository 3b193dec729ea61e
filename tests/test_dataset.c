/* Datasets: IDX files written here (gzip and plain), truncated and malformed ones, the Debian Fashion-MNIST files
 * when installed, and the public check-sample set format (round trip, hashes, corruption, truncation). */
#include <fusion/sampleset.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "tests/common/fsn_test.h"

static void temp_path(char *path, size_t n, const char *suffix) {
  static int counter;
  snprintf(path, n, "/tmp/fsn_dataset_%d_%d%s", (int)getpid(), counter++, suffix);
}

/* An IDX image file of count x rows x cols, gzip or plain, optionally cut short by `cut` bytes. */
static void write_idx_images(const char *path, int gz, uint32_t magic, uint32_t count, uint32_t rows, uint32_t cols,
                             size_t cut) {
  size_t n = 16 + (size_t)count * rows * cols;
  if (n > ((size_t)1 << 20)) n = 16 + cut; /* an absurd header: write it and nothing else */
  uint8_t *b = malloc(n);
  uint32_t hdr[4] = {magic, count, rows, cols};
  for (int i = 0; i < 4; i++)
    for (int k = 0; k < 4; k++) b[4 * i + k] = (uint8_t)(hdr[i] >> (24 - 8 * k));
  for (size_t i = 16; i < n; i++) b[i] = (uint8_t)(i * 7);
  n -= cut;
  if (gz) {
    gzFile f = gzopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(gzwrite(f, b, (unsigned)n), (int)n);
    gzclose(f);
  } else {
    FILE *f = fopen(path, "wb");
    ck_assert_uint_eq(fwrite(b, 1, n, f), n);
    fclose(f);
  }
  free(b);
}

START_TEST(idx_round_trip_and_errors) {
  char path[256];
  fsn_images im;
  for (int gz = 0; gz < 2; gz++) {
    temp_path(path, sizeof path, gz ? ".gz" : "");
    write_idx_images(path, gz, 0x803, 5, 3, 4, 0);
    ck_assert_msg(fsn_idx_read_images(&im, path) == FSN_OK, "%s", fsn_last_error());
    ck_assert(im.count == 5 && im.channels == 1 && im.rows == 3 && im.cols == 4);
    ck_assert_uint_eq(im.pixels[0], (uint8_t)(16 * 7));
    ck_assert_uint_eq(im.pixels[59], (uint8_t)(75 * 7));
    fsn_idx_images_free(&im);
    write_idx_images(path, gz, 0x803, 5, 3, 4, 7); /* truncated payload */
    ck_assert_int_eq(fsn_idx_read_images(&im, path), FSN_E_FORMAT);
    ck_assert_ptr_nonnull(strstr(fsn_last_error(), "truncated"));
    write_idx_images(path, gz, 0x803, 5, 3, 4, 60); /* truncated header */
    ck_assert_int_eq(fsn_idx_read_images(&im, path), FSN_E_FORMAT);
    write_idx_images(path, gz, 0x801, 5, 3, 4, 0); /* a label magic */
    ck_assert_int_eq(fsn_idx_read_images(&im, path), FSN_E_FORMAT);
    ck_assert_ptr_nonnull(strstr(fsn_last_error(), "magic"));
    write_idx_images(path, gz, 0x803, 1u << 30, 3, 4, 0); /* an absurd count: refused before allocating */
    ck_assert_int_eq(fsn_idx_read_images(&im, path), FSN_E_FORMAT);
    unlink(path);
  }
  /* a gzip stream cut in the middle */
  temp_path(path, sizeof path, ".gz");
  write_idx_images(path, 1, 0x803, 50, 28, 28, 0);
  FILE *f = fopen(path, "rb");
  fseek(f, 0, SEEK_END);
  long size = ftell(f);
  fclose(f);
  ck_assert_int_eq(truncate(path, size / 2), 0);
  ck_assert_int_eq(fsn_idx_read_images(&im, path), FSN_E_FORMAT);
  unlink(path);
  ck_assert_int_eq(fsn_idx_read_images(&im, "/nonexistent/images.gz"), FSN_E_IO);
}
END_TEST

START_TEST(fashion_mnist_from_debian) {
  const char *dir = "/usr/share/datasets/fashion-mnist";
  char ipath[256], lpath[256];
  snprintf(ipath, sizeof ipath, "%s/t10k-images-idx3-ubyte.gz", dir);
  snprintf(lpath, sizeof lpath, "%s/t10k-labels-idx1-ubyte.gz", dir);
  if (access(ipath, R_OK) || access(lpath, R_OK)) return; /* dataset-fashion-mnist not installed */
  fsn_images im;
  fsn_labels lb;
  ck_assert_msg(fsn_idx_read_images(&im, ipath) == FSN_OK, "%s", fsn_last_error());
  ck_assert_msg(fsn_idx_read_labels(&lb, lpath) == FSN_OK, "%s", fsn_last_error());
  ck_assert(im.count == 10000 && im.rows == 28 && im.cols == 28 && lb.count == 10000);
  size_t per_class[10] = {0};
  for (size_t i = 0; i < lb.count; i++) {
    ck_assert_uint_lt(lb.labels[i], 10);
    per_class[lb.labels[i]]++;
  }
  for (int c = 0; c < 10; c++) ck_assert_uint_eq(per_class[c], 1000);
  fsn_idx_images_free(&im);
  fsn_idx_labels_free(&lb);
}
END_TEST

static void sample_source(fsn_images *im, fsn_labels *lb, size_t n) {
  *im = (fsn_images){n, 1, 4, 3, malloc(n * 12)};
  *lb = (fsn_labels){n, malloc(n)};
  fsn_test_fill(im->pixels, n * 12);
  for (size_t i = 0; i < n; i++) lb->labels[i] = (uint8_t)(i % 10);
}

START_TEST(sampleset_round_trip) {
  fsn_images im;
  fsn_labels lb;
  sample_source(&im, &lb, 20);
  size_t index[4] = {3, 17, 0, 9};
  uint8_t preds[4] = {3, 7, 1, 9};
  char path[256];
  temp_path(path, sizeof path, ".fss");
  for (int with_preds = 0; with_preds < 2; with_preds++) {
    fsn_sampleset s, r;
    ck_assert_int_eq(fsn_sampleset_build(&s, "fmnist-test-sample", &im, &lb, index, 4, with_preds ? preds : NULL),
                     FSN_OK);
    ck_assert_uint_eq(s.labels[1], 7);
    ck_assert_mem_eq(s.images.pixels + 12, im.pixels + 17 * 12, 12);
    ck_assert_int_eq(fsn_sampleset_write(&s, path), FSN_OK);
    ck_assert_msg(fsn_sampleset_read(&r, path) == FSN_OK, "%s", fsn_last_error());
    ck_assert_str_eq(r.name, "fmnist-test-sample");
    ck_assert_uint_eq(r.images.count, 4);
    ck_assert_mem_eq(r.images.pixels, s.images.pixels, 48);
    ck_assert_mem_eq(r.labels, s.labels, 4);
    ck_assert_mem_eq(r.set_hash, s.set_hash, 32);
    if (with_preds)
      ck_assert_mem_eq(r.predictions, preds, 4);
    else
      ck_assert_ptr_null(r.predictions);
    fsn_sampleset_free(&r);
    /* corrupt each byte in turn: every change is caught (hash, header or length) */
    FILE *f = fopen(path, "rb");
    uint8_t buf[512];
    size_t len = fread(buf, 1, sizeof buf, f);
    fclose(f);
    for (size_t i = 0; i < len; i++) {
      buf[i] ^= 0x20;
      f = fopen(path, "wb");
      fwrite(buf, 1, len, f);
      fclose(f);
      ck_assert_msg(fsn_sampleset_read(&r, path) == FSN_E_FORMAT, "flip at byte %zu of %zu not detected", i, len);
      buf[i] ^= 0x20;
    }
    for (size_t cut = 0; cut < len; cut += 5) {
      f = fopen(path, "wb");
      fwrite(buf, 1, cut, f);
      fclose(f);
      ck_assert_int_eq(fsn_sampleset_read(&r, path), FSN_E_FORMAT);
    }
    fsn_sampleset_free(&s);
  }
  /* the set hash ignores predictions: the same public set with or without a commitment has one identity */
  fsn_sampleset a, b;
  ck_assert_int_eq(fsn_sampleset_build(&a, "x", &im, &lb, index, 4, NULL), FSN_OK);
  ck_assert_int_eq(fsn_sampleset_build(&b, "x", &im, &lb, index, 4, preds), FSN_OK);
  ck_assert_mem_eq(a.set_hash, b.set_hash, 32);
  fsn_sampleset_free(&b);
  ck_assert_int_eq(fsn_sampleset_build(&b, "y", &im, &lb, index, 4, NULL), FSN_OK);
  ck_assert(memcmp(a.set_hash, b.set_hash, 32) != 0);
  fsn_sampleset_free(&a);
  fsn_sampleset_free(&b);
  size_t bad = 20;
  ck_assert_int_eq(fsn_sampleset_build(&a, "x", &im, &lb, &bad, 1, NULL), FSN_E_INVALID);
  unlink(path);
  fsn_idx_images_free(&im);
  fsn_idx_labels_free(&lb);
}
END_TEST

int main(void) {
  Suite *s = suite_create("dataset");
  TCase *tc = tcase_create("dataset");
  tcase_set_timeout(tc, 300);
  tcase_add_test(tc, idx_round_trip_and_errors);
  tcase_add_test(tc, fashion_mnist_from_debian);
  tcase_add_test(tc, sampleset_round_trip);
  suite_add_tcase(s, tc);
  return fsn_test_main(s);
}
