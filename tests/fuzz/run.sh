#!/usr/bin/env bash
# Bounded libFuzzer run of the frame/handshake target: build it with clang (-fsanitize=fuzzer plus ASan and UBSan),
# fuzz for SECONDS (default 30) from the seed corpus, fail on any crash, leak, sanitizer report or timeout.
# Usage: tests/fuzz/run.sh [SECONDS] [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/../.."
secs=${1:-30}
out=${2:-build-fuzz}
mkdir -p "$out"
clang -std=c17 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
  -Iinclude -I. tests/fuzz/fuzz_frame.c net/channel.c net/wire.c net/link.c core/status.c \
  -o "$out/fuzz_frame" -lsodium -lm
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp tests/fuzz/corpus/* "$work/"
"$out/fuzz_frame" -max_total_time="$secs" -seed=1 -timeout=10 -rss_limit_mb=1024 -max_len=4096 \
  -artifact_prefix="$out/" "$work" 2>&1 | tail -5
