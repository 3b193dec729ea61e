/* OpenMP pragmas that vanish when the build has no OpenMP (-Dopenmp=disabled), without unknown-pragma warnings. */
#ifndef FSN_KERNELS_OMP_H
#define FSN_KERNELS_OMP_H

#ifdef _OPENMP
#define FSN_OMP(directive) _Pragma(directive)
#else
#define FSN_OMP(directive)
#endif

/* Below this many multiply-adds a parallel region costs more than it saves. */
#define FSN_OMP_MIN_WORK ((size_t)1 << 20)

#endif
