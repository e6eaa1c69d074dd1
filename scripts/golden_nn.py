#!/usr/bin/env python3
"""Writes test/fixtures/golden-nn.json: PyTorch's answers for the nn pieces of test/golden/nn.test.ts
(Adam with parameter groups, the learning-rate schedulers, clip_grad_norm_, MSELoss/NLLLoss,
BatchNorm2d, Embedding, nn.init gains).

Run with the system interpreter (Debian's python3-torch):
    OMP_WAIT_POLICY=passive /usr/bin/python3 scripts/golden_nn.py

Inputs are float32 values computed on in float64, as in scripts/golden.py.
"""
import json
import math
import pathlib

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)
OUT = pathlib.Path(__file__).resolve().parent.parent / "test" / "fixtures" / "golden-nn.json"


def draw(*shape, scale=1.0):
    return (torch.randn(tuple(shape), dtype=torch.float32) * scale).to(torch.float64)


def st(t):
    return {"shape": list(t.shape), "data": [float(v) for v in t.detach().reshape(-1).tolist()]}


golden = {"torch": torch.__version__}

# Adam: two parameter groups (W with its own lr and weight decay, b with the defaults), 5 steps of a
# least-squares loss mean((X·Wᵀ + b − T)²).
X, T = draw(6, 4), draw(6, 3)
W0, b0 = draw(3, 4), draw(3)
W, b = W0.clone().requires_grad_(True), b0.clone().requires_grad_(True)
opt = torch.optim.Adam([{"params": [W], "lr": 0.05, "weight_decay": 0.1}, {"params": [b]}], lr=0.02, betas=(0.8, 0.99))
for _ in range(5):
    opt.zero_grad()
    ((X @ W.T + b - T) ** 2).mean().backward()
    opt.step()
golden["adam"] = {"X": st(X), "T": st(T), "W0": st(W0), "b0": st(b0), "W": st(W), "b": st(b)}

# SGD with momentum and two parameter groups (W: its own lr and weight decay; b: the defaults), 4 steps.
W, b = W0.clone().requires_grad_(True), b0.clone().requires_grad_(True)
opt = torch.optim.SGD([{"params": [W], "lr": 0.05, "weight_decay": 0.1}, {"params": [b]}], lr=0.2, momentum=0.9)
for _ in range(4):
    opt.zero_grad()
    ((X @ W.T + b - T) ** 2).mean().backward()
    opt.step()
golden["sgd_groups"] = {"W": st(W), "b": st(b)}

# AdamW with two groups (the usual: decay on W, none on b), 5 steps.
W, b = W0.clone().requires_grad_(True), b0.clone().requires_grad_(True)
opt = torch.optim.AdamW([{"params": [W], "lr": 0.05}, {"params": [b], "weight_decay": 0.0}], lr=0.02, weight_decay=0.1)
for _ in range(5):
    opt.zero_grad()
    ((X @ W.T + b - T) ** 2).mean().backward()
    opt.step()
golden["adamw_groups"] = {"W": st(W), "b": st(b)}


# Schedulers on SGD(lr=0.1): the lr before each of 12 epochs (get_last_lr after 0…11 steps).
def lrs(make):
    p = torch.zeros(1, requires_grad=True)
    o = torch.optim.SGD([p], lr=0.1)
    s = make(o)
    out = []
    for _ in range(12):
        out.append(s.get_last_lr()[0])
        o.step()
        s.step()
    return out


S = torch.optim.lr_scheduler
golden["schedulers"] = {
    "step": lrs(lambda o: S.StepLR(o, step_size=3, gamma=0.5)),
    "cosine": lrs(lambda o: S.CosineAnnealingLR(o, T_max=10, eta_min=0.01)),
    "linear": lrs(lambda o: S.LinearLR(o, start_factor=0.25, end_factor=1.0, total_iters=4)),
    "sequential": lrs(
        lambda o: S.SequentialLR(
            o, [S.LinearLR(o, start_factor=0.1, end_factor=1.0, total_iters=3), S.CosineAnnealingLR(o, T_max=7)], milestones=[3]
        )
    ),
}

# clip_grad_norm_: gradients of two tensors, clipped to 0.5 in the 2-norm and to 0.3 in the ∞-norm.
clip = {}
for name, max_norm, norm_type in [("l2", 0.5, 2.0), ("inf", 0.3, math.inf)]:
    a, c = draw(3, 4), draw(5)
    ga, gc = draw(3, 4), draw(5)
    a.grad, c.grad = ga.clone(), gc.clone()
    total = torch.nn.utils.clip_grad_norm_([a, c], max_norm, norm_type=norm_type)
    clip[name] = {"ga": st(ga), "gc": st(gc), "total": float(total), "ga_out": st(a.grad), "gc_out": st(c.grad), "max_norm": max_norm}
golden["clip"] = clip

# MSELoss and NLLLoss with each reduction: values and input gradients (through a weighted sum for 'none').
losses = {}
x, t = draw(4, 3), draw(4, 3)
logp = F.log_softmax(draw(4, 5), dim=1)
labels = torch.tensor([1, 0, 4, 2])
for reduction in ["mean", "sum", "none"]:
    xi = x.clone().requires_grad_(True)
    out = F.mse_loss(xi, t, reduction=reduction)
    w = draw(*out.shape).detach()
    (out * w).sum().backward()
    losses[f"mse {reduction}"] = {"x": st(x), "t": st(t), "w": st(w), "out": st(out), "grad": st(xi.grad)}
    li = logp.detach().clone().requires_grad_(True)
    out = F.nll_loss(li, labels, reduction=reduction)
    w = draw(*out.shape).detach()
    (out * w).sum().backward()
    losses[f"nll {reduction}"] = {"x": st(logp), "labels": labels.tolist(), "w": st(w), "out": st(out), "grad": st(li.grad)}
golden["losses"] = losses

# BatchNorm2d in training mode: output, input gradient, running statistics after one batch.
bn = nn.BatchNorm2d(3).double()
xb = draw(2, 3, 4, 5, scale=2.0).requires_grad_(True)
wb = draw(2, 3, 4, 5).detach()
yb = bn(xb)
(yb * wb).sum().backward()
golden["batchnorm2d"] = {
    "x": st(xb), "w": st(wb), "y": st(yb), "grad": st(xb.grad),
    "running_mean": st(bn.running_mean), "running_var": st(bn.running_var),
}

# Embedding: rows of a given table, and the gradient scattered into it (index 2 used twice).
table = draw(5, 3)
emb = nn.Embedding(5, 3).double()
with torch.no_grad():
    emb.weight.copy_(table)
idx = torch.tensor([[2, 0], [4, 2]])
out = emb(idx)
we = draw(2, 2, 3).detach()
(out * we).sum().backward()
golden["embedding"] = {"table": st(table), "indices": idx.tolist(), "w": st(we), "out": st(out), "grad": st(emb.weight.grad)}

# nn.init: the gains and the bounds/stds PyTorch uses for a [256, 128, 3, 3] weight.
shape = (256, 128, 3, 3)
fan_in, fan_out = 128 * 9, 256 * 9
golden["init"] = {
    "gains": {k: nn.init.calculate_gain(k) for k in ["linear", "sigmoid", "tanh", "relu", "selu"]},
    "leaky_relu_0.2": nn.init.calculate_gain("leaky_relu", 0.2),
    "kaiming_normal_std_relu": math.sqrt(2) / math.sqrt(fan_in),
    "kaiming_uniform_bound_default": nn.init.calculate_gain("leaky_relu", 0) * math.sqrt(3 / fan_in),
    "xavier_uniform_bound": math.sqrt(6 / (fan_in + fan_out)),
    "xavier_normal_std_tanh": nn.init.calculate_gain("tanh") * math.sqrt(2 / (fan_in + fan_out)),
    "shape": list(shape),
}

OUT.write_text(json.dumps(golden) + "\n")
print(f"wrote {OUT}")
