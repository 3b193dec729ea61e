/* The table of linear backends (include/fusion/linear.h). */
#include <fusion/he.h>
#include <fusion/linear.h>

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

/* vcot: fc is the conv2d over 1 x 1 images (fsn_linear_fc_shape), the same messages as fsn_linear_fc. */
static fsn_status vcot_fc(fsn_2pc *p, uint64_t *y, const uint64_t *x, const uint64_t *weight, const uint64_t *bias,
                          size_t batch, size_t in, size_t out, unsigned client_bits) {
  const fsn_conv2d_shape s = fsn_linear_fc_shape(batch, in, out);
  return fsn_linear_conv2d_narrow(p, y, x, weight, bias, &s, client_bits);
}

/* he: the session's RLWE keys are set up at its first he layer (both parties reach it at the same point) and live
 * with the two-party context. */
static void he_destroy(void *he) { fsn_he_destroy(he); }

/* he-packed: the same keys with packed outputs allowed (packs of up to 2^6), attached under its own name. */
static fsn_status he_keys(fsn_2pc *p, fsn_he **he, bool packed) {
  const char *name = packed ? "he-packed" : "he";
  if ((*he = fsn_2pc_attached(p, name))) return FSN_OK;
  fsn_status st = fsn_he_create_ex(he, p, packed ? 6 : 0);
  if (st == FSN_OK && (st = fsn_2pc_attach(p, name, *he, he_destroy)) != FSN_OK) fsn_he_destroy(*he);
  return st;
}

/* One backend's entry points over its keys (`packed`: he-packed's). The RLWE FC reads the whole ell-bit share; a
 * narrower client bound only saves OTs in vcot. */
#define HE_BACKEND(prefix, packed)                                                                                     \
  static fsn_status prefix##_setup(fsn_2pc *p) {                                                                       \
    fsn_he *he;                                                                                                        \
    return he_keys(p, &he, packed);                                                                                    \
  }                                                                                                                    \
  static fsn_status prefix##_conv2d(fsn_2pc *p, uint64_t *y, const uint64_t *x, const uint64_t *weight,                \
                                    const uint64_t *bias, const fsn_conv2d_shape *s, unsigned client_bits) {           \
    fsn_he *he;                                                                                                        \
    fsn_status st = he_keys(p, &he, packed);                                                                           \
    return st == FSN_OK ? fsn_he_conv2d(he, p, y, x, weight, bias, s, client_bits) : st;                               \
  }                                                                                                                    \
  static fsn_status prefix##_fc(fsn_2pc *p, uint64_t *y, const uint64_t *x, const uint64_t *weight,                    \
                                const uint64_t *bias, size_t batch, size_t in, size_t out, unsigned client_bits) {     \
    (void)client_bits;                                                                                                 \
    fsn_he *he;                                                                                                        \
    fsn_status st = he_keys(p, &he, packed);                                                                           \
    return st == FSN_OK ? fsn_he_fc(he, p, y, x, weight, bias, batch, in, out) : st;                                   \
  }

HE_BACKEND(he, false)
HE_BACKEND(he_packed, true)

static const fsn_linear_backend backends[] = {
    {.name = "he", .conv2d = he_conv2d, .fc = he_fc, .setup = he_setup},
    {.name = "vcot", .conv2d = fsn_linear_conv2d_narrow, .fc = vcot_fc},
    {.name = "he-packed", .conv2d = he_packed_conv2d, .fc = he_packed_fc, .setup = he_packed_setup},
};

enum { N_BACKENDS = sizeof backends / sizeof backends[0] };

const fsn_linear_backend *fsn_linear_backend_at(size_t i) { return i < N_BACKENDS ? &backends[i] : NULL; }

const fsn_linear_backend *fsn_linear_backend_default(unsigned ell) { return &backends[ell <= FSN_HE_MAX_ELL ? 0 : 1]; }

const fsn_linear_backend *fsn_linear_backend_resolve(const char *name, unsigned ell) {
  return !name || !*name ? fsn_linear_backend_default(ell) : fsn_linear_backend_find(name);
}

const fsn_linear_backend *fsn_linear_backend_find(const char *name) {
  if (!name || !*name) return &backends[0];
  for (size_t i = 0; i < N_BACKENDS; i++)
    if (!strcmp(backends[i].name, name)) return &backends[i];
  return NULL;
}
