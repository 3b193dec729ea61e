/* Image datasets: IDX files (MNIST / Fashion-MNIST, gzip or plain) and the public check-sample set of mix-and-check
 * (docs/FORMATS.md). Images are uint8 pixels, count x channels x rows x cols (NCHW). */
#ifndef FUSION_DATASET_H
#define FUSION_DATASET_H

#include <fusion/status.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct fsn_images {
  size_t count, channels, rows, cols;
  uint8_t *pixels; /* count * channels * rows * cols bytes, owned */
} fsn_images;

typedef struct fsn_labels {
  size_t count;
  uint8_t *labels; /* owned */
} fsn_labels;

/* Read an IDX image file (magic 0x00000803: unsigned bytes, 3 dimensions count x rows x cols; channels = 1), gzip
 * compressed or not. FSN_E_IO if it cannot be opened, FSN_E_FORMAT for a bad magic, dimensions above the limits
 * (count <= 2^24, rows, cols <= 4096, total <= 2^31 bytes), a truncated file or trailing bytes. */
FSN_NODISCARD fsn_status fsn_idx_read_images(fsn_images *out, const char *path);
/* Read an IDX label file (magic 0x00000801, count bytes). Same errors as fsn_idx_read_images. */
FSN_NODISCARD fsn_status fsn_idx_read_labels(fsn_labels *out, const char *path);
void fsn_idx_images_free(fsn_images *im);
void fsn_idx_labels_free(fsn_labels *l);

/* A public check-sample set: public images with their true labels; optionally the server's committed predicted
 * labels. name: at most 255 bytes, no NUL. */
typedef struct fsn_sampleset {
  char name[256];
  fsn_images images;
  uint8_t *labels;      /* images.count entries, owned */
  uint8_t *predictions; /* images.count entries or NULL, owned */
  uint8_t set_hash[32]; /* SHA-256 identifying name, shapes, pixels and labels (not the predictions) */
} fsn_sampleset;

/* Build a set from samples `index[0..n)` of images/labels (copied); computes set_hash. predictions may be NULL. */
FSN_NODISCARD fsn_status fsn_sampleset_build(fsn_sampleset *out, const char *name, const fsn_images *images,
                                             const fsn_labels *labels, const size_t *index, size_t n,
                                             const uint8_t *predictions);
/* Recompute set_hash from the contents (docs/FORMATS.md). */
void fsn_sampleset_hash(const fsn_sampleset *s, uint8_t out[32]);
/* Write / read the binary format of docs/FORMATS.md. Reading verifies both hashes (FSN_E_FORMAT on a mismatch, a
 * truncated or oversized file). */
FSN_NODISCARD fsn_status fsn_sampleset_write(const fsn_sampleset *s, const char *path);
FSN_NODISCARD fsn_status fsn_sampleset_read(fsn_sampleset *out, const char *path);
void fsn_sampleset_free(fsn_sampleset *s);

#ifdef __cplusplus
}
#endif
#endif
