#!/usr/bin/env bash
# End to end between two processes over TCP, with the shipped model and real Fashion-MNIST test images:
#  1. the client's secure logits (no Fusion) equal `fusion plain`'s fixed-point logits bit for bit on 20 images;
#  2. with mix-and-check on, an honest server passes;
#  3. a client expecting another model hash, and a client with other ring parameters, fail cleanly (exit 1, one
#     clear line) while the server carries on;
#  4. bad models (missing, truncated) are one clear line and exit 1;
#  5. a server with the default policy reveals labels only (the client's predictions still pass the checks; --logits
#     is refused), and a cheating server is caught (exit 3), told nothing (its log shows the silent verdict), and
#     refused in the next session;
#  6. the trained ResNet (data/models/fmnist-resnet.onnx) under Fusion: its logits equal `fusion plain`'s bit for bit.
# Usage: e2e.sh BUILD_DIR SOURCE_DIR
set -uo pipefail
build=$1 src=$2
fusion=$build/apps/fusion model=$src/data/models/fmnist-4layer.onnx
. "$src/tools/start-server.sh" # fsn_wait_port
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$work"' EXIT
export FSN_STATE_FILE=$work/caught-servers # the client's records of caught servers stay in the scratch directory
fail() { echo "FAIL: $*"; exit 1; }
t() { timeout 600 "$@"; }

# A forced ISA level this machine lacks is a skip (77), as in the Check suites. At FSN_ISA=ref every AES block goes
# through the constant-time bitsliced reference, which makes 20 secure inferences take longer than the test's budget:
# the protocols at ref are covered by test_secure on a small model.
"$fusion" info >/dev/null 2>&1 || { echo "skipped: $("$fusion" info 2>&1 | head -1)"; exit 77; }
[ "${FSN_ISA:-}" = ref ] && { echo "skipped at FSN_ISA=ref (reference AES too slow for 20 secure inferences)"; exit 77; }

# expect_refused WHAT FLAG ASKED SERVING SERVER_LOG: a client insisting on FLAG ASKED against the server on $port,
# which runs SERVING, is refused with a line naming both, and the server logs the refusal too
expect_refused() {
  local what=$1 flag=$2 asked=$3 serving=$4 log=$5 out=$work/refused-$3.txt
  t "$fusion" client --connect 127.0.0.1:$port --index 0 --no-fusion "$flag" "$asked" >"$out" 2>&1 &&
    fail "a client asking for the $what $asked was served by a $serving server"
  grep -q "$what '$asked'.*'$serving'" "$out" || fail "client's $what error: $(cat "$out")"
  for _ in $(seq 1 100); do grep -q "$what '$asked'" "$log" && break; sleep 0.1; done
  grep -q "asked for the $what '$asked'; this server runs '$serving'" "$log" ||
    fail "server's $what mismatch error: $(cat "$log")"
}

# start_server LOG ARGS...: a server in the background; its port in $port
start_server() {
  local log=$1
  shift
  t "$@" --listen 127.0.0.1:0 >"$log" 2>&1 &
  fsn_wait_port "$log" $! || fail "server did not start"
  port=$server_port
}

# the logits policy: the client may see every logit, so they can be compared with the plaintext engine's
start_server "$work/server.log" "$fusion" server --model "$model" --sessions 4 --reveal logits

# 1. bit-exact logits on 20 test images
t "$fusion" client --connect 127.0.0.1:$port --index 0-19 --no-fusion --json --logits >"$work/client.json" ||
  fail "secure run: $(cat "$work/client.json")"
t "$fusion" plain --model "$model" --count 20 --json --logits \
  --images /usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz \
  --labels /usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz >"$work/plain.json" || fail "plain run"
python3 - "$work/client.json" "$work/plain.json" <<'PY' || fail "secure logits differ from the fixed-point engine"
import json, sys
client, plain = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
got = {p["index"]: p["logits"] for p in client["predictions"]}
assert sorted(got) == list(range(20)), sorted(got)
for i in range(20):
    assert got[i] == plain["logits"][i], (i, got[i], plain["logits"][i])
print("20 of 20 images: secure logits equal the fixed-point engine's, bit for bit")
PY

# 1b. the images above ran through the default linear backend, he; vcot stays selectable end to end (its logits are
# the same), and a client insisting on another backend than the server's is refused on both sides with a clear line
main_port=$port
start_server "$work/vcot.log" "$fusion" server --model "$model" --sessions 2 --reveal logits --backend vcot
t "$fusion" client --connect 127.0.0.1:$port --index 0-3 --no-fusion --json --logits --backend vcot \
  >"$work/vcot.json" || fail "secure run with vcot: $(cat "$work/vcot.json")"
python3 - "$work/vcot.json" "$work/plain.json" <<'PY' || fail "vcot logits differ from the fixed-point engine"
import json, sys
client, plain = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
for p in client["predictions"]:
    assert p["logits"] == plain["logits"][p["index"]], p["index"]
PY
expect_refused "linear backend" --backend he vcot "$work/vcot.log"

# 1c. the OT pack is the server's choice, stated in its card like the backend: Ferret on one image gives the same
# logits, both reports name it, the client's JSON carries both parties' peak RSS, and a client insisting on another
# pack is refused on both sides
start_server "$work/ferret.log" "$fusion" server --model "$model" --sessions 2 --reveal logits --ot ferret
t "$fusion" client --connect 127.0.0.1:$port --index 5 --no-fusion --json --logits --ot ferret \
  >"$work/ferret.json" || fail "secure run with ferret: $(cat "$work/ferret.json")"
python3 - "$work/ferret.json" "$work/plain.json" <<'PY' || fail "ferret session"
import json, sys
client, plain = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
assert client["ot"] == "ferret", client["ot"]
assert client["predictions"][0]["logits"] == plain["logits"][5]
m = client["memory"]
assert 0 < m["client_peak_rss_bytes"] < 64 << 30 and 0 < m["server_peak_rss_bytes"] < 64 << 30, m
PY
grep -q "OT pack ferret" "$work/ferret.log" || fail "server's card line: $(cat "$work/ferret.log")"
expect_refused "OT pack" --ot kk13 ferret "$work/ferret.log"

# 1d. a server whose public set is seeded random images of the model's input shape (--images random: how
# builtin:resnet50 is served): a semi-honest client, which checks nothing, needs no public set and gets the same
# logits; a Fusion client holding another public set refuses the card with a clear line
start_server "$work/random.log" "$fusion" server --model "$model" --sessions 2 --reveal logits --images random \
  --public 0-1
grep -q "public set random-pixels:1x28x28:seed 1:0-1 (2 samples" "$work/random.log" || fail "random set: $(cat "$work/random.log")"
t "$fusion" client --connect 127.0.0.1:$port --index 6 --no-fusion --json --logits >"$work/random.json" ||
  fail "semi-honest client of a random-set server: $(cat "$work/random.json")"
python3 -c 'import json,sys; a,b=(json.load(open(f)) for f in sys.argv[1:]); assert a["predictions"][0]["logits"]==b["logits"][6]' \
  "$work/random.json" "$work/plain.json" || fail "random-set server's logits"
t "$fusion" client --connect 127.0.0.1:$port --index 6 --kappa 5 >/dev/null 2>"$work/random.err"
[ $? -eq 1 ] && grep -q "public set 'random-pixels:1x28x28:seed 1" "$work/random.err" || fail "Fusion vs random set: $(cat "$work/random.err")"
port=$main_port

# the per-layer cost report covers every layer, and the bytes add up to at most the session's total
python3 - "$work/client.json" <<'PY' || fail "per-layer costs"
import json, sys
c = json.load(open(sys.argv[1]))
assert len(c["layers"]) == 10, len(c["layers"])
assert 0 < sum(l["bytes_sent"] for l in c["layers"]) <= c["cost"]["bytes_sent"]
PY

# the weak shipped model imports and is as weak as recorded (69 % on the test set, data/models/README.md)
t "$fusion" plain --model "$src/data/models/fmnist-4layer-weak.onnx" --count 2000 --json \
  --images /usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz \
  --labels /usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz >"$work/weak.json" ||
  fail "weak model"
python3 -c 'import json,sys; a=json.load(open(sys.argv[1]))["fixed_accuracy"]; assert 0.5 < a <= 0.75, a' \
  "$work/weak.json" || fail "weak model accuracy: $(cat "$work/weak.json" | head -c 300)"

# 2. mix-and-check with an honest server
t "$fusion" client --connect 127.0.0.1:$port --index 20-21 --kappa 10 >"$work/fusion.txt" 2>&1 ||
  fail "honest session with mix-and-check: $(cat "$work/fusion.txt")"
grep -q "checks passed" "$work/fusion.txt" || fail "no 'checks passed' in: $(cat "$work/fusion.txt")"

# 3. disagreements fail cleanly, and the server goes on serving
t "$fusion" client --connect 127.0.0.1:$port --index 0 --model-hash 00 >/dev/null 2>"$work/hash.err"
[ $? -eq 1 ] && grep -q "model hash" "$work/hash.err" || fail "wrong model hash: $(cat "$work/hash.err")"
t "$fusion" client --connect 127.0.0.1:$port --index 0 --ell 32 >/dev/null 2>"$work/ell.err"
[ $? -eq 1 ] && [ "$(wc -l <"$work/ell.err")" -eq 1 ] || fail "ring mismatch: $(cat "$work/ell.err")"
wait
grep -q "session 4" "$work/server.log" || fail "server log: $(cat "$work/server.log")"

# 4. bad models
t "$fusion" server --model "$work/missing.onnx" --listen 127.0.0.1:0 2>"$work/missing.err"
[ $? -eq 1 ] && [ "$(wc -l <"$work/missing.err")" -eq 1 ] || fail "missing model: $(cat "$work/missing.err")"
head -c 5000 "$model" >"$work/cut.onnx"
t "$fusion" server --model "$work/cut.onnx" --listen 127.0.0.1:0 2>"$work/cut.err"
[ $? -eq 1 ] && [ "$(wc -l <"$work/cut.err")" -eq 1 ] || fail "truncated model: $(cat "$work/cut.err")"
# 5. the default policy reveals labels only
start_server "$work/label.log" "$fusion" server --model "$model" --sessions 2
t "$fusion" client --connect 127.0.0.1:$port --index 0-1 --kappa 10 --json >"$work/label.json" 2>"$work/label.err" ||
  fail "labels-only session: $(cat "$work/label.err")"
python3 - "$work/label.json" "$work/plain.json" <<'PY' || fail "labels-only predictions"
import json, sys
client, plain = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
assert client["reveal"] == "label" and client["fusion"]["passed"], client
# amortised: two queries in one batch; mix-and-check's own time is within the 2 % target
a, o, c = client["amortised"], client["overhead"], client["cost"]
assert a["queries"] == 2 and a["batch"] == client["fusion"]["N"], a
assert abs(a["batch_factor"] - a["batch"] / 2) < 1e-3, a
assert abs(a["bytes_per_query"] - (c["bytes_sent"] + c["bytes_recv"]) / 2) <= 1, (a, c)
assert 0 < o["seconds"] and o["share"] <= 0.02, o
assert client["memory"]["client_peak_rss_bytes"] > 0, client["memory"]
for p in client["predictions"]:
    assert "logits" not in p
    logits = plain["logits"][p["index"]]
    assert p["predicted"] == logits.index(max(logits)), (p, logits)
print("labels-only policy: predictions equal the fixed-point engine's argmax")
PY
t "$fusion" client --connect 127.0.0.1:$port --index 0 --json --logits >/dev/null 2>"$work/nologits.err"
[ $? -eq 1 ] && grep -q "labels only" "$work/nologits.err" || fail "--logits vs a labels-only server: $(cat "$work/nologits.err")"
wait
grep -q "reveals labels only" "$work/label.log" || fail "label server log: $(cat "$work/label.log")"

# a cheating server: caught, not told, refused next time
start_server "$work/adv.log" "$build/apps/fusion-adversary" --deviation flip --fraction 1 --model "$model" --sessions 2
t "$fusion" client --connect 127.0.0.1:$port --index 0 --kappa 10 >/dev/null 2>"$work/caught.err"
[ $? -eq 3 ] && grep -q "CHECKS FAILED" "$work/caught.err" || fail "cheating server: $(cat "$work/caught.err")"
t "$fusion" client --connect 127.0.0.1:$port --index 0 --kappa 10 >/dev/null 2>"$work/refused.err"
[ $? -eq 3 ] && grep -q "refused" "$work/refused.err" || fail "caught server not refused: $(cat "$work/refused.err")"
wait
grep -q "session 1: .*client verdict: not reported" "$work/adv.log" || fail "adversary log: $(cat "$work/adv.log")"

# fusion params --table: the batch per query falls with n, and the cost per query is the batch factor times one
# inference's model estimate under the link
t "$fusion" params --table --per-inference 2,1000000,100 --net wan --json >"$work/table.json" || fail "params --table"
python3 - "$work/table.json" <<'PY' || fail "params --table: $(cat "$work/table.json")"
import json, sys
d = json.load(open(sys.argv[1]))
rows = d["rows"]
assert [r["n"] for r in rows] == [1, 4, 16, 64, 256] and all(r["reached"] for r in rows), rows
assert rows[0]["N"] == 44 and all(a["batch_factor"] > b["batch_factor"] for a, b in zip(rows, rows[1:])), rows
one = 2 + 1e6 * 8 / 400e6 + 100 * 0.040  # compute + bytes / bandwidth + rounds x RTT
for r in rows:
    factor = r["N"] / r["n"]
    assert abs(r["batch_factor"] - factor) < 1e-4, r
    assert abs(r["seconds_per_query"] - factor * one) < 1e-3 * r["seconds_per_query"], r
    assert abs(r["bytes_per_query"] - factor * 1e6) <= 1, r
PY

# 6. the trained ResNet under Fusion over TCP, its logits against the fixed-point engine's. One query at kappa 3
# (R = 2 replicas and B = 3 public samples: a batch of 5 inferences) on a public set of 50 keeps the client under a
# minute on a 2-core machine with the default backend; the timeout bounds it.
resnet=$src/data/models/fmnist-resnet.onnx
start_server "$work/resnet.log" "$fusion" server --model "$resnet" --sessions 1 --reveal logits --public 9000-9049
started=$SECONDS
timeout 300 "$fusion" client --connect 127.0.0.1:$port --index 7 --kappa 3 --public 9000-9049 --json --logits \
  >"$work/resnet.json" 2>"$work/resnet.err" || fail "ResNet under Fusion: $(cat "$work/resnet.err")"
took=$((SECONDS - started))
wait
t "$fusion" plain --model "$resnet" --count 8 --json --logits \
  --images /usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz \
  --labels /usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz >"$work/resnet-plain.json" || fail "ResNet plain"
python3 - "$work/resnet.json" "$work/resnet-plain.json" "$took" <<'PY' || fail "ResNet under Fusion"
import json, sys
client, plain = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
f, a = client["fusion"], client["amortised"]
assert f["passed"] and f["R"] >= 2 and f["B"] >= 1, f
assert a["queries"] == 1 and a["batch"] == f["N"] == f["R"] + f["B"], a
[p] = client["predictions"]
assert p["index"] == 7 and p["logits"] == plain["logits"][7], (p, plain["logits"][7])
print(f"trained ResNet under Fusion (batch of {f['N']}, R = {f['R']}): logits equal the fixed-point engine's, "
      f"bit for bit; client {sys.argv[3]} s, {client['cost']['seconds']:.1f} s in the batch, "
      f"mix-and-check overhead {100 * client['overhead']['share']:.3f} %")
PY
echo "e2e: all checks passed"
