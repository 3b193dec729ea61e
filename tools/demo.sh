#!/usr/bin/env bash
# The main job: install, build, then secure inference between two processes over loopback with the shipped
# Fashion-MNIST model: a server holds the model, a client classifies real test images with Fusion's mix-and-check
# (then without it, for the cost comparison), and a server that secretly runs a weak model gets caught.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/deps.sh
[ -d build ] || meson setup build --buildtype=release >/dev/null
meson compile -C build >/dev/null
fusion=build/apps/fusion
model=data/models/fmnist-4layer.onnx weak=data/models/fmnist-4layer-weak.onnx
queries=${FSN_DEMO_QUERIES:-0-7}
logs=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$logs"' EXIT
export FSN_STATE_FILE=$logs/caught-servers # where the client records servers it caught (default: ~/.local/state)

. tools/start-server.sh

echo "== the machine"
$fusion info | head -4
echo
echo "== the model in the clear (float vs the fixed-point semantics the secure run reproduces bit for bit)"
$fusion plain --model "$model" --count 2000 | head -5
echo
fsn_start_server "$logs/server" $fusion server --model "$model" --sessions 2
port=$server_port
echo "== secure inference with mix-and-check (kappa = 40): server on port $port, client classifies images $queries"
$fusion client --connect 127.0.0.1:$port --index "$queries"
echo
echo "== the same queries without Fusion (semi-honest only, no checks)"
$fusion client --connect 127.0.0.1:$port --index "$queries" --no-fusion | tail -2
wait "$server_pid" # its two sessions are over
echo
echo "== server log"
cat "$logs/server"
echo
fsn_start_server "$logs/adversary" build/apps/fusion-adversary --deviation weak --model "$model" --weak-model "$weak" \
  --sessions 2
port=$server_port
echo "== a cheating server: it claims the good model but runs the weak one (client: 1 query, kappa = 40)"
set +e
$fusion client --connect 127.0.0.1:$port --index 0
echo "client exit code: $? (3 = caught)"
echo
echo "== the same client again: a server caught once is refused (it learns at most one bit over its lifetime)"
$fusion client --connect 127.0.0.1:$port --index 0
echo "client exit code: $? (3 = refused)"
wait "$server_pid"
echo
echo "== adversary log (the client's verdict byte is the same whether or not it was caught)"
cat "$logs/adversary"
