#!/usr/bin/env python3
"""Writes test/fixtures/golden-pool.json: PyTorch values, argmax indices and gradients of max pooling
for test/golden/conv.test.ts, where the rules differ from a plain max's: ties (the whole gradient goes
to the first maximum in (kh, kw) order), overlapping windows (stride < kernel: an element that is the
maximum of several windows sums their gradients) and −∞ padding.

Run with the system interpreter (Debian's python3-torch):
    OMP_WAIT_POLICY=passive /usr/bin/python3 scripts/golden_pool.py

Inputs are float32 values (small integers where ties are wanted) computed on in float64, differentiated
through Σ w ⊙ out with fixed float32 weights w so every output element gets its own gradient.
"""
import json
import pathlib

import torch
import torch.nn.functional as F

torch.manual_seed(0)
OUT = pathlib.Path(__file__).resolve().parent.parent / "test" / "fixtures" / "golden-pool.json"


def draw(*shape):
    """float32 normal draws as float64 leaves (exact copies of the float32 values)."""
    return torch.randn(*shape, dtype=torch.float32).to(torch.float64).requires_grad_(True)


def ties(*shape):
    """Integers in [−3, 3] as float64 leaves: most 2×2 and 3×3 windows hold a tie."""
    return torch.randint(-3, 4, shape).to(torch.float64).requires_grad_(True)


def flat(t):
    return [float(v) for v in t.detach().reshape(-1).tolist()]


def case(x, kernel, stride, padding):
    y, indices = F.max_pool2d(x, kernel, stride=stride, padding=padding, return_indices=True)
    w = torch.randn(*y.shape, dtype=torch.float32).to(torch.float64)
    (y * w).sum().backward()
    tensors = {"x": x, "weights": w, "out": y, "indices": indices, "grad_x": x.grad}
    return {
        "kernel": list(kernel),
        "stride": list(stride),
        "padding": list(padding),
        **{k: {"shape": list(v.shape), "data": flat(v)} for k, v in tensors.items()},
    }


golden = {
    "torch": torch.__version__,
    # LeNet's MaxPool2d(2) on a tie-rich input.
    "max_pool2d_ties": case(ties(2, 3, 6, 6), (2, 2), (2, 2), (0, 0)),
    # 3×3 windows at stride 1 with padding 1: every element lies in up to nine windows (and ties).
    "max_pool2d_overlap_ties": case(ties(2, 2, 5, 6), (3, 3), (1, 1), (1, 1)),
    # Uneven window, stride and padding per axis, random values (unique maxima), overlapping rows.
    "max_pool2d_overlap": case(draw(1, 3, 7, 6), (3, 2), (2, 1), (1, 1)),
}

OUT.parent.mkdir(parents=True, exist_ok=True)
OUT.write_text(json.dumps(golden, indent=1) + "\n")
