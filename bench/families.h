/* The benchmark families, one per line. */
FSN_BENCH_FAMILY(ring)
