/* The one list of kernel families, read by the library (kernels/variants.c), the build (kernels/meson.build,
 * tests/meson.build and bench/meson.build parse the X(...) lines), the tests and the benchmarks.
 *   X(folder, prefix): kernels/<folder>/ holds <folder>.c (FSN_FAMILY_DEFINE), <folder>_ref.c, one
 *   <folder>_<variant>.c per variant, and <folder>_ops.h with FSN_<PREFIX>_OPS and FSN_<PREFIX>_VARIANTS; the
 *   generated symbols are fsn_<prefix>_<op>; tests/test_<folder>.c and bench/bench_<folder>.c are built if present.
 * One family per line; adding a family is one line here plus its folder. */
#ifndef FSN_KERNELS_FAMILIES_H
#define FSN_KERNELS_FAMILIES_H

#define FSN_KERNEL_FAMILIES(X)                                                                                         \
  X(ring, ring)                                                                                                        \
  X(prg, aes128)                                                                                                       \
  X(bits, bits)                                                                                                        \
  X(trunc, trunc)                                                                                                      \
  X(gemm, gemm)                                                                                                        \
  X(conv, conv)                                                                                                        \
  X(peak, peak)                                                                                                        \
  X(ntt, ntt)                                                                                                          \
  X(ggm, ggm)                                                                                                          \
  X(lpn, lpn)                                                                                                          \
  /* one family per line above, each ending in a backslash, so concurrent additions merge line by line */

#endif
