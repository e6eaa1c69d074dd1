/**
 * d2l.Trainer: `fit(model, data)` runs `model.train()` before each epoch's steps and `model.eval()`
 * before validation (the only place modes flip), one tidy scope per step so memory stays flat, and
 * records the book's curves on a ProgressBoard.
 */
import { NumericError } from '../errors.js';
import { noGrad, tidy } from '../tensor/engine.js';
import type { DataModule } from './dataModule.js';
import type { Batch, Module } from './module.js';
import { ProgressBoard } from './progressBoard.js';

/** Metrics of one finished epoch (the JSON-lines `epoch` event carries these). */
export interface EpochMetrics {
  /** 1-based epoch number. */
  readonly epoch: number;
  readonly trainLoss: number;
  readonly valLoss: number;
  readonly valAcc: number;
  /** Wall-clock seconds of the epoch, training and validation. */
  readonly epochSeconds: number;
  /** Training examples processed per second of training-phase time. */
  readonly samplesPerSecond: number;
}

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
  onStep?: (info: StepInfo) => void;
  /** Called after every epoch's validation. */
  onEpochEnd?: (metrics: EpochMetrics) => void;
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

/** Fits a d2l-style model to a DataModule for `maxEpochs` epochs. */
export class Trainer {
  readonly maxEpochs: number;
  readonly board = new ProgressBoard();

  /** A trainer for `maxEpochs` epochs. */
  constructor(readonly opts: TrainerOptions) {
    this.maxEpochs = opts.maxEpochs;
  }

  /** Materialises lazy layers with one forward pass in eval mode without a tape (no randomness used). */
  private prepareModel(model: Module, data: DataModule): void {
    if (!model.hasUninitializedParameters()) return;
    const first = data.valDataloader()[Symbol.iterator]().next();
    if (first.done) return;
    const wasTraining = model.training;
    noGrad(() => tidy(() => model.eval().forward(first.value.X)));
    model.train(wasTraining);
    disposeBatch(first.value);
  }

  /** Trains `model` on `data`; resolves with the metrics once every epoch is done. */
  async fit(model: Module, data: DataModule): Promise<FitResult> {
    this.prepareModel(model, data);
    const optim = model.configureOptimizers();
    const epochs: EpochMetrics[] = [];
    const stepsPerEpoch = data.numTrainBatches;
    const half = Math.max(1, Math.ceil(stepsPerEpoch / 2));
    for (let epoch = 0; epoch < this.maxEpochs; epoch++) {
      const started = performance.now();
      model.train();
      let step = 0;
      let sum = 0;
      let count = 0;
      let epochSum = 0;
      let epochCount = 0;
      for (const batch of data.trainDataloader()) {
        const loss = tidy(() => {
          const l = model.trainingStep(batch);
          optim.zeroGrad();
          l.backward();
          optim.step();
          return l;
        });
        const value = (await loss.data())[0]!;
        loss.dispose();
        const n = batch.y.size;
        disposeBatch(batch);
        if (!Number.isFinite(value)) {
          throw new NumericError(
            `training diverged: the loss became ${value} at epoch ${epoch + 1}, step ${step + 1}; lower the learning rate (--lr).`,
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
      }
      const trainSeconds = (performance.now() - started) / 1000;
      const { valLoss, valAcc } = this.validate(model, data);
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
    }
    return { epochs, board: this.board };
  }

  /** Sample-weighted validation loss and accuracy, in eval mode without a tape. */
  private validate(model: Module, data: DataModule): { valLoss: number; valAcc: number } {
    model.eval();
    let loss = 0;
    let acc = 0;
    let n = 0;
    for (const batch of data.valDataloader()) {
      const r = noGrad(() => tidy(() => model.validationStep(batch)));
      const b = batch.y.size;
      disposeBatch(batch);
      loss += r.loss * b;
      acc += (r.acc ?? Number.NaN) * b;
      n += b;
    }
    return { valLoss: loss / n, valAcc: acc / n };
  }
}
