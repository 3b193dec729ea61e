#!/usr/bin/env bash
# Mix-and-check against a malicious server, end to end over TCP: for each deviation of fusion-adversary, run
# SESSIONS client sessions (one query each, a different test image each time) and count how often the client's
# checks caught the server; then an honest server for HONEST sessions, which must pass every one. The servers reveal
# labels only (the default policy; --reveal logits for the old behaviour): a deviation counts only where it changes a
# label. Every session trusts the server again (--trust-again): a client would otherwise refuse a server it caught.
# Usage: bench/detection.sh [--sessions 20] [--honest 50] [--kappa 20] [--threads 2] [--out results/detection]
#                           [--reveal label|logits]
#                           [--only weak|flip|bias-layer|skip-relu|bias-all|honest]  (rows are appended to the CSV)
set -euo pipefail
cd "$(dirname "$0")/.."
sessions=20 honest=50 kappa=20 threads=2 out=results/detection only= reveal=label
while [ $# -gt 0 ]; do
  case $1 in
    --sessions) sessions=$2; shift 2 ;;
    --honest) honest=$2; shift 2 ;;
    --kappa) kappa=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --only) only=$2; shift 2 ;;
    --reveal) reveal=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
fusion=build/apps/fusion adversary=build/apps/fusion-adversary
model=data/models/fmnist-4layer.onnx weak=data/models/fmnist-4layer-weak.onnx
[ -x "$adversary" ] || { echo "build first: meson setup build && meson compile -C build" >&2; exit 1; }
mkdir -p "$out"
export FSN_STATE_FILE=$out/caught-servers
. tools/start-server.sh
trap 'kill $(jobs -p) 2>/dev/null || true' EXIT

# run NAME COUNT CMD...: COUNT client sessions against the server CMD; prints one CSV row
run() {
  local name=$1 count=$2; shift 2
  local port caught=0 passed=0 errors=0 t0=$SECONDS
  [ -z "$only" ] || [ "$only" = "$name" ] || return 0
  fsn_start_server "$out/$name.server.log" "$@" --threads "$threads" --sessions "$count" --reveal "$reveal" || exit 1
  port=$server_port
  for i in $(seq 1 "$count"); do
    set +e
    "$fusion" client --connect 127.0.0.1:"$port" --index $((i * 37 % 9000)) --kappa "$kappa" --threads "$threads" \
      --trust-again --json >"$out/$name.$i.json" 2>"$out/$name.$i.err"
    rc=$?
    set -e
    case $rc in 0) passed=$((passed + 1)) ;; 3) caught=$((caught + 1)) ;; *) errors=$((errors + 1)) ;; esac
    printf '\r%-12s %3d/%d sessions: %d caught, %d passed, %d errors' "$name" "$i" "$count" "$caught" "$passed" \
      "$errors" >&2
  done
  printf '\n' >&2
  wait
  echo "$name,$count,$caught,$passed,$errors,$((SECONDS - t0))" >>"$out/detection.csv"
}

[ -n "$only" ] && [ -f "$out/detection.csv" ] || echo "deviation,sessions,caught,passed,errors,seconds" >"$out/detection.csv"
run weak "$sessions" "$adversary" --deviation weak --model "$model" --weak-model "$weak"
run flip "$sessions" "$adversary" --deviation flip --fraction 0.5 --model "$model"
run bias-layer "$sessions" "$adversary" --deviation bias-layer --fraction 0.5 --model "$model"
run skip-relu "$sessions" "$adversary" --deviation skip-relu --model "$model"
run bias-all "$sessions" "$adversary" --deviation bias-all --model "$model"
run honest "$honest" "$fusion" server --model "$model"
column -s, -t "$out/detection.csv"
