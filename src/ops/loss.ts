/** Classification loss and accuracy: softmax cross-entropy with integer labels. */
import { ArgumentError, ShapeError, formatShape } from '../errors.js';
import { apply } from '../autograd/apply.js';
import { arange } from '../tensor/creation.js';
import { noGrad } from '../tensor/engine.js';
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

/**
 * Mean cross-entropy −(1/N) Σ_n log softmax(logits_n)[y_n] with integer labels y (like
 * torch.nn.functional.cross_entropy). Uses the fused, numerically stable kernel.
 */
export function crossEntropy(logits: Tensor, labels: Tensor): Tensor {
  checkClassification(logits, labels, 'crossEntropy');
  return apply('softmaxCrossEntropy', [logits, labels], {});
}

/** The same loss composed from primitives (log-softmax, one-hot select, mean): the fused kernel's reference. */
export function crossEntropyComposed(logits: Tensor, labels: Tensor): Tensor {
  checkClassification(logits, labels, 'crossEntropy');
  const [n, c] = logits.shape as [number, number];
  const oneHot = noGrad(() =>
    labels.reshape([n, 1]).eq(arange(c, undefined, 1, { backend: labels.backend }).reshape([1, c])),
  );
  return logSoftmax(logits).mul(oneHot).sum(1).mean().neg();
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
