/**
 * R-Drop (Liang et al., NeurIPS 2021, https://arxiv.org/abs/2106.14448): run each batch through the
 * model twice with independent dropout masks and pull the two predictive distributions together:
 * loss = ½(CE(z₁, y) + CE(z₂, y)) + α · ½(KL(P₁‖P₂) + KL(P₂‖P₁)). Composed from primitives.
 */
import { ArgumentError, ShapeError, formatShape } from '../errors.js';
import type { Tensor } from '../tensor/tensor.js';
import { crossEntropy } from './loss.js';
import { logSoftmax } from './softmax.js';

/**
 * Mean over rows of the symmetric KL ½(KL(P₁‖P₂) + KL(P₂‖P₁)) between softmax(z₁) and softmax(z₂),
 * using KL(P‖Q) + KL(Q‖P) = Σ_c (p_c − q_c)(log p_c − log q_c). Gradients reach both logits (the
 * official code detaches neither pass).
 */
export function symmetricKl(logits1: Tensor, logits2: Tensor): Tensor {
  if (logits1.ndim !== 2 || formatShape(logits1.shape) !== formatShape(logits2.shape)) {
    throw new ShapeError(
      `symmetricKl: logits ${formatShape(logits1.shape)} and ${formatShape(logits2.shape)} must both be [N, C].`,
    );
  }
  const l1 = logSoftmax(logits1);
  const l2 = logSoftmax(logits2);
  return l1.exp().sub(l2.exp()).mul(l1.sub(l2)).sum(1).mean().mul(0.5);
}

/**
 * The R-Drop loss of two dropout passes' logits: mean cross-entropy of both plus α times their
 * symmetric KL. The KL is averaged over the batch (the paper's reference code sums it), so α does not
 * depend on the batch size; α = 0 is plain dropout trained on both passes.
 */
export function rdropLoss(logits1: Tensor, logits2: Tensor, labels: Tensor, alpha: number): Tensor {
  if (!(typeof alpha === 'number' && Number.isFinite(alpha) && alpha >= 0)) {
    throw new ArgumentError(`rdropLoss: alpha must be a non-negative number, got ${String(alpha)}; e.g. 1.`);
  }
  const ce = crossEntropy(logits1, labels).add(crossEntropy(logits2, labels)).mul(0.5);
  return alpha === 0 ? ce : ce.add(symmetricKl(logits1, logits2).mul(alpha));
}
