/* The drivers every SIMD AES path shares, generated per path from three batch functions of B blocks:
 *   ecb_batch_<p>(out, in, k)            B blocks of ECB
 *   ctr_batch_<p>(out, in, k, hi, lo)    B blocks of CTR from counter (hi, lo); in may be NULL (keystream only)
 *   ccrh_batch_<p>(out, in, k)           B blocks of the CCR hash
 * where k is the path's loaded round keys. Full batches run straight from the caller's buffers; the tail (< B blocks)
 * runs one batch through a stack buffer, so every path computes exactly the blocks asked for, never reads or writes
 * past them, and out may equal in. Only kernels/ includes this (it relies on the including file's intrinsics). */
#ifndef FSN_KERNELS_PRG_DRIVERS_H
#define FSN_KERNELS_PRG_DRIVERS_H

#include <string.h>

#include "kernels/prg/prg_ops.h"

#define FSN_AES128_DEFINE_DRIVERS(p, B, keys_t, load_keys)                                                             \
  void fsn_aes128_ecb__##p(uint8_t *out, const uint8_t *in, size_t nblocks, const fsn_aes128_key *key) {               \
    keys_t k;                                                                                                          \
    load_keys(&k, key);                                                                                                \
    size_t i = 0;                                                                                                      \
    for (; i + (B) <= nblocks; i += (B)) ecb_batch_##p(out + 16 * i, in + 16 * i, &k);                                 \
    if (i < nblocks) {                                                                                                 \
      uint8_t buf[16 * (B)] = {0};                                                                                     \
      memcpy(buf, in + 16 * i, 16 * (nblocks - i));                                                                    \
      ecb_batch_##p(buf, buf, &k);                                                                                     \
      memcpy(out + 16 * i, buf, 16 * (nblocks - i));                                                                   \
    }                                                                                                                  \
  }                                                                                                                    \
  void fsn_aes128_ctr__##p(uint8_t *out, const uint8_t *in, size_t nblocks, const fsn_aes128_key *key,                 \
                           uint8_t ctr[16]) {                                                                          \
    keys_t k;                                                                                                          \
    load_keys(&k, key);                                                                                                \
    uint64_t hi = fsn_aes128_load_be64(ctr), lo = fsn_aes128_load_be64(ctr + 8);                                       \
    size_t i = 0;                                                                                                      \
    for (; i + (B) <= nblocks; i += (B)) {                                                                             \
      ctr_batch_##p(out + 16 * i, in ? in + 16 * i : NULL, &k, hi, lo);                                                \
      lo += (B);                                                                                                       \
      hi += lo < (B);                                                                                                  \
    }                                                                                                                  \
    if (i < nblocks) {                                                                                                 \
      size_t rest = nblocks - i;                                                                                       \
      uint8_t buf[16 * (B)] = {0};                                                                                     \
      if (in) memcpy(buf, in + 16 * i, 16 * rest);                                                                     \
      ctr_batch_##p(buf, in ? buf : NULL, &k, hi, lo);                                                                 \
      memcpy(out + 16 * i, buf, 16 * rest);                                                                            \
      lo += rest;                                                                                                      \
      hi += lo < rest;                                                                                                 \
    }                                                                                                                  \
    fsn_aes128_store_be64(ctr, hi);                                                                                    \
    fsn_aes128_store_be64(ctr + 8, lo);                                                                                \
  }                                                                                                                    \
  void fsn_aes128_ccrh__##p(uint8_t *out, const uint8_t *in, size_t nblocks, const fsn_aes128_key *key) {              \
    keys_t k;                                                                                                          \
    load_keys(&k, key);                                                                                                \
    size_t i = 0;                                                                                                      \
    for (; i + (B) <= nblocks; i += (B)) ccrh_batch_##p(out + 16 * i, in + 16 * i, &k);                                \
    if (i < nblocks) {                                                                                                 \
      uint8_t buf[16 * (B)] = {0};                                                                                     \
      memcpy(buf, in + 16 * i, 16 * (nblocks - i));                                                                    \
      ccrh_batch_##p(buf, buf, &k);                                                                                    \
      memcpy(out + 16 * i, buf, 16 * (nblocks - i));                                                                   \
    }                                                                                                                  \
  }

/* Counters of one batch: base + j as a little-endian 128-bit value needs a carry into the high half only when the
 * low half wraps inside the batch; that batch is built by the scalar helper instead. */
static inline int fsn_aes128_batch_carries(uint64_t lo, size_t b) { return lo > UINT64_MAX - (b - 1); }

/* The common case (a PRG's counter advances in whole batches): the last byte does not wrap inside the batch, so the
 * big-endian counter blocks are the base block plus j in byte 15 -- one byte add per register, no byte swap. */
static inline int fsn_aes128_batch_low_byte_fits(uint64_t lo, size_t b) { return (lo & 0xff) <= 256 - b; }

#endif
