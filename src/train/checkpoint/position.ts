/**
 * Where a run stands, as a value: the epoch being trained, the steps done in it and their running
 * sums. The Trainer's loop advances it step by step; a checkpoint records it and a restore returns it,
 * so a resumed run continues from exactly the position the uninterrupted run passed through. Pure
 * functions only: no model, no data, no clock.
 */
import { ArgumentError } from '../../errors.js';
import type { PartialEpoch, TrainingCheckpoint } from './types.js';

/** The running sums of an epoch's steps: the board's half-epoch window and the whole epoch's. */
export interface EpochSums {
  /** Σ loss·n over the steps since the last train_loss point of the board. */
  readonly sum: number;
  /** Examples since the last train_loss point. */
  readonly count: number;
  /** Σ loss·n over the epoch's steps (its train_loss is epochSum / epochCount). */
  readonly epochSum: number;
  /** Examples the epoch has trained on. */
  readonly epochCount: number;
}

/** A run's position: `step` steps done in the 0-based epoch `epoch` (= epochs completed). */
export interface RunPosition {
  /** Epochs completed, which is the 0-based index of the epoch being trained. */
  readonly epoch: number;
  /** Steps done in that epoch (0 at an epoch boundary). */
  readonly step: number;
  /** Steps in every epoch of this run. */
  readonly stepsPerEpoch: number;
  /** The running sums of the epoch's steps so far. */
  readonly sums: EpochSums;
  /**
   * Seconds spent on the epoch's steps before this position was reached by this process: a restored
   * epoch's time before the interrupt (0 when the epoch starts here); set when a position is saved.
   */
  readonly seconds: number;
}

const NO_SUMS: EpochSums = { sum: 0, count: 0, epochSum: 0, epochCount: 0 };

/** The start of a run of `stepsPerEpoch` steps per epoch: epoch 0, step 0. */
export function runStart(stepsPerEpoch: number): RunPosition {
  return { epoch: 0, step: 0, stepsPerEpoch, sums: NO_SUMS, seconds: 0 };
}

/** The boundary after `at`'s epoch: the next epoch, no steps, no sums. */
export function nextEpoch(at: RunPosition): RunPosition {
  return { epoch: at.epoch + 1, step: 0, stepsPerEpoch: at.stepsPerEpoch, sums: NO_SUMS, seconds: 0 };
}

/** The position after one more step whose mean loss over its `n` examples was `loss`. */
export function afterStep(at: RunPosition, loss: number, n: number): RunPosition {
  const s = at.sums;
  return {
    ...at,
    step: at.step + 1,
    sums: {
      sum: s.sum + loss * n,
      count: s.count + n,
      epochSum: s.epochSum + loss * n,
      epochCount: s.epochCount + n,
    },
  };
}

/** Steps over the whole run up to `at`: the learning-rate schedule's position (and SGD's step count). */
export function globalStep(at: RunPosition): number {
  return at.epoch * at.stepsPerEpoch + at.step;
}

/** Whether `at` lies inside an epoch (some of its steps done, not all): where an interrupt saves partial sums. */
export function isMidEpoch(at: RunPosition): boolean {
  return at.step > 0 && at.step < at.stepsPerEpoch;
}

/**
 * The board's train_loss point due at `at`, if any: d2l plots the mean loss twice per epoch, at the
 * half-epoch and at its end (x in epochs, e.g. 0.5 and 1).
 */
export function trainLossPoint(at: RunPosition): { x: number; y: number } | null {
  const half = Math.max(1, Math.ceil(at.stepsPerEpoch / 2));
  if (at.step % half !== 0 && at.step !== at.stepsPerEpoch) return null;
  return { x: at.epoch + at.step / at.stepsPerEpoch, y: at.sums.sum / at.sums.count };
}

/** `at` with the board's window emptied (after its train_loss point is drawn). */
export function windowCleared(at: RunPosition): RunPosition {
  return { ...at, sums: { ...at.sums, sum: 0, count: 0 } };
}

/** `at` with `seconds` spent on its epoch so far (recorded when the position is saved). */
export function withSeconds(at: RunPosition, seconds: number): RunPosition {
  return { ...at, seconds };
}

/** What a checkpoint holds of a position inside an epoch: its sums and seconds. */
export function partialEpoch(at: RunPosition): PartialEpoch {
  const s = at.sums;
  return { sum: s.sum, count: s.count, epochSum: s.epochSum, epochCount: s.epochCount, seconds: at.seconds };
}

/** Training examples consumed in `at`'s epoch: the checkpoint's data position. */
export function examplesConsumed(at: RunPosition, batchSize: number, numTrain: number): number {
  return Math.min(at.step * batchSize, numTrain);
}

/** The position a checkpoint was saved at (check it first with {@link checkPosition}). */
export function positionOf(ckpt: TrainingCheckpoint, stepsPerEpoch: number): RunPosition {
  const p = ckpt.partial;
  return {
    epoch: ckpt.epoch,
    step: ckpt.stepInEpoch,
    stepsPerEpoch,
    sums:
      p === undefined
        ? NO_SUMS
        : { sum: p.sum, count: p.count, epochSum: p.epochSum, epochCount: p.epochCount },
    seconds: p?.seconds ?? 0,
  };
}

/** What a checkpoint's position must fit: the run's length and its data's batching. */
export interface RunShape {
  readonly maxEpochs: number;
  readonly stepsPerEpoch: number;
  readonly batchSize: number;
  readonly numTrain: number;
}

/**
 * Refuses (one-line ArgumentError) a checkpoint whose position does not lie within `run` or
 * disagrees with itself: epochs ≤ maxEpochs, a step within an epoch, and the data position, the
 * schedule's step and the metrics all at that same position.
 */
export function checkPosition(ckpt: TrainingCheckpoint, run: RunShape): void {
  const { epoch, stepInEpoch: step } = ckpt;
  if (epoch > run.maxEpochs || (epoch === run.maxEpochs && step > 0)) {
    throw new ArgumentError(
      `the checkpoint is at epoch ${epoch}${step > 0 ? `, step ${step}` : ''}, beyond this run's ${run.maxEpochs} epochs; ` +
        `resume it with ${step > 0 ? epoch + 1 : epoch} or more epochs.`,
    );
  }
  if (step >= run.stepsPerEpoch) {
    throw new ArgumentError(
      `the checkpoint is at step ${step} of an epoch of ${run.stepsPerEpoch} steps; it does not belong to this run.`,
    );
  }
  if (ckpt.data.position !== Math.min(step * run.batchSize, run.numTrain)) {
    throw new ArgumentError(
      `the checkpoint's data position ${ckpt.data.position} does not match its step ${step}; it is inconsistent. Delete it or start without resuming.`,
    );
  }
  const position = epoch * run.stepsPerEpoch + step;
  if (ckpt.lrSchedule !== undefined && ckpt.lrSchedule.step !== position) {
    throw new ArgumentError(
      `the checkpoint's learning-rate schedule is at step ${ckpt.lrSchedule.step} but its position is step ${position}; it is inconsistent. Delete it or start without resuming.`,
    );
  }
  if (ckpt.metrics.epochs.length !== epoch) {
    throw new ArgumentError(
      `the checkpoint is at epoch ${epoch} but holds metrics of ${ckpt.metrics.epochs.length} epochs; it is inconsistent. Delete it or start without resuming.`,
    );
  }
}
