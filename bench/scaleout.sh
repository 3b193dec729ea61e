#!/usr/bin/env bash
# Scale-out recipe (issue 17): sessions are independent, so K `fusion server`s behind a standard TCP load balancer
# serve many clients. This starts HAProxy (Debian's package `haproxy`; this script installs nothing) and K servers
# on loopback, drives M clients through the balancer at once, checks that every client got all its predictions, and
# prints a JSON summary (sessions per server, failures, wall time). docs/OPERATIONS.md explains the settings.
#
# Each session here is one channel (--threads 1), so the balancer may route every connection on its own
# (`balance leastconn`). With T > 1 channels per session, the T connections of a client must reach the same server:
# use `balance source` (a client address always goes to the same server) or one balancer port per server.
# The servers run with --max-per-client 0: every connection comes from the balancer's address.
#
# Usage: bench/scaleout.sh [K servers] [M clients] [BUILD_DIR]   (from the source root; defaults 2, 4, build)
set -euo pipefail
k=${1:-2} m=${2:-4} build=${3:-build}
fusion=$build/apps/fusion model=data/models/fmnist-4layer.onnx
. tools/start-server.sh # fsn_wait_port
if ! command -v haproxy >/dev/null; then
  echo "haproxy not found: install Debian's package (sudo apt-get install haproxy) and run again" >&2
  exit 77
fi
[ -x "$fusion" ] || { echo "no $fusion: build first (meson compile -C $build)" >&2; exit 1; }
work=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null; rm -rf "$work"' EXIT
export FSN_STATE_FILE=$work/caught-servers

# K servers, each taking up to ceil(M / K) sessions at once, every one logging a JSON line per session
per=$(((m + k - 1) / k))
ports=() servers=()
for i in $(seq 1 "$k"); do
  "$fusion" server --model "$model" --listen 127.0.0.1:0 --threads 1 --max-sessions "$per" --max-per-client 0 \
    --log-json >"$work/server$i.log" 2>&1 &
  pids+=($!)
  servers+=($!)
done
for i in $(seq 1 "$k"); do
  fsn_wait_port "$work/server$i.log" "${servers[i - 1]}" || exit 1
  ports+=("$server_port")
done

# the balancer, on a free port
lb=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
{
  printf 'global\n  maxconn 4096\ndefaults\n  mode tcp\n  timeout connect 5s\n  timeout client 600s\n'
  printf '  timeout server 600s\nfrontend fusion\n  bind 127.0.0.1:%s\n  default_backend servers\n' "$lb"
  printf 'backend servers\n  balance leastconn\n'
  for i in "${!ports[@]}"; do printf '  server s%d 127.0.0.1:%s\n' "$i" "${ports[$i]}"; done
} >"$work/haproxy.cfg"
haproxy -f "$work/haproxy.cfg" -db >"$work/haproxy.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 50); do
  python3 -c "import socket; socket.create_connection(('127.0.0.1', $lb)).close()" 2>/dev/null && break
  sleep 0.1
done

# M clients at once through the balancer, two images each
start=$(date +%s.%N)
cpids=()
for j in $(seq 0 $((m - 1))); do
  "$fusion" client --connect 127.0.0.1:$lb --threads 1 --index $((2 * j))-$((2 * j + 1)) --no-fusion --json \
    >"$work/client$j.json" 2>"$work/client$j.err" &
  cpids+=($!)
done
failed=0
for j in "${!cpids[@]}"; do wait "${cpids[$j]}" || { failed=$((failed + 1)); echo "client $j: $(cat "$work/client$j.err")" >&2; }; done
end=$(date +%s.%N)
kill -TERM "${servers[@]}" # drain: each logs its last sessions and exits
for p in "${servers[@]}"; do wait "$p" || true; done

python3 - "$work" "$k" "$m" "$failed" "$start" "$end" <<'PY'
import glob, json, os, sys
work, k, m, failed, start, end = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5]), float(sys.argv[6])
complete = 0
for j in range(m):
    try:
        preds = json.load(open(os.path.join(work, f"client{j}.json")))["predictions"]
        complete += sorted(p["index"] for p in preds) == [2 * j, 2 * j + 1]
    except (OSError, ValueError, KeyError):
        pass
per_server = []
for i in range(1, k + 1):
    lines = [json.loads(l) for l in open(os.path.join(work, f"server{i}.log")) if l.startswith("{")]
    per_server.append(sum(1 for l in lines if l["error"] is None))
print(json.dumps({"servers": k, "clients": m, "clients_complete": complete, "clients_failed": failed,
                  "sessions_per_server": per_server, "seconds": round(end - start, 2)}))
sys.exit(0 if complete == m and failed == 0 and sum(per_server) == m else 1)
PY
