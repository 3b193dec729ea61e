/* Image datasets in IDX files (MNIST / Fashion-MNIST, gzip or plain). Images are uint8 pixels, count x channels x rows
 * x cols (NCHW). */
#ifndef FUSION_IDX_H
#define FUSION_IDX_H

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

#ifdef __cplusplus
}
#endif
#endif
