# Sourced by tools/demo.sh and bench/detection.sh: start a server (or the adversary) in the background on an
# ephemeral loopback port and print that port once it listens.
# Usage: port=$(fsn_start_server LOG COMMAND [ARGS...])
fsn_start_server() {
  local log=$1 port
  shift
  "$@" --listen 127.0.0.1:0 >"$log" 2>&1 &
  for _ in $(seq 1 3000); do
    port=$(sed -n 's/.*listening on port \([0-9]*\).*/\1/p' "$log")
    [ -n "$port" ] && { echo "$port"; return 0; }
    kill -0 $! 2>/dev/null || { cat "$log" >&2; return 1; }
    sleep 0.1
  done
  echo "server did not start: $*" >&2
  return 1
}
