#!/usr/bin/env python3
"""Writes test/fixtures/golden-attention.json: PyTorch values and gradients for test/golden/attention.test.ts.

Run with the system interpreter (Debian's python3-torch):
    OMP_WAIT_POLICY=passive /usr/bin/python3 scripts/golden_attention.py && npx prettier --write test/fixtures/golden-attention.json

torch.nn.MultiheadAttention in float64 on float32-drawn inputs and parameters (as scripts/golden.py),
forward (output and head-averaged weights) and every gradient of Σ g ⊙ output + Σ gw ⊙ weights.
Dropout on the attention probabilities is made deterministic: the dropout case replaces the
F.dropout that F.multi_head_attention_forward calls by a fixed mask (a formula of the element index,
which the TypeScript test rebuilds), scaled by 1/(1 - p) as inverted dropout does. Kept apart from
golden.json so regenerating it leaves the other fixtures' draws untouched.

The fused attention (src/ops/attention.ts's `attention`, q [N, T, H, D], k [N, S, H, D], v [N, S, H, Dv]
in the layout a linear layer gives) is composed here, as PyTorch 1.13 has no
F.scaled_dot_product_attention: heads permuted out, softmax(scale·q·kᵀ)·v, permuted back; values and
the gradients of Σ g ⊙ out. One more MultiheadAttention case asks for no weights (need_weights=False),
the path that takes the fused kernel, and two self-attention cases without the weights, the path that
projects once with the whole packed weight (attentionPacked). These cases are appended after the first
three (and the later ones after those), so the earlier cases keep their draws.
"""
import json
import math
import pathlib

import torch
import torch.nn.functional as F

torch.manual_seed(16)
OUT = pathlib.Path(__file__).resolve().parent.parent / "test" / "fixtures" / "golden-attention.json"


def draw(*shape, scale=1.0):
    """float32 normal draws, returned as float64 leaves (exact copies of the float32 values)."""
    return (torch.randn(*shape, dtype=torch.float32) * scale).to(torch.float64).requires_grad_(True)


def flat(t):
    return [float(v) for v in t.detach().reshape(-1).tolist()]


def entry(**tensors):
    return {k: {"shape": list(v.shape), "data": flat(v)} for k, v in tensors.items()}


def keep_mask(n):
    """The fixed dropout mask: element i is kept unless (5·i + 2) mod 8 < 2 (a quarter dropped)."""
    return torch.tensor([0.0 if (5 * i + 2) % 8 < 2 else 1.0 for i in range(n)], dtype=torch.float64)


def mha_case(E, H, N, T, S, *, bias, batch_first, self_attention, p=0.0, need_weights=True):
    mha = torch.nn.MultiheadAttention(E, H, dropout=p, bias=bias, batch_first=batch_first, dtype=torch.float64)
    params = {"in_proj_weight": draw(3 * E, E, scale=0.4), "out_proj.weight": draw(E, E, scale=0.4)}
    if bias:
        params["in_proj_bias"] = draw(3 * E, scale=0.2)
        params["out_proj.bias"] = draw(E, scale=0.2)
    mha.load_state_dict({k: v.detach() for k, v in params.items()})
    mha.train()
    layout = (lambda L: (N, L, E)) if batch_first else (lambda L: (L, N, E))
    q = draw(*layout(T))
    inputs = {"query": q}
    if self_attention:
        k = v = q
    else:
        k = inputs["key"] = draw(*layout(S))
        v = inputs["value"] = draw(*layout(S))
    original = F.dropout
    if p > 0:
        mask = keep_mask(N * H * T * S).reshape(N * H, T, S)
        F.dropout = lambda x, p=0.5, training=True, inplace=False: x * mask / (1 - p)
    try:
        out, weights = mha(q, k, v, need_weights=need_weights)
    finally:
        F.dropout = original
    g = draw(*out.shape).detach()
    if need_weights:
        gw = draw(*weights.shape).detach()
        ((out * g).sum() + (weights * gw).sum()).backward()
    else:
        (out * g).sum().backward()
    named = dict(mha.named_parameters())
    grads = {f"grad_{k}": named[k].grad for k in params}
    grads.update({f"grad_{k}": t.grad for k, t in inputs.items()})
    if need_weights:
        outputs = {"g": g, "gw": gw, "out": out, "weights": weights}
    else:
        outputs = {"g": g, "out": out}
    config = {"embedDim": E, "numHeads": H, "bias": bias, "batchFirst": batch_first, "dropout": p}
    if not need_weights:
        config["needWeights"] = False
    return {
        "config": config,
        **entry(**{k: v.detach() for k, v in params.items()}, **inputs, **outputs, **grads),
    }


def fused_case(N, T, S, H, D, Dv, scale=None):
    """The fused attention's contract, composed: q [N, T, H, D], k [N, S, H, D], v [N, S, H, Dv] → [N, T, H, Dv]."""
    q, k, v = draw(N, T, H, D), draw(N, S, H, D), draw(N, S, H, Dv)
    sc = 1 / math.sqrt(D) if scale is None else scale
    heads = lambda x: x.permute(0, 2, 1, 3)  # noqa: E731 -- [N, L, H, D] → [N, H, L, D]
    probs = torch.softmax(heads(q) @ heads(k).transpose(-1, -2) * sc, dim=-1)
    out = (probs @ heads(v)).permute(0, 2, 1, 3)
    g = draw(*out.shape).detach()
    (out * g).sum().backward()
    return {
        "config": {"scale": sc},
        **entry(q=q.detach(), k=k.detach(), v=v.detach(), g=g, out=out, grad_q=q.grad, grad_k=k.grad, grad_v=v.grad),
    }


golden = {"torch": torch.__version__}
# Self-attention, PyTorch's default [T, N, E] layout, with biases.
golden["mha_self"] = mha_case(8, 2, 3, 5, 5, bias=True, batch_first=False, self_attention=True)
# Attention of a query over separate key and value sequences (another length), batch first, no biases.
golden["mha_cross"] = mha_case(8, 4, 2, 3, 6, bias=False, batch_first=True, self_attention=False)
# Self-attention, batch first, dropout 0.25 on the attention probabilities with the fixed mask.
golden["mha_dropout"] = mha_case(12, 3, 2, 5, 5, bias=True, batch_first=True, self_attention=True, p=0.25)
# The fused attention: a ViT block (T = S = 17, 4 heads of 16), cross-attention with T ≠ S, 3 heads of 5,
# and Dv ≠ D with a given scale.
golden["fused_vit"] = fused_case(2, 17, 17, 4, 16, 16)
golden["fused_cross"] = fused_case(2, 3, 6, 3, 5, 5)
golden["fused_dv"] = fused_case(2, 4, 7, 1, 3, 6, scale=0.8)
# Cross-attention without the weights (the fused path), batch first, with biases, 3 heads of 4.
golden["mha_fused"] = mha_case(12, 3, 2, 4, 6, bias=True, batch_first=True, self_attention=False, need_weights=False)
# Self-attention without the weights: the one packed projection and the packed fused kernel
# (attentionPacked); PyTorch's default [T, N, E] layout with biases (4 heads of 4), and batch first
# without biases (3 heads of 4).
golden["mha_self_fused"] = mha_case(16, 4, 3, 7, 7, bias=True, batch_first=False, self_attention=True, need_weights=False)
golden["mha_self_fused_nobias"] = mha_case(
    12, 3, 2, 5, 5, bias=False, batch_first=True, self_attention=True, need_weights=False
)

OUT.parent.mkdir(parents=True, exist_ok=True)
OUT.write_text(json.dumps(golden, indent=1) + "\n")
print(f"wrote {OUT}")
