#!/usr/bin/python3
"""Float reference logits for a Fusion Fashion-MNIST ONNX model.

Evaluates the ONNX graph with a tiny NumPy interpreter (no torch, no
onnxruntime) that supports exactly the ops the Fusion importer accepts:
Conv, Relu, MaxPool, Flatten, Reshape, Gemm, MatMul, Add.  Input convention:
pixel/255, NCHW 1x1x28x28, float32; output: 10 logits per image.

Usage: /usr/bin/python3 tools/fmnist_reference.py MODEL.onnx N
Prints a JSON list (one image per line) of N entries {"index", "label",
"pred", "logits"} for the first N Fashion-MNIST test images (t10k), in file
order.  Arithmetic is float64; logits are printed rounded to float32.
"""
import gzip, json, struct, sys
import numpy as np
import onnx
from onnx import numpy_helper

DATA = "/usr/share/datasets/fashion-mnist"
CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
           "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]


def read_idx(path):
    """Read a gzip'ed IDX file (unsigned byte data) into a numpy array."""
    with gzip.open(path, "rb") as f:
        zero, dtype, ndim = struct.unpack(">HBB", f.read(4))
        assert zero == 0 and dtype == 0x08, "expected unsigned-byte IDX"
        dims = struct.unpack(">" + "I" * ndim, f.read(4 * ndim))
        return np.frombuffer(f.read(), dtype=np.uint8).reshape(dims)


def load_split(split):
    """Return (images float32 N x 1 x 28 x 28 in [0,1], labels int64)."""
    x = read_idx(f"{DATA}/{split}-images-idx3-ubyte.gz")
    y = read_idx(f"{DATA}/{split}-labels-idx1-ubyte.gz")
    return (x.astype(np.float32) / 255.0)[:, None, :, :], y.astype(np.int64)


def _conv(x, w, b, strides, pads):
    n, c, h, wd = x.shape
    m, _, kh, kw = w.shape
    x = np.pad(x, ((0, 0), (0, 0), (pads[0], pads[2]), (pads[1], pads[3])))
    oh = (x.shape[2] - kh) // strides[0] + 1
    ow = (x.shape[3] - kw) // strides[1] + 1
    out = np.zeros((n, m, oh, ow), dtype=np.float64)
    for i in range(kh):
        for j in range(kw):
            patch = x[:, :, i:i + strides[0] * oh:strides[0],
                      j:j + strides[1] * ow:strides[1]]
            out += np.einsum("nchw,mc->nmhw", patch, w[:, :, i, j])
    return out + (b[None, :, None, None] if b is not None else 0)


def _maxpool(x, k, s):
    oh = (x.shape[2] - k[0]) // s[0] + 1
    ow = (x.shape[3] - k[1]) // s[1] + 1
    return np.max([x[:, :, i:i + s[0] * oh:s[0], j:j + s[1] * ow:s[1]]
                   for i in range(k[0]) for j in range(k[1])], axis=0)


def run_onnx(model, x):
    """Evaluate `model` (onnx.ModelProto) on batch x; returns float64 logits."""
    g = model.graph
    env = {t.name: numpy_helper.to_array(t).astype(np.float64)
           for t in g.initializer}
    env[g.input[0].name] = x.astype(np.float64)
    for node in g.node:
        a = {at.name: onnx.helper.get_attribute_value(at)
             for at in node.attribute}
        v = [env[i] if i else None for i in node.input]
        op = node.op_type
        if op == "Conv":
            assert a.get("group", 1) == 1 and a.get("dilations", [1, 1]) == [1, 1]
            y = _conv(v[0], v[1], v[2] if len(v) > 2 else None,
                      a.get("strides", [1, 1]), a.get("pads", [0, 0, 0, 0]))
        elif op == "Relu":
            y = np.maximum(v[0], 0)
        elif op == "MaxPool":
            assert a.get("pads", [0, 0, 0, 0]) == [0, 0, 0, 0]
            y = _maxpool(v[0], a["kernel_shape"], a.get("strides", [1, 1]))
        elif op == "Flatten":
            assert a.get("axis", 1) == 1
            y = v[0].reshape(v[0].shape[0], -1)
        elif op == "Reshape":
            y = v[0].reshape([int(d) if d else v[0].shape[k]  # 0 = keep
                              for k, d in enumerate(v[1])])
        elif op == "Gemm":
            A = v[0].T if a.get("transA", 0) else v[0]
            B = v[1].T if a.get("transB", 0) else v[1]
            y = a.get("alpha", 1.0) * (A @ B)
            if len(v) > 2:
                y = y + a.get("beta", 1.0) * v[2]
        elif op == "MatMul":
            y = v[0] @ v[1]
        elif op == "Add":
            y = v[0] + v[1]
        else:
            raise SystemExit(f"unsupported op {op}")
        env[node.output[0]] = y
    return env[g.output[0].name]


def main():
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    model, n = onnx.load(sys.argv[1]), int(sys.argv[2])
    x, y = load_split("t10k")
    logits = run_onnx(model, x[:n])
    rows = [json.dumps({"index": i, "label": int(y[i]),
                        "pred": int(np.argmax(logits[i])),
                        "logits": [float(np.float32(v)) for v in logits[i]]})
            for i in range(len(logits))]
    print("[\n" + ",\n".join(rows) + "\n]")


if __name__ == "__main__":
    main()
