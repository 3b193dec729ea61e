/* The table of linear backends (include/fusion/linear.h). */
#include <fusion/linear.h>

#include <stddef.h>
#include <string.h>

/* vcot: fc is the conv2d over 1 x 1 images (fsn_linear_fc_shape), the same messages as fsn_linear_fc. */
static fsn_status vcot_fc(fsn_2pc *p, uint64_t *y, const uint64_t *x, const uint64_t *weight, const uint64_t *bias,
                          size_t batch, size_t in, size_t out, unsigned client_bits) {
  const fsn_conv2d_shape s = fsn_linear_fc_shape(batch, in, out);
  return fsn_linear_conv2d_narrow(p, y, x, weight, bias, &s, client_bits);
}

static const fsn_linear_backend backends[] = {
    {.name = "vcot", .conv2d = fsn_linear_conv2d_narrow, .fc = vcot_fc},
};

enum { N_BACKENDS = sizeof backends / sizeof backends[0] };

const fsn_linear_backend *fsn_linear_backend_at(size_t i) { return i < N_BACKENDS ? &backends[i] : NULL; }

const fsn_linear_backend *fsn_linear_backend_find(const char *name) {
  if (!name || !*name) return &backends[0];
  for (size_t i = 0; i < N_BACKENDS; i++)
    if (!strcmp(backends[i].name, name)) return &backends[i];
  return NULL;
}
