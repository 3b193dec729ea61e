/* AES-128, the CTR PRG and the CCR hash: FIPS-197 and SP 800-38A vectors on every path, and every SIMD path against
 * the portable oracle bit for bit over every tail length, misaligned guarded buffers and counter carries. */
#include <stdio.h>
#include <string.h>

#include "kernels/prg/prg_ops.h"
#include "tests/common/fsn_test.h"

static void hex(uint8_t *out, const char *s) {
  for (size_t i = 0; s[2 * i]; i++) {
    unsigned v;
    sscanf(s + 2 * i, "%2x", &v);
    out[i] = (uint8_t)v;
  }
}

/* Every variant the machine runs at the active level (FSN_ISA caps it), the oracle first: each is checked against the
 * known answers and the oracle in one process, whichever of them dispatch chose. */
typedef struct path {
  const char *name;
  fsn_aes128_impl impl;
} path;

static size_t paths(path out[FSN_VARIANT_COUNT]) {
  size_t n = 0;
  for (size_t i = 0; i < fsn_aes128_variant_count; i++)
    if (fsn_variant_runs(fsn_aes128_variants[i].id, fsn_isa_active()))
      out[n++] = (path){fsn_variant_name(fsn_aes128_variants[i].id), fsn_aes128_variants[i].impl};
  return n;
}

/* Dispatch runs the most preferred variant each level admits: VAES where the CPU has it, and at the avx512 level
 * without VAES the AES-NI variant of the avx2 level, never a VAES one. */
START_TEST(dispatch_follows_features) {
  const int vaes = fsn_cpu()->vaes;
  static const char *const want[FSN_ISA_COUNT][2] = {{"ref", "ref"}, {"avx2", "avx2_vaes"}, {"avx2", "avx512_vaes"}};
  for (int level = FSN_ISA_REF; level <= (int)fsn_isa_best(); level++)
    ck_assert_str_eq(fsn_aes128_variant_chosen((fsn_isa)level), want[level][vaes]);
}
END_TEST

START_TEST(fips197_c1_encrypt) {
  uint8_t k[16], pt[16], want[16], got[16];
  hex(k, "000102030405060708090a0b0c0d0e0f");
  hex(pt, "00112233445566778899aabbccddeeff");
  hex(want, "69c4e0d86a7b0430d8cdb78070b4c55a");
  fsn_aes128_key key;
  fsn_aes128_expand(&key, k);
  path p[FSN_VARIANT_COUNT];
  for (size_t i = 0, n = paths(p); i < n; i++) {
    memset(got, 0, 16);
    p[i].impl.ecb(got, pt, 1, &key);
    ck_assert_msg(!memcmp(got, want, 16), "FIPS-197 C.1 on %s", p[i].name);
  }
  fsn_aes128_ecb(got, pt, 1, &key);
  ck_assert(!memcmp(got, want, 16));
}
END_TEST

START_TEST(fips197_a1_key_expansion) {
  uint8_t k[16], rk1[16], rk10[16];
  hex(k, "2b7e151628aed2a6abf7158809cf4f3c");
  hex(rk1, "a0fafe1788542cb123a339392a6c7605");  /* w[4..7] */
  hex(rk10, "d014f9a8c9ee2589e13f0cc8b6630ca6"); /* w[40..43] */
  fsn_aes128_key key;
  fsn_aes128_expand(&key, k);
  ck_assert(!memcmp(key.rk[0], k, 16));
  ck_assert(!memcmp(key.rk[1], rk1, 16));
  ck_assert(!memcmp(key.rk[10], rk10, 16));
}
END_TEST

START_TEST(ccrh_fixed_key_and_known_answer) {
  uint8_t k[16], x[16], want[16], got[16];
  hex(k, "254c6c97e4ed52fcc3231eb77817dbe5"); /* SHA-256("fusion ccrh v1")[0..15] */
  fsn_aes128_key key;
  fsn_aes128_expand(&key, k);
  ck_assert(!memcmp(&key, fsn_ccrh_key(), sizeof key));
  for (int i = 0; i < 16; i++) x[i] = (uint8_t)i;
  hex(want, "a5da6ea20221b4c3b09440739bb6e439"); /* AES_k(sigma(x)) ^ sigma(x), AES by OpenSSL */
  path p[FSN_VARIANT_COUNT];
  for (size_t i = 0, n = paths(p); i < n; i++) {
    memset(got, 0, 16);
    p[i].impl.ccrh(got, x, 1, fsn_ccrh_key());
    ck_assert_msg(!memcmp(got, want, 16), "ccrh known answer on %s", p[i].name);
  }
  fsn_ccrh(x, x, 1); /* in place */
  ck_assert(!memcmp(x, want, 16));
}
END_TEST

START_TEST(sp800_38a_f51_ctr) {
  uint8_t k[16], ctr0[16], pt[64], want[64], ctr_end[16];
  hex(k, "2b7e151628aed2a6abf7158809cf4f3c");
  hex(ctr0, "f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff");
  hex(pt, "6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51"
          "30c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710");
  hex(want, "874d6191b620e3261bef6864990db6ce9806f66b7970fdff8617187bb9fffdff"
            "5ae4df3edbd5d35e5b4f09020db03eab1e031dda2fbe03d1792170a0f3009cee");
  hex(ctr_end, "f0f1f2f3f4f5f6f7f8f9fafbfcfdff03");
  fsn_aes128_key key;
  fsn_aes128_expand(&key, k);
  path p[FSN_VARIANT_COUNT];
  for (size_t i = 0, n = paths(p); i < n; i++) {
    for (size_t split = 0; split <= 4; split++) { /* two calls, split at every block boundary */
      uint8_t ctr[16], got[64];
      memcpy(ctr, ctr0, 16);
      p[i].impl.ctr(got, pt, split, &key, ctr);
      p[i].impl.ctr(got + 16 * split, pt + 16 * split, 4 - split, &key, ctr);
      ck_assert_msg(!memcmp(got, want, 64), "SP 800-38A F.5.1 on %s split %zu", p[i].name, split);
      ck_assert_msg(!memcmp(ctr, ctr_end, 16), "counter after F.5.1 on %s", p[i].name);
      /* Keystream only, then decrypt in place. */
      memcpy(ctr, ctr0, 16);
      p[i].impl.ctr(got, NULL, 4, &key, ctr);
      for (int j = 0; j < 64; j++) got[j] ^= pt[j];
      ck_assert_msg(!memcmp(got, want, 64), "keystream on %s", p[i].name);
      memcpy(ctr, ctr0, 16);
      p[i].impl.ctr(got, got, 4, &key, ctr);
      ck_assert_msg(!memcmp(got, pt, 64), "in-place decryption on %s", p[i].name);
    }
  }
}
END_TEST

/* The keystream from `start` equals ECB of the explicit counter blocks, across 64-bit and 128-bit wraps. */
START_TEST(ctr_counter_carries) {
  static const char *starts[] = {
      "0000000000000000ffffffffffffffff", /* carry into the high half on the first step */
      "0000000000000000fffffffffffffff0", /* carry in the middle of a SIMD batch */
      "00000000000000ffffffffffffffffe3", /* carry across bytes of the high half */
      "ffffffffffffffffffffffffffffffff", /* wraps to zero */
      "fffffffffffffffffffffffffffffff7",
  };
  fsn_aes128_key key;
  uint8_t k[16];
  fsn_test_fill(k, 16);
  fsn_aes128_expand(&key, k);
  enum { N = 80 };
  path p[FSN_VARIANT_COUNT];
  size_t np = paths(p);
  for (size_t s = 0; s < sizeof starts / sizeof *starts; s++) {
    uint8_t start[16], blocks[16 * N], want[16 * N], ctr[16], end[16];
    hex(start, starts[s]);
    uint64_t hi = fsn_aes128_load_be64(start), lo = fsn_aes128_load_be64(start + 8);
    /* Build the counters by hand, not with the shared helper, so the helper is tested too. */
    for (int i = 0; i < N; i++) {
      uint64_t l = lo + (uint64_t)i, h = hi + (l < lo);
      for (int j = 0; j < 8; j++) {
        blocks[16 * i + j] = (uint8_t)(h >> (56 - 8 * j));
        blocks[16 * i + 8 + j] = (uint8_t)(l >> (56 - 8 * j));
      }
    }
    uint64_t l = lo + N, h = hi + (l < lo);
    fsn_aes128_store_be64(end, h);
    fsn_aes128_store_be64(end + 8, l);
    fsn_aes128_ecb__ref(want, blocks, N, &key);
    for (size_t i = 0; i < np; i++) {
      uint8_t got[16 * N];
      memcpy(ctr, start, 16);
      p[i].impl.ctr(got, NULL, N, &key, ctr);
      ck_assert_msg(!memcmp(got, want, sizeof got), "counter from %s on %s", starts[s], p[i].name);
      ck_assert_msg(!memcmp(ctr, end, 16), "counter end from %s on %s", starts[s], p[i].name);
    }
  }
}
END_TEST

typedef enum { OP_ECB, OP_CTR, OP_CTR_KEYSTREAM, OP_CCRH } op_kind;

static void run_op(const fsn_aes128_impl *impl, op_kind op, uint8_t *out, const uint8_t *in, size_t n,
                   const fsn_aes128_key *key, uint8_t ctr[16]) {
  switch (op) {
  case OP_ECB: impl->ecb(out, in, n, key); break;
  case OP_CTR: impl->ctr(out, in, n, key, ctr); break;
  case OP_CTR_KEYSTREAM: impl->ctr(out, NULL, n, key, ctr); break;
  case OP_CCRH: impl->ccrh(out, in, n, key); break;
  }
}

/* Every path against the oracle: every block count 0..64 (2 x the widest batch) + 3, misaligned, guarded,
 * and in place. */
START_TEST(paths_match_ref) {
  static const char *op_names[] = {"ecb", "ctr", "ctr-keystream", "ccrh"};
  fsn_aes128_key key;
  uint8_t k[16], ctr0[16];
  fsn_test_fill(k, 16);
  fsn_aes128_expand(&key, k);
  path p[FSN_VARIANT_COUNT];
  size_t np = paths(p);
  const fsn_aes128_impl *ref = &p[0].impl;
  for (int op = OP_ECB; op <= OP_CCRH; op++) {
    for (size_t n = 0; n <= 2 * FSN_AES128_BATCH_AVX512 + 3; n++) {
      fsn_test_fill(ctr0, 16);
      ctr0[8] = 0xff; /* sometimes carry out of the low half inside the run */
      fsn_test_buf bin, bout, bwant;
      uint8_t *in = fsn_test_buf_alloc(&bin, 16 * n, 16 * (n % 4) + (n % 3));
      uint8_t *want = fsn_test_buf_alloc(&bwant, 16 * n, 0);
      fsn_test_fill(in, 16 * n);
      uint8_t ctr_want[16], ctr[16];
      memcpy(ctr_want, ctr0, 16);
      run_op(ref, (op_kind)op, want, in, n, &key, ctr_want);
      for (size_t i = 1; i < np; i++) {
        uint8_t *out = fsn_test_buf_alloc(&bout, 16 * n, 5 + i);
        memcpy(ctr, ctr0, 16);
        run_op(&p[i].impl, (op_kind)op, out, in, n, &key, ctr);
        ck_assert_msg(n == 0 || !memcmp(out, want, 16 * n), "%s on %s, %zu blocks", op_names[op], p[i].name, n);
        ck_assert_msg(!memcmp(ctr, ctr_want, 16), "%s counter on %s, %zu blocks", op_names[op], p[i].name, n);
        fsn_test_buf_check(&bout);
        fsn_test_buf_free(&bout);
        /* In place. */
        uint8_t *copy = fsn_test_buf_alloc(&bout, 16 * n, 3);
        if (n) memcpy(copy, in, 16 * n);
        memcpy(ctr, ctr0, 16);
        run_op(&p[i].impl, (op_kind)op, copy, copy, n, &key, ctr);
        ck_assert_msg(n == 0 || !memcmp(copy, want, 16 * n), "%s in place on %s, %zu blocks", op_names[op], p[i].name,
                      n);
        fsn_test_buf_check(&bout);
        fsn_test_buf_free(&bout);
      }
      fsn_test_buf_check(&bin);
      fsn_test_buf_free(&bin);
      fsn_test_buf_free(&bwant);
    }
  }
}
END_TEST

START_TEST(prg_stream_bytes_and_ring) {
  uint8_t seed[16];
  fsn_test_fill(seed, 16);
  fsn_aes128_key key;
  fsn_aes128_expand(&key, seed);
  enum { NBLK = 40 };
  uint8_t stream[16 * NBLK], ctr[16] = {0};
  fsn_aes128_ctr__ref(stream, NULL, NBLK, &key, ctr);

  /* Whole blocks, then a partial block whose remainder is discarded, then the next block. */
  fsn_prg prg;
  fsn_prg_seed(&prg, seed);
  uint8_t got[48];
  fsn_prg_bytes(&prg, got, 16);
  fsn_prg_bytes(&prg, got + 16, 5);
  fsn_prg_bytes(&prg, got + 21, 16);
  ck_assert(!memcmp(got, stream, 21));
  ck_assert(!memcmp(got + 21, stream + 32, 16));

  for (size_t e = 0; e < FSN_TEST_NELLS; e++) {
    unsigned ell = fsn_test_ells[e];
    for (size_t n = 0; n <= 33; n++) {
      uint64_t vals[33 + 1];
      vals[n] = 0x1234; /* guard */
      fsn_prg_seed(&prg, seed);
      fsn_prg_ring(&prg, vals, n, ell);
      ck_assert_uint_eq(vals[n], 0x1234);
      for (size_t i = 0; i < n; i++) {
        uint64_t v = 0;
        for (int j = 7; j >= 0; j--) v = (v << 8) | stream[8 * i + j];
        ck_assert_msg(vals[i] == (v & fsn_ring_mask(ell)), "ring ell=%u n=%zu i=%zu", ell, n, i);
        ck_assert(ell == 64 || vals[i] >> ell == 0);
      }
      /* The counter moved past every block touched, including a half-used last one. */
      uint8_t next[16];
      fsn_prg_bytes(&prg, next, 16);
      ck_assert_msg(!memcmp(next, stream + 16 * ((8 * n + 15) / 16), 16), "stream after ring n=%zu", n);
    }
  }
}
END_TEST

int main(void) {
  Suite *s = suite_create("prg");
  TCase *tc = tcase_create("prg");
  tcase_add_test(tc, dispatch_follows_features);
  tcase_add_test(tc, fips197_c1_encrypt);
  tcase_add_test(tc, fips197_a1_key_expansion);
  tcase_add_test(tc, ccrh_fixed_key_and_known_answer);
  tcase_add_test(tc, sp800_38a_f51_ctr);
  tcase_add_test(tc, ctr_counter_carries);
  tcase_add_test(tc, paths_match_ref);
  tcase_add_test(tc, prg_stream_bytes_and_ring);
  suite_add_tcase(s, tc);
  return fsn_test_main(s);
}
