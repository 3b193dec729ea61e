/* The one list of dispatched GGM-tree ops (see kernels/dispatch.h): one level of a GGM tree at a time, with the
 * length-doubling PRG G(s) = (AES_k0(s) ^ s, AES_k1(s) ^ s) under two fixed public keys (the "two-key PRP" PRG of
 * Guo-Katz-Wang-Yu 2020, which emp-ot's Ferret also uses). Ferret's single-point COTs (protocol/ot/ferret.c) expand
 * t trees of 2^h leaves with it, a whole level per call so that AES runs on many independent blocks. */
#ifndef FSN_KERNELS_GGM_OPS_H
#define FSN_KERNELS_GGM_OPS_H

#include <fusion/prg.h>
#include <stddef.h>
#include <stdint.h>

#include "kernels/dispatch.h"

/* expand: node j of a level (16 bytes at in + 16 j, j < m) has the children
 *   out[2 j]     = AES_k0(in[j]) ^ in[j]   (the left child, "even")
 *   out[2 j + 1] = AES_k1(in[j]) ^ in[j]   (the right child, "odd"),
 * and sums[0..16) = XOR of the m left children, sums[16..32) = XOR of the m right children (the two level sums K^0,
 * K^1 of Ferret's single-point COT). out holds 2 m blocks and may equal in (in place: the level grows from the back);
 * any other overlap is not allowed. Any alignment. */
#define FSN_GGM_OPS(X, isa)                                                                                            \
  X(ggm, isa, expand,                                                                                                  \
    (uint8_t * out, uint8_t sums[32], const uint8_t *in, size_t m, const fsn_aes128_key *k0,                           \
     const fsn_aes128_key *k1),                                                                                        \
    (out, sums, in, m, k0, k1))

/* No AVX-512 variant: AES on zmm needs VAES, and the AES-NI path keeps the AES units busy; avx512 runs avx2. */
#define FSN_GGM_VARIANTS(V, a) V(a, ref) V(a, avx2)

FSN_FAMILY_DECLARE(ggm, FSN_GGM_OPS, FSN_GGM_VARIANTS)

/* The dispatched entry point (FSN_OP_DISPATCH in ggm.c). */
void fsn_ggm_expand(uint8_t *out, uint8_t sums[32], const uint8_t *in, size_t m, const fsn_aes128_key *k0,
                    const fsn_aes128_key *k1);

#endif
