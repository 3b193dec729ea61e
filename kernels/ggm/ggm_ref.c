/* Portable correlated GGM level expansion, the oracle of the ggm family: the left children of a batch of nodes
 * through the portable CCR hash, from the last node to the first so that the level may grow in place. */
#include <string.h>

#include "kernels/ggm/ggm_ops.h"
#include "kernels/prg/prg_ops.h"

enum { BATCH = 32 }; /* nodes per hash call */

static void xor_block(uint8_t *acc, const uint8_t *x) {
  for (int b = 0; b < 16; b++) acc[b] ^= x[b];
}

void fsn_ggm_expand__ref(uint8_t *out, uint8_t sums[32], const uint8_t *in, size_t m, const fsn_aes128_key *key) {
  uint8_t node[16 * BATCH], left[16 * BATCH];
  memset(sums, 0, 32);
  for (size_t end = m; end > 0;) {
    const size_t cnt = end < BATCH ? end : BATCH, begin = end - cnt;
    memcpy(node, in + 16 * begin, 16 * cnt); /* before any child of this batch overwrites it */
    fsn_aes128_ccrh__ref(left, node, cnt, key);
    for (size_t j = cnt; j-- > 0;) {
      uint8_t *right = node + 16 * j; /* the node becomes its right child */
      xor_block(right, left + 16 * j);
      xor_block(sums, left + 16 * j);
      xor_block(sums + 16, right);
      memcpy(out + 32 * (begin + j), left + 16 * j, 16);
      memcpy(out + 32 * (begin + j) + 16, right, 16);
    }
    end = begin;
  }
}
