/**
 * What the Trainer and `configureOptimizers` share across optimisers (torch.optim.Optimizer's
 * surface): step, zeroGrad, a writable learning rate that a schedule sets before each step, the
 * hyperparameters that identify a run's optimiser, and its state for checkpoints.
 */
import type { Tensor } from '../tensor/tensor.js';

/** SGD's hyperparameters as a checkpoint records them (maxNorm null = off). */
export interface SGDHparams {
  readonly name: 'SGD';
  readonly lr: number;
  readonly momentum: number;
  readonly weightDecay: number;
  readonly maxNorm: number | null;
}

/** AdamW's hyperparameters as a checkpoint records them. */
export interface AdamWHparams {
  readonly name: 'AdamW';
  readonly lr: number;
  readonly betas: readonly [number, number];
  readonly eps: number;
  readonly weightDecay: number;
}

/** Adam's hyperparameters (L2 weight decay added to the gradient), those of its first parameter group. */
export interface AdamHparams {
  readonly name: 'Adam';
  readonly lr: number;
  readonly betas: readonly [number, number];
  readonly eps: number;
  readonly weightDecay: number;
}

/** The hyperparameters of any optimiser; `name` tells them apart. */
export type OptimizerHparams = SGDHparams | AdamWHparams | AdamHparams;

/**
 * An optimiser's state: steps taken and named per-parameter buffers in `params` order (null where a
 * parameter has none yet). SGD: `momentum`; AdamW: `exp_avg` and `exp_avg_sq` (PyTorch's names).
 */
export interface OptimizerState {
  readonly step: number;
  readonly buffers: Readonly<Record<string, readonly (Float32Array | null)[]>>;
}

/** An optimiser the Trainer can step, schedule and checkpoint. */
export interface Optimizer {
  /** The parameters it updates, in a fixed order (the order of its state's buffers). */
  readonly params: Tensor[];
  /** The learning rate of the next step; a learning-rate schedule writes it before every step. */
  lr: number;
  /** Applies one update to every parameter that has a gradient. */
  step(): void;
  /** Resets gradients to null (set_to_none semantics). */
  zeroGrad(): void;
  /** The hyperparameters, with the current `lr`. */
  hparams(): OptimizerHparams;
  /** Copies of its state for checkpoints; synchronous (CPU backends). */
  state(): OptimizerState;
  /** Restores a state of `state()`'s form (same parameter order and sizes). */
  loadState(state: OptimizerState): void;
}
