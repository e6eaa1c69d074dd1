#!/usr/bin/env python3
"""Writes test/fixtures/golden-ops.json: PyTorch values and gradients of the everyday tensor ops
(sqrt … where, src/tensor/math.ts) for test/golden/ops.test.ts.

Run with the system interpreter (Debian's python3-torch):
    OMP_WAIT_POLICY=passive /usr/bin/python3 scripts/golden_ops.py

Inputs are drawn in float32 and every reference is computed in float64 on exact copies, so the
fixture is the exact answer to the float32 inputs the TypeScript side reads. Each case's output is
differentiated through a weighted sum with fixed weights, so every element has its own gradient.
"""
import json
import pathlib

import torch

torch.manual_seed(0)
OUT = pathlib.Path(__file__).resolve().parent.parent / "test" / "fixtures" / "golden-ops.json"


def draw(*shape, scale=1.0, low=None):
    x = torch.randn(*shape, dtype=torch.float32) * scale
    if low is not None:
        x = x.abs() + low
    return x.to(torch.float64)


def ints(*shape, lo=-2, hi=3):
    return torch.randint(lo, hi, shape).to(torch.float64)


def flat(t):
    return [float(v) for v in t.detach().reshape(-1).tolist()]


def stored(t):
    return {"shape": list(t.shape), "data": flat(t)}


cases = {}


def case(name, fn, *inputs, grad=True):
    """Runs fn on float64 leaves; records inputs, outputs (a tensor or a tuple) and input gradients."""
    leaves = [x.clone().requires_grad_(grad) for x in inputs]
    out = fn(*leaves)
    outs = list(out) if isinstance(out, tuple) else [out]
    entry = {"inputs": [stored(x) for x in leaves], "outputs": [stored(o.to(torch.float64)) for o in outs]}
    if grad:
        w = torch.randn(outs[0].shape, dtype=torch.float32).to(torch.float64)
        (outs[0] * w).sum().backward()
        entry["weights"] = stored(w)
        entry["grads"] = [stored(x.grad) if x.grad is not None else None for x in leaves]
    cases[name] = entry


x34 = draw(3, 4)
pos = draw(3, 4, low=0.2)
case("sqrt", torch.sqrt, pos)
case("rsqrt", torch.rsqrt, pos)
case("pow 3", lambda x: x.pow(3), x34)
case("pow -2", lambda x: x.pow(-2), pos)
case("pow 1.5", lambda x: x.pow(1.5), pos)
case("pow 0.5", lambda x: x.pow(0.5), pos)
case("pow 0", lambda x: x.pow(0), x34)
case("pow tensor", lambda x, e: x.pow(e), pos, draw(4))
case("abs", torch.abs, torch.tensor([[-2.0, -0.5, 0.0, 0.25], [1.5, -3.0, 0.0, 2.0]], dtype=torch.float64))
case("sign", torch.sign, torch.tensor([[-2.0, -0.5, 0.0, 0.25], [1.5, -3.0, 0.0, 2.0]], dtype=torch.float64))
case("sigmoid", torch.sigmoid, torch.cat([draw(8, scale=3.0), torch.tensor([-30.0, -90.0, 30.0, 0.0], dtype=torch.float64)]))
case("tanh", torch.tanh, draw(3, 4, scale=2.0))
case("clamp both", lambda x: x.clamp(-0.5, 0.8), x34)
case("clamp min", lambda x: x.clamp(min=0.1), x34)
case("clamp max at the bound", lambda x: x.clamp(max=1.0), torch.tensor([0.5, 1.0, 2.0], dtype=torch.float64))
case("maximum broadcast", torch.maximum, x34, draw(4))
case("minimum broadcast", torch.minimum, draw(3, 1), draw(4))
case("maximum ties", torch.maximum, torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64), torch.tensor([1.0, 0.0, 3.0], dtype=torch.float64))
x345 = draw(3, 4, 5)
case("max dim 1", lambda x: tuple(torch.max(x, 1)), x345)
case("max dim 0 keepdim", lambda x: tuple(torch.max(x, 0, keepdim=True)), x34)
case("min dim -1", lambda x: tuple(torch.min(x, -1)), x345)
case("max all", lambda x: x.max(), x34)
case("min all", lambda x: x.min(), x34)
case("amax dims", lambda x: x.amax((0, 2)), x345)
case("amin dim 1", lambda x: x.amin(1), x34)
case("argmax dim 0", lambda x: x.argmax(0), x34, grad=False)
case("argmax flat", lambda x: x.argmax(), x34, grad=False)
case("argmax ties", lambda x: x.argmax(1), ints(4, 5, lo=0, hi=2), grad=False)
case("argmin dim 1 keepdim", lambda x: x.argmin(1, keepdim=True), x345, grad=False)
case("var dim 1", lambda x: x.var(1), x34)
case("var correction 0 keepdim", lambda x: x.var((0, 2), correction=0, keepdim=True), x345)
case("var all", lambda x: x.var(), x34)
case("std dim 0", lambda x: x.std(0), x34)
case("std correction 2", lambda x: x.std(1, correction=2), x345)
case("logsumexp dim 1", lambda x: x.logsumexp(1), draw(3, 4, scale=5.0))
case("logsumexp large", lambda x: x.logsumexp((0, 1), keepdim=True), draw(3, 4, scale=40.0))
case("cumsum dim 0", lambda x: x.cumsum(0), x34)
case("cumsum dim -1", lambda x: x.cumsum(-1), x345)
case("softmax dim 0", lambda x: x.softmax(0), x34)
case("log_softmax dim 1", lambda x: x.log_softmax(1), x345)
a, b = ints(3, 4), ints(4)
for op in ["eq", "ne", "lt", "le", "gt", "ge"]:
    case(op, lambda x, y, op=op: getattr(x, op)(y).to(torch.float64), a, b, grad=False)
case("where", lambda c, x, y: torch.where(c > 0, x, y), ints(3, 4), draw(3, 4), draw(4))

# Cross-entropy's options (F.crossEntropy(z, y, { reduction, labelSmoothing })); labels are carried
# as floats and converted here, so they have no gradient.
import torch.nn.functional as F  # noqa: E402

z, y = draw(4, 5, scale=2.0), torch.tensor([3.0, 0.0, 4.0, 1.0], dtype=torch.float64)
for reduction in ["none", "sum", "mean"]:
    for eps in [0.0, 0.1]:
        case(
            f"cross_entropy {reduction} smoothing {eps}",
            lambda z, y, r=reduction, e=eps: F.cross_entropy(z, y.long(), reduction=r, label_smoothing=e),
            z,
            y,
        )

# The last axis, as attention uses it (the fused softmax kernel's path; "softmax dim 0" above is the
# composition's). Drawn last so that the cases above keep their inputs.
case("softmax dim -1", lambda x: x.softmax(-1), draw(2, 3, 17, scale=3.0))

OUT.write_text(json.dumps({"torch": torch.__version__, "cases": cases}, indent=None) + "\n")
print(f"wrote {OUT} ({len(cases)} cases)")
