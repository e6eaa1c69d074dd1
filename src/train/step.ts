/**
 * The pieces of one training step and of an epoch's batches that the Trainer's loop is made of: the
 * step in its own memory scope, the batches left in an epoch, how a model's error mid-run is
 * reported, and the yield that lets a Ctrl-C handler run between steps.
 */
import type { Batch, DataModule } from '../data/dataModule.js';
import { ArgumentError, DropoutLabError } from '../errors.js';
import type { Optimizer } from '../optim/optimizer.js';
import { tidy } from '../tensor/engine.js';
import type { TrainableModule } from './module.js';

/** Frees a batch's tensors (a loader's batches may be freed twice). */
export function disposeBatch(batch: Batch): void {
  batch.X.dispose();
  batch.y.dispose();
}

/**
 * The training batches of an epoch from step `from` up to `until`. The loader draws the epoch's
 * permutation as it starts, so a resumed epoch draws the batches done before the interrupt too:
 * freed, not trained; so is a batch past `until` (a last batch of one under BatchNorm).
 */
export function* remainingBatches(data: DataModule, from: number, until: number): Generator_<Batch> {
  let step = 0;
  for (const batch of data.trainDataloader()) {
    if (step >= until) {
      disposeBatch(batch);
      return;
    }
    if (step++ < from) disposeBatch(batch);
    else yield batch;
  }
}

/**
 * An ArgumentError of the model's raised after training began is a failed run (the CLI's exit 1), not
 * a usage error (exit 2): rethrown as one that says where, with the original as its cause. Other
 * errors pass unchanged.
 */
export function failedAt(e: unknown, where: string): unknown {
  if (!(e instanceof ArgumentError)) return e;
  return new DropoutLabError(`training failed at ${where}: ${e.message}`, { cause: e });
}

/** The built-in generator type (the name Generator is the random-number generator here). */
type Generator_<T> = globalThis.Generator<T, void, undefined>;

/**
 * One minibatch step in its own memory scope: loss, zeroGrad, backward, step. Resolves with the
 * loss value (read asynchronously, so it works on every backend).
 */
export async function trainStep(model: TrainableModule, optim: Optimizer, batch: Batch): Promise<number> {
  const loss = tidy(() => {
    const l = model.trainingStep(batch);
    optim.zeroGrad();
    l.backward();
    optim.step();
    return l;
  });
  const value = (await loss.data())[0]!;
  loss.dispose();
  return value;
}

/** Milliseconds between yields to the event loop while a `signal` is watched. */
export const YIELD_EVERY_MS = 25;

/**
 * Lets signal handlers and timers run. A training step only awaits promises that CPU backends
 * resolve at once (microtasks), so without this a Ctrl-C handler would run only after training.
 */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => {
    if (typeof setImmediate === 'function') setImmediate(resolve);
    else setTimeout(resolve, 0);
  });
}
