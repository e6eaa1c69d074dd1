/**
 * Scaled dot-product attention (Vaswani et al. 2017, https://arxiv.org/abs/1706.03762, eq. 1):
 * Attention(Q, K, V) = softmax(Q·Kᵀ / √d) · V.
 *
 * `attention` is the fused primitive (autograd/primitives.ts) for many heads at once, in the layout a
 * linear projection gives ([N, L, H, D]: no head permutes): one kernel per direction, each (example,
 * head) block computed whole; `attentionPacked` is the same kernel reading q, k and v from self-attention's
 * one packed projection [N, L, 3, H, D]. The composition `attentionComposed` permutes the heads out and back
 * (copies) around two batched products of tiny matrices and a softmax. `attentionComposed` stays as its
 * reference (test/unit/ops/attention.test.ts), and for the callers that need the probabilities.
 *
 * `scaledDotProductAttention` is the functional form on [B, T, d] with an optional hook that drops
 * attention probabilities (PyTorch applies dropout there, after the softmax and before the product
 * with V); without the hook and with needWeights false it takes the fused kernel. Also `pick`, which
 * takes one index of an axis (now Tensor.select, a view whose gradient pads back; kept for existing
 * callers).
 */
import { apply } from '../autograd/apply.js';
import { ArgumentError, ShapeError, formatShape } from '../errors.js';
import type { Tensor } from '../tensor/tensor.js';
import { softmax } from './softmax.js';

/** x's slice at `index` along `axis` (that axis removed), times `scale`: `x.select(axis, index)` as a view when scale is 1. */
export function pick(x: Tensor, axis: number, index: number, scale = 1): Tensor {
  const ax = axis < 0 ? axis + x.ndim : axis;
  const size = x.shape[ax];
  if (size === undefined || !(Number.isInteger(index) && index >= 0 && index < size)) {
    throw new ArgumentError(
      `pick: index ${index} along axis ${axis} is out of range for shape ${formatShape(x.shape)}.`,
    );
  }
  const slice = x.select(ax, index);
  return scale === 1 ? slice : slice.mul(scale);
}

/** Checks q [N, T, H, D], k [N, S, H, D], v [N, S, H, Dv] (non-empty) for `what`. */
function checkHeads(q: Tensor, k: Tensor, v: Tensor, what: string): void {
  const [n, , h, d] = q.shape;
  const s = k.shape[1];
  const ok =
    q.ndim === 4 &&
    k.ndim === 4 &&
    v.ndim === 4 &&
    k.shape[0] === n &&
    k.shape[2] === h &&
    k.shape[3] === d &&
    v.shape[0] === n &&
    v.shape[1] === s &&
    v.shape[2] === h;
  if (!ok) {
    throw new ShapeError(
      `${what} expects q [N, T, H, D], k [N, S, H, D] and v [N, S, H, Dv]; got ` +
        `${formatShape(q.shape)}, ${formatShape(k.shape)} and ${formatShape(v.shape)}.`,
    );
  }
}

/**
 * Multi-head attention softmax(scale·q·kᵀ)·v per (example, head) for q [N, T, H, D], k [N, S, H, D],
 * v [N, S, H, Dv] (scale defaults to 1/√D): the output [N, T, H, Dv], one fused kernel each way.
 */
export function attention(q: Tensor, k: Tensor, v: Tensor, scale = 1 / Math.sqrt(q.shape[3] ?? 1)): Tensor {
  checkHeads(q, k, v, 'attention');
  return apply('attention', [q, k, v], { scale });
}

/**
 * Self-attention `attention(q, k, v, scale)` with q, k and v the three parts of one packed tensor qkv
 * [N, L, 3, H, D] (self-attention's one projection [N·L, 3E] reshaped, PyTorch's q, k, v row order):
 * the output [N, L, H, D], one fused kernel each way, the backward writing the gradient of qkv whole.
 */
export function attentionPacked(qkv: Tensor, scale = 1 / Math.sqrt(qkv.shape[4] ?? 1)): Tensor {
  if (qkv.ndim !== 5 || qkv.shape[2] !== 3) {
    throw new ShapeError(`attentionPacked expects qkv [N, L, 3, H, D]; got ${formatShape(qkv.shape)}.`);
  }
  return apply('attentionPacked', [qkv], { scale });
}

/**
 * `attention` composed from primitives, heads permuted to [N·H, L, D] around bmm, softmax and bmm and
 * back: the fused kernel's reference, and the probabilities [N·H, T, S] for callers that need them
 * (with `dropProbabilities` applied to them first, as scaledDotProductAttention's hook).
 */
export function attentionComposed(
  q: Tensor,
  k: Tensor,
  v: Tensor,
  scale = 1 / Math.sqrt(q.shape[3] ?? 1),
  opts: AttentionOptions = {},
): { output: Tensor; weights: Tensor } {
  checkHeads(q, k, v, 'attentionComposed');
  const [N, T, H] = q.shape as [number, number, number];
  const S = k.shape[1]!;
  const heads = (x: Tensor, L: number): Tensor => x.permute([0, 2, 1, 3]).reshape([N * H, L, x.shape[3]!]);
  const probs = softmax(heads(q, T).mul(scale).bmm(heads(k, S), { transB: true }), -1);
  const weights = opts.dropProbabilities ? opts.dropProbabilities(probs) : probs;
  const output = weights.bmm(heads(v, S)).reshape([N, H, T, v.shape[3]!]).permute([0, 2, 1, 3]);
  return { output, weights };
}

/** Options of scaledDotProductAttention. */
export interface AttentionOptions {
  /** Applied to the attention probabilities [batch, T, S] before the product with V (dropout). */
  dropProbabilities?: ((probs: Tensor) => Tensor) | undefined;
  /**
   * Return the probabilities (default true). False, with no `dropProbabilities`, takes the fused
   * kernel and returns weights null.
   */
  needWeights?: boolean | undefined;
}

/**
 * softmax(q·kᵀ/√d)·v for q [B, T, d], k [B, S, d], v [B, S, dv]: returns the output [B, T, dv] and the
 * attention probabilities [B, T, S] as used (after `dropProbabilities`, as PyTorch returns them).
 */
export function scaledDotProductAttention(
  q: Tensor,
  k: Tensor,
  v: Tensor,
  opts?: AttentionOptions & { needWeights?: true | undefined },
): { output: Tensor; weights: Tensor };
/** With needWeights false the weights are skipped (null) and, without a dropProbabilities hook, the kernel is fused. */
export function scaledDotProductAttention(
  q: Tensor,
  k: Tensor,
  v: Tensor,
  opts: AttentionOptions,
): { output: Tensor; weights: Tensor | null };
export function scaledDotProductAttention(
  q: Tensor,
  k: Tensor,
  v: Tensor,
  opts: AttentionOptions = {},
): { output: Tensor; weights: Tensor | null } {
  if (q.ndim !== 3 || k.ndim !== 3 || v.ndim !== 3 || k.shape[1] !== v.shape[1]) {
    throw new ShapeError(
      `scaledDotProductAttention expects q [B, T, d], k [B, S, d], v [B, S, dv]; got ` +
        `${formatShape(q.shape)}, ${formatShape(k.shape)}, ${formatShape(v.shape)}.`,
    );
  }
  const [B, T, d] = q.shape as [number, number, number];
  const S = k.shape[1]!;
  const dv = v.shape[2]!;
  const scale = 1 / Math.sqrt(d);
  if (opts.needWeights === false && opts.dropProbabilities === undefined) {
    // One head per batch item: [B, L, 1, d] is the same memory, so only views are added.
    const out = attention(q.reshape([B, T, 1, d]), k.reshape([B, S, 1, d]), v.reshape([B, S, 1, dv]), scale);
    return { output: out.reshape([B, T, dv]), weights: null };
  }
  const scores = q.mul(scale).bmm(k, { transB: true });
  const probs = softmax(scores, -1);
  const weights = opts.dropProbabilities ? opts.dropProbabilities(probs) : probs;
  const output = weights.bmm(v);
  return { output, weights: opts.needWeights === false ? null : weights };
}
