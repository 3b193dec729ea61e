/* Helpers shared by the `fusion` subcommands and the adversarial server. */
#ifndef FSN_APPS_COMMON_H
#define FSN_APPS_COMMON_H

#include <fusion/channel.h>
#include <fusion/sampleset.h>
#include <fusion/nn.h>
#include <stdbool.h>
#include <stdio.h>

/* Where Debian's dataset-fashion-mnist package puts the test set. */
#define FSN_APP_FMNIST_IMAGES "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz"
#define FSN_APP_FMNIST_LABELS "/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz"
/* The public check-sample set both parties build: the last 1000 test images. */
#define FSN_APP_PUBLIC_RANGE "9000-9999"

/* "FILE.onnx" or "builtin:NAME" (random weights from seed). */
FSN_NODISCARD fsn_status fsn_app_load_model(fsn_model **m, const char *spec, unsigned long long seed);
/* The preprocessing a model declares for image inputs: `spec` (a --preprocess SPEC) if given, else the sidecar file
 * "<model>.preprocess" next to a model file (fsn_preprocess_load_sidecar), else none (builtin:NAME has none). */
FSN_NODISCARD fsn_status fsn_app_model_preprocess(fsn_preprocess *out, const char *model, const char *spec);
/* Preprocess an input tensor: p applies to an image (t->image), and to any tensor when the user gave it (`given`,
 * --preprocess, as before cards declared it); a tensor file is otherwise taken as the model's input already. */
FSN_NODISCARD fsn_status fsn_app_preprocess_input(fsn_tensor *t, const fsn_preprocess *p, bool given);

/* Parse "0-9,15,20-22" into indices < limit (at most max of them). */
FSN_NODISCARD fsn_status fsn_app_parse_indices(const char *list, size_t limit, size_t max, size_t **out, size_t *n);

/* The public set "fashion-mnist-test:A-B" built from IDX files (the same bytes, so the same hash, on both sides). */
FSN_NODISCARD fsn_status fsn_app_public_set(fsn_sampleset *set, const fsn_images *im, const fsn_labels *lb,
                                            const char *range);

/* n seeded random images of shape `in` (`--images random`: models of any input shape, for timing). */
FSN_NODISCARD fsn_status fsn_app_random_images(fsn_images *im, fsn_shape in, size_t n, uint64_t seed);
/* The public set "random-pixels:CxHxW:seed S:A-B": images A..B of fsn_app_random_images(in, B + 1, seed), every
 * label 0 (there is no ground truth: such a set is for timing, not for checking a model's quality). Indices below
 * FSN_APP_RANDOM_SET_MAX. */
#define FSN_APP_RANDOM_SET_MAX 1024
FSN_NODISCARD fsn_status fsn_app_random_public_set(fsn_sampleset *set, fsn_shape in, const char *range, uint64_t seed);
/* The same set rebuilt from its name (as a server's card states it), for a model of input shape in; a name of another
 * kind of set or shape is FSN_E_MISMATCH. */
FSN_NODISCARD fsn_status fsn_app_random_public_set_named(fsn_sampleset *set, fsn_shape in, const char *name);

/* Strict unsigned parse of s (decimal), at most max. */
bool fsn_app_parse_uint(const char *s, unsigned long long max, unsigned long long *out);

/* Link profile and timeout into channel options ("none" / NULL = no emulation). */
FSN_NODISCARD fsn_status fsn_app_channel_opts(fsn_channel_opts *o, const char *net, unsigned timeout_s);

double fsn_app_now(void);
void fsn_app_json_string(FILE *out, const char *s);
void fsn_app_hex(char *out, const uint8_t *bytes, size_t n); /* out: 2n + 1 chars */
/* A JSON array of n signed ell-bit values: [12, -3, ...]. */
void fsn_app_json_signed(FILE *out, const uint64_t *v, size_t n, unsigned ell);

#endif
