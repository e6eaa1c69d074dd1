/**
 * An optimiser's state by parameter name, as checkpoints hold it: the optimiser keeps buffers in its
 * `params` order, a checkpoint by the model's names, so a reordered model is caught, not misloaded.
 */
import { ArgumentError } from '../../errors.js';
import type { StateDict } from '../../nn/module.js';
import type { Optimizer, OptimizerState } from '../../optim/optimizer.js';
import type { Tensor } from '../../tensor/tensor.js';
import type { TrainableModule } from '../module.js';
import type { TrainingCheckpoint } from './types.js';

/** The model's name of each parameter the optimiser updates, in the optimiser's order. */
export function optimizerNames(model: TrainableModule, optim: Optimizer): string[] {
  const byTensor = new Map<Tensor, string>(model.namedParameters().map(([n, p]) => [p, n]));
  return optim.params.map((p, i) => {
    const name = byTensor.get(p);
    if (name === undefined) {
      throw new ArgumentError(
        `optimizer parameter ${i} is not a parameter of the model; it cannot be checkpointed.`,
      );
    }
    return name;
  });
}

/** Buffers by parameter name, from one of an optimiser's state lists (null entries left out). */
export function buffersByName(
  names: readonly string[],
  optim: Optimizer,
  list: readonly (Float32Array | null)[],
): StateDict {
  const out: StateDict = {};
  list.forEach((v, i) => {
    if (v !== null) out[names[i]!] = { shape: [...optim.params[i]!.shape], data: v };
  });
  return out;
}

/**
 * The optimiser state a checkpoint holds, in the order of `names`. Before version 3 only SGD was
 * saved, and its step count was the run's position (`globalStep`).
 */
export function optimizerStateOf(
  ckpt: TrainingCheckpoint,
  names: readonly string[],
  globalStep: number,
): OptimizerState {
  const list = (dict: StateDict): (Float32Array | null)[] => names.map((n) => dict[n]?.data ?? null);
  return ckpt.adamw === undefined
    ? { step: globalStep, buffers: { momentum: list(ckpt.momentum) } }
    : {
        step: ckpt.adamw.step,
        buffers: { exp_avg: list(ckpt.adamw.expAvg), exp_avg_sq: list(ckpt.adamw.expAvgSq) },
      };
}
