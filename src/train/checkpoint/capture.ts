/**
 * A checkpoint of a run at a position: its weights and buffers, optimiser state, both generators,
 * metrics and board, and where it stands. The data order of an epoch is drawn when the epoch starts,
 * so the shuffle generator is recorded as it was before that draw: the resumed run draws the same
 * permutation, skips the steps already done and repeats the uninterrupted run bit for bit.
 */
import type { GeneratorState } from '../../random/generator.js';
import type { StateDict } from '../../nn/module.js';
import { NumericError } from '../../errors.js';
import { buffersByName, optimizerNames } from './optimizerState.js';
import { examplesConsumed, globalStep, partialEpoch, type RunPosition } from './position.js';
import type { TrainingState } from './state.js';
import type { TrainingCheckpoint } from './types.js';

/** "after epoch 2" at a boundary, "at epoch 3, step 4" inside an epoch. */
function where(at: RunPosition): string {
  return at.step === 0 ? `after epoch ${at.epoch}` : `at epoch ${at.epoch + 1}, step ${at.step}`;
}

/**
 * The checkpoint of `run` at `at`. `epochData` is the shuffle generator's state when `at`'s epoch
 * started (at a boundary: its state now). Refuses (NumericError) to capture non-finite weights: a
 * checkpoint is a last good state.
 */
export async function captureCheckpoint(
  run: TrainingState,
  at: RunPosition,
  epochData: GeneratorState | null,
): Promise<TrainingCheckpoint> {
  const params: StateDict = {};
  for (const [name, p] of run.model.namedState()) {
    const values = await p.data();
    if (!values.every(Number.isFinite)) {
      throw new NumericError(
        `training diverged: parameter ${name} holds non-finite values ${where(at)}; ` +
          'the last good checkpoint is kept. Lower the learning rate.',
      );
    }
    params[name] = { shape: [...p.shape], data: values };
  }
  const id = run.identity;
  const names = optimizerNames(run.model, run.optim);
  const state = run.optim.state();
  const buffers = (key: string): StateDict => buffersByName(names, run.optim, state.buffers[key] ?? []);
  // The key order is the header's: kept as version 3 wrote it.
  return {
    modelClass: id.modelClass,
    config: id.config,
    epoch: at.epoch,
    stepInEpoch: at.step,
    optimizer: id.optimizer,
    ...(id.lrSchedule === null ? {} : { lrSchedule: { ...id.lrSchedule, step: globalStep(at) } }),
    generators: { model: run.generator.getState(), data: epochData },
    data: { ...id.data, position: examplesConsumed(at, run.batchSize, run.numTrain) },
    metrics: { epochs: [...run.epochs], board: [...run.board.points] },
    params,
    momentum: buffers('momentum'),
    ...(id.optimizer.name === 'AdamW'
      ? { adamw: { step: state.step, expAvg: buffers('exp_avg'), expAvgSq: buffers('exp_avg_sq') } }
      : {}),
    ...(at.step === 0 ? {} : { partial: partialEpoch(at) }),
  };
}
