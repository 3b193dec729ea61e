#include "fsn_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const unsigned fsn_test_ells[6] = {1, 13, 32, 37, 63, 64};

static uint64_t rng[4];
static int seeded;

static uint64_t splitmix(uint64_t *x) {
  uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

uint64_t fsn_test_seed(void) {
  const char *env = getenv("FSN_TEST_SEED");
  return env ? strtoull(env, NULL, 0) : 0x5eedf5e5ull;
}

const char *fsn_test_ot_pack(void) { return getenv("FSN_TEST_OT"); }

static void seed_once(void) {
  if (seeded) return;
  uint64_t s = fsn_test_seed();
  for (int i = 0; i < 4; i++) rng[i] = splitmix(&s);
  seeded = 1;
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t fsn_test_rand(void) {
  seed_once();
  uint64_t out = rotl(rng[1] * 5, 7) * 9, t = rng[1] << 17;
  rng[2] ^= rng[0];
  rng[3] ^= rng[1];
  rng[1] ^= rng[2];
  rng[0] ^= rng[3];
  rng[2] ^= t;
  rng[3] = rotl(rng[3], 45);
  return out;
}

void fsn_test_fill(void *p, size_t bytes) {
  unsigned char *b = p;
  for (size_t i = 0; i < bytes; i += 8) {
    uint64_t r = fsn_test_rand();
    memcpy(b + i, &r, bytes - i < 8 ? bytes - i : 8);
  }
}

/* Mix uniform values with the edges (0, 1, -1, +-2^(ell-1)) that break carries and sign handling. */
void fsn_test_fill_ring(uint64_t *p, size_t n, unsigned ell) {
  const uint64_t mask = fsn_ring_mask(ell), half = (uint64_t)1 << (ell - 1);
  const uint64_t edges[] = {0, 1, mask, half, half - 1, (half + 1) & mask};
  for (size_t i = 0; i < n; i++) {
    uint64_t r = fsn_test_rand();
    p[i] = (r % 8 == 0) ? edges[(r >> 8) % 6] & mask : fsn_test_rand() & mask;
  }
}

void *fsn_test_buf_alloc(fsn_test_buf *b, size_t size, size_t misalign) {
  /* [canaries][data at a 64-byte boundary + misalign][canaries]; FSN_TEST_GUARD is a multiple of 64. */
  b->size = size;
  b->total = FSN_TEST_GUARD + misalign % 64 + size + FSN_TEST_GUARD;
  b->base = aligned_alloc(64, (b->total + 63) / 64 * 64);
  ck_assert_ptr_nonnull(b->base);
  memset(b->base, 0xa5, b->total);
  b->data = b->base + FSN_TEST_GUARD + misalign % 64;
  return b->data;
}

/* Plain comparisons first: every passing ck_assert costs Check a write to its log (a system call). */
void fsn_test_buf_check(const fsn_test_buf *b) {
  for (unsigned char *p = b->base; p < b->data; p++)
    if (*p != 0xa5) ck_abort_msg("canary before the buffer overwritten at offset -%td", b->data - p);
  for (unsigned char *p = b->data + b->size; p < b->base + b->total; p++)
    if (*p != 0xa5) ck_abort_msg("canary after the buffer overwritten at offset +%td", p - (b->data + b->size));
}

void fsn_test_buf_free(fsn_test_buf *b) {
  free(b->base);
  b->base = b->data = NULL;
}

int fsn_test_main(Suite *suite) {
  fsn_status st = fsn_init();
  if (st == FSN_E_UNSUPPORTED) {
    printf("1..0 # SKIP %s\n", fsn_last_error());
    return 0;
  }
  if (st != FSN_OK) {
    fprintf(stderr, "fsn_init: %s\n", fsn_last_error());
    return 1;
  }
  SRunner *sr = srunner_create(suite);
  srunner_run_all(sr, CK_ENV);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? 1 : 0;
}
