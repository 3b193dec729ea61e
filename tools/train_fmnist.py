#!/usr/bin/python3
"""Train the classic 4-layer Fashion-MNIST CNN and export it to ONNX.

Network (NCHW, input 1x28x28 float = pixel/255, no other normalisation):
  Conv 5x5 1->16 (+bias) -> ReLU -> MaxPool 2x2/2 ->
  Conv 5x5 16->16 (+bias) -> ReLU -> MaxPool 2x2/2 ->
  Flatten (16*4*4 = 256) -> Gemm 256->100 -> ReLU -> Gemm 100->10 (logits)

The dataset is read directly from Debian's dataset-fashion-mnist package
(gzip'ed IDX files).  Training: Adam, cross-entropy, cosine-annealed
learning rate, seeded, deterministic algorithms.  The exported graph is
checked to use only Conv, Relu, MaxPool, Flatten/Reshape, Gemm/MatMul/Add,
validated with onnx.checker, and re-evaluated with the NumPy interpreter
from fmnist_reference.py against the torch model on all 10 000 test images
(onnxruntime is not available on Debian 12).

Usage:
  /usr/bin/python3 tools/train_fmnist.py --out data/models/fmnist-4layer.onnx
  /usr/bin/python3 tools/train_fmnist.py --weak --out data/models/fmnist-4layer-weak.onnx
(--weak overrides --epochs, --fraction and --batch.)
"""
import argparse, os, sys, time
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # no spinning on busy CPUs
import numpy as np
import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fmnist_reference import load_split, run_onnx  # noqa: E402

ALLOWED_OPS = {"Conv", "Relu", "MaxPool", "Flatten", "Reshape",
               "Gemm", "MatMul", "Add"}


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 5)
        self.conv2 = nn.Conv2d(16, 16, 5)
        self.fc1 = nn.Linear(256, 100)
        self.fc2 = nn.Linear(100, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2, 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2, 2)
        x = torch.flatten(x, 1)  # exports as a single Flatten node
        return self.fc2(F.relu(self.fc1(x)))


def predict(model, x, batch=1000):
    with torch.no_grad():
        return torch.cat([model(torch.from_numpy(x[i:i + batch]))
                          for i in range(0, len(x), batch)]).numpy()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--fraction", type=float, default=1.0,
                    help="fraction of the 60 000 training images to use")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--lr", type=float, default=2e-3,
                    help="initial Adam learning rate (cosine-annealed to 0)")
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--weak", action="store_true",
                    help="deliberately weak preset: 3 epochs, batch 16, on 1%% "
                         "of the data (about 69%% test accuracy)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", default="fmnist-4layer.onnx")
    args = ap.parse_args()
    if args.weak:
        args.epochs, args.fraction, args.batch = 3, 0.01, 16
    print(f"epochs={args.epochs} fraction={args.fraction} seed={args.seed} "
          f"lr={args.lr} batch={args.batch}")

    torch.manual_seed(args.seed)
    np.random.seed(args.seed)
    torch.set_num_threads(args.threads)
    torch.use_deterministic_algorithms(True)

    xtr, ytr = load_split("train")
    xte, yte = load_split("t10k")
    idx = np.random.permutation(len(xtr))[:max(1, int(round(args.fraction * len(xtr))))]
    xtr, ytr = torch.from_numpy(xtr[idx]), torch.from_numpy(ytr[idx])
    print(f"training on {len(xtr)} images, testing on {len(xte)}")

    model = Net()
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, args.epochs)
    for ep in range(args.epochs):
        t0, model = time.time(), model.train()
        perm, total = torch.randperm(len(xtr)), 0.0
        for i in range(0, len(xtr), args.batch):
            b = perm[i:i + args.batch]
            loss = F.cross_entropy(model(xtr[b]), ytr[b])
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * len(b)
        sched.step()
        acc = (predict(model.eval(), xte).argmax(1) == yte).mean()
        print(f"epoch {ep + 1}: loss {total / len(xtr):.4f} "
              f"test acc {100 * acc:.2f}% ({time.time() - t0:.1f}s)")

    model.eval()
    torch.onnx.export(model, torch.zeros(1, 1, 28, 28), args.out,
                      opset_version=13, input_names=["input"],
                      output_names=["logits"],
                      dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}})
    m = onnx.load(args.out)
    onnx.checker.check_model(m)
    ops = [n.op_type for n in m.graph.node]
    print("ONNX ops:", " ".join(ops))
    bad = set(ops) - ALLOWED_OPS
    if bad:
        raise SystemExit(f"FAIL: exported graph uses unsupported ops {sorted(bad)}")

    ref = predict(model, xte)
    onx = run_onnx(m, xte)
    diff = np.abs(onx - ref).max()
    acc_t, acc_o = (ref.argmax(1) == yte).mean(), (onx.argmax(1) == yte).mean()
    print(f"max |onnx - torch| logit difference: {diff:.3g}")
    if diff > 1e-3 or (onx.argmax(1) != ref.argmax(1)).sum() > 2:
        raise SystemExit("FAIL: ONNX graph does not reproduce the torch model")
    print(f"float test accuracy (10000 images): torch {100 * acc_t:.2f}% "
          f"onnx {100 * acc_o:.2f}%")
    print(f"wrote {args.out} ({os.path.getsize(args.out)} bytes)")


if __name__ == "__main__":
    main()
