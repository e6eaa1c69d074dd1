/**
 * Scaled dot-product attention (Vaswani et al. 2017, https://arxiv.org/abs/1706.03762, eq. 1) on the
 * batched matrix product: Attention(Q, K, V) = softmax(Q·Kᵀ / √d) · V, per batch item (an example's
 * head), with an optional hook that drops attention probabilities (PyTorch applies dropout there,
 * after the softmax and before the product with V). Also `pick`, which takes one index of an axis
 * (now Tensor.select, a view whose gradient pads back; kept for existing callers).
 */
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

/** Options of scaledDotProductAttention. */
export interface AttentionOptions {
  /** Applied to the attention probabilities [batch, T, S] before the product with V (dropout). */
  dropProbabilities?: ((probs: Tensor) => Tensor) | undefined;
}

/**
 * softmax(q·kᵀ/√d)·v for q [B, T, d], k [B, S, d], v [B, S, dv]: returns the output [B, T, dv] and the
 * attention probabilities [B, T, S] as used (after `dropProbabilities`, as PyTorch returns them).
 */
export function scaledDotProductAttention(
  q: Tensor,
  k: Tensor,
  v: Tensor,
  opts: AttentionOptions = {},
): { output: Tensor; weights: Tensor } {
  if (q.ndim !== 3 || k.ndim !== 3 || v.ndim !== 3 || k.shape[1] !== v.shape[1]) {
    throw new ShapeError(
      `scaledDotProductAttention expects q [B, T, d], k [B, S, d], v [B, S, dv]; got ` +
        `${formatShape(q.shape)}, ${formatShape(k.shape)}, ${formatShape(v.shape)}.`,
    );
  }
  const scores = q.mul(1 / Math.sqrt(q.shape[2]!)).bmm(k, { transB: true });
  const probs = softmax(scores, -1);
  const weights = opts.dropProbabilities ? opts.dropProbabilities(probs) : probs;
  return { output: weights.bmm(v), weights };
}
