#!/usr/bin/env bash
# Load test (issue 17): M honest clients in parallel against one `fusion server`, with hostile clients interleaved:
# tricklers (a valid handshake, then one byte every 0.5 s), a hello flood from another loopback address (127.0.0.2),
# clients vanishing at each phase (after the hello, after the handshake, after the card, after the batch request),
# and oversized batch requests. Prints one JSON line: honest sessions completed and failed, p50/p99 honest session
# time, a lone client's time, the hostile outcomes, the server's peak RSS and its memory budget. Exit 1 if an honest
# client failed or the server's peak RSS exceeded its budget.
# Usage: bench/load.sh [M honest] [BUILD_DIR]   (from the source root; defaults 8, build). --quick: M = 2, CI form.
set -euo pipefail
[ "${1:-}" = --quick ] && { shift; set -- 2 "${1:-build}"; }
m=${1:-8} build=${2:-build}
fusion=$build/apps/fusion model=data/models/fmnist-4layer.onnx
. tools/start-server.sh # fsn_wait_port
work=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null; [ -n "${keep:-}" ] || rm -rf "$work"' EXIT
export FSN_STATE_FILE=$work/caught-servers
budget=4G # 16 sessions of the full form on the default Ferret pack (fsn_ot_pack_memory_bytes) fit it

# Honest clients come from 127.0.0.1, hostile ones from 127.0.0.2: the per-address cap (at least M) bounds the slots
# hostile clients can hold, and M more slots stay for the honest ones. A session may last 30 s (15 s in the quick form).
deadline=30
[ "$m" -le 2 ] && deadline=15
cap=$((m > 4 ? m : 4))
"$fusion" server --model "$model" --listen 127.0.0.1:0 --threads 1 --max-sessions $((m + cap)) --max-per-client "$cap" \
  --session-timeout $deadline --handshake-timeout 3 --memory-budget $budget --log-json >"$work/server.log" 2>&1 &
server=$!
pids+=($server)
fsn_wait_port "$work/server.log" "$server" || exit 1
port=$server_port

honest() { # honest NAME FIRST: one client of images FIRST, FIRST + 1; its wall time in $work/honestNAME.time
  local s e
  s=$(date +%s.%N)
  if "$fusion" client --connect 127.0.0.1:$port --threads 1 --index "$2-$(($2 + 1))" --no-fusion --json \
    >"$work/honest$1.json" 2>"$work/honest$1.err"; then
    e=$(date +%s.%N)
    echo "$s $e" >"$work/honest$1.time"
  fi
}

honest lone 100 # a lone client first: the reference time

# hostile clients, in Python (raw frames: they do what no correct client does)
python3 - "$port" "$work" <<'PY' &
import socket, struct, sys, threading, time
port, work = int(sys.argv[1]), sys.argv[2]
TAG, MAGIC = 0x004E5346, 0x4B48534E
def frame(kind, p): return struct.pack("<IIQQ", TAG | kind << 24, 0, len(p), 0) + p
def hello(sid): return struct.pack("<IHBBIIQIIQQQQQ", MAGIC, 1, 1, 0, 37, 12, sid, 0, 1, 1 << 20, 0, 0, 0, 0)
def recv_frame(s):
    h = b""
    while len(h) < 24:
        k = s.recv(24 - len(h))
        if not k: raise EOFError
        h += k
    n = struct.unpack("<IIQQ", h)[2]
    b = b""
    while len(b) < n:
        k = s.recv(min(65536, n - len(b)))
        if not k: raise EOFError
        b += k
    return h[3], b
def handshake(sid, src="127.0.0.2"):
    s = socket.socket()
    s.bind((src, 0))
    s.settimeout(30)
    s.connect(("127.0.0.1", port))
    s.sendall(frame(1, hello(sid)))
    kind, h = recv_frame(s)
    if h[7] != 0: raise ConnectionError("refused")
    s.sendall(frame(2, hello(sid)))
    recv_frame(s)
    return s
out = {"trickle_cut": 0, "trickle_cut_after_s": 0, "flood_answered": 0, "flood_refused": 0, "vanish": 0,
       "oversized_refused": 0}
lock = threading.Lock()
def count(k):
    with lock: out[k] += 1
def trickle(sid):
    t0 = time.time()
    try:
        s = handshake(sid)
        recv_frame(s); recv_frame(s)                 # the card
        for b in struct.pack("<IIQQ", TAG, 0, 26, 0):  # a batch request's header (26 bytes), one byte every 1.5 s
            s.send(bytes([b])); time.sleep(1.5)
        for _ in range(100):
            s.send(b"\x00"); time.sleep(1.5)
    except (OSError, EOFError):
        with lock:                                   # cut by the server
            out["trickle_cut"] += 1
            out["trickle_cut_after_s"] = max(out["trickle_cut_after_s"], round(time.time() - t0, 1))
def flood():
    time.sleep(2)  # after the others have their connections
    for i in range(100):
        try:
            s = socket.socket(); s.bind(("127.0.0.2", 0)); s.settimeout(5)
            s.connect(("127.0.0.1", port)); s.sendall(frame(1, hello(1000 + i)))
            try:
                kind, h = recv_frame(s)
                count("flood_answered")  # promptly: a hello, or a refusal
                if h[7] != 0: count("flood_refused")
            except (OSError, EOFError):
                pass
            s.close()
        except OSError:
            pass
        time.sleep(0.05)
def vanish(sid, phase):
    try:
        if phase == 0:
            s = socket.socket(); s.bind(("127.0.0.2", 0)); s.connect(("127.0.0.1", port))
            s.sendall(frame(1, hello(sid))); s.close()
        else:
            s = handshake(sid)
            if phase >= 2: recv_frame(s); recv_frame(s)
            if phase >= 3: s.sendall(frame(0, struct.pack("<QBB16s", 2, 0, 0, b"he")))
            s.close()
        count("vanish")
    except (OSError, EOFError):
        pass
def oversized(sid):
    time.sleep(1)  # once the vanishing clients are gone (the per-address cap counts them)
    try:
        s = handshake(sid)
        recv_frame(s); recv_frame(s)
        s.sendall(frame(0, struct.pack("<QBB16s", 10**9, 0, 0, b"he")))
        kind, msg = recv_frame(s)
        if kind == 3 and b"batch" in msg: count("oversized_refused")
    except (OSError, EOFError):
        pass
ts = [threading.Thread(target=trickle, args=(11 + i,)) for i in range(2)]
ts += [threading.Thread(target=flood)]
ts += [threading.Thread(target=vanish, args=(21 + p, p)) for p in range(4)]
ts += [threading.Thread(target=oversized, args=(31 + i,)) for i in range(2)]
for t in ts: t.start()
for t in ts: t.join()
open(work + "/hostile.json", "w").write(__import__("json").dumps(out))
PY
hostile=$!
pids+=($hostile)
sleep 0.5

hpids=()
for j in $(seq 0 $((m - 1))); do
  honest "$j" $((2 * j)) &
  hpids+=($!)
done
for p in "${hpids[@]}"; do wait "$p" || true; done
rss_kib=$(sed -n 's/^VmHWM:\s*\([0-9]*\) kB/\1/p' /proc/$server/status)
wait "$hostile" || true
kill -TERM "$server"
wait "$server" || true

python3 - "$work" "$m" "$rss_kib" "$budget" <<'PY'
import json, os, sys
work, m, rss_kib = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
budget = int(sys.argv[4][:-1]) << {"k": 10, "M": 20, "G": 30}[sys.argv[4][-1]]
def seconds(j):
    try:
        s, e = map(float, open(os.path.join(work, f"honest{j}.time")).read().split())
        return e - s
    except OSError:
        return None
times = sorted(t for t in (seconds(j) for j in range(m)) if t is not None)
pct = lambda q: round(times[min(len(times) - 1, int(q * len(times)))], 2) if times else None
hostile = json.load(open(os.path.join(work, "hostile.json")))
result = {"honest": m, "honest_completed": len(times), "honest_failed": m - len(times), "p50_s": pct(0.5),
          "p99_s": pct(0.99), "lone_s": round(seconds("lone") or 0, 2), "hostile": hostile,
          "server_peak_rss_mib": rss_kib >> 10, "memory_budget_mib": budget >> 20}
print(json.dumps(result))
for j in range(m):
    if seconds(j) is None:
        print(f"honest {j}: " + open(os.path.join(work, f"honest{j}.err")).read().strip(), file=sys.stderr)
sys.exit(0 if len(times) == m and rss_kib * 1024 <= budget else 1)
PY
