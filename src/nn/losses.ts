/**
 * Loss modules (torch.nn.CrossEntropyLoss, MSELoss, NLLLoss): a module holds the options and calls
 * the functional form (src/ops/loss.ts) in one line, as PyTorch's do. `forward(input, target)`.
 */
import { ArgumentError } from '../errors.js';
import { crossEntropy, mseLoss, nllLoss, type CrossEntropyOptions, type Reduction } from '../ops/loss.js';
import { checkOptions } from '../tensor/options.js';
import type { Tensor } from '../tensor/tensor.js';
import { Module } from './module.js';

/** Options of MSELoss and NLLLoss. */
export interface LossOptions {
  /** 'mean' (default), 'sum', or 'none' for the per-element losses. */
  reduction?: Reduction | undefined;
}

/** A loss takes two tensors; refuses a call with one. */
function needTarget(target: Tensor | undefined, name: string): Tensor {
  if (target === undefined)
    throw new ArgumentError(`${name}.forward(input, target): pass the target as well.`);
  return target;
}

/** Base of the loss modules: the reduction, printed as PyTorch prints it. */
abstract class Loss extends Module {
  /** How the per-element losses are reduced. */
  readonly reduction: Reduction;
  constructor(reduction: Reduction | undefined) {
    super();
    this.reduction = reduction ?? 'mean';
  }
  /** The loss of `input` against `target`. */
  abstract override forward(input: Tensor, target?: Tensor): Tensor;
}

/** Softmax cross-entropy with integer labels (torch.nn.CrossEntropyLoss); options as F.crossEntropy's. */
export class CrossEntropyLoss extends Loss {
  /** Label smoothing ε (0 = off). */
  readonly labelSmoothing: number;
  /** A cross-entropy with `reduction` and `labelSmoothing` (PyTorch's defaults: mean, 0). */
  constructor(opts: CrossEntropyOptions = {}) {
    checkOptions('CrossEntropyLoss', opts, ['reduction', 'labelSmoothing']);
    super(opts.reduction);
    this.labelSmoothing = opts.labelSmoothing ?? 0;
  }
  /** crossEntropy(logits, labels) with this module's options. */
  override forward(logits: Tensor, labels?: Tensor): Tensor {
    const y = needTarget(labels, 'CrossEntropyLoss');
    return crossEntropy(logits, y, { reduction: this.reduction, labelSmoothing: this.labelSmoothing });
  }
}

/** Mean squared error (torch.nn.MSELoss). */
export class MSELoss extends Loss {
  /** An MSE loss with `reduction` (default mean). */
  constructor(opts: LossOptions = {}) {
    checkOptions('MSELoss', opts, ['reduction']);
    super(opts.reduction);
  }
  /** mseLoss(input, target) with this module's reduction. */
  override forward(input: Tensor, target?: Tensor): Tensor {
    return mseLoss(input, needTarget(target, 'MSELoss'), { reduction: this.reduction });
  }
}

/** Negative log-likelihood of integer labels, after a logSoftmax (torch.nn.NLLLoss). */
export class NLLLoss extends Loss {
  /** An NLL loss with `reduction` (default mean). */
  constructor(opts: LossOptions = {}) {
    checkOptions('NLLLoss', opts, ['reduction']);
    super(opts.reduction);
  }
  /** nllLoss(logProbs, labels) with this module's reduction. */
  override forward(logProbs: Tensor, labels?: Tensor): Tensor {
    return nllLoss(logProbs, needTarget(labels, 'NLLLoss'), { reduction: this.reduction });
  }
}
