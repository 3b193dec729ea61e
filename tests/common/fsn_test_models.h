/* Small models for tests, with seeded random weights from fsn_test_rand. */
#ifndef FSN_TESTS_MODELS_H
#define FSN_TESTS_MODELS_H

#include <fusion/nn.h>

/* n floats uniform in [-range, range] from fsn_test_rand (malloc'ed; never NULL in a passing test). */
float *fsn_test_random_floats(size_t n, double range);

/* A residual network using every layer kind on a c x h x w input: conv 3x3 pad 1 -> relu -> conv 3x3 pad 1 ->
 * add (residual) -> relu -> maxpool 2 -> conv 1x1 stride 2 -> relu -> avgpool 2 (pad 1) -> global avgpool ->
 * flatten -> fc -> relu -> fc (classes). Weights uniform in +-range. */
fsn_model *fsn_test_model_every_layer(size_t c, size_t h, size_t w, size_t classes, double range);

/* The operators of the common CNN families on a c x h x w input (h, w >= 5): zero pad 1x2 -> depthwise conv 3x3
 * (2 c outputs, groups = c) -> ReLU6 clip -> maxpool 3x2 stride 2 pad 1x0 ceil_mode -> two branches, a grouped 1x1
 * conv (4 outputs, 2 groups) clipped to [-inf, 1.5] then [-0.25, inf], and a 3x3 conv clipped to [-0.75, 0.5] -> concat
 * -> avgpool 3x3 stride 2 pad 1 ceil_mode count_include_pad = 0 -> avgpool 2x2 stride 2 ceil_mode -> flatten -> fc
 * (classes). Weights uniform in +-range. */
fsn_model *fsn_test_model_cnn_ops(size_t c, size_t h, size_t w, size_t classes, double range);
#endif
