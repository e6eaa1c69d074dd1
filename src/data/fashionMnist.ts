/**
 * d2l.FashionMNIST as a DataModule over raw IDX arrays (browser-safe; the Node loader in
 * fashionMnistFiles.ts finds and verifies the files). Images are scaled to [0, 1] once into one
 * contiguous float32 buffer (only the examples the limits keep are decoded), held as two TensorDatasets;
 * each epoch a DataLoader shuffles indices with the seeded generator and gathers every batch straight
 * into tensor storage, so the pipeline costs milliseconds per epoch.
 */
import { ArgumentError, formatValue } from '../errors.js';
import { Generator } from '../random/generator.js';
import { disposeSymbol } from '../tensor/engine.js';
import type { Tensor } from '../tensor/tensor.js';
import { DataLoader, TensorDataset } from './dataLoader.js';
import { DataModule, type Batch } from './dataModule.js';

/** The ten Fashion-MNIST classes, in label order. */
export const FASHION_MNIST_LABELS = [
  't-shirt',
  'trouser',
  'pullover',
  'dress',
  'coat',
  'sandal',
  'shirt',
  'sneaker',
  'bag',
  'ankle boot',
] as const;

/** Raw uint8 arrays of the four IDX files (images row-major, 784 bytes each). */
export interface FashionMnistArrays {
  readonly trainImages: Uint8Array;
  readonly trainLabels: Uint8Array;
  readonly testImages: Uint8Array;
  readonly testLabels: Uint8Array;
  /** Where the arrays came from (a directory, a URL), for config.json. */
  readonly source?: string | undefined;
}

/** Options of the FashionMNIST data module. */
export interface FashionMNISTOptions {
  /** Examples per batch (the dropout section uses 256). */
  batchSize?: number | undefined;
  /** Use only the first N training examples. */
  trainLimit?: number | undefined;
  /** Use only the first N test (validation) examples. */
  valLimit?: number | undefined;
  /** Generator for the per-epoch shuffle; defaults to a fresh one with seed 0. */
  generator?: Generator | undefined;
}

const PIXELS = 28 * 28;

function toFloat(images: Uint8Array, count: number): Float32Array {
  const out = new Float32Array(count * PIXELS);
  for (let i = 0; i < out.length; i++) out[i] = images[i]! / 255;
  return out;
}

function checkLimit(name: string, value: number | undefined, max: number): number {
  if (value === undefined) return max;
  if (!Number.isInteger(value) || value < 1) {
    throw new ArgumentError(`${name} must be a positive integer, got ${formatValue(value)}.`);
  }
  return Math.min(value, max);
}

/** Fashion-MNIST as d2l serves it: X of shape [batch, 1, 28, 28] in [0, 1], y the class index. */
export class FashionMNIST extends DataModule {
  readonly batchSize: number;
  readonly numTrain: number;
  readonly numVal: number;
  /** Where the data came from. */
  readonly source: string;
  /** The training examples: images [1, 28, 28] and labels. */
  readonly trainSet: TensorDataset;
  /** The validation (test-set) examples. */
  readonly valSet: TensorDataset;
  private readonly generator: Generator;

  /** Wraps loaded arrays (see `loadFashionMNIST` in the Node entry point for files on disk). */
  constructor(arrays: FashionMnistArrays, opts: FashionMNISTOptions = {}) {
    super();
    const batchSize = opts.batchSize ?? 64;
    if (!Number.isInteger(batchSize) || batchSize < 1) {
      throw new ArgumentError(
        `batch size must be a positive integer, got ${formatValue(batchSize)}; e.g. 256.`,
      );
    }
    this.batchSize = batchSize;
    this.source = arrays.source ?? 'memory';
    this.numTrain = checkLimit('train limit', opts.trainLimit, arrays.trainLabels.length);
    this.numVal = checkLimit('val limit', opts.valLimit, arrays.testLabels.length);
    const columns = (images: Uint8Array, labels: Uint8Array, n: number): TensorDataset =>
      TensorDataset.fromColumns([
        { data: toFloat(images, n), rowShape: [1, 28, 28] },
        { data: Float32Array.from(labels.subarray(0, n)), rowShape: [], dtype: 'int32' },
      ]);
    this.trainSet = columns(arrays.trainImages, arrays.trainLabels, this.numTrain);
    this.valSet = columns(arrays.testImages, arrays.testLabels, this.numVal);
    this.generator = opts.generator ?? new Generator(0);
  }

  /** Pixels are bytes / 255: always finite, so the Trainer need not scan each batch. */
  override get inputsAreFinite(): boolean {
    return true;
  }

  /** Text names of class indices (d2l's text_labels). */
  textLabels(indices: Iterable<number>): string[] {
    return [...indices].map((i) => FASHION_MNIST_LABELS[i] ?? `class ${i}`);
  }

  /** The shuffle generator (its state belongs in a checkpoint). */
  get shuffleGenerator(): Generator {
    return this.generator;
  }

  /** The DataLoader behind `getDataloader` (training: shuffled every epoch; validation: in order). */
  dataLoader(train: boolean): DataLoader {
    return train
      ? new DataLoader(this.trainSet, { batchSize: this.batchSize, shuffle: true, generator: this.generator })
      : new DataLoader(this.valSet, { batchSize: this.batchSize });
  }

  /** Yields batches; a new shuffle every training epoch, fixed order for validation. Each batch is freed when the next is taken. */
  *getDataloader(train: boolean): IterableIterator<Batch> {
    for (const batch of this.dataLoader(train)) {
      const [X, y] = batch as unknown as [Tensor, Tensor];
      yield { X, y, [disposeSymbol]: () => batch[disposeSymbol]() };
    }
  }
}
