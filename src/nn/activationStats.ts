/**
 * Hidden-activation statistics (d2l dropout exercise 3; the sparsity figure of Srivastava et al.
 * 2014, §7.2): per hidden layer, the mean, variance and fraction of exact zeros of the post-activation
 * values on a fixed probe batch, measured in eval mode so the numbers describe the network, not a mask.
 */
import { ArgumentError } from '../errors.js';
import { noGrad, tidy } from '../tensor/engine.js';
import type { Tensor } from '../tensor/tensor.js';
import { ReLU, Sequential } from './layers.js';
import type { Module } from './module.js';

/** Statistics of one hidden layer's activations over all units and probe examples. */
export interface ActivationStats {
  /** 1-based index of the hidden layer. */
  readonly layer: number;
  readonly mean: number;
  readonly variance: number;
  /** Fraction of activations that are exactly 0 (ReLU sparsity). */
  readonly zeroFraction: number;
}

function findSequential(m: Module): Sequential | null {
  if (m instanceof Sequential) return m;
  for (const [, child] of m.namedChildren()) {
    const s = findSequential(child);
    if (s !== null) return s;
  }
  return null;
}

/**
 * A model not built on a Sequential lists its hidden activations itself (e.g. DropoutMLPScratch):
 * the post-activation values of each hidden layer on X, in order, without dropout.
 */
export interface ListsHiddenActivations {
  /** The post-activation values of each hidden layer on X, in order, without dropout. */
  hiddenActivations(X: Tensor): Tensor[];
}

function listsHiddenActivations(m: Module): m is Module & ListsHiddenActivations {
  return typeof (m as Partial<ListsHiddenActivations>).hiddenActivations === 'function';
}

/**
 * The output of every hidden activation (ReLU, or any module `isActivation` accepts) of `model` on X,
 * in order. Works for models built on a Sequential (run layer by layer, unfused: the same values) and
 * for models that list their own (ListsHiddenActivations). Runs in the model's current mode; the
 * caller owns the tensors.
 */
export function hiddenActivations(
  model: Module,
  X: Tensor,
  isActivation: (m: Module) => boolean = (m) => m instanceof ReLU,
): Tensor[] {
  if (listsHiddenActivations(model)) return model.hiddenActivations(X);
  const seq = findSequential(model);
  if (seq === null) {
    throw new ArgumentError(
      'hiddenActivations: the model has no Sequential to walk; pass a Sequential-based model or one with a hiddenActivations(X) method.',
    );
  }
  const out: Tensor[] = [];
  let h = X;
  for (const layer of seq.layers) {
    h = layer.forward(h);
    if (isActivation(layer)) out.push(h);
  }
  return out;
}

/** Mean, variance and zero fraction of each hidden layer on X, in eval mode (the mode is restored). */
export function activationStats(model: Module, X: Tensor): ActivationStats[] {
  const modules: Module[] = [];
  const visit = (m: Module): void => {
    modules.push(m);
    for (const [, c] of m.namedChildren()) visit(c);
  };
  visit(model);
  const modes = modules.map((m) => m.training);
  try {
    model.eval();
    return noGrad(() =>
      tidy(() =>
        hiddenActivations(model, X).map((h, i) => {
          const v = h.dataSync();
          let sum = 0;
          let zeros = 0;
          for (const x of v) {
            sum += x;
            if (x === 0) zeros++;
          }
          const mean = sum / v.length;
          let ss = 0;
          for (const x of v) ss += (x - mean) * (x - mean);
          return { layer: i + 1, mean, variance: ss / v.length, zeroFraction: zeros / v.length };
        }),
      ),
    );
  } finally {
    modules.forEach((m, i) => (m.training = modes[i]!));
  }
}

/**
 * A Trainer `onEpochEnd` callback that records `activationStats` on a fixed probe batch after every
 * epoch: `new Trainer({ maxEpochs, onEpochEnd: rec.onEpochEnd })`, then read `rec.history`.
 */
export function activationStatsRecorder(
  model: Module,
  probe: Tensor,
): {
  /** The statistics recorded so far, one entry per epoch. */
  history: { epoch: number; stats: ActivationStats[] }[];
  /** The callback to pass as the Trainer's `onEpochEnd`. */
  onEpochEnd: (m: { epoch: number }) => void;
} {
  const history: { epoch: number; stats: ActivationStats[] }[] = [];
  return {
    history,
    onEpochEnd: (m) => history.push({ epoch: m.epoch, stats: activationStats(model, probe) }),
  };
}
