#!/usr/bin/env bash
# Bounded libFuzzer runs of every target in tests/fuzz/fuzz_<target>.c: the library is built with clang, coverage
# instrumentation (-fsanitize=fuzzer-no-link), ASan and UBSan in BUILD_DIR (a meson build of its own), each target
# linked against it with -fsanitize=fuzzer and fuzzed for SECONDS (default 30, split over the targets) from its seed
# corpus; any crash, leak, sanitizer report or timeout fails the run. A crashing input is left in BUILD_DIR; add it to
# the target's corpus as a regression once fixed.
# Targets and seeds: frame (peer bytes: frames, handshake; tests/fuzz/corpus), idx (dataset files;
# tests/fuzz/corpus_idx), onnx (models and tensors; tests/fuzz/corpus_onnx and ONNX's operator tests from Debian's
# libonnx-testdata), card (the model card a client reads; tests/fuzz/corpus_card), server (every message a server
# reads from a client: hello, batch request, the secure run's messages; tests/fuzz/corpus_server). The card and
# server seeds are written by tests/fuzz/make_seeds.py.
# Usage: tests/fuzz/run.sh [SECONDS] [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/../.."
secs=${1:-30}
out=${2:-build-fuzz}
targets=(${FSN_FUZZ_TARGETS:-frame idx onnx card server})
flags="-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all"
if [ ! -f "$out/build.ninja" ]; then
  CC=clang meson setup "$out" --buildtype=debugoptimized -Dtests=false -Dbench=false -Dopenmp=disabled \
    -Ddefault_library=static "-Dc_args=$flags" "-Dc_link_args=$flags" >/dev/null
fi
meson compile -C "$out" fusion:static_library >/dev/null
deps=$(PKG_CONFIG_PATH="$out/meson-private" pkg-config --static --libs-only-l fusion | sed 's/-lfusion//')
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
status=0
for t in "${targets[@]}"; do
  clang -std=c17 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -Iinclude -I. \
    "tests/fuzz/fuzz_$t.c" "$out/libfusion.a" $deps -lm -o "$out/fuzz_$t"
  mkdir -p "$work/$t"
  case $t in
  frame) cp tests/fuzz/corpus/* "$work/$t/" ;;
  idx) cp tests/fuzz/corpus_idx/* "$work/$t/" ;;
  card) cp tests/fuzz/corpus_card/* "$work/$t/" ;;
  server) cp tests/fuzz/corpus_server/* "$work/$t/" ;;
  onnx)
    cp tests/fuzz/corpus_onnx/* "$work/$t/"
    node=/usr/share/libonnx-testdata/data/node
    [ -d "$node" ] && for d in "$node"/test_{conv,gemm,maxpool,averagepool,batchnorm,reshape,add}*; do
      cp "$d/model.onnx" "$work/$t/$(basename "$d").onnx"
      cp "$d/test_data_set_0/input_0.pb" "$work/$t/$(basename "$d").pb" 2>/dev/null || true
    done
    ;;
  esac
  echo "== fuzz_$t: $((secs / ${#targets[@]})) s from $(ls "$work/$t" | wc -l) seeds"
  if ! "$out/fuzz_$t" -max_total_time=$((secs / ${#targets[@]})) -seed=1 -timeout=10 -rss_limit_mb=2048 \
      -max_len=65536 -artifact_prefix="$out/$t-" "$work/$t" >"$work/$t.log" 2>&1; then
    status=1
  fi
  tail -3 "$work/$t.log"
done
exit $status
