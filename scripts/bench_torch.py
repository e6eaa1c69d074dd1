#!/usr/bin/env python3
"""PyTorch CPU peer of scripts/bench.ts: the same MLP (or CNN, or ViT), data and hyperparameters, driven over stdin.

Started once per model by bench.ts, with OMP_WAIT_POLICY=passive and without OPENBLAS_CORETYPE and
OPENBLAS_L2_SIZE (which slow current OpenBLAS down). It imports torch, sets its threads, finds which
BLAS the matmuls run on (OpenBLAS, or the ~10x slower reference BLAS: see blas_info), loads
Fashion-MNIST into memory and builds the model before it answers "ready", so none of that is timed.
Then each {"cmd":"epoch","steps":null|N} line trains one shuffled epoch (or its first N batches) and
answers one JSON line with the training-phase seconds and the peak RSS (resource.getrusage).
Usage: python3 scripts/bench_torch.py '{"model":"dropout","threads":2,"hparams":{...},"dataDir":...}'
"""
import gzip
import json
import os
import resource
import sys
import time


def send(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def rss():
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return {
        "rss_kb": pages * os.sysconf("SC_PAGE_SIZE") // 1024,
        "maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    }


def blas_info(torch):
    """Which BLAS torch's matmuls run on, found after a matmul has loaded it.

    Debian's torch is built against the generic libblas.so.3 (BLAS_INFO=generic), which
    update-alternatives points at the reference BLAS (/usr/lib/<arch>/blas/) or, once
    libopenblas0-pthread is installed, at OpenBLAS. The libraries mapped into this process say which
    one the dynamic loader picked; a torch wheel with MKL linked in maps none, so BLAS_INFO is kept.
    Also times a 256x784x256 matmul (the first layer's forward GEMM) on the threads set.
    """
    import re

    m = re.search(r"BLAS_INFO=([^,\s]+)", torch.__config__.show())
    build = m.group(1) if m else "unknown"
    a = torch.randn(256, 784)
    b = torch.randn(784, 256)
    for _ in range(5):
        a @ b
    reps = 50
    t0 = time.perf_counter()
    for _ in range(reps):
        a @ b
    gflops = 2 * 256 * 784 * 256 * reps / (time.perf_counter() - t0) / 1e9
    libs = set()
    with open("/proc/self/maps") as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 6 and re.search(r"blas|mkl|blis|atlas", os.path.basename(parts[-1])):
                libs.add(os.path.realpath(parts[-1]))
    # torch needs libblas.so.3, so the file mapped under that name is the BLAS its sgemm_ calls (a
    # liblapack.so.3 from OpenBLAS may map libopenblas too, even when libblas.so.3 is the reference).
    libblas = next((x for x in sorted(libs) if os.path.basename(x).startswith("libblas.so")), None)
    v = re.search(r"openblas\w*-r?(\d[\d.]*\d)\.so", " ".join(os.path.basename(x) for x in libs))
    openblas = "OpenBLAS" + (" " + v.group(1) if v else "")
    if libblas is not None:
        where = libblas.lower()
        if "openblas" in where:
            kind = openblas
        elif "blis" in where:
            kind = "BLIS"
        elif "atlas" in where:
            kind = "ATLAS"
        elif "mkl" in where:
            kind = "MKL"
        elif re.search(r"/blas/libblas\.so", where):
            kind = "reference BLAS"
        else:
            kind = "unknown"
        path = libblas
    else:  # a wheel that links its BLAS in (MKL on x86-64) or bundles libopenblas
        path = next(iter(sorted(libs)), "")
        kind = openblas if "openblas" in path else "MKL" if build == "mkl" or "mkl" in path else build
    return {
        "blas": f"{kind}, {path}" if path else kind,
        "blas_kind": kind,
        "blas_reference": kind == "reference BLAS",
        "blas_build": build,
        "blas_gemm_gflops": round(gflops, 1),
    }


def read_idx(path, offset):
    with gzip.open(path, "rb") as f:
        return f.read()[offset:]


def vit(torch, nn, width=64, depth=4, heads=4, mlp=128, patch=7):
    """dropout-lab's --model vit (src/models/vit.ts), written as a PyTorch user would."""

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.norm1 = nn.LayerNorm(width)
            self.attn = nn.MultiheadAttention(width, heads, batch_first=True)
            self.norm2 = nn.LayerNorm(width)
            self.mlp = nn.Sequential(nn.Linear(width, mlp), nn.GELU(), nn.Linear(mlp, width))

        def forward(self, x):
            h = self.norm1(x)
            x = x + self.attn(h, h, h, need_weights=False)[0]
            return x + self.mlp(self.norm2(x))

    class ViT(nn.Module):
        def __init__(self):
            super().__init__()
            self.patch_embed = nn.Conv2d(1, width, patch, stride=patch)
            self.cls_token = nn.Parameter(torch.randn(1, 1, width) * 0.02)
            self.pos_embed = nn.Parameter(torch.randn(1, (28 // patch) ** 2 + 1, width) * 0.02)
            self.blocks = nn.Sequential(*[Block() for _ in range(depth)])
            self.norm = nn.LayerNorm(width)
            self.head = nn.Linear(width, 10)

        def forward(self, x):
            t = self.patch_embed(x).flatten(2).transpose(1, 2)
            t = torch.cat([self.cls_token.expand(t.shape[0], -1, -1), t], dim=1) + self.pos_embed
            return self.head(self.norm(self.blocks(t))[:, 0])

    return ViT()


def main():
    spec = json.loads(sys.argv[1] if len(sys.argv) > 1 else "{}")
    try:
        import numpy as np
        import torch
        from torch import nn
    except Exception as e:  # noqa: BLE001 - report any import failure as "absent"
        send({"event": "error", "message": f"torch unavailable: {e}"})
        return 1
    hp = spec["hparams"]
    device = spec.get("device", "cpu")
    if device == "cuda" and not torch.cuda.is_available():
        send({"event": "error", "message": "no CUDA device (torch.cuda.is_available() is false)"})
        return 1
    torch.set_num_threads(int(spec.get("threads", 2)))
    blas = blas_info(torch)  # before seeding: its random operands must not shift the model's draws
    torch.manual_seed(hp["seed"])
    data_dir = spec.get("dataDir") or "/usr/share/datasets/fashion-mnist"
    images = read_idx(os.path.join(data_dir, "train-images-idx3-ubyte.gz"), 16)
    labels = read_idx(os.path.join(data_dir, "train-labels-idx1-ubyte.gz"), 8)
    n = len(labels)
    X = torch.from_numpy(np.frombuffer(images, dtype=np.uint8).reshape(n, 784).astype(np.float32) / 255.0)
    Y = torch.from_numpy(np.frombuffer(labels, dtype=np.uint8).astype(np.int64))
    del images, labels
    # On a GPU the whole data set lives on the device, as a CUDA user would keep it for this size.
    X, Y = X.to(device), Y.to(device)
    h1, h2 = hp["hidden1"], hp["hidden2"]
    if spec["model"] == "vit":
        X = X.reshape(n, 1, 28, 28)
        layers = [vit(torch, nn)]
    elif spec["model"] == "cnn":
        # dropout-lab's --model cnn (src/models/cnn.ts): two conv blocks, then the MLP head.
        X = X.reshape(n, 1, 28, 28)
        layers = [
            nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(16 * 5 * 5, h1), nn.ReLU(),
        ]
    else:
        layers = [nn.Flatten(), nn.Linear(784, h1), nn.ReLU()]
    if spec["model"] == "dropout":
        layers.append(nn.Dropout(hp["dropout1"]))
    if spec["model"] != "vit":
        layers += [nn.Linear(h1, h2), nn.ReLU()]
    if spec["model"] == "dropout":
        layers.append(nn.Dropout(hp["dropout2"]))
    if spec["model"] != "vit":
        layers.append(nn.Linear(h2, 10))
    net = nn.Sequential(*layers).to(device)
    loss_fn = nn.CrossEntropyLoss()
    opt = torch.optim.SGD(net.parameters(), lr=hp["lr"])
    bs = hp["batchSize"]
    send(
        {
            "event": "ready",
            "system": "torch",
            "info": {
                "torch": torch.__version__,
                "device": torch.cuda.get_device_name(0) if device == "cuda" else "cpu",
                "threads": torch.get_num_threads(),
                "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY", ""),
                "python": sys.version.split()[0],
                **blas,
                # Read by OpenBLAS when it loads; bench.ts removes them (they slow current OpenBLAS).
                "openblas_env": " ".join(
                    f"{k}={os.environ[k]}" for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE") if k in os.environ
                )
                or "unset",
            },
            "num_train": n,
            **rss(),
        }
    )
    for line in sys.stdin:
        if not line.strip():
            continue
        cmd = json.loads(line)
        if cmd.get("cmd") == "quit":
            break
        cap = cmd.get("steps")
        net.train()
        steps = samples = 0
        loss_sum = 0.0
        t0 = time.perf_counter()
        perm = torch.randperm(n, device=device)
        for start in range(0, n, bs):
            idx = perm[start : start + bs]
            xb, yb = X[idx], Y[idx]
            loss = loss_fn(net(xb), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            b = int(idx.shape[0])
            loss_sum += loss.item() * b
            samples += b
            steps += 1
            if cap is not None and steps >= cap:
                break
        if device == "cuda":
            torch.cuda.synchronize()
        seconds = time.perf_counter() - t0
        send(
            {
                "event": "epoch",
                "seconds": seconds,
                "samples": samples,
                "steps": steps,
                "loss": loss_sum / samples,
                **rss(),
            }
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
