#!/usr/bin/env bash
# The serving recipes of docs/OPERATIONS.md in their short form: bench/load.sh --quick (honest clients served beside
# tricklers, a hello flood, clients vanishing at each phase and oversized batches; exit 1 if an honest client fails or
# the server outgrows its memory budget) and bench/scaleout.sh 2 4 (two servers behind HAProxy, four clients at once,
# every client must get all its predictions).
# Usage: tests/e2e/operations.sh BUILD_DIR SOURCE_DIR
set -uo pipefail
build=$1 src=$2
"$build/apps/fusion" info >/dev/null 2>&1 || { echo "skipped: $("$build/apps/fusion" info 2>&1 | head -1)"; exit 77; }
[ "${FSN_ISA:-}" = ref ] && { echo "skipped at FSN_ISA=ref (reference AES too slow for the timed recipes)"; exit 77; }
cd "$src" || exit 1
bench/load.sh --quick "$build" || { echo "FAIL: load test"; exit 1; }
bench/scaleout.sh 2 4 "$build"
