/* AES-128 kernels: ECB, CTR keystream and the CCR hash on every variant the machine runs (avx2 = AES-NI, avx2_vaes,
 * avx512_vaes), and the register-resident peak loops the CTR figures are measured against (same run, so ratios are
 * meaningful). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/bench.h"
#include "kernels/prg/prg_ops.h"

typedef void (*block_op)(uint8_t *, const uint8_t *, size_t, const fsn_aes128_key *);
typedef void (*ctr_op)(uint8_t *, const uint8_t *, size_t, const fsn_aes128_key *, uint8_t[16]);

static fsn_aes128_impl path_impl(const fsn_bench_args *a) { return *FSN_BENCH_IMPL(aes128, a); }

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

/* The peak loop of each SIMD variant (indexed by variant id); items are AES blocks (10 rounds each). */
static const struct {
  void (*loop)(uint8_t out[16], const fsn_aes128_key *key, size_t iters);
  double blocks;
} peaks[FSN_VARIANT_COUNT] = {
    [FSN_VARIANT_avx2] = {fsn_aes128_peak__avx2, FSN_AES128_PEAK_BLOCKS_AVX2},
    [FSN_VARIANT_avx2_vaes] = {fsn_aes128_peak__avx2_vaes, FSN_AES128_PEAK_BLOCKS_AVX2_VAES},
    [FSN_VARIANT_avx512_vaes] = {fsn_aes128_peak__avx512_vaes, FSN_AES128_PEAK_BLOCKS_AVX512_VAES},
};

/* args.variant is the index of a variant with a peak loop. */
static void peak_rounds(fsn_bench_state *st, const fsn_bench_args *a) {
  const size_t iters = 4096;
  const fsn_variant id = fsn_aes128_variants[a->variant].id;
  uint8_t out[16];
  fsn_aes128_key key;
  bench_key(&key);
  while (fsn_bench_running(st)) peaks[id].loop(out, &key, iters);
  fsn_bench_items_per_iter(st, peaks[id].blocks * (double)iters);
  fsn_bench_bytes_per_iter(st, 16.0 * peaks[id].blocks * (double)iters);
}

static void add_sizes(const char *family_op, fsn_bench_fn fn) {
  FSN_BENCH_ADD_VARIANTS(aes128, family_op, fn, (fsn_bench_args){.n = 16384}, 0, "16384");
  FSN_BENCH_ADD_VARIANTS(aes128, family_op, fn, (fsn_bench_args){.n = 1 << 20}, 0, "1048576");
}

void fsn_bench_register_prg(void) {
  add_sizes("prg/aes_ctr", aes_ctr);
  add_sizes("prg/aes_ecb", aes_ecb);
  add_sizes("prg/ccrh", aes_ccrh);
  char name[64];
  for (size_t i = 0; i < fsn_aes128_variant_count; i++) {
    fsn_variant id = fsn_aes128_variants[i].id;
    if (!peaks[id].loop || !fsn_variant_runs(id, fsn_isa_active())) continue;
    snprintf(name, sizeof name, "peak/aes_rounds/%s", fsn_variant_name(id));
    fsn_bench_add(name, peak_rounds, (fsn_bench_args){.variant = i}, 0);
  }
}
