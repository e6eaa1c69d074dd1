/**
 * The check of a whole RunConfig against the option table and the rules between its fields, where a
 * config enters the library (resolve.ts for every command and the lab's form; checkExperiment for a
 * config that crosses a process).
 */
import { ArgumentError } from '../errors.js';
import type { RunConfig } from './config.js';
import { checkDropoutSchedule } from '../train/dropoutSchedule.js';
import { modelEntry } from './models.js';
import { describeLimits, validValue } from './optionParse.js';
import { RUN_OPTIONS } from './optionTable.js';

/**
 * Validates a whole RunConfig where it enters the library (a worker's job, a page's message, a
 * library caller's object): each field against the table, then the rules between fields. One line
 * naming the field and the fix.
 */
export function checkRun(c: RunConfig): void {
  for (const o of RUN_OPTIONS) {
    const v = c[o.key];
    if (!validValue(o, v)) {
      throw new ArgumentError(
        `run config: ${o.key} must be ${describeLimits(o).replace(/^a number /, '')}${o.kind !== 'choice' && o.zeroMeans ? ` (or 0: ${o.zeroMeans})` : ''}, got ${JSON.stringify(v)}.`,
      );
    }
  }
  const extra = Object.keys(c).filter((k) => !RUN_OPTIONS.some((o) => o.key === k));
  if (extra.length > 0) {
    throw new ArgumentError(
      `run config: unknown field ${extra.join(', ')}; the fields are ${RUN_OPTIONS.map((o) => o.key).join(', ')}.`,
    );
  }
  if (c.variant === 'gaussian' && (c.dropout1 === 1 || c.dropout2 === 1)) {
    throw new ArgumentError(
      'run config: gaussian dropout needs p < 1 (its variance p/(1 − p) is infinite at 1).',
    );
  }
  if (c.dropMode !== 'standard' && (c.variant !== 'bernoulli' || c.dropConnect !== 0)) {
    throw new ArgumentError(
      `run config: drop mode ${c.dropMode} schedules nn.Dropout's p only; use variant bernoulli and dropConnect 0 with it.`,
    );
  }
  checkDropoutSchedule({ mode: c.dropMode, schedule: c.dropSchedule, cutoffEpoch: c.cutoffEpoch });
  if (c.optimizer === 'adamw' && (c.momentum !== 0 || c.maxNorm !== 0)) {
    throw new ArgumentError(
      `run config: ${c.momentum !== 0 ? 'momentum' : 'maxNorm'} is SGD's; with optimizer adamw set it to 0 (AdamW's momentum is beta1).`,
    );
  }
  if (c.lrSchedule === 'warmup-cosine' && c.warmupEpochs > c.epochs) {
    throw new ArgumentError(
      `run config: warmupEpochs ${c.warmupEpochs} exceeds the run's ${c.epochs} epochs; warm up for at most epochs.`,
    );
  }
  modelEntry(c.model).check?.(c);
}
