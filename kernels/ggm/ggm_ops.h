/* The one list of dispatched GGM-tree ops (see kernels/dispatch.h): one level of a correlated GGM tree at a time,
 * the Half-Tree expansion of Guo, Yang, Wang, Zhang, Xie, Liu, Zhao (Eurocrypt 2023): a node s has the children
 * H(s) and s ^ H(s), H the circular-correlation-robust hash pi(sigma(s)) ^ sigma(s) of <fusion/prg.h> with pi =
 * AES-128 under a fixed public key. One AES call per node, and every level's nodes XOR to the same value (the
 * root's), which is what lets Ferret send one block per level (protocol/ot/ferret.c). Ferret's single-point COTs
 * expand t trees of 2^h leaves with it, a whole level per call so that AES runs on many independent blocks. */
#ifndef FSN_KERNELS_GGM_OPS_H
#define FSN_KERNELS_GGM_OPS_H

#include <fusion/prg.h>
#include <stddef.h>
#include <stdint.h>

#include "kernels/dispatch.h"

/* expand: node j of a level (16 bytes at in + 16 j, j < m) has the children
 *   out[2 j]     = H(in[j]) = AES_k(sigma(in[j])) ^ sigma(in[j])   (the left child, "even")
 *   out[2 j + 1] = in[j] ^ out[2 j]                                (the right child, "odd"),
 * sigma(a || b) = (a ^ b) || a on the 64-bit halves (a = bytes 0..7); sums[0..16) = XOR of the m left children,
 * sums[16..32) = XOR of the m right children (the level sums K^0, K^1 of Ferret's single-point COT). out holds 2 m
 * blocks and may equal in (in place: the level grows from the back); any other overlap is not allowed. Any
 * alignment. */
#define FSN_GGM_OPS(X, isa)                                                                                            \
  X(ggm, isa, expand, (uint8_t * out, uint8_t sums[32], const uint8_t *in, size_t m, const fsn_aes128_key *key),       \
    (out, sums, in, m, key))

/* No AVX-512 variant: AES on zmm needs VAES, and the AES-NI path keeps the AES units busy; avx512 runs avx2. */
#define FSN_GGM_VARIANTS(V, a) V(a, ref) V(a, avx2)

FSN_FAMILY_DECLARE(ggm, FSN_GGM_OPS, FSN_GGM_VARIANTS)

/* The dispatched entry point (FSN_OP_DISPATCH in ggm.c). */
void fsn_ggm_expand(uint8_t *out, uint8_t sums[32], const uint8_t *in, size_t m, const fsn_aes128_key *key);

#endif
