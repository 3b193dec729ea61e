/* Small models for tests, with seeded random weights from fsn_test_rand. */
#ifndef FSN_TESTS_MODELS_H
#define FSN_TESTS_MODELS_H

#include <fusion/nn.h>

/* A residual network using every layer kind on a c x h x w input: conv 3x3 pad 1 -> relu -> conv 3x3 pad 1 ->
 * add (residual) -> relu -> maxpool 2 -> conv 1x1 stride 2 -> relu -> avgpool 2 (pad 1) -> global avgpool ->
 * flatten -> fc -> relu -> fc (classes). Weights uniform in +-range. */
fsn_model *fsn_test_model_every_layer(size_t c, size_t h, size_t w, size_t classes, double range);

#endif
