/* The benchmark families, one per line. */
FSN_BENCH_FAMILY(ring)
FSN_BENCH_FAMILY(prg)
FSN_BENCH_FAMILY(bits)
