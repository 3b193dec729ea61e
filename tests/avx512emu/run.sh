#!/bin/sh
# Check every AVX-512 kernel family (ring, prg, bits, trunc, gemm, conv, peak) on a machine without AVX-512: compile
# kernels/*/*_avx512.c against plain-C stand-ins for the intrinsics (immintrin.h here) and link them in place of the
# archive's real AVX-512 objects, with cpu.c here in place of the archive's kernels/cpu.c (it reports the avx512
# level on an avx2 host); then run the kernel suites and the protocol suites at FSN_ISA=avx512, so every table the
# library dispatches through is the emulated one. Fails if the linker pulls in any real AVX-512 member.
# Usage: tests/avx512emu/run.sh [build-dir [suite...]]   (build-dir holds a compiled libfusion.a; default: all suites)
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
[ $# -gt 1 ] && shift && suites=$* || suites="ring prg bits trunc gemm conv linear secure nn mixcheck ot nonlinear"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cc=${CC:-cc}
# -ffp-contract=off: the stand-ins' separate multiplies and adds must stay separate roundings, as vmulpd/vaddpd are.
flags="-O1 -g -std=c17 -D_GNU_SOURCE -fopenmp -ffp-contract=off -Wall -Wextra -Werror"
san="-fsanitize=address,undefined -fno-sanitize-recover=all"
inc="-I$root/include -I$root -I$build/include"
libs="$build/libfusion.a $(pkg-config --libs check libsodium) -lm -lpthread"

start=$(date +%s)
objs="" pids=""
for f in "$root"/kernels/*/*_avx512.c; do
  o="$work/$(basename "$f" .c).o"
  $cc $flags $san -I"$root/tests/avx512emu" $inc -c "$f" -o "$o" &
  pids="$pids $!" objs="$objs $o"
done
$cc $flags $san $inc -c "$root/tests/avx512emu/cpu.c" -o "$work/cpu.o" &
pids="$pids $!"
for f in fsn_test fsn_test_net fsn_test_models; do
  $cc $flags $san $inc -c "$root/tests/common/$f.c" -o "$work/$f.o" &
  pids="$pids $!"
done
for pid in $pids; do wait "$pid" || { echo "compiling the emulated objects failed"; exit 1; }; done
[ "$(echo $objs | wc -w)" -eq 7 ] || { echo "expected 7 kernels/*/*_avx512.c, found: $objs"; exit 1; }
common="$work/cpu.o $work/fsn_test.o $work/fsn_test_net.o $work/fsn_test_models.o"

status=0
run() { # suite: link against the emulated objects (first, so the archive's members are never needed), then run
  suite=$1
  # --trace lists every archive member the link loads: none may be a real AVX-512 kernel or the real cpu.c.
  if ! $cc $flags $san $inc "$root/tests/test_$suite.c" $objs $common $libs -Wl,--trace -o "$work/test_$suite" \
      >"$work/link_$suite.txt" 2>&1; then
    cat "$work/link_$suite.txt"; echo "== $suite: link failed"; status=1; return
  fi
  if grep -E '_avx512\.c\.o|kernels_cpu\.c\.o' "$work/link_$suite.txt"; then
    echo "== $suite: real AVX-512 or cpu objects linked in"; status=1; return
  fi
  t0=$(date +%s)
  echo "== $suite, AVX-512 kernels on emulated intrinsics"
  if FSN_ISA=avx512 CK_DEFAULT_TIMEOUT=600 CK_VERBOSITY=normal ASAN_OPTIONS=detect_leaks=1 "$work/test_$suite"; then
    echo "== $suite: ok ($(($(date +%s) - t0)) s)"
  else
    echo "== $suite: FAILED"; status=1
  fi
}
for suite in $suites; do run "$suite"; done
echo "== avx512emu: $(($(date +%s) - start)) s, $([ $status -eq 0 ] && echo ok || echo FAILED)"
exit $status
