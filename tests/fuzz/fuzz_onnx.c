/* libFuzzer target for the ONNX importer and the input-tensor readers (.npy, PNG, JPEG, TensorProto): every byte of a
 * user's model or input file goes through both. A model that imports is also quantised and hashed, the steps a server
 * takes before serving it. */
#include <fusion/nn.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fsn_tensor t;
  if (fsn_tensor_parse(&t, data, size, "input") == FSN_OK) fsn_tensor_free(&t);
  fsn_model *m;
  if (fsn_model_parse_onnx(&m, data, size) != FSN_OK) return 0;
  uint8_t hash[32];
  if (fsn_model_quantize(m, 37, 12) == FSN_OK && fsn_model_hash(m, hash) != FSN_OK) abort();
  fsn_model_destroy(m);
  return 0;
}
