#!/usr/bin/env bash
# Check every kernel variant beyond the avx2 level (avx512, avx512_vaes, avx512_ifma, avx2_vaes: see
# kernels/variants.h) on a machine without them. All of kernels/*/*_avx512*.c and kernels/*/*_avx2_*.c are compiled
# against plain-C stand-ins for the intrinsics (immintrin.h here) and linked in place of the archive's real members,
# and cpu.c here in place of its kernels/cpu.c member (it reports AVX-512, IFMA and VAES on an avx2 host). The kernel
# suites and the protocol suites then run at FSN_ISA=avx512, so every variant the library dispatches to above avx2, in
# the tests and inside the protocols, is an emulated one, and the kernel suites compare every variant with ref; the
# link fails the run if it loads any real member of those variants or cpu.c. prg runs once more as on an AVX-512 CPU
# without VAES (Skylake-SP). First, selftest_host.c checks the stand-ins against the host's real AVX2 and AES-NI
# instructions.
# Objects and tests are built with ASan and UBSan, two compiler jobs at a time.
# Usage: tests/avx512emu/run.sh [build-dir [suite...]]   (build-dir holds a compiled libfusion.a; default: all suites)
# Exit status: 0 all passed, 77 skipped (the host lacks avx2), otherwise failed.
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
kernel_suites="ring prg bits trunc gemm conv ntt"
protocol_suites="linear nn mixcheck ot nonlinear secure he"
if [ $# -gt 1 ]; then shift && suites=$*; else suites="$kernel_suites $protocol_suites"; fi
# The emulated avx512 level sits on the host's avx2 one (the suites also run the real avx2 paths): without it, every
# suite would skip. Exit 77, the conventional "skipped", instead of passing vacuously.
if [ "$("$build/apps/fusion" info 2>/dev/null | sed -n 's/^best level: *//p')" = ref ]; then
  echo "== avx512emu: this host lacks the avx2 level the emulation builds on: skipped"
  exit 77
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
start=$(date +%s)

cc=${CC:-cc}
# -ffp-contract=off: the stand-ins' separate multiplies and adds must stay separate roundings, as vmulpd/vaddpd are.
flags="-O1 -g -std=c17 -D_GNU_SOURCE -fopenmp -ffp-contract=off -Wall -Wextra -Werror"
flags="$flags -fsanitize=address,undefined -fno-sanitize-recover=all -I$root/include -I$root -I$build/include"
# The library's own dependencies, as its generated pkg-config file lists them.
requires=$(PKG_CONFIG_PATH="$build/meson-private" pkg-config --print-requires-private fusion)
libs="$build/libfusion.a $(pkg-config --libs check $requires) -fopenmp -lm -lpthread"
export cc flags libs work root

# Compile: "emu FILE" against the stand-ins, "plain FILE" against the real headers, "host FILE" with the real AVX2
# and AES-NI intrinsics (the self-test's reference side). Two jobs at a time.
# Every variant file beyond avx2: one avx512 file per family at least, unless the family's variant list (its
# _ops.h FSN_<PREFIX>_VARIANTS) names no avx512 variant (e.g. ggm and lpn, whose avx512 level runs avx2).
kernels=$(ls "$root"/kernels/*/*_avx512*.c "$root"/kernels/*/*_avx2_*.c 2>/dev/null)
families=$(sed -n 's/^ *X(\([a-z0-9_]*\),.*/\1/p' "$root/kernels/families.h")
for family in $families; do
  ops="$root/kernels/$family/${family}_ops.h"
  if grep -q '_VARIANTS(V, a)' "$ops" && ! grep '_VARIANTS(V, a)' "$ops" | grep -q avx512; then continue; fi
  echo "$kernels" | grep -q "/kernels/$family/${family}_avx512" || { echo "no kernels/$family/${family}_avx512*.c"; exit 1; }
done
{
  for f in $kernels "$root/tests/avx512emu/selftest_emu.c"; do echo "emu $f"; done
  for f in tests/avx512emu/cpu.c tests/common/fsn_test.c tests/common/fsn_test_net.c tests/common/fsn_test_models.c; do
    echo "plain $root/$f"
  done
  echo "host $root/tests/avx512emu/selftest_host.c"
} | xargs -P 2 -L 1 sh -c 'case $0 in emu) i="-I$root/tests/avx512emu" ;; host) i="-mavx2 -maes" ;; *) i= ;; esac
  $cc $flags $i -c "$1" -o "$work/$(basename "$1" .c).o"' || { echo "== compiling the emulated objects failed"; exit 1; }
objs=$(for f in $kernels; do echo "$work/$(basename "$f" .c).o"; done)
objs="$objs $work/cpu.o $work/fsn_test.o $work/fsn_test_net.o $work/fsn_test_models.o"
real='_avx512[a-z0-9_]*\.c\.o|_avx2_[a-z0-9_]+\.c\.o|kernels_cpu\.c\.o' # archive members that must not be loaded
export objs real

# Link: the emulated objects come first, so the archive's own members for those symbols are never needed; --trace lists
# every member the link loads, and none may be a real emulated-variant kernel or the real cpu.c.
for suite in $suites; do echo "$suite"; done | xargs -P 2 -I '{}' sh -c '
  $cc $flags "$root/tests/test_{}.c" $objs $libs -Wl,--trace -o "$work/test_{}" >"$work/link_{}.txt" 2>&1 &&
    ! grep -qE "$real" "$work/link_{}.txt" || : >"$work/bad_{}"'

status=0
# The stand-ins against the host's own AVX2 / AES-NI instructions, where they have a 256- or 128-bit counterpart.
if grep -qw avx2 /proc/cpuinfo && grep -qw aes /proc/cpuinfo; then
  echo "== stand-in intrinsics against the host's instructions"
  $cc $flags "$work/selftest_emu.o" "$work/selftest_host.o" -lm -o "$work/selftest" && "$work/selftest" || status=1
fi
run() { # suite label [VAR=value]
  t0=$(date +%s)
  if [ -e "$work/bad_$1" ] || [ ! -x "$work/test_$1" ]; then
    grep -E "error|undefined|multiple|$real" "$work/link_$1.txt" || true
    echo "== $1: link failed, or a real emulated-variant or cpu.c member was loaded"
    : >"$work/failed_$1"
    return
  fi
  echo "== $1, emulated variants$2"
  # FSN_TEST_OT=iknp: the suites whose subject is not the OT pack run on IKNP, as before Ferret became the default at
  # avx2 and above: Ferret's AES blocks through the emulated intrinsics under ASan took the secure suite from 175 to
  # 235 s (side by side on a quiet machine), and every session of he pays a Ferret bootstrap.
  # The ot and nonlinear suites still run Ferret by name, and with it the emulated variants under it.
  if env FSN_ISA=avx512 FSN_TEST_OT=iknp CK_DEFAULT_TIMEOUT=600 CK_VERBOSITY=normal ASAN_OPTIONS=detect_leaks=1 ${3:-} \
    "$work/test_$1"; then
    echo "== $1: ok ($(($(date +%s) - t0)) s)"
  else
    echo "== $1: FAILED"
    : >"$work/failed_$1"
  fi
}
# Two suites at a time (the kernel suites use one core), the protocol suites first: they take longest. Each suite's
# output is kept apart and printed in order once all are done. jobs -r: a finished job stays in the table (as done)
# until the shell reports it, which a subshell's jobs never does.
order="$(for s in $protocol_suites; do case " $suites " in *" $s "*) echo "$s" ;; esac; done)"
order="$order $(for s in $suites; do case " $protocol_suites " in *" $s "*) ;; *) echo "$s" ;; esac; done)"
case " $suites " in *" prg "*) order="$order prg-novaes" ;; esac
for suite in $order; do
  while [ "$(jobs -pr | wc -l)" -ge 2 ]; do sleep 1; done
  if [ "$suite" = prg-novaes ]; then
    run prg ", CPU without VAES" FSN_EMU_NO_VAES=1 >"$work/out_$suite.txt" 2>&1 &
  else
    run "$suite" "" >"$work/out_$suite.txt" 2>&1 &
  fi
done
wait
for suite in $order; do cat "$work/out_$suite.txt"; done
ls "$work"/failed_* >/dev/null 2>&1 && status=1
echo "== avx512emu: $(($(date +%s) - start)) s, $([ $status -eq 0 ] && echo ok || echo FAILED)"
exit $status
