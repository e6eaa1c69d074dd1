/** d2l.DataModule: where minibatches come from, for training and for validation. */
// Kept in the .d.ts (preserve): consumers on lib ES2022 without esnext.disposable still know Symbol.dispose.
/// <reference lib="esnext.disposable" preserve="true" />
import type { Tensor } from '../tensor/tensor.js';

/** One minibatch: inputs X and integer labels y (data loaders' batches also free both with `using`). */
export interface Batch {
  readonly X: Tensor;
  readonly y: Tensor;
  /** Disposes the batch's tensors, where the data module made them (`using batch = …`). */
  [Symbol.dispose]?(): void;
}

/** Base class of datasets the Trainer can fit on. */
export abstract class DataModule {
  /** Examples per minibatch. */
  abstract readonly batchSize: number;
  /** Number of training examples. */
  abstract readonly numTrain: number;
  /** Number of validation examples. */
  abstract readonly numVal: number;

  /**
   * Yields minibatches; the training loader reshuffles every epoch. A batch may be disposed by the caller;
   * loaders built on DataLoader also free each batch when the next is taken.
   */
  abstract getDataloader(train: boolean): Iterable<Batch>;

  /**
   * True when every input value is known to be finite (e.g. pixels decoded from bytes), so the
   * Trainer can skip its per-batch NaN/Inf scan of the inputs.
   */
  get inputsAreFinite(): boolean {
    return false;
  }

  /** Minibatches of the training set (shuffled). */
  trainDataloader(): Iterable<Batch> {
    return this.getDataloader(true);
  }

  /** Minibatches of the validation set (in order). */
  valDataloader(): Iterable<Batch> {
    return this.getDataloader(false);
  }

  /** Batches per training epoch (the last one may be smaller). */
  get numTrainBatches(): number {
    return Math.ceil(this.numTrain / this.batchSize);
  }

  /** Batches per validation pass. */
  get numValBatches(): number {
    return Math.ceil(this.numVal / this.batchSize);
  }
}
