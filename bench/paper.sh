#!/usr/bin/env bash
# The paper's LAN/WAN time and communication figures, reproduced on this machine: for each network and link profile,
# the semi-honest base on one query, Fusion on one query and Fusion on a batch of 16 queries (kappa = 40).
#  - 4layer (the shipped Fashion-MNIST model) runs for real: `fusion server` and `fusion client` as two processes over
#    loopback with the link emulated in process, and once without emulation for the compute term of the model estimate.
#  - resnet18 and resnet50 (built-in, seeded weights; semi-honest, Fusion n = 1 and n = 64): `fusion bench model`
#    measures every layer on probes first, bench/paper.py projects each run from it, and every run whose projection
#    fits the budget is then measured: one inference with every layer whole, and whole sessions (server and client,
#    as for the 4-layer model) where the build can feed the model's inputs. The rest stay projected, labelled so.
# Results go to OUT (default results/paper): runs/*.json (raw), paper.json, paper.csv, paper.md, plots (SVG + PNG).
# Both parties share this machine's cores. --backend and --ot pass on to the server, the client and `fusion bench
# model` where they take them (a command without the option runs without it, with a note in runs/machine.txt).
# Usage: bench/paper.sh [--net lan,wan] [--quick] [--only 4layer,resnet18,resnet50] [--resume] [--out DIR]
#                       [--threads T] [--build DIR] [--budget SECONDS (600; --quick: 0)] [--backend NAME] [--ot NAME]
set -euo pipefail
cd "$(dirname "$0")/.."
net=lan,wan quick=0 only=4layer,resnet18,resnet50 resume=0 out=results/paper threads=2 build=build budget=
backend= ot=
while [ $# -gt 0 ]; do
  case $1 in
    --net) net=$2; shift 2 ;;
    --quick) quick=1; shift ;;
    --only) only=$2; shift 2 ;;
    --resume) resume=1; shift ;;
    --out) out=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --build) build=$2; shift 2 ;;
    --budget) budget=$2; shift 2 ;;
    --backend) backend=$2; shift 2 ;;
    --ot) ot=$2; shift 2 ;;
    -h|--help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench/paper.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
fusion=$build/apps/fusion
model=data/models/fmnist-4layer.onnx
[ -x "$fusion" ] || { echo "bench/paper.sh: build first (meson setup $build --buildtype=release && meson compile -C $build)" >&2; exit 1; }
runs_wanted="semi fusion1 fusion16" resnet_runs="semi fusion1 fusion64" probe=()
if [ "$quick" = 1 ]; then
  # A smoke test: LAN only, no 16-query batch, small probes (their projections are coarser), no ResNet measured.
  net=lan runs_wanted="semi fusion1" resnet_runs="semi fusion1" probe=(--probe-elements 8192 --probe-meetings 262144)
  budget=${budget:-0} # nothing measured beyond the probes
fi
budget=${budget:-600}
mkdir -p "$out/runs"
. tools/start-server.sh
trap 'kill $(jobs -p) 2>/dev/null || true' EXIT
wanted() { case ",$only," in *",$1,"*) return 0 ;; *) return 1 ;; esac; }
start=$SECONDS
say() { printf '[paper %4d s] %s\n' $((SECONDS - start)) "$*" >&2; }
# fresh FILE: true unless --resume and FILE already holds a result
fresh() { [ "$resume" = 0 ] || [ ! -s "$1" ]; }

# takes SUBCOMMAND... OPTION: the subcommand's usage names OPTION
takes() { "$fusion" "${@:1:$#-1}" --help 2>&1 | grep -q -- "${@: -1}"; }
# The pass-through options each command takes (--backend and --ot may not exist yet in a build), with notes.
server_extra=() client_extra=() model_extra=() notes=()
for pass in "--backend:$backend" "--ot:$ot"; do
  opt=${pass%%:*} value=${pass#*:}
  [ -n "$value" ] || continue
  for cmd in server client "bench model"; do
    if takes $cmd "$opt"; then
      case $cmd in server) server_extra+=("$opt" "$value") ;; client) client_extra+=("$opt" "$value") ;;
        *) model_extra+=("$opt" "$value") ;; esac
    else
      notes+=("fusion $cmd has no $opt in this build: run without $opt $value")
    fi
  done
done
# Whole ResNet sessions need a server and a client that take inputs of the model's shape (--images random).
resnet_sessions=1
{ takes server random && takes client random; } ||
  resnet_sessions=0 notes+=("fusion server/client take no --images random in this build: ResNet sessions stay projected")
for note in "${notes[@]}"; do echo "bench/paper.sh: note: $note" >&2; done

{
  echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
  echo "cores: $(nproc)"
  echo "cpu: $(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -1)"
  "$fusion" info
  echo "threads per party: $threads"
  echo "command: bench/paper.sh --net $net$([ "$quick" = 1 ] && echo ' --quick') --only $only --budget $budget" \
    "${backend:+--backend $backend} ${ot:+--ot $ot}"
  for note in "${notes[@]}"; do echo "note: $note"; done
} >"$out/runs/machine.txt"

# session_run NETWORK MODEL PROFILE RUN [DATA ARGS...]: one session with the link profile on both sides.
session_run() {
  local network=$1 spec=$2 profile=$3 run=$4 file=$out/runs/$1-$3-$4.json index=0 mode=(--kappa 40)
  shift 4
  fresh "$file" || { say "$network $profile $run: kept from an earlier run"; return 0; }
  [ "$run" = fusion16 ] && index=0-15
  [ "$run" = fusion64 ] && index=0-63
  [ "$run" = semi ] && mode=(--no-fusion)
  say "$network $profile $run: running (per-layer progress below)"
  # --reveal logits: the paper measures the semi-honest output reveal (labels-only adds an argmax protocol)
  fsn_start_server "$out/runs/$network-$profile-$run.server.log" "$fusion" server --model "$spec" --reveal logits \
    --threads "$threads" --net "$profile" --sessions 1 --timeout 600 "$@" "${server_extra[@]}" || exit 1
  "$fusion" client --connect 127.0.0.1:"$server_port" --index "$index" "${mode[@]}" --threads "$threads" --net "$profile" \
    --timeout 600 --json --progress "$@" "${client_extra[@]}" >"$file.part"
  wait "$server_pid"
  mv "$file.part" "$file"
}
client_run() { session_run 4layer "$model" "$@"; }

# fits NETWORK RUN PROFILE: the run's projected model estimate is within the budget.
fits() {
  local s
  s=$(python3 bench/paper.py --out "$out" --fusion "$fusion" --estimate "$@") || return 1
  python3 -c 'import sys; sys.exit(float(sys.argv[1]) > float(sys.argv[2]))' "$s" "$budget" && return 0
  say "$1 $2 $3: projected at $s s, beyond the budget of $budget s: kept as a projection"
  return 1
}

# model_run NAME FILE ARGS...: `fusion bench model` into FILE.
model_run() {
  local name=$1 file=$2
  shift 2
  fresh "$file" || { say "$name: kept from an earlier run"; return 0; }
  say "$name: fusion bench model $*"
  "$fusion" bench model --threads "$threads" --json "$@" "${model_extra[@]}" >"$file.part"
  mv "$file.part" "$file"
}

if wanted 4layer; then
  for run in $runs_wanted; do client_run off "$run"; done
  for profile in ${net//,/ }; do
    for run in $runs_wanted; do client_run "$profile" "$run"; done
  done
  # The projection method checked where the truth is known: every layer measured, then every layer on probes. The
  # probe scaling is vcot's (the he backend runs its linear layers whole, and its non-linear remainder alone carries
  # the tiny probes' per-call rounding: 12 % of the bytes here, against 6 % allowed), so the check runs vcot.
  model_run "4layer, every layer measured" "$out/runs/4layer-model.json" --model "$model" --backend vcot
  model_run "4layer, every layer on tiny probes" "$out/runs/4layer-model-probed.json" --model "$model" \
    --probe-elements 1024 --probe-meetings 16384 --backend vcot
fi
for name in resnet18 resnet50; do
  wanted "$name" || continue
  model_run "$name (projection)" "$out/runs/$name-model.json" --model "builtin:$name" "${probe[@]}"
  # Measure what fits the budget: one inference with every layer whole, then whole sessions.
  fits "$name" semi off && model_run "$name, every layer measured whole" "$out/runs/$name-model-whole.json" \
    --model "builtin:$name" --probe-elements 268435456 --probe-meetings 4294967296
  [ "$resnet_sessions" = 1 ] || continue
  for profile in off ${net//,/ }; do
    for run in $resnet_runs; do
      fits "$name" "$run" "$profile" && session_run "$name" "builtin:$name" "$profile" "$run" --images random --public 0-15
    done
  done
done
if wanted resnet18 && [ "$quick" = 0 ]; then
  # One real ResNet-18 layer measured whole, against its probe.
  model_run "resnet18 conv16 measured whole" "$out/runs/resnet18-check-full.json" --model builtin:resnet18 \
    --layers conv16 --probe-elements 268435456 --probe-meetings 4294967296
  model_run "resnet18 conv16 on a probe" "$out/runs/resnet18-check-probe.json" --model builtin:resnet18 --layers conv16
fi
say "tables and plots"
python3 bench/paper.py --out "$out" --fusion "$fusion" --net "$net" --runs "$runs_wanted" --resnet-runs "$resnet_runs" \
  --only "$only"
say "done: $out/paper.md"
