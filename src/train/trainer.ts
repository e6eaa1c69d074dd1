/**
 * d2l.Trainer: `fit(model, data)` runs `model.train()` before each epoch's steps and `model.eval()`
 * before validation (the only place modes flip), one tidy scope per step so memory stays flat, and
 * records the book's curves on a ProgressBoard.
 */
import type { Batch, DataModule } from '../data/dataModule.js';
import { ArgumentError, NumericError, formatValue } from '../errors.js';
import type { Optimizer } from '../optim/optimizer.js';
import { warmupCosine, type LrScheduleOptions } from '../optim/schedule.js';
import { defaultGenerator, type Generator } from '../random/generator.js';
import { noGrad, tidy } from '../tensor/engine.js';
import { captureCheckpoint } from './checkpoint/capture.js';
import { runIdentity } from './checkpoint/identity.js';
import { interrupt } from './checkpoint/interrupt.js';
import {
  afterStep,
  globalStep,
  isMidEpoch,
  nextEpoch,
  runStart,
  trainLossPoint,
  windowCleared,
  withSeconds,
  type RunPosition,
} from './checkpoint/position.js';
import { checkResumable, restoreCheckpoint } from './checkpoint/restore.js';
import { shuffleGeneratorOf, type TrainingState } from './checkpoint/state.js';
import type { Checkpointer, ConfigValue, TrainingCheckpoint } from './checkpoint/types.js';
import type { EpochMetrics } from './epochMetrics.js';
import { lastBatchNote, trainStepsPerEpoch } from './lastBatch.js';
import type { TrainableModule } from './module.js';
import { ProgressBoard } from './progressBoard.js';
import {
  YIELD_EVERY_MS,
  disposeBatch,
  failedAt,
  remainingBatches,
  trainStep,
  yieldToEventLoop,
} from './step.js';

// The Trainer produces EpochMetrics; they live in their own file so that checkpoints can hold them.
export type { EpochMetrics } from './epochMetrics.js';
// Where checkpoints go: the checkpoint folder's, named here too for the Trainer's callers.
export type { Checkpointer } from './checkpoint/types.js';
// One minibatch step, the loop's building block, also for callers that write their own loop.
export { trainStep } from './step.js';

/** Progress of one training step, for progress bars. */
export interface StepInfo {
  readonly epoch: number;
  readonly step: number;
  readonly stepsPerEpoch: number;
  readonly loss: number;
}

/** Options of the Trainer. */
export interface TrainerOptions {
  /** Number of passes over the training data. */
  maxEpochs: number;
  /** Called after every training step. */
  onStep?: ((info: StepInfo) => void) | undefined;
  /** Called with the 0-based epoch index before each epoch's training (e.g. `dropoutScheduler`). */
  onEpochStart?: ((epoch: number) => void) | undefined;
  /** Called after every epoch's validation. */
  onEpochEnd?: ((metrics: EpochMetrics) => void) | undefined;
  /** Save a checkpoint after every N epochs (and after the last epoch); needs `checkpointer`. */
  checkpointEvery?: number | undefined;
  /** Receives each checkpoint; `checkpointDir(dir)` from `dropout-lab/node` writes them atomically. */
  checkpointer?: Checkpointer | undefined;
  /**
   * The optimiser, built after lazy layers are materialised (default `model.configureOptimizers()`);
   * the way a run picks SGD or AdamW without changing the model, as LightningCLI's --optimizer does.
   */
  configureOptimizers?: ((model: TrainableModule) => Optimizer) | undefined;
  /**
   * The learning rate per step (default constant: the optimiser's own). Warm-up + cosine sets the
   * optimiser's lr before every step from the global step, peaking at the lr it was built with and
   * reaching `minLr` at the last step of `maxEpochs`.
   */
  lrSchedule?: LrScheduleOptions | undefined;
  /** Continue this run: weights, optimiser state, generator states, epoch and metrics are restored first. */
  resumeFrom?: TrainingCheckpoint | undefined;
  /** The generator the model draws its masks from (default: the global one that `manualSeed` seeds). */
  generator?: Generator | undefined;
  /** The model's identity in checkpoints (default: its scalar `hparams`, if it has them). */
  modelConfig?: Readonly<Record<string, ConfigValue>> | undefined;
  /** Receives one-line notes on how the data is used (e.g. a last batch of one left out under BatchNorm). */
  onNote?: ((line: string) => void) | undefined;
  /**
   * Stops training after the current step when aborted (e.g. on Ctrl-C): with a checkpointer, a
   * checkpoint of that exact step is saved first; then `fit` rejects with an InterruptedError whose
   * signal is the abort reason ('SIGINT' or 'SIGTERM').
   */
  signal?: AbortSignal | undefined;
}

/** What `fit` returns: per-epoch metrics and the board of plotted points. */
export interface FitResult {
  readonly epochs: EpochMetrics[];
  readonly board: ProgressBoard;
}

/** Fits a d2l-style model to a DataModule for `maxEpochs` epochs. */
export class Trainer {
  readonly maxEpochs: number;
  readonly board = new ProgressBoard();

  /** A trainer for `maxEpochs` epochs. */
  constructor(readonly opts: TrainerOptions) {
    this.maxEpochs = opts.maxEpochs;
    const every = opts.checkpointEvery;
    if (every !== undefined) {
      if (!Number.isInteger(every) || every < 1) {
        throw new ArgumentError(
          `checkpointEvery must be a positive integer of epochs, got ${formatValue(every)}.`,
        );
      }
      if (opts.checkpointer === undefined) {
        throw new ArgumentError('checkpointEvery needs a checkpointer (e.g. checkpointDir(dir)).');
      }
    }
  }

  /** Materialises lazy layers with one forward pass in eval mode without a tape (no randomness used). */
  private prepareModel(model: TrainableModule, data: DataModule): void {
    if (!model.hasUninitializedParameters()) return;
    const first = data.valDataloader()[Symbol.iterator]().next();
    if (first.done) return;
    const wasTraining = model.training;
    noGrad(() => tidy(() => model.eval().forward(first.value.X)));
    model.train(wasTraining);
    disposeBatch(first.value);
  }

  /** The optimiser of this run (see `configureOptimizers`). */
  private optimizerOf(model: TrainableModule): Optimizer {
    return this.opts.configureOptimizers?.(model) ?? model.configureOptimizers();
  }

  /**
   * The live run of `model` on `data`: lazy layers materialised, the optimiser built and the identity
   * taken (before a schedule moves the rate: it records the peak lr).
   */
  private runState(model: TrainableModule, data: DataModule): TrainingState {
    this.prepareModel(model, data);
    const optim = this.optimizerOf(model);
    const stepsPerEpoch = trainStepsPerEpoch(model, data);
    return {
      model,
      optim,
      data,
      identity: runIdentity(model, data, optim, {
        modelConfig: this.opts.modelConfig,
        lrSchedule: this.opts.lrSchedule,
        maxEpochs: this.maxEpochs,
        stepsPerEpoch,
      }),
      generator: this.opts.generator ?? defaultGenerator,
      dataGenerator: shuffleGeneratorOf(data),
      board: this.board,
      epochs: [],
      maxEpochs: this.maxEpochs,
      stepsPerEpoch,
      batchSize: data.batchSize,
      numTrain: data.numTrain,
    };
  }

  /** Trains `model` on `data`; resolves with the metrics once every epoch is done. */
  async fit(model: TrainableModule, data: DataModule): Promise<FitResult> {
    const run = this.runState(model, data);
    const note = lastBatchNote(model, data);
    if (note !== null) this.opts.onNote?.(note);
    const resume = this.opts.resumeFrom;
    let at = resume === undefined ? runStart(run.stepsPerEpoch) : restoreCheckpoint(resume, run);
    while (at.epoch < this.maxEpochs) {
      // A resumed epoch counts the time spent on it before the interrupt.
      const started = performance.now() - at.seconds * 1000;
      this.opts.onEpochStart?.(at.epoch);
      const end = await this.trainEpoch(run, at, started);
      await this.endEpoch(run, end, started);
      at = nextEpoch(end);
      await this.atBoundary(run, at);
    }
    return { epochs: run.epochs, board: this.board };
  }

  /**
   * Trains the rest of `from`'s epoch, from its step on; returns the position at the epoch's end. An
   * abort inside the epoch saves a checkpoint of the step just done and rejects (see `signal`).
   */
  private async trainEpoch(run: TrainingState, from: RunPosition, started: number): Promise<RunPosition> {
    run.model.train();
    // The shuffle generator before this epoch's permutation is drawn: with the model generator and
    // the step, all a mid-epoch checkpoint needs to repeat the rest of the epoch bit for bit.
    const epochData = run.dataGenerator?.getState() ?? null;
    let at = from;
    let lastYield = performance.now();
    for (const batch of remainingBatches(run.data, from.step, run.stepsPerEpoch)) {
      const n = batch.y.size;
      const loss = await this.step(run, at, batch);
      at = afterStep(at, loss, n);
      this.opts.onStep?.({ epoch: at.epoch + 1, step: at.step, stepsPerEpoch: at.stepsPerEpoch, loss });
      const point = trainLossPoint(at);
      if (point !== null) {
        this.board.draw('train_loss', point.x, point.y);
        at = windowCleared(at);
      }
      if (this.opts.signal !== undefined && performance.now() - lastYield >= YIELD_EVERY_MS) {
        await yieldToEventLoop();
        lastYield = performance.now();
      }
      if (this.opts.signal?.aborted === true && isMidEpoch(at)) {
        const seconds = (performance.now() - started) / 1000;
        await interrupt(
          run,
          withSeconds(at, seconds),
          epochData,
          this.opts.signal.reason,
          this.opts.checkpointer,
        );
      }
    }
    if (at.step === 0) {
      throw new ArgumentError(
        `the training loader yielded no batches in epoch ${at.epoch + 1}; the training set must not be empty.`,
      );
    }
    return at;
  }

  /**
   * One training step at `at` (steps done before it): the batch checked, the scheduled rate set, the
   * batch freed; resolves with its loss, refusing a non-finite one.
   */
  private async step(run: TrainingState, at: RunPosition, batch: Batch): Promise<number> {
    const where = `epoch ${at.epoch + 1}, step ${at.step + 1}`;
    let loss: number;
    try {
      // ReLU maps NaN to 0, so a NaN input would not show in the loss: it would silently turn the
      // first layer's weights into NaN. Checking the batch costs one pass over it (CPU backends).
      if (batch.X.backend.syncRead && !run.data.inputsAreFinite) {
        batch.X.assertFinite(`the training batch at ${where}`);
      }
      const schedule = run.identity.lrSchedule;
      if (schedule !== null) {
        run.optim.lr = warmupCosine(globalStep(at), { lr: run.identity.optimizer.lr, ...schedule });
      }
      loss = await trainStep(run.model, run.optim, batch).catch((e: unknown) => {
        throw failedAt(e, where);
      });
    } finally {
      disposeBatch(batch);
    }
    if (!Number.isFinite(loss)) {
      throw new NumericError(
        `training diverged: the loss became ${loss} at ${where}; lower the learning rate.`,
      );
    }
    return loss;
  }

  /** Validates after `at`'s epoch, records and plots its metrics. */
  private async endEpoch(run: TrainingState, at: RunPosition, started: number): Promise<void> {
    const trainSeconds = (performance.now() - started) / 1000;
    const { valLoss, valAcc } = await this.validate(run.model, run.data).catch((e: unknown) => {
      throw failedAt(e, `the validation of epoch ${at.epoch + 1}`);
    });
    this.board.draw('val_loss', at.epoch + 1, valLoss);
    this.board.draw('val_acc', at.epoch + 1, valAcc);
    const metrics: EpochMetrics = {
      epoch: at.epoch + 1,
      trainLoss: at.sums.epochSum / at.sums.epochCount,
      valLoss,
      valAcc,
      epochSeconds: (performance.now() - started) / 1000,
      samplesPerSecond: at.sums.epochCount / trainSeconds,
    };
    run.epochs.push(metrics);
    this.opts.onEpochEnd?.(metrics);
  }

  /**
   * At an epoch boundary: an abort stops the run here (with a checkpoint when there is a
   * checkpointer) unless the run is done; otherwise a checkpoint every `checkpointEvery` epochs and
   * after the last.
   */
  private async atBoundary(run: TrainingState, at: RunPosition): Promise<void> {
    const dataState = run.dataGenerator?.getState() ?? null;
    if (this.opts.signal?.aborted === true && at.epoch < this.maxEpochs) {
      await interrupt(run, at, dataState, this.opts.signal.reason, this.opts.checkpointer);
    }
    const every = this.opts.checkpointEvery;
    if (every !== undefined && (at.epoch % every === 0 || at.epoch === this.maxEpochs)) {
      await this.opts.checkpointer!.save(await captureCheckpoint(run, at, dataState));
    }
  }

  /**
   * Checks, before any training, that `ckpt` can resume this run of `model` on `data`: the same
   * model, hyperparameters and data, and not further than `maxEpochs`. Throws a one-line ArgumentError.
   * Materialises lazy layers (drawing their initial weights), so call it on a throwaway model.
   */
  checkResume(ckpt: TrainingCheckpoint, model: TrainableModule, data: DataModule): void {
    checkResumable(ckpt, this.runState(model, data));
  }

  /** Sample-weighted validation loss and accuracy, in eval mode without a tape. */
  private async validate(
    model: TrainableModule,
    data: DataModule,
  ): Promise<{ valLoss: number; valAcc: number }> {
    model.eval();
    let loss = 0;
    let acc = 0;
    let n = 0;
    for (const batch of data.valDataloader()) {
      const r = noGrad(() => tidy(() => model.validationStep(batch)));
      const b = batch.y.size;
      disposeBatch(batch);
      // Read after the scope: on WebGPU reading is asynchronous.
      loss += (await r.loss.data())[0]! * b;
      acc += (r.acc === undefined ? Number.NaN : (await r.acc.data())[0]!) * b;
      r.loss.dispose();
      r.acc?.dispose();
      n += b;
    }
    return { valLoss: loss / n, valAcc: acc / n };
  }
}
