/**
 * A run's identity: what a checkpoint must match to resume it (model class and hyperparameters, the
 * optimiser, the learning-rate schedule over the run's steps, the data's sizes, the state's shapes).
 */
import type { DataModule } from '../../data/dataModule.js';
import type { Optimizer } from '../../optim/optimizer.js';
import { checkWarmupCosine, type LrScheduleOptions } from '../../optim/schedule.js';
import type { TrainableModule } from '../module.js';
import type { RunIdentity } from './compatibility.js';
import type { ConfigValue } from './types.js';

/** What besides the model, optimiser and data names a run. */
export interface IdentityOptions {
  /** The model's identity (default: its scalar `hparams`). */
  readonly modelConfig?: Readonly<Record<string, ConfigValue>> | undefined;
  /** The schedule (default constant); checked here against the optimiser's lr. */
  readonly lrSchedule?: LrScheduleOptions | undefined;
  /** The run's length: a cosine spans all of its steps. */
  readonly maxEpochs: number;
  readonly stepsPerEpoch: number;
}

/** A model's scalar `hparams` (d2l's saved hyperparameters), its identity in checkpoints. */
export function scalarHparams(model: TrainableModule): Record<string, ConfigValue> {
  const h = (model as { hparams?: unknown }).hparams;
  const out: Record<string, ConfigValue> = {};
  if (typeof h !== 'object' || h === null) return out;
  for (const [k, v] of Object.entries(h)) {
    if (v === null || typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean') out[k] = v;
  }
  return out;
}

/** The schedule over the run's steps, peaking at `lr`; null for a constant rate. Checked here. */
function scheduleOf(lr: number, o: IdentityOptions): RunIdentity['lrSchedule'] {
  const s = o.lrSchedule;
  if (s === undefined || s.name === 'constant') return null;
  const schedule = {
    name: s.name,
    warmupSteps: s.warmupSteps,
    totalSteps: o.maxEpochs * o.stepsPerEpoch,
    minLr: s.minLr ?? 0,
  };
  checkWarmupCosine({ lr, ...schedule });
  return schedule;
}

/**
 * The identity of a run of `model` on `data` with `optim`. Take it before a schedule moves the rate:
 * it records the optimiser's lr as the peak.
 */
export function runIdentity(
  model: TrainableModule,
  data: DataModule,
  optim: Optimizer,
  o: IdentityOptions,
): RunIdentity {
  return {
    modelClass: model.constructor.name,
    config: o.modelConfig ?? scalarHparams(model),
    optimizer: optim.hparams(),
    lrSchedule: scheduleOf(optim.lr, o),
    data: { batchSize: data.batchSize, numTrain: data.numTrain, numVal: data.numVal },
    // Buffers (BatchNorm's running statistics) are state too: saved, checked and restored.
    shapes: model.namedState().map(([n, p]) => [n, [...p.shape]] as const),
  };
}
