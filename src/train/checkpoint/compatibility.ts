/** Compatibility: a checkpoint resumes only the run it came from. */
import { ArgumentError, formatShape } from '../../errors.js';
import type {
  ConfigValue,
  DataPosition,
  LrScheduleState,
  OptimizerHparams,
  TrainingCheckpoint,
} from './types.js';

/** What a run is, for comparing against a checkpoint before resuming it. */
export interface RunIdentity {
  readonly modelClass: string;
  readonly config: Readonly<Record<string, ConfigValue>>;
  /** The optimiser as built (its lr is the schedule's peak). */
  readonly optimizer: OptimizerHparams;
  /** The warm-up + cosine schedule over the run's steps; null for a constant rate. */
  readonly lrSchedule: Omit<LrScheduleState, 'step'> | null;
  readonly data: Omit<DataPosition, 'position'>;
  /** Parameter names and shapes, in order. */
  readonly shapes: readonly (readonly [string, readonly number[]])[];
}

const describeConfig = (c: Readonly<Record<string, ConfigValue>>): string =>
  Object.entries(c)
    .map(([k, v]) => `${k}=${String(v)}`)
    .join(', ');

/**
 * Throws a one-line ArgumentError if `ckpt` was not written by a run like `run` (another model class,
 * other hyperparameters, optimiser, batch size or data size, other parameter shapes).
 */
export function checkCompatible(ckpt: TrainingCheckpoint, run: RunIdentity, name = 'checkpoint'): void {
  const refuse = (what: string): never => {
    throw new ArgumentError(
      `${name} does not match this run: ${what}; resume with the same model and hyperparameters, or start without resuming.`,
    );
  };
  if (ckpt.modelClass !== run.modelClass) {
    refuse(`it holds a ${ckpt.modelClass} but this run trains a ${run.modelClass}`);
  }
  // First: the other hyperparameters (lr, weight decay) differ too, but this is the reason.
  if (ckpt.optimizer.name !== run.optimizer.name) {
    refuse(
      `it was trained with ${ckpt.optimizer.name} but this run uses ${run.optimizer.name} (an optimiser's state does not carry over to another)`,
    );
  }
  const keys = new Set([...Object.keys(ckpt.config), ...Object.keys(run.config)]);
  for (const k of keys) {
    if (ckpt.config[k] !== run.config[k]) {
      refuse(
        `${k} is ${String(ckpt.config[k])} in the checkpoint but ${String(run.config[k])} here ` +
          `(checkpoint: ${describeConfig(ckpt.config)})`,
      );
    }
  }
  const saved = ckpt.optimizer as unknown as Readonly<Record<string, unknown>>;
  const here = run.optimizer as unknown as Readonly<Record<string, unknown>>;
  for (const k of Object.keys(here)) {
    if (JSON.stringify(saved[k]) !== JSON.stringify(here[k])) {
      refuse(`optimizer ${k} is ${String(saved[k])} in the checkpoint but ${String(here[k])} here`);
    }
  }
  // A cosine spans the whole run, so a resume that trains longer would follow another curve: refused.
  const schedule = (s: Omit<LrScheduleState, 'step'> | null | undefined): string =>
    s == null
      ? 'a constant learning rate'
      : `warm-up + cosine over ${s.totalSteps} steps (${s.warmupSteps} warm-up, floor ${s.minLr})`;
  if (schedule(ckpt.lrSchedule) !== schedule(run.lrSchedule)) {
    refuse(`its learning rate follows ${schedule(ckpt.lrSchedule)}, this run's ${schedule(run.lrSchedule)}`);
  }
  for (const k of ['batchSize', 'numTrain', 'numVal'] as const) {
    if (ckpt.data[k] !== run.data[k])
      refuse(`data ${k} is ${ckpt.data[k]} in the checkpoint but ${run.data[k]} here`);
  }
  const names = Object.keys(ckpt.params);
  if (names.join('\n') !== run.shapes.map(([n]) => n).join('\n')) {
    refuse(
      `its parameters are [${names.join(', ')}] but the model's are [${run.shapes.map(([n]) => n).join(', ')}]`,
    );
  }
  for (const [n, shape] of run.shapes) {
    const saved = ckpt.params[n]!.shape;
    if (formatShape(saved) !== formatShape(shape)) {
      refuse(`${n} has shape ${formatShape(saved)} in the checkpoint but ${formatShape(shape)} in the model`);
    }
  }
}
