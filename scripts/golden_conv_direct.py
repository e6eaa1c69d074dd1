#!/usr/bin/env python3
"""Writes test/fixtures/golden-conv-direct.json: PyTorch values and gradients (x, weight, bias) of the
small-patch convolutions that take the direct `conv2d` primitive (C·KH·KW ≤ 32, src/ops/conv.ts), for
test/golden/conv.test.ts: LeNet's first layer (1 → 6, 5×5, padding 2, then ReLU) on an odd width, and
two channels at mixed stride and padding with ReLU.

Run with the system interpreter (Debian's python3-torch):
    OMP_WAIT_POLICY=passive /usr/bin/python3 scripts/golden_conv_direct.py

Inputs are float32 values computed on in float64, differentiated through Σ w ⊙ out with fixed float32
weights w so every output element gets its own gradient.
"""
import json
import pathlib

import torch
import torch.nn.functional as F

torch.manual_seed(0)
OUT = pathlib.Path(__file__).resolve().parent.parent / "test" / "fixtures" / "golden-conv-direct.json"


def draw(*shape, scale=1.0):
    """float32 normal draws, returned as float64 leaves (exact copies of the float32 values)."""
    return (torch.randn(*shape, dtype=torch.float32) * scale).to(torch.float64).requires_grad_(True)


def flat(t):
    return [float(v) for v in t.detach().reshape(-1).tolist()]


def case(x, w, b, stride, padding):
    y = F.relu(F.conv2d(x, w, b, stride=stride, padding=padding))
    g = torch.randn(*y.shape, dtype=torch.float32).to(torch.float64)
    (y * g).sum().backward()
    tensors = {
        "x": x,
        "weight": w,
        "bias": b,
        "weights": g,
        "out": y,
        "grad_x": x.grad,
        "grad_weight": w.grad,
        "grad_bias": b.grad,
    }
    return {k: {"shape": list(v.shape), "data": flat(v)} for k, v in tensors.items()}


golden = {
    "torch": torch.__version__,
    # LeNet's Conv2d(1, 6, 5, padding=2) + ReLU, on rows of 13 (not a multiple of 4).
    "conv2d_direct_lenet_relu": case(draw(3, 1, 11, 13), draw(6, 1, 5, 5, scale=0.3), draw(6, scale=0.1), 1, 2),
    # Two channels, 3×3, stride (1, 2), padding (1, 0), ReLU: the wasm kernels' scalar columns.
    "conv2d_direct_strided_relu": case(
        draw(2, 2, 6, 9), draw(4, 2, 3, 3, scale=0.4), draw(4, scale=0.1), (1, 2), (1, 0)
    ),
}

OUT.parent.mkdir(parents=True, exist_ok=True)
OUT.write_text(json.dumps(golden, indent=1) + "\n")
