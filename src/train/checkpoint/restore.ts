/**
 * Restoring a checkpoint into a run: checked first (the same run, a position within it), then the
 * weights, optimiser state, generators, metrics and board loaded; the position it returns is where
 * the Trainer's loop continues.
 */
import { ArgumentError } from '../../errors.js';
import { checkCompatible } from './compatibility.js';
import { optimizerNames, optimizerStateOf } from './optimizerState.js';
import { checkPosition, globalStep, positionOf, type RunPosition } from './position.js';
import type { TrainingState } from './state.js';
import type { TrainingCheckpoint } from './types.js';

/**
 * Throws a one-line ArgumentError unless `ckpt` can resume `run`: the same model, hyperparameters,
 * optimiser, schedule and data, and a consistent position within the run's epochs.
 */
export function checkResumable(ckpt: TrainingCheckpoint, run: TrainingState): void {
  checkCompatible(ckpt, run.identity);
  checkPosition(ckpt, run);
}

/** Loads `ckpt` into `run` (after {@link checkResumable}'s checks); returns the position to continue from. */
export function restoreCheckpoint(ckpt: TrainingCheckpoint, run: TrainingState): RunPosition {
  checkResumable(ckpt, run);
  if ((run.dataGenerator === null) !== (ckpt.generators.data === null)) {
    throw new ArgumentError(
      'checkpoint does not match this run: one has a data shuffle generator and the other does not; resume with the same data module.',
    );
  }
  const at = positionOf(ckpt, run.stepsPerEpoch);
  run.model.loadStateDict(ckpt.params);
  run.optim.loadState(optimizerStateOf(ckpt, optimizerNames(run.model, run.optim), globalStep(at)));
  run.generator.setState(ckpt.generators.model);
  if (run.dataGenerator !== null) run.dataGenerator.setState(ckpt.generators.data!);
  run.epochs.push(...ckpt.metrics.epochs);
  run.board.points.push(...ckpt.metrics.board);
  return at;
}
