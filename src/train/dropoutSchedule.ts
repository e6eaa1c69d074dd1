/**
 * Dropout schedules of Liu et al., "Dropout Reduces Underfitting" (ICML 2023,
 * https://arxiv.org/abs/2303.01500; their `--drop_mode`, `--drop_schedule`, `--cutoff_epoch`):
 * early dropout (on for the first epochs, then off) counters underfitting, late dropout (off, then
 * on) counters overfitting. Applied per epoch here; the paper's code steps per iteration.
 */
import { ArgumentError } from '../errors.js';
import { isDropoutModule } from '../nn/mcDropout.js';
import { Dropout } from '../nn/layers.js';
import type { Module } from '../nn/module.js';

/** standard: p every epoch; early: p before `cutoffEpoch`, then 0; late: 0 before, then p. */
export type DropMode = 'standard' | 'early' | 'late';
/** constant: p while on; linear (early only): p ramps linearly down to 0 over the early epochs. */
export type DropSchedule = 'constant' | 'linear';

/** A dropout schedule; `cutoffEpoch` (epochs, ≥ 0) is needed by early and late. */
export interface DropoutScheduleConfig {
  readonly mode: DropMode;
  readonly schedule?: DropSchedule;
  readonly cutoffEpoch?: number;
}

/** Throws a one-line ArgumentError for an inconsistent schedule. */
export function checkDropoutSchedule(config: DropoutScheduleConfig): void {
  const { mode, schedule = 'constant', cutoffEpoch } = config;
  if (!['standard', 'early', 'late'].includes(mode)) {
    throw new ArgumentError(`drop mode must be standard, early or late, got ${String(mode)}.`);
  }
  if (!['constant', 'linear'].includes(schedule)) {
    throw new ArgumentError(`drop schedule must be constant or linear, got ${String(schedule)}.`);
  }
  if (schedule === 'linear' && mode !== 'early') {
    throw new ArgumentError(
      `the linear drop schedule applies to early dropout only (as in Liu et al.'s code), not ${mode}; use constant.`,
    );
  }
  if (mode !== 'standard' && !(Number.isInteger(cutoffEpoch) && cutoffEpoch! >= 0)) {
    throw new ArgumentError(
      `${mode} dropout needs cutoffEpoch, a non-negative integer of epochs, got ${String(cutoffEpoch)}; e.g. 5.`,
    );
  }
}

/**
 * The dropout rate at 0-based `epoch` for base rate `p`. Early + linear is NumPy's
 * linspace(p, 0, cutoff) over the early epochs: p·(1 − epoch/(cutoff − 1)), reaching 0 at the last one.
 */
export function dropRateAt(p: number, epoch: number, config: DropoutScheduleConfig): number {
  checkDropoutSchedule(config);
  if (!(Number.isInteger(epoch) && epoch >= 0)) {
    throw new ArgumentError(`dropRateAt: epoch must be a non-negative integer, got ${epoch}.`);
  }
  const cutoff = config.cutoffEpoch ?? 0;
  if (config.mode === 'standard') return p;
  if (config.mode === 'late') return epoch < cutoff ? 0 : p;
  if (epoch >= cutoff) return 0;
  if ((config.schedule ?? 'constant') === 'constant' || cutoff === 1) return p;
  return p * (1 - epoch / (cutoff - 1));
}

/**
 * A per-epoch hook (the Trainer's `onEpochStart`) that sets every nn.Dropout of `model` to its
 * scheduled rate, relative to the rate it has now. Other dropout kinds (variants, DropConnect, the
 * scratch model's built-in dropout) would silently ignore the schedule, so they are refused.
 */
export function dropoutScheduler(model: Module, config: DropoutScheduleConfig): (epoch: number) => void {
  checkDropoutSchedule(config);
  const layers: [Dropout, number][] = [];
  const visit = (m: Module, name: string): void => {
    if (m instanceof Dropout) layers.push([m, m.p]);
    else if (isDropoutModule(m)) {
      throw new ArgumentError(
        `dropout schedules set nn.Dropout layers only, but ${name || 'the model'} (${m.constructor.name}) ` +
          'applies dropout another way; build the model with nn.Dropout.',
      );
    }
    for (const [child, sub] of m.namedChildren()) visit(sub, name ? `${name}.${child}` : child);
  };
  visit(model, '');
  return (epoch) => {
    for (const [layer, p] of layers) layer.p = dropRateAt(p, epoch, config);
  };
}
