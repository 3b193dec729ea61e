/* AES-128 kernels: ECB, CTR keystream and the CCR hash at each level, the two avx2 AES paths separately, and the
 * register-resident peak loops the CTR figures are measured against (same run, so ratios are meaningful). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/bench.h"
#include "kernels/prg/prg_ops.h"

typedef void (*block_op)(uint8_t *, const uint8_t *, size_t, const fsn_aes128_key *);
typedef void (*ctr_op)(uint8_t *, const uint8_t *, size_t, const fsn_aes128_key *, uint8_t[16]);

/* args.m selects the path: 0 = the level args.isa dispatches to, 1 = aesni, 2 = vaes256. */
enum { PATH_LEVEL = 0, PATH_AESNI = 1, PATH_VAES256 = 2 };

static fsn_aes128_impl path_impl(const fsn_bench_args *a) {
  if (a->m == PATH_AESNI)
    return (fsn_aes128_impl){fsn_aes128_ecb__aesni, fsn_aes128_ctr__aesni, fsn_aes128_ccrh__aesni};
  if (a->m == PATH_VAES256)
    return (fsn_aes128_impl){fsn_aes128_ecb__vaes256, fsn_aes128_ctr__vaes256, fsn_aes128_ccrh__vaes256};
  return *fsn_aes128_impl_for(a->isa);
}

static void bench_key(fsn_aes128_key *key) {
  uint8_t k[16];
  for (int i = 0; i < 16; i++) k[i] = (uint8_t)(i * 37 + 1);
  fsn_aes128_expand(key, k);
}

/* args.n bytes of CTR keystream (the PRG's use). */
static void aes_ctr(fsn_bench_state *st, const fsn_bench_args *a) {
  size_t nblocks = (size_t)a->n / 16;
  uint8_t *out = malloc(16 * nblocks), ctr[16] = {0};
  fsn_aes128_key key;
  bench_key(&key);
  ctr_op op = path_impl(a).ctr;
  while (fsn_bench_running(st)) op(out, NULL, nblocks, &key, ctr);
  fsn_bench_bytes_per_iter(st, 16.0 * (double)nblocks);
  fsn_bench_items_per_iter(st, (double)nblocks);
  free(out);
}

static void block_bench(fsn_bench_state *st, const fsn_bench_args *a, block_op op) {
  size_t nblocks = (size_t)a->n / 16;
  uint8_t *buf = malloc(16 * nblocks);
  memset(buf, 0x5c, 16 * nblocks);
  fsn_aes128_key key;
  bench_key(&key);
  while (fsn_bench_running(st)) op(buf, buf, nblocks, &key);
  fsn_bench_bytes_per_iter(st, 16.0 * (double)nblocks);
  fsn_bench_items_per_iter(st, (double)nblocks);
  free(buf);
}

static void aes_ecb(fsn_bench_state *st, const fsn_bench_args *a) { block_bench(st, a, path_impl(a).ecb); }
static void aes_ccrh(fsn_bench_state *st, const fsn_bench_args *a) { block_bench(st, a, path_impl(a).ccrh); }

/* args.m selects the loop as above, 3 = avx512; items are AES blocks (10 rounds each). */
static void peak_rounds(fsn_bench_state *st, const fsn_bench_args *a) {
  static void (*const loops[])(uint8_t *, const fsn_aes128_key *,
                               size_t) = {NULL, fsn_aes128_peak_aesni, fsn_aes128_peak_vaes256, fsn_aes128_peak_avx512};
  static const double blocks[] = {0, FSN_AES128_PEAK_BLOCKS_AESNI, FSN_AES128_PEAK_BLOCKS_VAES256,
                                  FSN_AES128_PEAK_BLOCKS_AVX512};
  const size_t iters = 4096;
  uint8_t out[16];
  fsn_aes128_key key;
  bench_key(&key);
  while (fsn_bench_running(st)) loops[a->m](out, &key, iters);
  fsn_bench_items_per_iter(st, blocks[a->m] * (double)iters);
  fsn_bench_bytes_per_iter(st, 16.0 * blocks[a->m] * (double)iters);
}

static void add_sizes(const char *family_op, fsn_bench_fn fn) {
  fsn_bench_add_per_isa(family_op, fn, (fsn_bench_args){.n = 16384}, 0, "16384");
  fsn_bench_add_per_isa(family_op, fn, (fsn_bench_args){.n = 1 << 20}, 0, "1048576");
}

static void add_avx2_paths(const char *family_op, fsn_bench_fn fn) {
  if (fsn_isa_best() < FSN_ISA_AVX2) return;
  static const char *sizes[] = {"16384", "1048576"};
  static const int64_t bytes[] = {16384, 1 << 20};
  char name[96];
  for (int s = 0; s < 2; s++) {
    snprintf(name, sizeof name, "%s/aesni/%s", family_op, sizes[s]);
    fsn_bench_add(name, fn, (fsn_bench_args){.isa = FSN_ISA_AVX2, .n = bytes[s], .m = PATH_AESNI}, 0);
    if (!fsn_cpu()->vaes) continue;
    snprintf(name, sizeof name, "%s/vaes256/%s", family_op, sizes[s]);
    fsn_bench_add(name, fn, (fsn_bench_args){.isa = FSN_ISA_AVX2, .n = bytes[s], .m = PATH_VAES256}, 0);
  }
}

void fsn_bench_register_prg(void) {
  add_sizes("prg/aes_ctr", aes_ctr);
  add_avx2_paths("prg/aes_ctr", aes_ctr);
  add_sizes("prg/aes_ecb", aes_ecb);
  add_avx2_paths("prg/aes_ecb", aes_ecb);
  add_sizes("prg/ccrh", aes_ccrh);
  add_avx2_paths("prg/ccrh", aes_ccrh);
  if (fsn_isa_best() >= FSN_ISA_AVX2) {
    fsn_bench_add("peak/aes_rounds/aesni", peak_rounds, (fsn_bench_args){.m = 1}, 0);
    if (fsn_cpu()->vaes) fsn_bench_add("peak/aes_rounds/vaes256", peak_rounds, (fsn_bench_args){.m = 2}, 0);
  }
  if (fsn_isa_best() >= FSN_ISA_AVX512 && fsn_cpu()->vaes)
    fsn_bench_add("peak/aes_rounds/avx512", peak_rounds, (fsn_bench_args){.m = 3}, 0);
}
