#!/usr/bin/env bash
# The main job: install, build, then secure inference between two processes over loopback with the shipped
# Fashion-MNIST model: a server holds the model, a client classifies real test images with Fusion's mix-and-check
# (then without it, for the cost comparison), the trained ResNet does the same on a few images, and a server that
# secretly runs a weak model gets caught.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/deps.sh
[ -d build ] || meson setup build --buildtype=release >/dev/null
meson compile -C build >/dev/null
fusion=build/apps/fusion
model=data/models/fmnist-4layer.onnx weak=data/models/fmnist-4layer-weak.onnx resnet=data/models/fmnist-resnet.onnx
queries=${FSN_DEMO_QUERIES:-0-7}
# The ResNet costs about 10 times the 4-layer model per inference: two queries at kappa = 3 (R = 2, B = 3: a batch of
# 7) on a public set of 100 keep its run under a minute on a quiet 2-core machine (2-3 min under heavy load).
resnet_queries=${FSN_DEMO_RESNET_QUERIES:-0-1} resnet_kappa=${FSN_DEMO_RESNET_KAPPA:-3} resnet_public=9000-9099
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
fsn_start_server "$logs/resnet" $fusion server --model "$resnet" --sessions 1 --public "$resnet_public"
port=$server_port
echo "== the trained ResNet ($resnet) under Fusion (kappa = $resnet_kappa): images $resnet_queries in one batch"
$fusion client --connect 127.0.0.1:$port --index "$resnet_queries" --kappa "$resnet_kappa" --public "$resnet_public"
wait "$server_pid"
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
