/**
 * What a training checkpoint holds: everything needed to resume a run bit for bit. The container
 * (container.ts) turns it into bytes, the schema (schema.ts) into its JSON header, and the
 * compatibility check (compatibility.ts) compares it with a run; the Trainer builds and restores it.
 */
import type { StateDict } from '../../nn/module.js';
import type { OptimizerHparams } from '../../optim/optimizer.js';
import type { LrScheduleState } from '../../optim/schedule.js';
import type { GeneratorState } from '../../random/generator.js';
import type { EpochMetrics } from '../epochMetrics.js';
import type { BoardPoint } from '../progressBoard.js';

/** A JSON-safe hyperparameter value. */
export type ConfigValue = number | string | boolean | null;

// The optimiser's hyperparameters (SGD or AdamW) are optim's; a checkpoint records them as they are.
export type { OptimizerHparams } from '../../optim/optimizer.js';
export type { LrScheduleState } from '../../optim/schedule.js';

/** AdamW's state (version 3): steps taken and both moments by parameter name (only those that exist). */
export interface AdamWCheckpointState {
  readonly step: number;
  readonly expAvg: StateDict;
  readonly expAvgSq: StateDict;
}

/** Where the data order stands and what it depends on. */
export interface DataPosition {
  readonly batchSize: number;
  readonly numTrain: number;
  readonly numVal: number;
  /** Training examples already consumed in the current epoch (0 at an epoch boundary). */
  readonly position: number;
}

/**
 * The running sums of an epoch interrupted after some steps (version 2), so the resumed epoch reports
 * the same train_loss as an uninterrupted one: the half-epoch board accumulator, the epoch's, and
 * the seconds spent so far.
 */
export interface PartialEpoch {
  readonly sum: number;
  readonly count: number;
  readonly epochSum: number;
  readonly epochCount: number;
  readonly seconds: number;
}

/** Everything a run needs to continue exactly where it stopped. */
export interface TrainingCheckpoint {
  /** The model's class name, e.g. `DropoutMLP`. */
  readonly modelClass: string;
  /** The model's hyperparameters (its `hparams`), compared on resume. */
  readonly config: Readonly<Record<string, ConfigValue>>;
  /** Epochs completed. */
  readonly epoch: number;
  /** Steps completed in the current epoch (0 at an epoch boundary; always 0 in version 1). */
  readonly stepInEpoch: number;
  /** The interrupted epoch's running sums; present exactly when stepInEpoch > 0. */
  readonly partial?: PartialEpoch | undefined;
  /** The optimiser's hyperparameters; with a schedule, `lr` is its peak (the rate it was built with). */
  readonly optimizer: OptimizerHparams;
  /** The warm-up + cosine schedule and its position (version 3); absent: a constant rate. */
  readonly lrSchedule?: LrScheduleState | undefined;
  /**
   * The model's generator (dropout masks) and the data module's shuffle generator (null if none); the
   * latter as it was when the current epoch started (before its permutation was drawn).
   */
  readonly generators: { readonly model: GeneratorState; readonly data: GeneratorState | null };
  readonly data: DataPosition;
  /** Per-epoch metrics and ProgressBoard points so far. */
  readonly metrics: { readonly epochs: readonly EpochMetrics[]; readonly board: readonly BoardPoint[] };
  /** Parameter values by dotted name (loadable with `Module.loadStateDict`). */
  readonly params: StateDict;
  /** SGD momentum buffers by parameter name (only those that exist). */
  readonly momentum: StateDict;
  /** AdamW's step count and moments; present exactly when `optimizer.name` is 'AdamW'. */
  readonly adamw?: AdamWCheckpointState | undefined;
}

/** Where the Trainer sends checkpoints (`checkpointDir(dir)` from `dropout-lab/node` writes them atomically). */
export interface Checkpointer {
  /** Stores one checkpoint; the Trainer awaits it before it goes on. */
  save(checkpoint: TrainingCheckpoint): Promise<void> | void;
}
