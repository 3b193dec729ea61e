#!/usr/bin/env bash
# Two network namespaces joined by a veth pair with a tbf bandwidth limit on both ends: a bandwidth-only link for
# kernels without netem (add delay in process with `--net rtt=...` on both parties). Needs root and `ip netns`.
#
#   net/scripts/netns.sh up [RATE]             # namespaces fsn-a (10.77.0.1) and fsn-b (10.77.0.2); RATE default 400mbit
#   net/scripts/netns.sh run a|b COMMAND...    # run a command inside one namespace
#   net/scripts/netns.sh bench [RATE] [ARGS]   # up, fusion netbench --listen in a and --connect in b, down
#   net/scripts/netns.sh down
#
# FUSION (environment) names the fusion binary for `bench`; default build/apps/fusion.
set -euo pipefail

A=fsn-a B=fsn-b VA=fsn-va VB=fsn-vb IPA=10.77.0.1 IPB=10.77.0.2

usage() { sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }

up() {
  local rate=${1:-400mbit}
  down 2>/dev/null || true
  ip netns add $A
  ip netns add $B
  ip link add $VA type veth peer name $VB
  ip link set $VA netns $A
  ip link set $VB netns $B
  ip -n $A addr add $IPA/24 dev $VA
  ip -n $B addr add $IPB/24 dev $VB
  for ns in $A $B; do ip -n $ns link set lo up; done
  ip -n $A link set $VA up
  ip -n $B link set $VB up
  # burst 256kb / latency 50ms holds a full rate on a veth pair; small bursts collapse to a few Mbit/s.
  ip netns exec $A tc qdisc replace dev $VA root tbf rate "$rate" burst 256kb latency 50ms
  ip netns exec $B tc qdisc replace dev $VB root tbf rate "$rate" burst 256kb latency 50ms
  echo "namespaces $A ($IPA) and $B ($IPB) joined by a veth pair, tbf $rate each way"
}

down() {
  ip netns del $A 2>/dev/null || true # deleting a namespace deletes its end of the veth pair, and so the pair
  ip netns del $B 2>/dev/null || true
}

case ${1:-} in
up) up "${2:-}" ;;
down) down; echo "namespaces removed" ;;
run)
  [ $# -ge 3 ] || usage
  ns=$A
  [ "$2" = b ] && ns=$B
  shift 2
  exec ip netns exec $ns "$@"
  ;;
bench)
  shift
  rate=${1:-400mbit}
  [ $# -gt 0 ] && shift
  fusion=$(realpath "${FUSION:-build/apps/fusion}")
  up "$rate"
  trap down EXIT
  ip netns exec $A "$fusion" netbench --listen $IPA:7700 --bytes 100000000 "$@" &
  server=$!
  ip netns exec $B "$fusion" netbench --connect $IPA:7700 "$@"
  wait $server
  ;;
*) usage ;;
esac
