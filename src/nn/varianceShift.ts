/**
 * The variance shift of Li et al., "Understanding the Disharmony between Dropout and Batch
 * Normalization by Variance Shift" (CVPR 2019, https://arxiv.org/abs/1801.05134): with dropout
 * before a BatchNorm, the variance of the BatchNorm's input in training (dropout on, which its running
 * variance learns) differs from the one it sees in evaluation (dropout off), so evaluation normalises
 * with the wrong statistic. Measured per BatchNorm1d of a Sequential-based model on a probe batch.
 */
import { ArgumentError } from '../errors.js';
import { normalize } from '../ops/normalization.js';
import { noGrad, tidy } from '../tensor/engine.js';
import type { Tensor } from '../tensor/tensor.js';
import { Sequential } from './layers.js';
import type { Module } from './module.js';
import { BatchNorm1d } from './normalization.js';

/** The input variance of one BatchNorm layer, averaged over its features. */
export interface VarianceShift {
  /** 1-based index of the BatchNorm layer. */
  readonly layer: number;
  /** Mean per-feature variance of its input in training mode (dropout on, batch statistics upstream). */
  readonly trainVar: number;
  /** The same in evaluation mode (dropout off, running statistics upstream). */
  readonly evalVar: number;
  /** Mean of its running variance: what evaluation divides by (it tracks trainVar as training goes on). */
  readonly runningVar: number;
  /** Li et al.'s shift evalVar / trainVar: 1 without a shift; below 1 when dropout inflated the training variance. */
  readonly shift: number;
}

function sequentialOf(m: Module): Sequential | null {
  if (m instanceof Sequential) return m;
  for (const [, child] of m.namedChildren()) {
    const s = sequentialOf(child);
    if (s !== null) return s;
  }
  return null;
}

/** The mean over features of the batch variance of a [N, C] tensor, as a number. */
function meanVariance(h: Tensor): number {
  return normalize(h, [0], 1e-5).variance.mean().item();
}

/**
 * The input variance of every BatchNorm1d of `model` on `X`, in training and in evaluation mode.
 * Leaves the model as it found it: the BatchNorm layers are applied with batch statistics by hand
 * in the training pass, so their running statistics do not move; the training pass's dropout masks
 * come from the generators as usual (callers that must not advance them save and restore them).
 */
export function varianceShift(model: Module, X: Tensor): VarianceShift[] {
  const seq = sequentialOf(model);
  if (seq === null) {
    throw new ArgumentError(
      'varianceShift: the model has no Sequential to walk; build it with nn.Sequential.',
    );
  }
  const wasTraining = model.training;
  const pass = (training: boolean): number[] =>
    noGrad(() =>
      tidy(() => {
        model.train(training);
        const vars: number[] = [];
        let h = X;
        for (const layer of seq.layers) {
          if (layer instanceof BatchNorm1d) {
            vars.push(meanVariance(h));
            if (training) {
              // Batch statistics without the running-statistics update of layer.forward.
              h = normalize(h, [0], layer.eps).y;
              if (layer.weight) h = h.mul(layer.weight);
              if (layer.bias) h = h.add(layer.bias);
              continue;
            }
          }
          h = layer.forward(h);
        }
        return vars;
      }),
    );
  try {
    const train = pass(true);
    const evaluation = pass(false);
    const bns = seq.layers.filter((l): l is BatchNorm1d => l instanceof BatchNorm1d);
    return bns.map((bn, i) => {
      const runningVar = noGrad(() => tidy(() => bn.runningVar.mean().item()));
      return {
        layer: i + 1,
        trainVar: train[i]!,
        evalVar: evaluation[i]!,
        runningVar,
        shift: evaluation[i]! / train[i]!,
      };
    });
  } finally {
    model.train(wasTraining);
  }
}
