#!/usr/bin/env bash
# The server as an operator runs it (issue 17), between processes over TCP with the shipped model:
#  1. two clients at once are served side by side, and each one's secure logits equal `fusion plain`'s bit for bit;
#     the server logs one JSON line per session (--log-json) with id, peer, batch, seconds, bytes, rounds, verdict;
#  2. a batch above what the memory budget allows is refused at the request, and the client's error names the limit;
#     a budget without room for the OT pack's pools is refused at start-up;
#  3. SIGTERM while a session runs: the session completes, the server stops accepting and exits 0.
# Usage: server.sh BUILD_DIR SOURCE_DIR
set -uo pipefail
build=$1 src=$2
fusion=$build/apps/fusion model=$src/data/models/fmnist-4layer.onnx
. "$src/tools/start-server.sh" # fsn_wait_port
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$work"' EXIT
export FSN_STATE_FILE=$work/caught-servers
fail() { echo "FAIL: $*"; exit 1; }
t() { timeout 300 "$@"; }

"$fusion" info >/dev/null 2>&1 || { echo "skipped: $("$fusion" info 2>&1 | head -1)"; exit 77; }
[ "${FSN_ISA:-}" = ref ] && { echo "skipped at FSN_ISA=ref (reference AES too slow)"; exit 77; }

# start_server LOG ARGS...: a server in the background (pid in $server), its port in $port
start_server() {
  local log=$1
  shift
  t "$fusion" server --model "$model" --listen 127.0.0.1:0 --reveal logits "$@" >"$log" 2>&1 &
  server=$!
  fsn_wait_port "$log" "$server" || fail "server did not start"
  port=$server_port
}

client() { t "$fusion" client --connect 127.0.0.1:$port --no-fusion --json --logits "$@"; }

# 1. two clients at once
start_server "$work/s1.log" --sessions 2 --max-sessions 2 --log-json
client --index 0-2 >"$work/a.json" 2>"$work/a.err" &
a=$!
client --index 3-5 >"$work/b.json" 2>"$work/b.err" &
b=$!
wait $a || fail "first client: $(cat "$work/a.err")"
wait $b || fail "second client: $(cat "$work/b.err")"
wait $server || fail "server: $(cat "$work/s1.log")"
t "$fusion" plain --model "$model" --count 6 --json --logits \
  --images /usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz \
  --labels /usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz >"$work/plain.json" || fail "plain run"
python3 - "$work/a.json" "$work/b.json" "$work/plain.json" "$work/s1.log" <<'PY' || fail "concurrent sessions"
import json, sys
plain = json.load(open(sys.argv[3]))["logits"]
for f, first in ((sys.argv[1], 0), (sys.argv[2], 3)):
    got = {p["index"]: p["logits"] for p in json.load(open(f))["predictions"]}
    assert sorted(got) == list(range(first, first + 3)), sorted(got)
    for i, v in got.items():
        assert v == plain[i], (i, v, plain[i])
lines = [json.loads(l) for l in open(sys.argv[4]) if l.startswith("{")]
assert len(lines) == 2, lines
for l in lines:
    assert l["error"] is None and l["batch"] == 3 and l["verdict"] == "silent", l
    assert l["bytes_sent"] > 0 and l["rounds"] > 0 and l["peer"].startswith("127.0.0.1:"), l
assert lines[0]["id"] != lines[1]["id"]
print("two clients at once: 6 of 6 logits equal the fixed-point engine's; JSON log lines", [l["session"] for l in lines])
PY

# 2. the memory budget sizes the batch limit: 70 MiB leaves room for a handful of items of this model on IKNP, and
# none on Ferret, whose pools (some 100 MiB per thread) the server counts: it refuses to start, naming the pack
t "$fusion" server --model "$model" --listen 127.0.0.1:0 --memory-budget 70M --ot ferret >"$work/s2f.log" 2>&1 &&
  fail "a Ferret server started within 70 MiB"
grep -q "per session on the ferret OT pack with 2 thread(s)" "$work/s2f.log" || fail "Ferret budget: $(cat "$work/s2f.log")"
start_server "$work/s2.log" --sessions 2 --max-sessions 1 --memory-budget 70M --ot iknp
limit=$(sed -n 's/.*batches up to \([0-9]*\).*/\1/p' "$work/s2.log")
[ -n "$limit" ] && [ "$limit" -ge 3 ] && [ "$limit" -lt 40 ] || fail "batch limit '$limit' from a 70 MiB budget"
client --index 0-39 >/dev/null 2>"$work/big.err" && fail "a batch of 40 above the limit of $limit was served"
grep -q "batch of 40 (this server takes 1 .. $limit)" "$work/big.err" || fail "refusal unclear: $(cat "$work/big.err")"
client --index 0-2 >/dev/null 2>"$work/small.err" || fail "a batch of 3 within the budget: $(cat "$work/small.err")"
wait $server || fail "server after a refused batch: $(cat "$work/s2.log")"
echo "memory budget: batch limit $limit; a batch of 40 refused with: $(tail -1 "$work/big.err")"

# 3. SIGTERM drains. The server runs without `timeout` (which would pass the signal on twice: a second one aborts),
# exec'd by its background subshell so that $! is the server itself.
t() { exec "$@"; }
start_server "$work/s3.log"
t() { timeout 300 "$@"; }
client --index 0-3 >"$work/c.json" 2>"$work/c.err" &
c=$!
sleep 2 # the session takes several seconds: it is running now
kill -TERM $server
wait $c || fail "the session running at SIGTERM: $(cat "$work/c.err")"
wait $server || fail "server exit after SIGTERM: $(cat "$work/s3.log")"
grep -q "stopped after 1 session" "$work/s3.log" || fail "drain: $(cat "$work/s3.log")"
echo "SIGTERM: the running session completed and the server exited 0"
echo "server e2e: all passed"
