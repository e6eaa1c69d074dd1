#!/usr/bin/env python3
"""Writes test/fixtures/golden.json: PyTorch values and gradients for the goldens in test/golden/
(mlp, conv, normalization, adamw) and the R-Drop loss in test/unit/train/rdrop-schedules.test.ts.

Run with the system interpreter (Debian's python3-torch):
    OMP_WAIT_POLICY=passive /usr/bin/python3 scripts/golden.py

Inputs are drawn in float32 (so the TypeScript side sees exactly the same numbers) and every
reference is computed in float64, so the fixture is the exact answer to float32 inputs.
"""
import json
import pathlib

import torch
import torch.nn.functional as F

torch.manual_seed(0)
OUT = pathlib.Path(__file__).resolve().parent.parent / "test" / "fixtures" / "golden.json"


def draw(*shape, scale=1.0):
    """float32 normal draws, returned as float64 leaves (exact copies of the float32 values)."""
    return (torch.randn(*shape, dtype=torch.float32) * scale).to(torch.float64).requires_grad_(True)


def flat(t):
    return [float(v) for v in t.detach().reshape(-1).tolist()]


def entry(**tensors):
    return {k: {"shape": list(v.shape), "data": flat(v)} for k, v in tensors.items()}


golden = {"torch": torch.__version__}

# log_softmax over the last axis, differentiated through a weighted sum.
x = draw(3, 5, scale=2.0)
w = draw(3, 5).detach()
y = F.log_softmax(x, dim=-1)
(y * w).sum().backward()
golden["log_softmax"] = entry(x=x, weights=w, out=y, grad_x=x.grad)

# Mean cross-entropy with integer labels.
logits = draw(4, 5, scale=2.0)
labels = torch.tensor([3, 0, 4, 1])
loss = F.cross_entropy(logits, labels)
loss.backward()
golden["cross_entropy"] = {
    **entry(logits=logits, loss=loss.reshape(1), grad_logits=logits.grad),
    "labels": labels.tolist(),
}

# Linear + ReLU, differentiated through a weighted sum.
x = draw(4, 3)
W = draw(5, 3)
b = draw(5)
g = draw(4, 5).detach()
y = F.relu(F.linear(x, W, b))
(y * g).sum().backward()
golden["linear_relu"] = entry(x=x, weight=W, bias=b, weights=g, out=y, grad_x=x.grad, grad_weight=W.grad, grad_bias=b.grad)

# A 2-layer MLP: logits = relu(x W1ᵀ + b1) W2ᵀ + b2, mean cross-entropy, backward.
x = draw(6, 8)
W1 = draw(10, 8, scale=0.5)
b1 = draw(10, scale=0.1)
W2 = draw(4, 10, scale=0.5)
b2 = draw(4, scale=0.1)
labels = torch.tensor([0, 3, 1, 2, 3, 0])
logits = F.linear(F.relu(F.linear(x, W1, b1)), W2, b2)
loss = F.cross_entropy(logits, labels)
loss.backward()
golden["mlp"] = {
    **entry(
        x=x, w1=W1, b1=b1, w2=W2, b2=b2, logits=logits, loss=loss.reshape(1),
        grad_w1=W1.grad, grad_b1=b1.grad, grad_w2=W2.grad, grad_b2=b2.grad,
    ),
    "labels": labels.tolist(),
}

# SGD with momentum and weight decay: two steps with given gradients.
p = draw(6).detach().requires_grad_(True)
p0 = p.detach().clone()
grads = [draw(6).detach(), draw(6).detach()]
opt = torch.optim.SGD([p], lr=0.1, momentum=0.9, weight_decay=0.01)
after = []
for grad in grads:
    p.grad = grad.clone()
    opt.step()
    after.append(p.detach().clone())
golden["sgd_momentum"] = {
    "lr": 0.1,
    "momentum": 0.9,
    "weight_decay": 0.01,
    **entry(param=p0, grad1=grads[0], grad2=grads[1], after1=after[0], after2=after[1]),
}

# Appended sections draw after the ones above, so their inputs (and the fixture's older values) stay unchanged.

# BatchNorm1d (eps 1e-5, momentum 0.1, affine): two training steps (forward, backward of a weighted
# sum with respect to x, weight and bias; the running statistics after each), then an eval forward.
bn = torch.nn.BatchNorm1d(5).double()
with torch.no_grad():
    bn.weight.copy_(draw(5).detach() * 0.5 + 1)
    bn.bias.copy_(draw(5).detach() * 0.5)
bn_w0, bn_b0 = bn.weight.detach().clone(), bn.bias.detach().clone()
bn_steps = {}
for step in (1, 2):
    x = draw(6, 5, scale=2.0)
    with torch.no_grad():
        x += 0.5 * step
    g = draw(6, 5).detach()
    bn.zero_grad()
    y = bn(x)
    (y * g).sum().backward()
    bn_steps.update(entry(**{
        f"x{step}": x, f"weights{step}": g, f"out{step}": y, f"grad_x{step}": x.grad,
        f"grad_weight{step}": bn.weight.grad, f"grad_bias{step}": bn.bias.grad,
        f"running_mean{step}": bn.running_mean, f"running_var{step}": bn.running_var,
    }))
    bn_steps[f"num_batches_tracked{step}"] = int(bn.num_batches_tracked)
bn.eval()
x_eval = draw(4, 5)
golden["batch_norm1d"] = {**entry(weight=bn_w0, bias=bn_b0, x_eval=x_eval, out_eval=bn(x_eval)), **bn_steps}

# BatchNorm1d on [N, C, L] (statistics over N and L) with momentum None (cumulative average), one step.
bn3 = torch.nn.BatchNorm1d(3, momentum=None).double()
x = draw(4, 3, 2)
g = draw(4, 3, 2).detach()
y = bn3(x)
(y * g).sum().backward()
golden["batch_norm1d_3d"] = entry(
    x=x, weights=g, out=y, grad_x=x.grad, running_mean=bn3.running_mean, running_var=bn3.running_var
)

# LayerNorm over the last axis with elementwise affine parameters.
x = draw(4, 6, scale=2.0)
ln = torch.nn.LayerNorm(6).double()
with torch.no_grad():
    ln.weight.copy_(draw(6).detach() * 0.5 + 1)
    ln.bias.copy_(draw(6).detach() * 0.5)
ln_w0, ln_b0 = ln.weight.detach().clone(), ln.bias.detach().clone()
g = draw(4, 6).detach()
y = ln(x)
(y * g).sum().backward()
golden["layer_norm"] = entry(
    x=x, weight=ln_w0, bias=ln_b0, weights=g, out=y, grad_x=x.grad, grad_weight=ln.weight.grad, grad_bias=ln.bias.grad
)

# R-Drop (Liang et al. 2021): mean CE of two passes + alpha * symmetric KL, the KL averaged over the
# batch (the reference code's compute_kl_loss sums it over the batch; here / N).
z1 = draw(4, 5, scale=2.0)
z2 = draw(4, 5, scale=2.0)
labels = torch.tensor([1, 4, 0, 2])
alpha = 0.7
ce = 0.5 * (F.cross_entropy(z1, labels) + F.cross_entropy(z2, labels))
p_loss = F.kl_div(F.log_softmax(z1, dim=-1), F.softmax(z2, dim=-1), reduction="sum")
q_loss = F.kl_div(F.log_softmax(z2, dim=-1), F.softmax(z1, dim=-1), reduction="sum")
kl = (p_loss + q_loss) / 2 / z1.shape[0]
loss = ce + alpha * kl
loss.backward()
golden["rdrop"] = {
    **entry(logits1=z1, logits2=z2, kl=kl.reshape(1), loss=loss.reshape(1), grad_logits1=z1.grad, grad_logits2=z2.grad),
    "labels": labels.tolist(),
    "alpha": alpha,
}

# Conv2d (3 -> 4 channels, 3x3, stride 2, padding 1, bias), then the same input through a
# LeNet-style block: Conv2d(4 -> 2, 2x3 window, no padding) without bias, each differentiated through
# a weighted sum (forward and every gradient).
x = draw(2, 3, 7, 6)
W = draw(4, 3, 3, 3, scale=0.5)
b = draw(4, scale=0.1)
g = draw(2, 4, 4, 3).detach()
y = F.conv2d(x, W, b, stride=2, padding=1)
(y * g).sum().backward()
golden["conv2d"] = entry(x=x, weight=W, bias=b, weights=g, out=y, grad_x=x.grad, grad_weight=W.grad, grad_bias=b.grad)
x = draw(1, 4, 5, 6)
W = draw(2, 4, 2, 3, scale=0.5)
g = draw(1, 2, 4, 4).detach()
y = F.conv2d(x, W)
(y * g).sum().backward()
golden["conv2d_nobias"] = entry(x=x, weight=W, weights=g, out=y, grad_x=x.grad, grad_weight=W.grad)

# MaxPool2d(2) and MaxPool2d(3, stride 2, padding 1); random inputs, so every window's maximum is unique.
x = draw(2, 3, 6, 5)
g = draw(2, 3, 3, 2).detach()
y = F.max_pool2d(x, 2)
(y * g).sum().backward()
golden["max_pool2d"] = entry(x=x, weights=g, out=y, grad_x=x.grad)
x = draw(1, 2, 5, 6)
g = draw(1, 2, 3, 3).detach()
y = F.max_pool2d(x, 3, stride=2, padding=1)
(y * g).sum().backward()
golden["max_pool2d_padded"] = entry(x=x, weights=g, out=y, grad_x=x.grad)

# AvgPool2d(3, stride 2, padding 1) (count_include_pad=True, PyTorch's default) and AdaptiveAvgPool2d(2).
x = draw(2, 2, 5, 6)
g = draw(2, 2, 3, 3).detach()
y = F.avg_pool2d(x, 3, stride=2, padding=1)
(y * g).sum().backward()
golden["avg_pool2d"] = entry(x=x, weights=g, out=y, grad_x=x.grad)
x = draw(2, 3, 4, 6)
g = draw(2, 3, 2, 2).detach()
y = F.adaptive_avg_pool2d(x, 2)
(y * g).sum().backward()
golden["adaptive_avg_pool2d"] = entry(x=x, weights=g, out=y, grad_x=x.grad)

# GELU, the exact erf form (torch.nn.GELU's default), over a wide range.
x = draw(5, 8, scale=2.5)
g = draw(5, 8).detach()
y = F.gelu(x)
(y * g).sum().backward()
golden["gelu"] = entry(x=x, weights=g, out=y, grad_x=x.grad)

# AdamW with PyTorch's defaults (betas (0.9, 0.999), eps 1e-8, weight_decay 0.01; lr 0.01 so the steps
# show): three steps with given gradients.
p = draw(7).detach().requires_grad_(True)
p0 = p.detach().clone()
grads = [draw(7).detach() for _ in range(3)]
opt = torch.optim.AdamW([p], lr=0.01)
after = []
for grad in grads:
    p.grad = grad.clone()
    opt.step()
    after.append(p.detach().clone())
golden["adamw"] = {
    "lr": 0.01,
    **entry(param=p0, grad1=grads[0], grad2=grads[1], grad3=grads[2], after1=after[0], after2=after[1], after3=after[2]),
}

# AdamW (weight decay 0.05) under linear warm-up + cosine decay as PyTorch schedules it, stepped per
# update: SequentialLR of LinearLR (lr/W, 2lr/W, …, lr over the first W steps) and CosineAnnealingLR
# (from lr down to eta_min at step T). The rate each step used and the parameter after each step.
W, T, LR, MIN_LR = 3, 10, 0.01, 0.001
p = draw(6).detach().requires_grad_(True)
p0 = p.detach().clone()
grads = [draw(6).detach() for _ in range(T)]
opt = torch.optim.AdamW([p], lr=LR, weight_decay=0.05)
sched = torch.optim.lr_scheduler.SequentialLR(
    opt,
    [
        torch.optim.lr_scheduler.LinearLR(opt, start_factor=1 / W, end_factor=1.0, total_iters=W - 1),
        torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=T - W, eta_min=MIN_LR),
    ],
    milestones=[W],
)
lrs = []
after = []
for grad in grads:
    lrs.append(opt.param_groups[0]["lr"])
    p.grad = grad.clone()
    opt.step()
    sched.step()
    after.append(p.detach().clone())
golden["adamw_warmup_cosine"] = {
    "lr": LR,
    "warmupSteps": W,
    "totalSteps": T,
    "minLr": MIN_LR,
    "weightDecay": 0.05,
    "lrs": lrs,
    **entry(param=p0, grads=torch.stack(grads), after=torch.stack(after)),
}

OUT.parent.mkdir(parents=True, exist_ok=True)
OUT.write_text(json.dumps(golden, indent=1) + "\n")
print(f"wrote {OUT}")
