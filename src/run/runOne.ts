/**
 * One run, the same on every surface: seed the generators, build the model from the registry, train
 * it with d2l's Trainer (checkpointing and resuming with the run's identity), and return its epochs,
 * curve points and summary. The CLI, the experiment workers and the lab's Web Worker all train
 * through here, so the same RunConfig gives the same numbers everywhere. Platform-neutral: files are
 * the caller's (src/node/ writes them).
 */
import { ArgumentError } from '../errors.js';
import { FashionMNIST, type FashionMnistArrays } from '../data/fashionMnist.js';
import { manualSeed } from '../random/generator.js';
import type { TrainingCheckpoint } from '../train/checkpoint.js';
import type { Classifier, TrainableModule } from '../train/module.js';
import type { BoardPoint, ProgressBoard } from '../train/progressBoard.js';
import { dropoutScheduler } from '../train/dropoutSchedule.js';
import { trainStepsPerEpoch } from '../train/lastBatch.js';
import { Trainer, type Checkpointer, type EpochMetrics, type StepInfo } from '../train/trainer.js';
import type { RunConfig } from './config.js';
import { buildModel } from './models.js';
import { canonicalConfig, checkpointIdentity, upgradeIdentity } from './options.js';
import { runOptimizer, runSchedule } from './optimizer.js';
import { useRDrop } from './rdrop.js';

/** What a caller may add to a run: progress, per-epoch analysis, checkpoints, interruption. */
export interface RunHooks {
  /** After every training step (progress bars, the lab's masks and pause). */
  onStep?: ((info: StepInfo, board: ProgressBoard) => void) | undefined;
  /** After every epoch's validation, with the model in eval mode (e.g. extra metrics). */
  onEpochEnd?: ((metrics: EpochMetrics, model: Classifier, board: ProgressBoard) => void) | undefined;
  /** Called with the fresh model before training (e.g. loading initial weights). */
  onModel?: ((model: Classifier) => void) | undefined;
  /** Save a checkpoint every N epochs through `checkpointer`. */
  checkpointEvery?: number | undefined;
  checkpointer?: Checkpointer | undefined;
  /** Continue from this checkpoint (refused, naming the field, if it is another run's). */
  resumeFrom?: TrainingCheckpoint | undefined;
  /** One-line notes on how the run uses its data (e.g. a last batch of one left out under BatchNorm). */
  onNote?: ((line: string) => void) | undefined;
  /** Stop after the current step (saving a checkpoint when checkpointing). */
  signal?: AbortSignal | undefined;
  /** Keep the trained model in the result (the caller then frees it); by default its memory is freed. */
  keepModel?: boolean | undefined;
  /** Runs with the trained model before it is freed (e.g. saving its weights). */
  afterFit?: ((model: Classifier) => Promise<void>) | undefined;
}

/** Final figures of one run (the JSON-lines `summary` event). */
export interface RunSummary {
  readonly model: string;
  readonly epochs: number;
  readonly trainLoss: number;
  readonly valLoss: number;
  readonly valAcc: number;
  /** val_loss − train_loss at the last epoch (train_loss measured in training mode, as the book plots it). */
  readonly gap: number;
  /** Mean wall-clock seconds of the epochs this process trained (a resume restores the others). */
  readonly secondsPerEpoch: number;
}

/** What a run returns. */
export interface RunResult {
  readonly config: RunConfig;
  /** Every epoch of the run, also those a resumed run restored from its checkpoint. */
  readonly epochs: readonly EpochMetrics[];
  /** The book's curves: train_loss per step, val_loss and val_acc per epoch. */
  readonly points: readonly BoardPoint[];
  readonly summary: RunSummary;
  /** The trained model, when `keepModel` was set. */
  readonly model?: Classifier;
}

/** The Fashion-MNIST data module of a run: its batch size and subsets of the raw arrays. */
export function runData(raw: FashionMnistArrays, c: RunConfig): FashionMNIST {
  return new FashionMNIST(raw, {
    batchSize: c.batchSize,
    ...(c.trainLimit > 0 ? { trainLimit: c.trainLimit } : {}),
    ...(c.valLimit > 0 ? { valLimit: c.valLimit } : {}),
  });
}

/** Seeds a run: the seed fixes the initial weights and masks; the shuffle has its own stream. */
function seedRun(c: RunConfig, data: FashionMNIST): void {
  manualSeed(c.seed);
  data.shuffleGenerator.manualSeed(c.seed + 2 ** 32);
}

/**
 * The Trainer's options that make it this run's: the identity its checkpoints carry, the optimiser
 * and the learning-rate schedule (built from the canonical form, in the steps the Trainer takes).
 */
function runTrainerOptions(c: RunConfig, data: FashionMNIST, model: TrainableModule) {
  const canon = canonicalConfig(c);
  return {
    maxEpochs: c.epochs,
    // The run's description is the checkpoint's identity: a checkpoint of another run is refused.
    modelConfig: checkpointIdentity(c),
    configureOptimizers: (m: TrainableModule) => runOptimizer(m, canon),
    lrSchedule: runSchedule(canon, trainStepsPerEpoch(model, data)),
  };
}

/** A checkpoint as this version reads it: an older one's identity gains the rows added since. */
function upgraded(ckpt: TrainingCheckpoint): TrainingCheckpoint {
  return { ...ckpt, config: upgradeIdentity(ckpt.config) };
}

function freeModel(model: Classifier): void {
  for (const p of model.namedState().map(([, t]) => t)) p.dispose();
}

/**
 * Refuses, before any training, a checkpoint that is not this run's (another seed, model, size,
 * hyperparameter or data subset): one line naming the field.
 */
export function checkResumable(c: RunConfig, ckpt: TrainingCheckpoint, data: FashionMNIST): void {
  const seed = ckpt.generators.model.seed;
  if (seed !== c.seed) {
    throw new ArgumentError(
      `the checkpoint was trained with seed ${seed}, this run has seed ${c.seed}; use seed ${seed} to continue it.`,
    );
  }
  manualSeed(c.seed);
  const probe = buildModel(c);
  try {
    new Trainer(runTrainerOptions(c, data, probe)).checkResume(upgraded(ckpt), probe, data);
  } finally {
    freeModel(probe);
  }
}

/**
 * Trains one run on `data` (see {@link runData}); resolves with its epochs, curves and summary. `c` is
 * trusted: it comes from resolveRuns (./resolve.ts), or from checkExperiment where a config crosses
 * a process (a pool's worker, a queue's job); nothing here checks it again.
 */
export async function runOne(c: RunConfig, data: FashionMNIST, hooks: RunHooks = {}): Promise<RunResult> {
  seedRun(c, data);
  const model = buildModel(c);
  let kept = false;
  try {
    hooks.onModel?.(model);
    // The canonical form: a model without dropout records (and trains) no schedule and no R-Drop.
    const noise = canonicalConfig(c);
    if (noise.rdropAlpha > 0) useRDrop(model, noise.rdropAlpha);
    // Early/late dropout sets each nn.Dropout's p before every epoch, also the epoch a resume starts in.
    const schedule =
      noise.dropMode === 'standard'
        ? undefined
        : dropoutScheduler(model, {
            mode: noise.dropMode,
            schedule: noise.dropSchedule,
            cutoffEpoch: noise.cutoffEpoch,
          });
    const trainer: Trainer = new Trainer({
      ...runTrainerOptions(c, data, model),
      checkpointEvery: hooks.checkpointEvery,
      checkpointer: hooks.checkpointer,
      resumeFrom: hooks.resumeFrom && upgraded(hooks.resumeFrom),
      signal: hooks.signal,
      onNote: hooks.onNote,
      onEpochStart: schedule,
      onStep: hooks.onStep && ((info) => hooks.onStep!(info, trainer.board)),
      onEpochEnd: hooks.onEpochEnd && ((m) => hooks.onEpochEnd!(m, model, trainer.board)),
    });
    const result = await trainer.fit(model, data);
    await hooks.afterFit?.(model);
    const epochs = result.epochs;
    const last = epochs[epochs.length - 1]!;
    const trained = epochs.slice(hooks.resumeFrom?.epoch ?? 0);
    const summary: RunSummary = {
      model: c.model,
      epochs: epochs.length,
      trainLoss: last.trainLoss,
      valLoss: last.valLoss,
      valAcc: last.valAcc,
      gap: last.valLoss - last.trainLoss,
      secondsPerEpoch:
        trained.length === 0 ? Number.NaN : trained.reduce((s, e) => s + e.epochSeconds, 0) / trained.length,
    };
    kept = hooks.keepModel === true;
    return { config: c, epochs, points: result.board.points, summary, ...(kept ? { model } : {}) };
  } finally {
    if (!kept) freeModel(model);
  }
}
