/* The benchmark families, one per line. */
FSN_BENCH_FAMILY(ring)
FSN_BENCH_FAMILY(prg)
FSN_BENCH_FAMILY(bits)
FSN_BENCH_FAMILY(trunc)
FSN_BENCH_FAMILY(peak)
FSN_BENCH_FAMILY(peak_compute)
FSN_BENCH_FAMILY(gemm)
FSN_BENCH_FAMILY(conv)
