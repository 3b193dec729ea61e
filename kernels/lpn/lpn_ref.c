/* Portable LPN encoding, the oracle of the lpn family: the code's words for a batch of row pairs through the
 * portable AES, then one row at a time. */
#include <string.h>

#include "kernels/lpn/lpn_ops.h"
#include "kernels/prg/prg_ops.h"

enum { PAIRS = 16 }; /* row pairs per AES call */

static void xor_row(uint8_t *out, const uint8_t *base, const uint8_t *words, size_t first, size_t k) {
  for (size_t j = first; j < first + FSN_LPN_D; j++) {
    const uint8_t *b = base + 16 * (size_t)fsn_lpn_position(fsn_lpn_word(words, j), k);
    for (int x = 0; x < 16; x++) out[x] ^= b[x];
  }
}

void fsn_lpn_encode__ref(uint8_t *out, const uint8_t *base, const fsn_aes128_key *key, size_t k, size_t row0,
                         size_t nrows) {
  uint8_t words[16 * FSN_LPN_PAIR_BLOCKS * PAIRS];
  const size_t end = row0 + nrows;
  for (size_t p0 = row0 / 2; 2 * p0 < end; p0 += PAIRS) {
    const size_t pairs = (end + 1) / 2 - p0 < PAIRS ? (end + 1) / 2 - p0 : PAIRS;
    for (size_t b = 0; b < FSN_LPN_PAIR_BLOCKS * pairs; b++)
      fsn_lpn_counter_block(words + 16 * b, FSN_LPN_PAIR_BLOCKS * p0 + b);
    fsn_aes128_ecb__ref(words, words, FSN_LPN_PAIR_BLOCKS * pairs, key);
    for (size_t row = 2 * p0; row < 2 * (p0 + pairs); row++)
      if (row >= row0 && row < end) xor_row(out + 16 * (row - row0), base, words, FSN_LPN_D * (row - 2 * p0), k);
  }
}
