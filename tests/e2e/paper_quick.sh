#!/usr/bin/env bash
# Smoke test of the paper harness: `bench/paper.sh --quick` runs end to end and writes its tables and plots; the
# rows it must have are there; and its projection of the 4-layer network from tiny probes reproduces the measured
# traffic within 6 % (bytes are what the projection claims to get right; probes of one channel carry the protocols'
# per-call rounding, e.g. OT batches padded to 128, which the scaling multiplies). No timing assertions.
# Usage: paper_quick.sh BUILD_DIR SOURCE_DIR
set -uo pipefail
build=$1 src=$2
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
"$build/apps/fusion" info >/dev/null 2>&1 || { echo "skipped: $("$build/apps/fusion" info 2>&1 | head -1)"; exit 77; }
[ "${FSN_ISA:-}" = ref ] && { echo "skipped at FSN_ISA=ref (reference AES too slow for a 44-input batch)"; exit 77; }
# on IKNP: Ferret's pool refills (one iteration per 2.25 M COTs) do not scale with a probe's channels
(cd "$src" && bench/paper.sh --quick --out "$out" --build "$build" --ot iknp) || fail "bench/paper.sh --quick"
for f in paper.md paper.csv paper.json plots/time.svg plots/time.png plots/bytes.svg plots/overhead.png \
  plots/layers-4layer.svg plots/layers-resnet50.png; do
  [ -s "$out/$f" ] || fail "missing $f"
done
python3 - "$out/paper.json" <<'PY' || fail "paper.json"
import json, sys
d = json.load(open(sys.argv[1]))
rows = {(r["network"], r["profile"], r["run"]): r for r in d["rows"]}
for key in [("4layer", p, r) for p in ("off", "lan") for r in ("semi", "fusion1")] + \
           [(n, p, r) for n in ("resnet18", "resnet50") for p in ("off", "lan") for r in ("semi", "fusion1")]:
    assert key in rows, f"no row {key}"
assert rows[("4layer", "lan", "fusion1")]["batch"] == 44, "Fusion at kappa 40 for one query is a batch of 44"
assert rows[("resnet50", "off", "semi")]["source"] == "projected"
check = next(c for c in d["validation"] if c["what"].startswith("4layer"))
for k in ("c2s", "s2c"):
    assert abs(check["ratio"][k] - 1) < 0.06, f"projected {k} bytes off by {check['ratio'][k]}"
print("paper --quick: %d rows, projected/measured bytes %.4f / %.4f" % (len(rows), check["ratio"]["c2s"], check["ratio"]["s2c"]))
PY
