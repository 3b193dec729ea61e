/* libFuzzer target for the IDX dataset reader (plain or gzip): the input goes through a memory file, read by path as
 * a user's dataset would be, once as images and once as labels. */
#include <fusion/sampleset.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  int fd = memfd_create("idx", 0);
  if (fd < 0) abort();
  if (size && write(fd, data, size) != (ssize_t)size) abort();
  char path[64];
  snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
  fsn_images im;
  if (fsn_idx_read_images(&im, path) == FSN_OK) fsn_idx_images_free(&im);
  fsn_labels lb;
  if (fsn_idx_read_labels(&lb, path) == FSN_OK) fsn_idx_labels_free(&lb);
  close(fd);
  return 0;
}
