/**
 * d2l.Trainer: `fit(model, data)` runs `model.train()` before each epoch's steps and `model.eval()`
 * before validation (the only place modes flip), one tidy scope per step so memory stays flat, and
 * records the book's curves on a ProgressBoard.
 */
import type { Batch, DataModule } from '../data/dataModule.js';
import { ArgumentError, InterruptedError, NumericError, formatValue } from '../errors.js';
import type { StateDict } from '../nn/module.js';
import type { Optimizer } from '../optim/optimizer.js';
import { checkWarmupCosine, warmupCosine, type LrScheduleOptions } from '../optim/schedule.js';
import { Generator, defaultGenerator, type GeneratorState } from '../random/generator.js';
import { noGrad, tidy } from '../tensor/engine.js';
import type { Tensor } from '../tensor/tensor.js';
import { checkCompatible, type RunIdentity } from './checkpoint/compatibility.js';
import type { ConfigValue, PartialEpoch, TrainingCheckpoint } from './checkpoint/types.js';
import type { TrainableModule } from './module.js';
import type { EpochMetrics } from './epochMetrics.js';
import { ProgressBoard } from './progressBoard.js';

// The Trainer produces EpochMetrics; they live in their own file so that checkpoints can hold them.
export type { EpochMetrics } from './epochMetrics.js';

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
  /**
   * Stops training after the current step when aborted (e.g. on Ctrl-C): with a checkpointer, a
   * checkpoint of that exact step is saved first; then `fit` rejects with an InterruptedError whose
   * signal is the abort reason ('SIGINT' or 'SIGTERM').
   */
  signal?: AbortSignal | undefined;
}

/** Where a restored run continues: the epoch (0-based), the steps already done in it and their sums. */
interface StartPoint {
  readonly epoch: number;
  readonly step: number;
  readonly partial: PartialEpoch | undefined;
}

/** Where the Trainer sends checkpoints (saved at epoch boundaries). */
export interface Checkpointer {
  /** Stores one checkpoint; the Trainer awaits it before the next epoch. */
  save(checkpoint: TrainingCheckpoint): Promise<void> | void;
}

/** What `fit` returns: per-epoch metrics and the board of plotted points. */
export interface FitResult {
  readonly epochs: EpochMetrics[];
  readonly board: ProgressBoard;
}

function disposeBatch(batch: Batch): void {
  batch.X.dispose();
  batch.y.dispose();
}

/** The data module's shuffle generator, when it has one (FashionMNIST does). */
function shuffleGeneratorOf(data: DataModule): Generator | null {
  const g = (data as { shuffleGenerator?: unknown }).shuffleGenerator;
  return g instanceof Generator ? g : null;
}

/** A model's scalar `hparams` (d2l's saved hyperparameters), its identity in checkpoints. */
function scalarHparams(model: TrainableModule): Record<string, ConfigValue> {
  const h = (model as { hparams?: unknown }).hparams;
  const out: Record<string, ConfigValue> = {};
  if (typeof h !== 'object' || h === null) return out;
  for (const [k, v] of Object.entries(h)) {
    if (v === null || typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean') out[k] = v;
  }
  return out;
}

/** The model's name of each parameter the optimiser updates, in the optimiser's order. */
function optimizerNames(model: TrainableModule, optim: Optimizer): string[] {
  const byTensor = new Map<Tensor, string>(model.namedParameters().map(([n, p]) => [p, n]));
  return optim.params.map((p, i) => {
    const name = byTensor.get(p);
    if (name === undefined) {
      throw new ArgumentError(
        `optimizer parameter ${i} is not a parameter of the model; it cannot be checkpointed.`,
      );
    }
    return name;
  });
}

/** Buffers by parameter name, from one of an optimiser's state lists (null entries left out). */
function byName(
  names: readonly string[],
  optim: Optimizer,
  list: readonly (Float32Array | null)[],
): StateDict {
  const out: StateDict = {};
  list.forEach((v, i) => {
    if (v !== null) out[names[i]!] = { shape: [...optim.params[i]!.shape], data: v };
  });
  return out;
}

/**
 * One minibatch step in its own memory scope: loss, zeroGrad, backward, step. Resolves with the
 * loss value (read asynchronously, so it works on every backend).
 */
export async function trainStep(model: TrainableModule, optim: Optimizer, batch: Batch): Promise<number> {
  const loss = tidy(() => {
    const l = model.trainingStep(batch);
    optim.zeroGrad();
    l.backward();
    optim.step();
    return l;
  });
  const value = (await loss.data())[0]!;
  loss.dispose();
  return value;
}

/** Milliseconds between yields to the event loop while a `signal` is watched. */
const YIELD_EVERY_MS = 25;

/**
 * Lets signal handlers and timers run. A training step only awaits promises that CPU backends
 * resolve at once (microtasks), so without this a Ctrl-C handler would run only after training.
 */
function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => {
    if (typeof setImmediate === 'function') setImmediate(resolve);
    else setTimeout(resolve, 0);
  });
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

  /** The schedule over this run's steps, peaking at `lr`; null for a constant rate. Checked here. */
  private scheduleOf(lr: number, data: DataModule): RunIdentity['lrSchedule'] {
    const s = this.opts.lrSchedule;
    if (s === undefined || s.name === 'constant') return null;
    const o = {
      name: s.name,
      warmupSteps: s.warmupSteps,
      totalSteps: this.maxEpochs * data.numTrainBatches,
      minLr: s.minLr ?? 0,
    };
    checkWarmupCosine({ lr, ...o });
    return o;
  }

  /** Trains `model` on `data`; resolves with the metrics once every epoch is done. */
  async fit(model: TrainableModule, data: DataModule): Promise<FitResult> {
    this.prepareModel(model, data);
    const optim = this.optimizerOf(model);
    // The identity is taken before a schedule moves the rate: it records the peak lr.
    const id = this.identity(model, data, optim);
    const peak = optim.lr;
    const epochs: EpochMetrics[] = [];
    const stepsPerEpoch = data.numTrainBatches;
    const half = Math.max(1, Math.ceil(stepsPerEpoch / 2));
    const resume = this.opts.resumeFrom;
    const start: StartPoint =
      resume === undefined
        ? { epoch: 0, step: 0, partial: undefined }
        : this.restore(resume, model, optim, data, epochs, id);
    // The schedule's position: steps taken over the whole run (a pure function of it, so a resume
    // continues the curve exactly).
    let globalStep = start.epoch * stepsPerEpoch + start.step;
    const dataGenerator = shuffleGeneratorOf(data);
    let lastYield = performance.now();
    for (let epoch = start.epoch; epoch < this.maxEpochs; epoch++) {
      // A resumed epoch replays the part done before the interrupt: same sums, same elapsed time.
      const resumed = epoch === start.epoch ? start.partial : undefined;
      const started = performance.now() - (resumed?.seconds ?? 0) * 1000;
      this.opts.onEpochStart?.(epoch);
      model.train();
      // The shuffle generator before this epoch's permutation is drawn: with the model generator and
      // the step, all a mid-epoch checkpoint needs to repeat the rest of the epoch bit for bit.
      const epochData = dataGenerator?.getState() ?? null;
      const skip = epoch === start.epoch ? start.step : 0;
      let step = 0;
      let sum = resumed?.sum ?? 0;
      let count = resumed?.count ?? 0;
      let epochSum = resumed?.epochSum ?? 0;
      let epochCount = resumed?.epochCount ?? 0;
      for (const batch of data.trainDataloader()) {
        if (step < skip) {
          // Already trained before the interrupt: the batch is drawn (same order) but not used.
          disposeBatch(batch);
          step++;
          continue;
        }
        // ReLU maps NaN to 0, so a NaN input would not show in the loss: it would silently turn the
        // first layer's weights into NaN. Checking the batch costs one pass over it (CPU backends).
        if (batch.X.backend.syncRead && !data.inputsAreFinite) {
          try {
            batch.X.assertFinite(`the training batch at epoch ${epoch + 1}, step ${step + 1}`);
          } catch (e) {
            disposeBatch(batch);
            throw e;
          }
        }
        if (id.lrSchedule !== null) optim.lr = warmupCosine(globalStep, { lr: peak, ...id.lrSchedule });
        const value = await trainStep(model, optim, batch);
        globalStep++;
        const n = batch.y.size;
        disposeBatch(batch);
        if (!Number.isFinite(value)) {
          throw new NumericError(
            `training diverged: the loss became ${value} at epoch ${epoch + 1}, step ${step + 1}; lower the learning rate.`,
          );
        }
        sum += value * n;
        count += n;
        epochSum += value * n;
        epochCount += n;
        step++;
        this.opts.onStep?.({ epoch: epoch + 1, step, stepsPerEpoch, loss: value });
        if (step % half === 0 || step === stepsPerEpoch) {
          this.board.draw('train_loss', epoch + step / stepsPerEpoch, sum / count);
          sum = 0;
          count = 0;
        }
        if (this.opts.signal !== undefined && performance.now() - lastYield >= YIELD_EVERY_MS) {
          await yieldToEventLoop();
          lastYield = performance.now();
        }
        if (this.opts.signal?.aborted === true && step < stepsPerEpoch) {
          const partial: PartialEpoch = {
            sum,
            count,
            epochSum,
            epochCount,
            seconds: (performance.now() - started) / 1000,
          };
          await this.interrupt(model, optim, data, epochs, id, { epoch, step, epochData, partial });
        }
      }
      if (step === 0) {
        throw new ArgumentError(
          `the training loader yielded no batches in epoch ${epoch + 1}; the training set must not be empty.`,
        );
      }
      const trainSeconds = (performance.now() - started) / 1000;
      const { valLoss, valAcc } = await this.validate(model, data);
      this.board.draw('val_loss', epoch + 1, valLoss);
      this.board.draw('val_acc', epoch + 1, valAcc);
      const metrics: EpochMetrics = {
        epoch: epoch + 1,
        trainLoss: epochSum / epochCount,
        valLoss,
        valAcc,
        epochSeconds: (performance.now() - started) / 1000,
        samplesPerSecond: epochCount / trainSeconds,
      };
      epochs.push(metrics);
      this.opts.onEpochEnd?.(metrics);
      const every = this.opts.checkpointEvery;
      const aborted = this.opts.signal?.aborted === true && epoch + 1 < this.maxEpochs;
      if (every !== undefined && ((epoch + 1) % every === 0 || epoch + 1 === this.maxEpochs || aborted)) {
        await this.opts.checkpointer!.save(await this.checkpoint(model, optim, data, epochs, id));
      }
      if (aborted) {
        throw new InterruptedError(
          `interrupted after epoch ${epoch + 1}`,
          String(this.opts.signal!.reason),
          this.opts.checkpointer !== undefined,
        );
      }
    }
    return { epochs, board: this.board };
  }

  /** What the run is, for refusing a checkpoint of another model, config or data size. */
  private identity(model: TrainableModule, data: DataModule, optim: Optimizer): RunIdentity {
    return {
      modelClass: model.constructor.name,
      config: this.opts.modelConfig ?? scalarHparams(model),
      optimizer: optim.hparams(),
      lrSchedule: this.scheduleOf(optim.lr, data),
      data: { batchSize: data.batchSize, numTrain: data.numTrain, numVal: data.numVal },
      // Buffers (BatchNorm's running statistics) are state too: saved, checked and restored.
      shapes: model.namedState().map(([n, p]) => [n, [...p.shape]] as const),
    };
  }

  /** Saves a mid-epoch checkpoint (when checkpointing is on) and stops with an InterruptedError. */
  private async interrupt(
    model: TrainableModule,
    optim: Optimizer,
    data: DataModule,
    epochs: readonly EpochMetrics[],
    id: RunIdentity,
    at: { epoch: number; step: number; epochData: GeneratorState | null; partial: PartialEpoch },
  ): Promise<never> {
    const signal = String(this.opts.signal!.reason);
    const saver = this.opts.checkpointer;
    if (saver !== undefined) await saver.save(await this.checkpoint(model, optim, data, epochs, id, at));
    throw new InterruptedError(
      `interrupted at epoch ${at.epoch + 1}, step ${at.step}`,
      signal,
      saver !== undefined,
    );
  }

  /**
   * The state at the end of a finished epoch, or (with `at`) after step `at.step` of epoch
   * `at.epoch + 1`. The data order of an epoch is drawn when it starts, so a mid-epoch checkpoint
   * keeps the shuffle generator's state from before that draw: the resumed run draws the same
   * permutation, skips the steps already done and repeats the uninterrupted run bit for bit.
   */
  private async checkpoint(
    model: TrainableModule,
    optim: Optimizer,
    data: DataModule,
    epochs: readonly EpochMetrics[],
    id: RunIdentity,
    at?: { epoch: number; step: number; epochData: GeneratorState | null; partial: PartialEpoch },
  ): Promise<TrainingCheckpoint> {
    const params: StateDict = {};
    for (const [name, p] of model.namedState()) {
      const values = await p.data();
      // A checkpoint is a last good state: never write one holding NaN or Infinity.
      if (!values.every(Number.isFinite)) {
        throw new NumericError(
          `training diverged: parameter ${name} holds non-finite values after epoch ${at?.epoch ?? epochs.length}; ` +
            'the last good checkpoint is kept. Lower the learning rate.',
        );
      }
      params[name] = { shape: [...p.shape], data: values };
    }
    const names = optimizerNames(model, optim);
    const state = optim.state();
    const buffers = (key: string): StateDict => byName(names, optim, state.buffers[key] ?? []);
    const dataGenerator = shuffleGeneratorOf(data);
    const epoch = at?.epoch ?? epochs[epochs.length - 1]!.epoch;
    const stepInEpoch = at?.step ?? 0;
    return {
      modelClass: id.modelClass,
      config: id.config,
      epoch,
      stepInEpoch,
      optimizer: id.optimizer,
      ...(id.lrSchedule === null
        ? {}
        : { lrSchedule: { ...id.lrSchedule, step: epoch * data.numTrainBatches + stepInEpoch } }),
      generators: {
        model: (this.opts.generator ?? defaultGenerator).getState(),
        data: at !== undefined ? at.epochData : (dataGenerator?.getState() ?? null),
      },
      data: {
        ...id.data,
        position: at === undefined ? 0 : Math.min(at.step * data.batchSize, data.numTrain),
      },
      metrics: { epochs: [...epochs], board: [...this.board.points] },
      params,
      momentum: buffers('momentum'),
      ...(id.optimizer.name === 'AdamW'
        ? { adamw: { step: state.step, expAvg: buffers('exp_avg'), expAvgSq: buffers('exp_avg_sq') } }
        : {}),
      ...(at === undefined ? {} : { partial: at.partial }),
    };
  }

  /**
   * Checks, before any training, that `ckpt` can resume this run of `model` on `data`: the same
   * model, hyperparameters and data, and not further than `maxEpochs`. Throws a one-line ArgumentError.
   * Materialises lazy layers (drawing their initial weights), so call it on a throwaway model.
   */
  checkResume(ckpt: TrainingCheckpoint, model: TrainableModule, data: DataModule): void {
    this.prepareModel(model, data);
    const optim = this.optimizerOf(model);
    checkCompatible(ckpt, this.identity(model, data, optim));
    this.checkPosition(ckpt, data);
  }

  /** The checkpoint's position must lie within this run: epochs ≤ maxEpochs, steps within an epoch. */
  private checkPosition(ckpt: TrainingCheckpoint, data: DataModule): void {
    if (ckpt.epoch > this.maxEpochs || (ckpt.epoch === this.maxEpochs && ckpt.stepInEpoch > 0)) {
      throw new ArgumentError(
        `the checkpoint is at epoch ${ckpt.epoch}${ckpt.stepInEpoch > 0 ? `, step ${ckpt.stepInEpoch}` : ''}, beyond this run's ${this.maxEpochs} epochs; ` +
          `resume it with ${ckpt.stepInEpoch > 0 ? ckpt.epoch + 1 : ckpt.epoch} or more epochs.`,
      );
    }
    if (ckpt.stepInEpoch >= data.numTrainBatches) {
      throw new ArgumentError(
        `the checkpoint is at step ${ckpt.stepInEpoch} of an epoch of ${data.numTrainBatches} steps; it does not belong to this run.`,
      );
    }
    if (ckpt.data.position !== Math.min(ckpt.stepInEpoch * data.batchSize, data.numTrain)) {
      throw new ArgumentError(
        `the checkpoint's data position ${ckpt.data.position} does not match its step ${ckpt.stepInEpoch}; it is inconsistent. Delete it or start without resuming.`,
      );
    }
    const position = ckpt.epoch * data.numTrainBatches + ckpt.stepInEpoch;
    if (ckpt.lrSchedule !== undefined && ckpt.lrSchedule.step !== position) {
      throw new ArgumentError(
        `the checkpoint's learning-rate schedule is at step ${ckpt.lrSchedule.step} but its position is step ${position}; it is inconsistent. Delete it or start without resuming.`,
      );
    }
    if (ckpt.metrics.epochs.length !== ckpt.epoch) {
      throw new ArgumentError(
        `the checkpoint is at epoch ${ckpt.epoch} but holds metrics of ${ckpt.metrics.epochs.length} epochs; it is inconsistent. Delete it or start without resuming.`,
      );
    }
  }

  /** Loads a checkpoint into the model, optimiser, generators and board; returns where to continue. */
  private restore(
    ckpt: TrainingCheckpoint,
    model: TrainableModule,
    optim: Optimizer,
    data: DataModule,
    epochs: EpochMetrics[],
    id: RunIdentity,
  ): StartPoint {
    checkCompatible(ckpt, id);
    this.checkPosition(ckpt, data);
    const dataGenerator = shuffleGeneratorOf(data);
    if ((dataGenerator === null) !== (ckpt.generators.data === null)) {
      throw new ArgumentError(
        'checkpoint does not match this run: one has a data shuffle generator and the other does not; resume with the same data module.',
      );
    }
    model.loadStateDict(ckpt.params);
    const names = optimizerNames(model, optim);
    const list = (dict: StateDict): (Float32Array | null)[] => names.map((n) => dict[n]?.data ?? null);
    // Before version 3 only SGD was saved, and its step count was the run's position.
    const steps = ckpt.epoch * data.numTrainBatches + ckpt.stepInEpoch;
    optim.loadState(
      ckpt.adamw === undefined
        ? { step: steps, buffers: { momentum: list(ckpt.momentum) } }
        : {
            step: ckpt.adamw.step,
            buffers: { exp_avg: list(ckpt.adamw.expAvg), exp_avg_sq: list(ckpt.adamw.expAvgSq) },
          },
    );
    (this.opts.generator ?? defaultGenerator).setState(ckpt.generators.model);
    if (dataGenerator !== null) dataGenerator.setState(ckpt.generators.data!);
    epochs.push(...ckpt.metrics.epochs);
    this.board.points.push(...ckpt.metrics.board);
    return { epoch: ckpt.epoch, step: ckpt.stepInEpoch, partial: ckpt.partial };
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
