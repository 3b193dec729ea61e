#!/usr/bin/env python3
"""Writes the seed corpora of the server-side fuzz targets (tests/fuzz/fuzz_server.c, fuzz_card.c).

corpus_server: a client's byte stream (hello, verdict, batch request) in well-formed and edge variants.
corpus_card: model cards as a real `fusion server` sends them (started here on loopback for each shipped model).
Usage: tests/fuzz/make_seeds.py BUILD_DIR  (from the source root)"""
import os, socket, struct, subprocess, sys, time

TAG, MAGIC = 0x004E5346, 0x4B48534E
HELLO, VERDICT, DATA = 1, 2, 0


def frame(kind, payload):
    return struct.pack("<IIQQ", TAG | kind << 24, 0, len(payload), 0) + payload


def hello(role=1, verdict=0, ell=37, scale=12, sid=5, index=0, count=1, max_frame=1 << 20):
    return struct.pack("<IHBBIIQIIQQQQQ", MAGIC, 1, role, verdict, ell, scale, sid, index, count, max_frame, 0, 0, 0, 0)


def batch(n, trunc=0, bits=0, backend=b"he", ot=b"iknp"):
    # the backend's and the OT pack's names, NUL-padded (FSN_BATCH_REQUEST_BYTES)
    return struct.pack("<QBB16s16s", n, trunc, bits, backend, ot)


def server_seeds(out):
    h = hello()
    seeds = {
        "hello": frame(HELLO, h),
        "session": frame(HELLO, h) + frame(VERDICT, h) + frame(DATA, batch(2)) + frame(DATA, b"\x00" * 32),
        "busy": frame(HELLO, hello(sid=1)),
        "wrong_count": frame(HELLO, hello(count=3)) + frame(VERDICT, hello(count=3)),
        "batch_too_big": frame(HELLO, h) + frame(VERDICT, h) + frame(DATA, batch(5)),
        "bad_trunc": frame(HELLO, h) + frame(VERDICT, h) + frame(DATA, batch(2, trunc=7)),
        "input_bits": frame(HELLO, h) + frame(VERDICT, h) + frame(DATA, batch(1, 1, 40)),
        "other_backend": frame(HELLO, h) + frame(VERDICT, h) + frame(DATA, batch(1, backend=b"vcot")),
        "other_ot": frame(HELLO, h) + frame(VERDICT, h) + frame(DATA, batch(1, ot=b"ferret")),
        "error_frame": frame(HELLO, h) + frame(VERDICT, h) + frame(3, b"client gives up"),
    }
    for name, data in seeds.items():
        open(os.path.join(out, name), "wb").write(data)


def recv_exact(s, n):
    b = b""
    while len(b) < n:
        k = s.recv(n - len(b))
        if not k:
            raise EOFError("server closed")
        b += k
    return b


def recv_frame(s):
    tag, _, length, _ = struct.unpack("<IIQQ", recv_exact(s, 24))
    return tag >> 24, recv_exact(s, length)


def card_of(fusion, model, extra):
    p = subprocess.Popen([fusion, "server", "--model", model, "--listen", "127.0.0.1:0", "--sessions", "1"] + extra,
                         stderr=subprocess.PIPE, text=True)
    port = None
    for line in p.stderr:
        if "listening on port" in line:
            port = int(line.split("listening on port ")[1].split(",")[0])
            break
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(frame(HELLO, hello(count=2, sid=9)))
    kind, _ = recv_frame(s)
    s.sendall(frame(VERDICT, hello(count=2, sid=9)))
    kind, _ = recv_frame(s)
    # a second channel completes the group, so the session (and its card) starts
    s2 = socket.create_connection(("127.0.0.1", port))
    s2.sendall(frame(HELLO, hello(count=2, sid=9, index=1)))
    recv_frame(s2)
    s2.sendall(frame(VERDICT, hello(count=2, sid=9, index=1)))
    recv_frame(s2)
    _, length = recv_frame(s)
    _, card = recv_frame(s)
    s.close(), s2.close()
    p.terminate()
    p.wait()
    return card


def main():
    build = sys.argv[1]
    out = "tests/fuzz/corpus_server"
    os.makedirs(out, exist_ok=True)
    server_seeds(out)
    out = "tests/fuzz/corpus_card"
    os.makedirs(out, exist_ok=True)
    fusion = os.path.join(build, "apps", "fusion")
    model = "data/models/fmnist-4layer.onnx"
    open(os.path.join(out, "fmnist4_committed"), "wb").write(card_of(fusion, model, []))
    open(os.path.join(out, "fmnist4_logits"), "wb").write(
        card_of(fusion, model, ["--no-commit", "--claimed-accuracy", "0.9", "--reveal", "logits"]))
    open(os.path.join(out, "fmnist4_preprocess"), "wb").write(
        card_of(fusion, model, ["--no-commit", "--claimed-accuracy", "0.9", "--reveal", "logits",
                                "--preprocess", "resize=32,crop=28,channels=1,mean=0.5,std=0.25"]))
    open(os.path.join(out, "resnet"), "wb").write(card_of(fusion, "data/models/fmnist-resnet.onnx", ["--no-commit",
                                                                                                    "--claimed-accuracy",
                                                                                                    "0.9"]))


main()
