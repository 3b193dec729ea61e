/* The public check-sample set of mix-and-check (docs/FORMATS.md): public images with their true labels. */
#ifndef FUSION_SAMPLESET_H
#define FUSION_SAMPLESET_H

#include <fusion/idx.h>

#ifdef __cplusplus
extern "C" {
#endif

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
