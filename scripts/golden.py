#!/usr/bin/env python3
"""Writes test/fixtures/golden.json: PyTorch values and gradients for test/golden.test.ts.

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

OUT.parent.mkdir(parents=True, exist_ok=True)
OUT.write_text(json.dumps(golden, indent=1) + "\n")
print(f"wrote {OUT}")
