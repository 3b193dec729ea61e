/* Bit matrices and packed bits: transposes against a bit-by-bit definition, and every op of every runnable variant
 * against the portable oracle over every tail length, misaligned guarded buffers and in place. */
#include <string.h>

#include "kernels/bits/bits_ops.h"
#include "tests/common/fsn_kernel_shapes.h"

static int get_bit(const uint8_t *row, size_t j) { return (row[j / 8] >> (j % 8)) & 1; }

/* The definition: out bit (c, r) = in bit (r, c). */
static void transpose_bitwise(uint8_t *out, const uint8_t *in, size_t rows, size_t cols) {
  memset(out, 0, rows * cols / 8);
  for (size_t r = 0; r < rows; r++)
    for (size_t c = 0; c < cols; c++)
      out[c * (rows / 8) + r / 8] |= (uint8_t)(get_bit(in + r * (cols / 8), c) << (r % 8));
}

static const fsn_bits_impl *impls[2];
static const char *impl_names[2];

static void setup(void) {
  impls[0] = fsn_bits_impl_for(FSN_ISA_REF);
  impls[1] = FSN_TEST_IMPL(bits);
  impl_names[0] = "ref";
  impl_names[1] = FSN_TEST_VARIANT_NAME;
}

FSN_VARIANT_TEST(transpose128_definition_and_involution, bits) {
  setup();
  for (int rep = 0; rep < 4; rep++) {
    fsn_test_buf bin, bout, bback;
    uint8_t *in = fsn_test_buf_alloc(&bin, 2048, rep * 5), *out = fsn_test_buf_alloc(&bout, 2048, rep * 3);
    uint8_t *back = fsn_test_buf_alloc(&bback, 2048, 1), want[2048];
    fsn_test_fill(in, 2048);
    if (rep == 0) memset(in, 0, 2048), in[0] = 1, in[2047] = 0x80, in[17] = 0x40; /* single bits land right */
    transpose_bitwise(want, in, 128, 128);
    for (int i = 0; i < 2; i++) {
      impls[i]->transpose128(out, in);
      ck_assert_msg(!memcmp(out, want, 2048), "transpose128 on %s, rep %d", impl_names[i], rep);
      impls[i]->transpose128(back, out);
      ck_assert_msg(!memcmp(back, in, 2048), "transpose128 twice on %s", impl_names[i]);
    }
    fsn_bits_transpose128(out, in);
    ck_assert(!memcmp(out, want, 2048));
    fsn_test_buf_check(&bin);
    fsn_test_buf_check(&bout);
    fsn_test_buf_check(&bback);
    fsn_test_buf_free(&bin);
    fsn_test_buf_free(&bout);
    fsn_test_buf_free(&bback);
  }
}
END_TEST

FSN_VARIANT_TEST(transpose_bulk_shapes, bits) {
  setup();
  static const size_t shapes[][2] = {{128, 8},    {128, 1024}, {128, 1000}, {8, 128},   {256, 384},
                                     {1024, 128}, {128, 136},  {136, 128},  {64, 64},   {32, 160},
                                     {192, 1032}, {8, 8},      {600, 264},  {2048, 128}};
  for (size_t s = 0; s < sizeof shapes / sizeof *shapes; s++) {
    size_t rows = shapes[s][0], cols = shapes[s][1], bytes = rows * cols / 8;
    fsn_test_buf bin, bout;
    uint8_t *in = fsn_test_buf_alloc(&bin, bytes, 7), *want = fsn_test_buf_alloc(&bout, bytes, 0);
    fsn_test_fill(in, bytes);
    transpose_bitwise(want, in, rows, cols);
    for (int i = 0; i < 2; i++) {
      fsn_test_buf bgot, bback;
      uint8_t *got = fsn_test_buf_alloc(&bgot, bytes, 9), *back = fsn_test_buf_alloc(&bback, bytes, 33);
      impls[i]->transpose(got, in, rows, cols);
      ck_assert_msg(!memcmp(got, want, bytes), "transpose %zu x %zu on %s", rows, cols, impl_names[i]);
      impls[i]->transpose(back, got, cols, rows);
      ck_assert_msg(!memcmp(back, in, bytes), "transpose back %zu x %zu on %s", cols, rows, impl_names[i]);
      fsn_test_buf_check(&bgot);
      fsn_test_buf_check(&bback);
      fsn_test_buf_free(&bgot);
      fsn_test_buf_free(&bback);
    }
    fsn_test_buf_check(&bin);
    fsn_test_buf_free(&bin);
    fsn_test_buf_free(&bout);
  }
}
END_TEST

FSN_VARIANT_TEST(pack_unpack_round_trip, bits) {
  setup();
  for (size_t n = 0; n <= 130; n++) {
    for (int i = 0; i < 2; i++) {
      fsn_test_buf bbits, bpacked, bback;
      uint8_t *bits = fsn_test_buf_alloc(&bbits, n, n % 7), *packed = fsn_test_buf_alloc(&bpacked, (n + 7) / 8, 3);
      uint8_t *back = fsn_test_buf_alloc(&bback, n, n % 5);
      for (size_t j = 0; j < n; j++) bits[j] = fsn_test_rand() & 1;
      impls[i]->pack(packed, bits, n);
      for (size_t j = 0; j < n; j++)
        ck_assert_msg(get_bit(packed, j) == bits[j], "pack n=%zu bit %zu on %s", n, j, impl_names[i]);
      if (n % 8) ck_assert_msg(packed[n / 8] >> (n % 8) == 0, "pack n=%zu: unused bits set on %s", n, impl_names[i]);
      impls[i]->unpack(back, packed, n);
      ck_assert_msg(n == 0 || !memcmp(back, bits, n), "unpack n=%zu on %s", n, impl_names[i]);
      fsn_test_buf_check(&bbits);
      fsn_test_buf_check(&bpacked);
      fsn_test_buf_check(&bback);
      fsn_test_buf_free(&bbits);
      fsn_test_buf_free(&bpacked);
      fsn_test_buf_free(&bback);
    }
  }
}
END_TEST

/* Only bit 0 of each input byte counts, on every level; unpack of arbitrary packed bytes matches the oracle. */
FSN_VARIANT_TEST(pack_unpack_match_ref, bits) {
  setup();
  for (size_t n = 0; n <= 2 * 64 * 8 + 9; n += (n < 300 ? 1 : 37)) {
    uint8_t bits[1100], want[140], got[140], uwant[1100], ugot[1100];
    fsn_test_fill(bits, n);
    memset(want, 0xee, sizeof want);
    memset(got, 0xee, sizeof got);
    impls[0]->pack(want, bits, n);
    impls[1]->pack(got, bits, n);
    ck_assert_msg(!memcmp(got, want, sizeof got), "pack of raw bytes n=%zu", n);
    memset(uwant, 0xee, sizeof uwant);
    memset(ugot, 0xee, sizeof ugot);
    impls[0]->unpack(uwant, bits, n);
    impls[1]->unpack(ugot, bits, n);
    ck_assert_msg(!memcmp(ugot, uwant, sizeof ugot), "unpack n=%zu", n);
  }
}
END_TEST

FSN_VARIANT_TEST(xor_and_match_ref, bits) {
  setup();
  for (size_t n = 0; n <= 2 * 64 * 4 + 3; n++) {
    FSN_TEST_FOR_MISALIGN(off, 1) {
      fsn_test_buf ba, bb, bo;
      uint8_t *a = fsn_test_buf_alloc(&ba, n, off), *b = fsn_test_buf_alloc(&bb, n, off + 1);
      uint8_t *o = fsn_test_buf_alloc(&bo, n, off + 2), want_x[600], want_a[600];
      fsn_test_fill(a, n);
      fsn_test_fill(b, n);
      impls[0]->xor (want_x, a, b, n);
      impls[0]->and (want_a, a, b, n);
      impls[1]->xor (o, a, b, n);
      ck_assert_msg(n == 0 || !memcmp(o, want_x, n), "xor n=%zu off=%zu", n, off);
      impls[1]->and (o, a, b, n);
      ck_assert_msg(n == 0 || !memcmp(o, want_a, n), "and n=%zu off=%zu", n, off);
      impls[1]->xor (a, a, b, n); /* in place */
      ck_assert_msg(n == 0 || !memcmp(a, want_x, n), "xor in place n=%zu", n);
      uint8_t b_before[600];
      if (n) memcpy(b_before, b, n);
      impls[1]->and (b, a, b, n); /* in place, second operand */
      for (size_t i = 0; i < n; i++) ck_assert_uint_eq(b[i], a[i] & b_before[i]);
      fsn_test_buf_check(&ba);
      fsn_test_buf_check(&bb);
      fsn_test_buf_check(&bo);
      fsn_test_buf_free(&ba);
      fsn_test_buf_free(&bb);
      fsn_test_buf_free(&bo);
    }
  }
}
END_TEST

/* GF(2^128): known products (x^127 * x = x^7 + x^2 + x + 1, 1 * a = a, x^64 * x^64 = x^128), the field's laws
 * (commutative, distributive: the inner product of n terms is the sum of the single products), and the active level
 * against the oracle at every n up to 40 on misaligned guarded buffers. */
static void gf_mul(const fsn_bits_impl *impl, uint8_t out[16], const uint8_t a[16], const uint8_t b[16]) {
  impl->gf128_inner(out, a, b, 1);
}

FSN_VARIANT_TEST(gf128_inner_field_and_match_ref, bits) {
  setup();
  for (int i = 0; i < 2; i++) {
    uint8_t x127[16] = {0}, x1[16] = {0}, one[16] = {1}, x64[16] = {0}, got[16], want[16] = {0x87};
    x127[15] = 0x80, x1[0] = 2, x64[8] = 1;
    gf_mul(impls[i], got, x127, x1);
    ck_assert_msg(!memcmp(got, want, 16), "x^127 * x on %s", impl_names[i]);
    gf_mul(impls[i], got, x64, x64);
    ck_assert_msg(!memcmp(got, want, 16), "x^64 * x^64 on %s", impl_names[i]);
    uint8_t a[16], b[16], c[16], ab[16], ba[16], bc[16], sum[16], ac[16];
    for (int rep = 0; rep < 50; rep++) {
      fsn_test_fill(a, 16), fsn_test_fill(b, 16), fsn_test_fill(c, 16);
      gf_mul(impls[i], got, a, one);
      ck_assert(!memcmp(got, a, 16));
      gf_mul(impls[i], ab, a, b), gf_mul(impls[i], ba, b, a);
      ck_assert_msg(!memcmp(ab, ba, 16), "commutativity on %s", impl_names[i]);
      for (int k = 0; k < 16; k++) bc[k] = b[k] ^ c[k];
      gf_mul(impls[i], sum, a, bc), gf_mul(impls[i], ac, a, c);
      for (int k = 0; k < 16; k++) ck_assert_msg(sum[k] == (ab[k] ^ ac[k]), "distributivity on %s", impl_names[i]);
      /* (a b) c = a (b c): associativity ties the reduction to the field */
      uint8_t l[16], r[16];
      gf_mul(impls[i], l, ab, c), gf_mul(impls[i], r, a, (gf_mul(impls[i], bc, b, c), bc));
      ck_assert_msg(!memcmp(l, r, 16), "associativity on %s", impl_names[i]);
    }
  }
  for (size_t n = 0; n <= 40; n++) {
    FSN_TEST_FOR_MISALIGN(off, 1) {
      fsn_test_buf ba, bb;
      uint8_t *a = fsn_test_buf_alloc(&ba, 16 * n, off), *b = fsn_test_buf_alloc(&bb, 16 * n, off + 3);
      uint8_t want[16], got[16], acc[16] = {0}, term[16];
      fsn_test_fill(a, 16 * n), fsn_test_fill(b, 16 * n);
      impls[0]->gf128_inner(want, a, b, n);
      impls[1]->gf128_inner(got, a, b, n);
      ck_assert_msg(!memcmp(got, want, 16), "gf128_inner n=%zu off=%zu on %s", n, off, impl_names[1]);
      for (size_t k = 0; k < n; k++) {
        gf_mul(impls[1], term, a + 16 * k, b + 16 * k);
        for (int j = 0; j < 16; j++) acc[j] ^= term[j];
      }
      ck_assert_msg(!memcmp(acc, want, 16), "gf128_inner n=%zu is not the sum of its products", n);
      fsn_test_buf_check(&ba);
      fsn_test_buf_check(&bb);
      fsn_test_buf_free(&ba);
      fsn_test_buf_free(&bb);
    }
  }
}
END_TEST

int main(void) {
  Suite *s = suite_create("bits");
  TCase *tc = tcase_create("bits");
  FSN_ADD_VARIANT_TEST(tc, transpose128_definition_and_involution, bits);
  FSN_ADD_VARIANT_TEST(tc, transpose_bulk_shapes, bits);
  FSN_ADD_VARIANT_TEST(tc, pack_unpack_round_trip, bits);
  FSN_ADD_VARIANT_TEST(tc, pack_unpack_match_ref, bits);
  FSN_ADD_VARIANT_TEST(tc, xor_and_match_ref, bits);
  FSN_ADD_VARIANT_TEST(tc, gf128_inner_field_and_match_ref, bits);
  suite_add_tcase(s, tc);
  return fsn_test_main(s);
}
