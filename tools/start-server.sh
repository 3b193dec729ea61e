# Sourced by tools/demo.sh and the bench/ scripts: start a server (or the adversary) in the background on an
# ephemeral loopback port, as a job of the calling shell (so `wait` and `kill $(jobs -p)` reach it), and return once
# it listens, with its port in $server_port and its pid in $server_pid.
# Usage: fsn_start_server LOG COMMAND [ARGS...] || exit 1   (tests/e2e and bench/ scripts source it too)
fsn_start_server() {
  local log=$1
  shift
  "$@" --listen 127.0.0.1:0 >"$log" 2>&1 &
  server_pid=$!
  fsn_wait_port "$log" "$server_pid"
}

# fsn_wait_port LOG [PID]: wait until the server logging to LOG listens (or PID, if given, exits); its port in
# $server_port. For scripts that start the server themselves.
fsn_wait_port() {
  local log=$1 pid=${2:-}
  server_port=
  for _ in $(seq 1 3000); do
    server_port=$(sed -n 's/.*listening on port \([0-9]*\).*/\1/p' "$log")
    [ -n "$server_port" ] && return 0
    [ -z "$pid" ] || kill -0 "$pid" 2>/dev/null || { cat "$log" >&2; return 1; }
    sleep 0.1
  done
  echo "server did not start: $(cat "$log")" >&2
  return 1
}
