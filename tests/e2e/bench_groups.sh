#!/usr/bin/env bash
# `fusion bench model` on depthwise convs (builtin:mobilenet's conv26: 512 groups of one channel, 14 x 14, 3 x 3):
#  - vcot, probed on 334 of the 512 groups, projects the linear protocol's bytes of the whole layer exactly (measured
#    here whole, with a probe budget that fits it) and its total bytes within 0.5 %;
#  - he, run whole, runs one conv a group as the engines do: 512 times the bytes of one 1-channel conv
#    (`fusion bench linear`, whose bytes equal fsn_he_conv2d_cost's) and one round a group.
# Usage: bench_groups.sh BUILD_DIR SOURCE_DIR
set -uo pipefail
build=$1
fusion=$build/apps/fusion
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
"$fusion" info >/dev/null 2>&1 || { echo "skipped: $("$fusion" info 2>&1 | head -1)"; exit 77; }
[ "${FSN_ISA:-}" = ref ] && { echo "skipped at FSN_ISA=ref (reference AES too slow)"; exit 77; }

# on IKNP: Ferret's pool refills (one iteration per 2.25 M COTs) do not scale with the probe, so no exact projection
bench() { timeout 600 "$fusion" bench model --model builtin:mobilenet --layers conv26 --json --ot iknp "$@" 2>/dev/null; }
bench --backend vcot >"$work/probed.json" || fail "vcot, probed"
bench --backend vcot --probe-elements 1000000 >"$work/whole.json" || fail "vcot, whole"
bench --backend he --linear-only >"$work/he.json" || fail "he, linear only"
timeout 600 "$fusion" bench linear --backend he --conv 1,14,14,1,3,1,1 --json >"$work/one.json" 2>/dev/null ||
  fail "bench linear, one group"
python3 - "$work" <<'PY' || fail "grouped conv costs"
import json, sys
w = sys.argv[1]
probed, whole, he = (json.load(open(f"{w}/{n}.json"))["layers"][0] for n in ("probed", "whole", "he"))
one = json.load(open(f"{w}/one.json"))
assert probed["groups"] == [512, 334] and probed["projected"], probed
assert whole["groups"] == [512, 512] and not whole["projected"], whole
for k in ("bytes_client_to_server", "bytes_server_to_client"):
    assert probed["linear"][k] == whole["linear"][k], (k, probed["linear"], whole["linear"])
    assert abs(probed["cost"][k] / whole["cost"][k] - 1) < 0.005, (k, probed["cost"], whole["cost"])
assert he["linear_whole"], he
assert he["linear"]["bytes_client_to_server"] == 512 * one["bytes_client_to_server"], (he["linear"], one)
assert he["linear"]["bytes_server_to_client"] == 512 * one["bytes_server_to_client"], (he["linear"], one)
assert he["linear"]["rounds"] == 512, he["linear"]
print("depthwise conv: vcot probe projects the linear bytes exactly, he runs one conv a group (512 x one group's bytes)")
PY
