#!/usr/bin/env bash
# The whole test suite, as CI runs it: install, build a release and an ASan+UBSan configuration with -Werror,
# run every suite at every ISA level (ref, avx2, avx512) on the release build and once on the sanitized build,
# check formatting, run every AVX-512 kernel family (ring, prg, bits, trunc, gemm, conv, peak) on emulated intrinsics
# under the kernel and protocol suites where the CPU lacks AVX-512, fuzz the frame, IDX and ONNX parsers for a bounded time, and end
# with one line "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
tools/deps.sh || { echo "0 passed, 1 failed"; exit 1; }

passed=0 failed=0 skipped=0
tally() { # tally a meson testlog JSON (one object per line)
  read -r p f s < <(python3 -c '
import json, sys
p = f = s = 0
for line in open(sys.argv[1]):
    r = json.loads(line)["result"]
    if r in ("OK", "EXPECTEDFAIL"): p += 1
    elif r == "SKIP": s += 1
    else: f += 1
print(p, f, s)' "$1")
  passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
}
configure() { # dir, options...
  local dir=$1; shift
  if [ -d "$dir" ]; then meson setup --reconfigure "$dir" "$@" >/dev/null; else meson setup "$dir" "$@" >/dev/null; fi
}
build() { configure "$@" && meson compile -C "$1" >/dev/null || { echo "build of $1 failed:"; meson compile -C "$1" 2>&1 | tail -40; return 1; }; }

if build build-release --buildtype=release -Dwerror=true; then
  for isa in ref avx2 avx512; do
    echo "== release build, FSN_ISA=$isa"
    meson test -C build-release --setup "$isa" --print-errorlogs --num-processes 2 | grep -E '^ *[0-9]+/[0-9]+ |^(Ok|Fail|Skipped|Timeout):'
    tally "build-release/meson-logs/testlog-$isa.json"
  done
else
  failed=$((failed + 1))
fi

if build build-asan --buildtype=debugoptimized -Dwerror=true -Db_sanitize=address,undefined \
    -Dc_args=-fno-sanitize-recover=all -Dbench=false; then
  echo "== ASan+UBSan build, best ISA level"
  ASAN_OPTIONS=detect_leaks=1 meson test -C build-asan --print-errorlogs --num-processes 2 | grep -E '^ *[0-9]+/[0-9]+ |^(Ok|Fail|Skipped|Timeout):'
  tally build-asan/meson-logs/testlog.json
else
  failed=$((failed + 1))
fi

echo "== clang-format"
unformatted=$(git ls-files '*.c' '*.h' '*.cc' | xargs -r clang-format --dry-run -Werror 2>&1 | grep -c 'error:' || true)
if [ "$unformatted" -eq 0 ]; then passed=$((passed + 1)); else
  failed=$((failed + 1))
  git ls-files '*.c' '*.h' '*.cc' | xargs -r clang-format --dry-run -Werror 2>&1 | grep 'error:' | head -20
fi

echo "== AVX-512 kernels, every family (ring, prg, bits, trunc, gemm, conv, peak), on plain-C stand-ins for the intrinsics"
if [ "$(build-release/apps/fusion info | sed -n 's/^best level: *//p')" = avx512 ]; then
  echo "this machine runs AVX-512 natively (covered by the avx512 setup): skipped"
  skipped=$((skipped + 1))
else
  emulog=$(mktemp)
  tests/avx512emu/run.sh build-release >"$emulog" 2>&1
  case $? in
  0) passed=$((passed + 1)) && tail -1 "$emulog" ;;
  77) skipped=$((skipped + 1)) && tail -1 "$emulog" ;;
  *)
    failed=$((failed + 1))
    grep -E '^== |^[^ ]+:[0-9]+:[EF]:|ERROR|runtime error' "$emulog" | tail -40
    ;;
  esac
  rm -f "$emulog"
fi

echo "== libFuzzer: frame/handshake, IDX and ONNX parsers, bounded runs (${FSN_FUZZ_SECONDS:-60} s in all)"
probe=$(mktemp -d)
if echo 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { (void)d; (void)n; return 0; }' |
    clang -x c -fsanitize=fuzzer - -o "$probe/probe" >/dev/null 2>&1; then
  if tests/fuzz/run.sh "${FSN_FUZZ_SECONDS:-60}" build-fuzz; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
else
  echo "clang with -fsanitize=fuzzer unavailable: skipped"
  skipped=$((skipped + 1))
fi
rm -rf "$probe"

echo "($skipped skipped: suites at an ISA level this machine lacks, or tools it lacks)"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
