#!/usr/bin/env python3
"""Writes test/fixtures/golden-views.json: PyTorch values and gradients of views, indexing and N-D
matmul for test/golden/views.test.ts.

Run with the system interpreter (Debian's python3-torch):
    OMP_WAIT_POLICY=passive /usr/bin/python3 scripts/golden_views.py

Each case names an op the test maps to the same call in dropout-lab; float inputs are drawn in
float32 and the reference computed in float64 (the exact answer to float32 inputs), differentiated
through Σ w ⊙ out with fixed weights w so every output element gets its own gradient.
"""
import json
import pathlib

import torch
import torch.nn.functional as F

torch.manual_seed(0)
OUT = pathlib.Path(__file__).resolve().parent.parent / "test" / "fixtures" / "golden-views.json"


def draw(*shape):
    return torch.randn(*shape, dtype=torch.float32).to(torch.float64).requires_grad_(True)


def flat(t):
    return [float(v) for v in t.detach().reshape(-1).tolist()]


def stored(t):
    return {"shape": list(t.shape), "data": flat(t)}


def case(name, shapes, fn, ints=None):
    """Runs fn(*inputs, *int tensors) and stores inputs, int arguments, weights, output and gradients."""
    xs = [draw(*s) for s in shapes]
    ints = ints or []
    out = fn(*xs, *[torch.tensor(i) for i in ints])
    w = torch.randn(tuple(out.shape), dtype=torch.float32).to(torch.float64)
    (out * w).sum().backward()
    golden[name] = {
        "inputs": [stored(x) for x in xs],
        "ints": ints,
        "weights": stored(w),
        "out": stored(out),
        "grads": [stored(x.grad) for x in xs],
    }


golden = {"torch": torch.__version__}

case("narrow", [[3, 5]], lambda x: x.narrow(1, 1, 3))
case("narrow_negative_start", [[4, 2]], lambda x: x.narrow(0, -3, 2))
case("select", [[3, 4, 2]], lambda x: x.select(1, -1))
case("slice_step", [[2, 7, 3]], lambda x: x[:, 1:-1:2])
case("slice_negative_start", [[9]], lambda x: x[-5::3])
case("slice_clamped", [[4, 3]], lambda x: x[-10:10])
case("index_select", [[4, 3]], lambda x, i: x.index_select(0, i), [[2, 0, 2, 3]])
case("gather", [[3, 4]], lambda x, i: x.gather(1, i), [[[3, 0, 3], [1, 1, 2], [0, 2, 1]]])
case("gather_dim0_small_index", [[4, 3, 2]], lambda x, i: x.gather(0, i), [[[[3, 0], [1, 1], [2, 3]]]])
case("cat", [[2, 3], [2, 1], [2, 2]], lambda a, b, c: torch.cat([a, b, c], 1))
case("cat_views", [[3, 4], [2, 4]], lambda a, b: torch.cat([a.t(), b.t()[:, 1:]], 1))
case("stack", [[2, 3], [2, 3]], lambda a, b: torch.stack([a, b], -1))
case("split", [[5, 4]], lambda x: torch.cat([p * (i + 1) for i, p in enumerate(x.split(2, 0))], 0))
case("split_sections", [[4, 6]], lambda x: torch.cat([p * (i + 1) for i, p in enumerate(x.split([1, 3, 2], 1))], 1))
case("chunk", [[4, 7]], lambda x: torch.cat([p * (i + 1) for i, p in enumerate(x.chunk(3, 1))], 1))
case("unsqueeze_squeeze", [[2, 1, 3]], lambda x: x.squeeze().unsqueeze(0).unsqueeze(-1))
case("flatten_view", [[2, 3, 4]], lambda x: x.permute(2, 0, 1).flatten(1))
case("flatten_range", [[2, 3, 4, 5]], lambda x: x.flatten(1, 2))
case("permute", [[2, 3, 4]], lambda x: x.permute(1, 2, 0))
case("transpose", [[2, 3, 4]], lambda x: x.transpose(0, 2))
case("t", [[3, 5]], lambda x: x.t())
case("expand", [[3, 1]], lambda x: x.expand(2, 3, 4))
case("expand_keep", [[3, 1]], lambda x: x.expand(-1, 5))
case("contiguous", [[3, 4]], lambda x: x.t().contiguous())
case("clone", [[2, 3]], lambda x: x.clone() * x)
case("matmul_1d_1d", [[5], [5]], lambda a, b: torch.matmul(a, b))
case("matmul_1d_2d", [[3], [3, 4]], lambda a, b: torch.matmul(a, b))
case("matmul_2d_1d", [[4, 3], [3]], lambda a, b: torch.matmul(a, b))
case("matmul_3d_2d", [[2, 3, 4], [4, 5]], lambda a, b: torch.matmul(a, b))
case("matmul_3d_3d", [[2, 3, 4], [2, 4, 2]], lambda a, b: torch.matmul(a, b))
case("matmul_broadcast", [[2, 1, 3, 4], [3, 4, 2]], lambda a, b: torch.matmul(a, b))
case("matmul_2d_3d", [[3, 4], [2, 4, 5]], lambda a, b: torch.matmul(a, b))
case("matmul_1d_3d", [[4], [2, 4, 3]], lambda a, b: torch.matmul(a, b))
case("matmul_3d_1d", [[2, 3, 4], [4]], lambda a, b: torch.matmul(a, b))
case("bmm", [[3, 2, 4], [3, 4, 5]], lambda a, b: torch.bmm(a, b))
case(
    "cross_entropy_gather",
    [[4, 5]],
    lambda z, y: -F.log_softmax(z, dim=1).gather(1, y.unsqueeze(1)).mean(),
    [[3, 0, 4, 1]],
)

OUT.write_text(json.dumps(golden, indent=None, separators=(",", ":")) + "\n")
print(f"wrote {OUT} ({len(golden) - 1} cases, torch {torch.__version__})")
