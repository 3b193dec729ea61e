#!/bin/sh
# Check the AVX-512 gemm/conv/peak kernels' logic on a machine without AVX-512: compile them against plain-C
# stand-ins for the intrinsics (immintrin.h here), link them in place of the real AVX-512 objects, and run the gemm
# and conv suites with the active level reported as avx512. Usage: tests/avx512emu/run.sh [build-dir]
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
flags="-O1 -g -std=c17 -D_GNU_SOURCE -fopenmp -fsanitize=address,undefined -fno-sanitize-recover=all"
inc="-I$root/tests/avx512emu -I$root/include -I$root -I$build/include"
objs=""
for f in gemm/gemm_avx512 conv/conv_avx512 peak/peak_avx512; do
  cc $flags $inc -c "$root/kernels/$f.c" -o "$work/${f#*/}.o"
  objs="$objs $work/${f#*/}.o"
done
printf '#include <fusion/cpu.h>\nfsn_isa emu_active(void) { return FSN_ISA_AVX512; }\n' > "$work/active.c"
cc $flags $inc -c "$work/active.c" -o "$work/active.o"
cc $flags $inc -c "$root/tests/common/fsn_test.c" -o "$work/fsn_test.o"
status=0
for suite in gemm conv; do
  # The emulated objects come first, so the archive's real AVX-512 members are never pulled in.
  cc $flags $inc -Dfsn_isa_active=emu_active "$root/tests/test_$suite.c" $objs "$work/active.o" "$work/fsn_test.o" \
    "$build/libfusion.a" $(pkg-config --libs check libsodium) -lm -o "$work/test_$suite"
  echo "== $suite, AVX-512 kernels on emulated intrinsics"
  CK_DEFAULT_TIMEOUT=600 CK_VERBOSITY=normal "$work/test_$suite" || status=1
done
exit $status
