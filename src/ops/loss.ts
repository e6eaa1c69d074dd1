/** Classification loss and accuracy: softmax cross-entropy with integer labels. */
import { ArgumentError, ShapeError, formatShape, formatValue } from '../errors.js';
import { apply } from '../autograd/apply.js';
import { composite, noGrad } from '../tensor/engine.js';
import { checkOptions } from '../tensor/options.js';
import type { Tensor } from '../tensor/tensor.js';
import { logSoftmax } from './softmax.js';

function checkClassification(logits: Tensor, labels: Tensor, what: string): void {
  if (logits.ndim !== 2 || labels.ndim !== 1 || labels.shape[0] !== logits.shape[0]) {
    throw new ShapeError(
      `${what}: logits ${formatShape(logits.shape)} and labels ${formatShape(labels.shape)} do not fit; ` +
        `expected logits [N, C] and labels [N].`,
    );
  }
  if (logits.shape[0] === 0) {
    throw new ArgumentError(
      `${what}: the batch is empty (shape ${formatShape(logits.shape)}); pass at least one example.`,
    );
  }
  if (!labels.backend.syncRead) return;
  const classes = logits.shape[1]!;
  for (const v of labels.dataSync()) {
    if (!Number.isInteger(v) || v < 0 || v >= classes) {
      throw new ArgumentError(
        `${what}: label ${v} is not a class index in 0…${classes - 1}; check the labels.`,
      );
    }
  }
}

/** Options of `crossEntropy` (torch.nn.functional.cross_entropy's names, camelCased). */
export interface CrossEntropyOptions {
  /** 'mean' over the batch (default), 'sum', or 'none' for the per-example losses [N]. */
  reduction?: 'mean' | 'sum' | 'none' | undefined;
  /** ε in [0, 1): the target is (1 − ε)·onehot + ε/C (Szegedy et al. 2016, arXiv:1512.00567); default 0. */
  labelSmoothing?: number | undefined;
}

const REDUCTIONS = ['mean', 'sum', 'none'];

/**
 * Cross-entropy −log softmax(logits_n)[y_n] with integer labels y (torch.nn.functional.cross_entropy),
 * averaged over the batch unless `reduction` says otherwise; with `labelSmoothing` ε each row's loss is
 * (1 − ε)·nll + ε·(−Σ_c log p_c)/C, as PyTorch computes it. The default (mean, no smoothing) runs the
 * fused, numerically stable kernel; the others are composed from log-softmax.
 */
export function crossEntropy(logits: Tensor, labels: Tensor, opts: CrossEntropyOptions = {}): Tensor {
  checkOptions('crossEntropy', opts, ['reduction', 'labelSmoothing'], {
    weight: 'class weights are not implemented; weight the per-example losses of { reduction: "none" }',
    ignoreIndex: 'drop those rows from logits and labels, or weight the { reduction: "none" } losses',
    label_smoothing: "the option is spelt 'labelSmoothing'",
  });
  const { reduction = 'mean', labelSmoothing = 0 } = opts;
  if (!REDUCTIONS.includes(reduction)) {
    throw new ArgumentError(
      `crossEntropy: reduction must be 'mean', 'sum' or 'none', got ${formatValue(reduction)}.`,
    );
  }
  if (!(typeof labelSmoothing === 'number' && labelSmoothing >= 0 && labelSmoothing <= 1)) {
    throw new ArgumentError(
      `crossEntropy: labelSmoothing must be a number in [0, 1], got ${formatValue(labelSmoothing)}; 0.1 is usual.`,
    );
  }
  checkClassification(logits, labels, 'crossEntropy');
  if (reduction === 'mean' && labelSmoothing === 0) return apply('softmaxCrossEntropy', [logits, labels], {});
  return composite(() => {
    const [n, c] = logits.shape as [number, number];
    const logp = logits.logSoftmax(1);
    // gather, not a product with a one-hot: log p = −∞ off the label must not give 0·∞ = NaN.
    let perRow = logp
      .gather(1, labels.reshape([n, 1]))
      .reshape([n])
      .neg();
    if (labelSmoothing > 0) {
      perRow = perRow.mul(1 - labelSmoothing).add(logp.sum(1).mul(-labelSmoothing / c));
    }
    return reduction === 'none' ? perRow : reduction === 'sum' ? perRow.sum() : perRow.mean();
  });
}

/** The same loss composed from primitives (log-softmax, gather of the labels' entries, mean): the fused kernel's reference. */
export function crossEntropyComposed(logits: Tensor, labels: Tensor): Tensor {
  checkClassification(logits, labels, 'crossEntropy');
  return logSoftmax(logits).gather(1, labels.unsqueeze(1)).mean().neg();
}

/** Fraction of rows whose largest logit is the label, as a scalar tensor (no gradient). */
export function accuracyTensor(yHat: Tensor, y: Tensor): Tensor {
  return noGrad(() => {
    const predicted = yHat.argmax(-1);
    const correct = predicted.eq(y).mean();
    predicted.dispose();
    return correct;
  });
}

/** Fraction of rows whose largest logit is the label (d2l's Classifier.accuracy); CPU backends. */
export function accuracy(yHat: Tensor, y: Tensor): number {
  const correct = accuracyTensor(yHat, y);
  const value = correct.item();
  correct.dispose();
  return value;
}

/** How a loss reduces its per-element values (PyTorch's `reduction`). */
export type Reduction = 'mean' | 'sum' | 'none';

function reduce(losses: Tensor, reduction: Reduction, where: string): Tensor {
  if (!REDUCTIONS.includes(reduction)) {
    throw new ArgumentError(
      `${where}: reduction must be 'mean', 'sum' or 'none', got ${formatValue(reduction)}.`,
    );
  }
  return reduction === 'none' ? losses : reduction === 'sum' ? losses.sum() : losses.mean();
}

/** Mean squared error (x − y)² over every element (torch.nn.functional.mse_loss); `reduction` as PyTorch's. */
export function mseLoss(
  input: Tensor,
  target: Tensor,
  opts: { reduction?: Reduction | undefined } = {},
): Tensor {
  checkOptions('mseLoss', opts, ['reduction']);
  return composite(() => {
    const d = input.sub(target);
    return reduce(d.mul(d), opts.reduction ?? 'mean', 'mseLoss');
  });
}

/**
 * Negative log-likelihood −logProbs[n, y_n] of integer labels (torch.nn.functional.nll_loss): the
 * loss after a logSoftmax; `reduction` as PyTorch's.
 */
export function nllLoss(
  logProbs: Tensor,
  labels: Tensor,
  opts: { reduction?: Reduction | undefined } = {},
): Tensor {
  checkOptions('nllLoss', opts, ['reduction'], {
    weight: 'class weights are not implemented; weight the { reduction: "none" } losses',
    ignoreIndex: 'drop those rows from the inputs, or weight the { reduction: "none" } losses',
  });
  checkClassification(logProbs, labels, 'nllLoss');
  return composite(() => {
    const n = logProbs.shape[0]!;
    const picked = logProbs.gather(1, labels.reshape([n, 1])).reshape([n]);
    return reduce(picked.neg(), opts.reduction ?? 'mean', 'nllLoss');
  });
}
