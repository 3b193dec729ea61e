#!/usr/bin/env bash
# Shape a real interface with netem (delay + rate) for two-host runs. Run it on BOTH hosts, on the interface that
# carries the traffic: each host delays its egress by half the RTT and limits it to the profile rate, so the link
# has the profile's RTT and bandwidth in each direction. Needs root and a kernel with the netem qdisc.
#
#   net/scripts/tc.sh apply eth0 wan      # lan | wan | wan-slow | custom RATE RTT, e.g. custom 200mbit 20ms
#   net/scripts/tc.sh show eth0
#   net/scripts/tc.sh remove eth0
#
# On ONE machine (both parties over loopback) apply it to lo once: every packet crosses lo's egress once per
# direction, so the same half-RTT delay per direction gives the full RTT.
set -euo pipefail

usage() { sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
[ $# -ge 2 ] || usage
action=$1 dev=$2

profile() { # name -> "rate one-way-delay"
  case $1 in
  lan) echo "3gbit 0.15ms" ;;
  wan) echo "400mbit 20ms" ;;
  wan-slow) echo "100mbit 40ms" ;;
  *) echo "unknown profile '$1' (lan, wan, wan-slow, custom RATE RTT)" >&2; exit 2 ;;
  esac
}

case $action in
apply)
  [ $# -ge 3 ] || usage
  if [ "$3" = custom ]; then
    [ $# -eq 5 ] || usage
    rate=$4
    # half the RTT, in microseconds, via awk so "40ms", "0.3ms" and "250us" all work
    delay=$(awk -v t="$5" 'BEGIN { u = t; sub(/[0-9.]+/, "", u); v = t + 0;
      if (u == "ms") v *= 1000; else if (u == "s") v *= 1000000; else if (u != "us") { exit 1 } printf "%.0fus", v / 2 }') ||
      { echo "RTT '$5': use a unit of s, ms or us" >&2; exit 2; }
  else
    read -r rate delay < <(profile "$3")
  fi
  # The queue must hold a bandwidth-delay product: a generous packet limit keeps netem from dropping at full rate.
  tc qdisc replace dev "$dev" root netem delay "$delay" rate "$rate" limit 200000
  echo "$dev: egress delayed by $delay and limited to $rate (apply on the peer too)"
  ;;
remove) tc qdisc del dev "$dev" root 2>/dev/null || true; echo "$dev: shaping removed" ;;
show) tc -s qdisc show dev "$dev" ;;
*) usage ;;
esac
