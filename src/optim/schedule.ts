/**
 * Learning-rate schedules as pure functions of the global step, so a resumed run recomputes the rate
 * from the step it resumes at and a checkpoint needs only the schedule's hyperparameters.
 */
import { ArgumentError, formatValue } from '../errors.js';

/** Linear warm-up then cosine decay (the Transformers' default schedule). */
export interface WarmupCosineOptions {
  /** The peak rate, reached at the end of warm-up. */
  readonly lr: number;
  /** Steps of linear warm-up from 0 to `lr`. */
  readonly warmupSteps: number;
  /** Total steps; the cosine reaches `minLr` here and stays there. */
  readonly totalSteps: number;
  /** The floor of the decay (default 0). */
  readonly minLr?: number | undefined;
}

/** Checks a schedule's options once, where they enter; throws one ArgumentError line. */
export function checkWarmupCosine(o: WarmupCosineOptions): void {
  const { lr, warmupSteps, totalSteps, minLr = 0 } = o;
  if (!(Number.isFinite(lr) && lr > 0))
    throw new ArgumentError(`warmupCosine: lr must be positive, got ${formatValue(lr)}.`);
  if (!(Number.isInteger(warmupSteps) && warmupSteps >= 0))
    throw new ArgumentError(
      `warmupCosine: warmupSteps must be an integer ≥ 0, got ${formatValue(warmupSteps)}.`,
    );
  if (!(Number.isInteger(totalSteps) && totalSteps >= warmupSteps))
    throw new ArgumentError(
      `warmupCosine: totalSteps must be an integer ≥ warmupSteps (${warmupSteps}), got ${formatValue(totalSteps)}.`,
    );
  if (!(Number.isFinite(minLr) && minLr >= 0 && minLr <= lr))
    throw new ArgumentError(`warmupCosine: minLr must be in [0, lr], got ${formatValue(minLr)}.`);
}

/**
 * The rate of step `step` (0-based): lr·(step + 1)/warmupSteps during warm-up (so the first step does
 * not waste itself at rate 0), then minLr + (lr − minLr)·(1 + cos(π·progress))/2 with progress =
 * (step − warmupSteps)/(totalSteps − warmupSteps), clamped to 1 past the end.
 */
export function warmupCosine(step: number, o: WarmupCosineOptions): number {
  const { lr, warmupSteps, totalSteps, minLr = 0 } = o;
  if (step < warmupSteps) return (lr * (step + 1)) / warmupSteps;
  const span = totalSteps - warmupSteps;
  const progress = span === 0 ? 1 : Math.min(1, (step - warmupSteps) / span);
  return minLr + ((lr - minLr) * (1 + Math.cos(Math.PI * progress))) / 2;
}

/** A learning-rate schedule as a Trainer takes it: constant, or warm-up + cosine over the whole run. */
export type LrScheduleOptions =
  | { readonly name: 'constant' }
  | {
      readonly name: 'warmup-cosine';
      /** Steps of linear warm-up (optimizer steps, not epochs). */
      readonly warmupSteps: number;
      /** The floor of the decay (default 0). */
      readonly minLr?: number | undefined;
    };

/**
 * A warm-up + cosine schedule as a checkpoint records it: its shape (the peak is the optimiser's lr),
 * the run's total steps and its position, the steps already taken.
 */
export interface LrScheduleState {
  readonly name: 'warmup-cosine';
  readonly warmupSteps: number;
  readonly totalSteps: number;
  readonly minLr: number;
  /** Steps taken: the next step's rate is warmupCosine(step, …). */
  readonly step: number;
}
