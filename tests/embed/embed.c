/* A program outside the tree, built against the installed library through pkg-config. */
#include <fusion/fusion.h>
#include <stdio.h>

int main(void) {
  fsn_status st = fsn_init();
  if (st != FSN_OK) {
    fprintf(stderr, "fsn_init: %s\n", fsn_last_error());
    return st == FSN_E_UNSUPPORTED ? 77 : 1; /* 77: skipped (FSN_ISA names a level this machine lacks) */
  }
  uint64_t x[5] = {1, 2, 3, 4, (1ull << 37) - 1}, y[5] = {10, 20, 30, 40, 1}, z[5];
  fsn_ring_add(z, x, y, 5, 37);
  printf("fusion %s at level %s: %llu %llu\n", FSN_VERSION, fsn_isa_name(fsn_isa_active()), (unsigned long long)z[3],
         (unsigned long long)z[4]);
  return z[0] == 11 && z[3] == 44 && z[4] == 0 ? 0 : 1;
}
