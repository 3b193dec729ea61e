# Sourced by tools/demo.sh and the bench/ scripts: start a server (or the adversary) in the background on an
# ephemeral loopback port, as a job of the calling shell (so `wait` and `kill $(jobs -p)` reach it), and return once
# it listens, with its port in $server_port and its pid in $server_pid.
# Usage: fsn_start_server LOG COMMAND [ARGS...] || exit 1
fsn_start_server() {
  local log=$1
  shift
  server_port=
  "$@" --listen 127.0.0.1:0 >"$log" 2>&1 &
  server_pid=$!
  for _ in $(seq 1 3000); do
    server_port=$(sed -n 's/.*listening on port \([0-9]*\).*/\1/p' "$log")
    [ -n "$server_port" ] && return 0
    kill -0 "$server_pid" 2>/dev/null || { cat "$log" >&2; return 1; }
    sleep 0.1
  done
  echo "server did not start: $*" >&2
  return 1
}
