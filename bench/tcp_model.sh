#!/usr/bin/env bash
# One semi-honest secure inference of a built-in model over TCP (loopback), measured as a user would run it: a
# `fusion server` holding the model (a public set of seeded random images, so any input shape serves) and a
# `fusion client --input IMAGE --no-fusion` whose image goes through the preprocessing the server's card declares.
# Both parties run niced on this machine's cores; /usr/bin/time gives each one's CPU. Prints wall time, CPU per
# party, bytes each way, rounds, and whether the secure logits equal `fusion plain`'s bit for bit; keeps the JSON
# and the time reports in OUT.
# Usage: bench/tcp_model.sh [--model builtin:squeezenet] [--backend he] [--ot PACK] [--threads 2] [--image FILE.png]
#                           [--preprocess SPEC] [--out results/tcp-model]
set -euo pipefail
cd "$(dirname "$0")/.."
model=builtin:squeezenet backend=he ot= threads=2 image= out=results/tcp-model
preprocess="resize=227,crop=227,mean=0.485/0.456/0.406,std=0.229/0.224/0.225"
while [ $# -gt 0 ]; do
  case $1 in
    --model) model=$2; shift 2 ;;
    --backend) backend=$2; shift 2 ;;
    --ot) ot=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --image) image=$2; shift 2 ;;
    --preprocess) preprocess=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
fusion=build/apps/fusion
[ -x "$fusion" ] || { echo "build first: meson setup build && meson compile -C build" >&2; exit 1; }
command -v /usr/bin/time >/dev/null || { echo "needs /usr/bin/time (Debian package time)" >&2; exit 1; }
mkdir -p "$out"
if [ -z "$image" ]; then # a 300 x 260 RGB test picture (gradients and seeded noise), standard library only
  image=$out/picture.png
  python3 - "$image" <<'PY'
import random, struct, sys, zlib
random.seed(7)
w, h = 300, 260
def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
rows = [bytes(v for x in range(w) for v in (x * 255 // w, y * 255 // h, random.randrange(256))) for y in range(h)]
hdr = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
raw = zlib.compress(b"".join(b"\0" + r for r in rows))
open(sys.argv[1], "wb").write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", hdr) + chunk(b"IDAT", raw) + chunk(b"IEND", b""))
PY
fi
. tools/start-server.sh
"$fusion" plain --model "$model" --input "$image" --preprocess "$preprocess" --json --logits >"$out/plain.json"
uptime >"$out/load.txt"
fsn_start_server "$out/server.log" nice -n 5 /usr/bin/time -v -o "$out/server.time" "$fusion" server --model "$model" \
  --backend "$backend" ${ot:+--ot "$ot"} --images random --public 0-0 --preprocess "$preprocess" --reveal logits --sessions 1 \
  --threads "$threads" --timeout 3600 || exit 1
nice -n 5 /usr/bin/time -v -o "$out/client.time" "$fusion" client --connect 127.0.0.1:"$server_port" \
  --input "$image" --no-fusion --threads "$threads" --timeout 3600 --json --logits >"$out/client.json"
uptime >>"$out/load.txt"
wait "$server_pid"
python3 - "$out" <<'PY'
import json, re, sys
out = sys.argv[1]
c, p = json.load(open(f"{out}/client.json")), json.load(open(f"{out}/plain.json"))
def cpu(party):
    t = open(f"{out}/{party}.time").read()
    return sum(float(re.search(rf"{k} time \(seconds\): ([0-9.]+)", t).group(1)) for k in ("User", "System"))
cost = c["cost"]
exact = [q["logits"] for q in c["predictions"]] == p["logits"]
print(f"{c['model']} ({c['linear_backend']}, {c['ot']}): {cost['seconds']:.1f} s, CPU server {cpu('server'):.1f} s, client {cpu('client'):.1f} s; "
      f"client sent {cost['bytes_sent'] / 2**20:.1f} MiB, server sent {cost['bytes_recv'] / 2**20:.1f} MiB, "
      f"{(cost['bytes_sent'] + cost['bytes_recv']) / 2**20:.1f} MiB both ways, {cost['rounds']} rounds; "
      f"logits bit-exact against fusion plain: {'yes' if exact else 'NO'}; peak RSS client / server "
      f"{c['memory']['client_peak_rss_bytes'] / 2**20:.0f} / {c['memory']['server_peak_rss_bytes'] / 2**20:.0f} MiB")
print("load average (before, after):", " | ".join(l.split("load average:")[1].strip() for l in open(f"{out}/load.txt")))
sys.exit(0 if exact else 1)
PY
