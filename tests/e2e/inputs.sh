#!/usr/bin/env bash
# Users' input files through `fusion plain`: the first three Fashion-MNIST test images written as a PNG (one image),
# a JPEG-free .npy batch (float32, 3 x 1 x 28 x 28) and a 56 x 56 RGB PNG that --preprocess brings back to the model's
# 1 x 28 x 28 give the same fixed-point logits, bit for bit, as the IDX images; bad files are one clear line, exit 1.
# The .npy batch and the PNGs also go through a secure `fusion client --input [--preprocess]` over TCP: the same logits, bit for bit;
# a tensor of another shape than the model's is one clear line naming the file. A model's preprocessing declared in a
# sidecar file (model.onnx.preprocess) is applied by `fusion plain` and stated in the server's card for the client.
# Usage: inputs.sh BUILD_DIR SOURCE_DIR
set -uo pipefail
build=$1 src=$2
fusion=$build/apps/fusion model=$src/data/models/fmnist-4layer.onnx
. "$src/tools/start-server.sh" # fsn_wait_port
images=/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
"$fusion" info >/dev/null 2>&1 || { echo "skipped: $("$fusion" info 2>&1 | head -1)"; exit 77; }

# Files written with the standard library only (PNG: zlib-compressed scanlines with CRCs; .npy: header + raw data).
python3 - "$images" "$work" <<'PY' || fail "writing the input files"
import gzip, struct, sys, zlib
px = gzip.open(sys.argv[1]).read()[16:16 + 3 * 784]
def png(path, w, h, channels, rows):
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    raw = b"".join(b"\0" + r for r in rows)
    hdr = struct.pack(">IIBBBBB", w, h, 8, {1: 0, 3: 2}[channels], 0, 0, 0)
    open(path, "wb").write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", hdr) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
png(sys.argv[2] + "/gray.png", 28, 28, 1, [px[r * 28:(r + 1) * 28] for r in range(28)])
# 56 x 56 RGB, each pixel repeated 2 x 2 and in every channel: resize=28 (2 x 2 means of equal values) and channels=1
# (0.299 + 0.587 + 0.114 = 1) give back the image within float rounding
big = [bytes(v for x in range(56) for v in [px[(y // 2) * 28 + x // 2]] * 3) for y in range(56)]
png(sys.argv[2] + "/rgb56.png", 56, 56, 3, big)
hdr = "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 1, 28, 28), }"
hdr += " " * (63 - (10 + len(hdr)) % 64) + "\n"
data = struct.pack("<%df" % len(px), *[p / 255.0 for p in px])
open(sys.argv[2] + "/three.npy", "wb").write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(hdr)) + hdr.encode() + data)
PY

"$fusion" plain --model "$model" --images "$images" --labels "${images/images-idx3/labels-idx1}" --count 3 --json \
  --logits >"$work/idx.json" || fail "plain run on IDX images"
"$fusion" plain --model "$model" --input "$work/gray.png" --json --logits >"$work/png.json" || fail "plain --input png"
"$fusion" plain --model "$model" --input "$work/three.npy" --json --logits >"$work/npy.json" || fail "plain --input npy"
"$fusion" plain --model "$model" --input "$work/rgb56.png" --preprocess resize=28,channels=1 --json --logits \
  >"$work/rgb.json" || fail "plain --input with --preprocess"
python3 - "$work" <<'PY' || fail "logits from input files differ from the IDX images'"
import json, sys
w = sys.argv[1]
idx, png, npy, rgb = (json.load(open(f"{w}/{n}.json"))["logits"] for n in ("idx", "png", "npy", "rgb"))
assert png == idx[:1], (png, idx[:1])
assert npy == idx, "npy"
assert rgb == idx[:1], (rgb, idx[:1])
print("PNG, .npy and a preprocessed RGB PNG: logits equal the IDX images', bit for bit")
PY

# bad files: one clear line naming the file, exit 1
head -c 100 "$work/gray.png" >"$work/cut.png"
for bad in "$work/cut.png" "$work/missing.npy" "$work/rgb56.png"; do
  "$fusion" plain --model "$model" --input "$bad" >"$work/out" 2>"$work/err"
  [ $? -eq 1 ] && [ "$(wc -l <"$work/err")" -eq 1 ] && grep -q "$(basename "$bad")" "$work/err" ||
    fail "bad input $bad: $(cat "$work/err")"
done
"$fusion" plain --model "$model" --input "$work/gray.png" --preprocess zoom=2 >"$work/out" 2>"$work/err"
[ $? -eq 1 ] && grep -q "bad part 'zoom=2'" "$work/err" || fail "bad --preprocess: $(cat "$work/err")"
echo "bad files and specs: one clear line each"

# secure runs over TCP: a server revealing logits, clients with --input (Fusion on for the .npy, off for the PNG)
[ "${FSN_ISA:-}" = ref ] && { echo "secure runs skipped at FSN_ISA=ref (reference AES too slow)"; exit 0; }
export FSN_STATE_FILE=$work/caught-servers
timeout 600 "$fusion" server --model "$model" --sessions 4 --reveal logits --listen 127.0.0.1:0 >"$work/server.log" 2>&1 &
fsn_wait_port "$work/server.log" $! || fail "server did not start"
port=$server_port
timeout 600 "$fusion" client --connect 127.0.0.1:$port --input "$work/three.npy" --kappa 10 --json --logits \
  >"$work/secure_npy.json" || fail "client --input npy: $(cat "$work/secure_npy.json")"
timeout 600 "$fusion" client --connect 127.0.0.1:$port --input "$work/gray.png" --no-fusion --json --logits \
  >"$work/secure_png.json" || fail "client --input png: $(cat "$work/secure_png.json")"
timeout 600 "$fusion" client --connect 127.0.0.1:$port --input "$work/rgb56.png" --preprocess resize=28,channels=1 \
  --no-fusion --json --logits >"$work/secure_rgb.json" || fail "client --preprocess: $(cat "$work/secure_rgb.json")"
python3 - "$work" <<'PY' || fail "secure logits from input files differ from the plaintext engine's"
import json, sys
w = sys.argv[1]
idx = json.load(open(f"{w}/idx.json"))["logits"]
npy, png, rgb = (json.load(open(f"{w}/secure_{n}.json")) for n in ("npy", "png", "rgb"))
assert npy["fusion"]["passed"], npy["fusion"]
assert [p["logits"] for p in npy["predictions"]] == idx, "npy"
assert [p["logits"] for p in png["predictions"]] == idx[:1], "png"
assert [p["logits"] for p in rgb["predictions"]] == idx[:1], "preprocessed rgb png"
print("client --input (.npy with Fusion, PNG, preprocessed RGB PNG): secure logits equal the plaintext engine's")
PY
timeout 600 "$fusion" client --connect 127.0.0.1:$port --input "$work/rgb56.png" --no-fusion >"$work/out" \
  2>"$work/err"
[ $? -eq 1 ] && [ "$(wc -l <"$work/err")" -eq 1 ] && grep -q "rgb56.png" "$work/err" ||
  fail "client --input of the wrong shape: $(cat "$work/err")"
wait
echo "client --input of the wrong shape: one clear line naming the file"

# Preprocessing declared with the model (a sidecar file next to it) reaches the client in the server's card: the RGB
# PNG goes through `fusion plain` and a secure client with no --preprocess, bit for bit; a client --preprocess that
# disagrees with the card is refused, and so is an out-of-range spec on the server's command line.
cp "$model" "$work/declared.onnx"
printf '# how images become this model'"'"'s input\nresize=28,channels=1\n' >"$work/declared.onnx.preprocess"
"$fusion" plain --model "$work/declared.onnx" --input "$work/rgb56.png" --json --logits >"$work/declared.json" ||
  fail "plain with a sidecar preprocessing"
timeout 600 "$fusion" server --model "$work/declared.onnx" --sessions 2 --reveal logits --listen 127.0.0.1:0 \
  >"$work/server2.log" 2>&1 &
fsn_wait_port "$work/server2.log" $! || fail "server with a sidecar preprocessing did not start"
port=$server_port
timeout 600 "$fusion" client --connect 127.0.0.1:$port --input "$work/rgb56.png" --no-fusion --json --logits \
  >"$work/secure_declared.json" || fail "client with the card's preprocessing: $(cat "$work/secure_declared.json")"
timeout 600 "$fusion" client --connect 127.0.0.1:$port --input "$work/rgb56.png" --preprocess resize=28 --no-fusion \
  >"$work/out" 2>"$work/err"
[ $? -eq 1 ] && [ "$(wc -l <"$work/err")" -eq 1 ] && grep -q "card declares the preprocessing 'resize=28,channels=1'" \
  "$work/err" || fail "client --preprocess against the card's: $(cat "$work/err")"
wait
python3 - "$work" <<'PY' || fail "the card's preprocessing: logits differ"
import json, sys
w = sys.argv[1]
idx = json.load(open(f"{w}/idx.json"))["logits"]
assert json.load(open(f"{w}/declared.json"))["logits"] == idx[:1], "plain"
assert [p["logits"] for p in json.load(open(f"{w}/secure_declared.json"))["predictions"]] == idx[:1], "secure"
print("preprocessing declared in the card: plain and secure logits of the RGB PNG equal the IDX image's, bit for bit")
PY
"$fusion" server --model "$model" --preprocess resize=28,std=0.0000001 --listen 127.0.0.1:0 >"$work/out" 2>"$work/err"
[ $? -ne 0 ] && grep -q "std out of range" "$work/err" || fail "server --preprocess out of range: $(cat "$work/err")"
echo "a client --preprocess against the card's, and an out-of-range server --preprocess: refused clearly"

# A model of any input shape over TCP: a server with a public set of seeded random images (--images random) and a
# semi-honest client --input that reads no IDX file (as for builtin:squeezenet); a Fusion client, whose public set
# is the IDX one, is refused with a clear line.
timeout 600 "$fusion" server --model builtin:4layer --images random --public 0-3 --sessions 2 --reveal logits \
  --listen 127.0.0.1:0 >"$work/server3.log" 2>&1 &
fsn_wait_port "$work/server3.log" $! || fail "server with a random public set did not start"
port=$server_port
"$fusion" plain --model builtin:4layer --input "$work/gray.png" --json --logits >"$work/builtin.json" ||
  fail "plain builtin:4layer"
timeout 600 "$fusion" client --connect 127.0.0.1:$port --input "$work/gray.png" --no-fusion --images /nonexistent \
  --json --logits >"$work/secure_builtin.json" || fail "client against a random public set: $(cat "$work/secure_builtin.json")"
timeout 600 "$fusion" client --connect 127.0.0.1:$port --input "$work/gray.png" --kappa 10 >"$work/out" 2>"$work/err"
[ $? -eq 1 ] && grep -q "public set 'random-pixels:1x28x28:seed 1:0-3' differs" "$work/err" ||
  fail "Fusion client against a random public set: $(cat "$work/err")"
wait
python3 - "$work" <<'PY' || fail "builtin:4layer over a random public set: logits differ"
import json, sys
w = sys.argv[1]
plain = json.load(open(f"{w}/builtin.json"))["logits"]
assert [p["logits"] for p in json.load(open(f"{w}/secure_builtin.json"))["predictions"]] == plain, "secure"
print("a random public set: semi-honest --input logits equal the plaintext engine's; a Fusion client refuses it")
PY
