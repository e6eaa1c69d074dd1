/**
 * PyTorch's TensorDataset and DataLoader (torch.utils.data): a dataset of tensors indexed along their
 * first axis, and minibatches of it, shuffled every epoch with a seeded generator. Rows are gathered
 * from one contiguous host copy straight into tensor storage, so a batch costs one copy.
 *
 * Batches are owned by the loader: each is freed when the loader yields the next one (or the loop
 * ends), so a plain `for (const [X, y] of loader)` loop needs no dispose. To hold a batch tensor
 * longer, copy it (`X.detach()`).
 */
// Kept in the .d.ts (preserve): consumers on lib ES2022 without esnext.disposable still know Symbol.dispose.
/// <reference lib="esnext.disposable" preserve="true" />
import { ArgumentError, ShapeError, formatShape } from '../errors.js';
import { Generator } from '../random/generator.js';
import { randperm } from '../random/randperm.js';
import { gatherRows } from '../tensor/creation.js';
import { disposeSymbol, getBackend } from '../tensor/engine.js';
import type { DType } from '../tensor/dtype.js';
import { sizeOf } from '../tensor/shape.js';
import type { Tensor } from '../tensor/tensor.js';

/** One column of a dataset held on the host: `count` rows of `rowShape`, row-major. */
export interface HostColumn {
  readonly data: Float32Array;
  /** The shape of one row (e.g. [1, 28, 28] for an image, [] for a label). */
  readonly rowShape: readonly number[];
  /** The batches' element type: 'int32' for labels; float32 when absent. */
  readonly dtype?: DType;
}

/** A minibatch: one tensor per dataset column, disposable with `using`. */
export type TensorBatch<T extends Tensor[] = Tensor[]> = T & {
  /** Disposes every tensor of the batch (`using batch = …`). */
  [Symbol.dispose](): void;
};

/** torch.utils.data.TensorDataset: row i of every tensor is example i. */
export class TensorDataset<T extends Tensor[] = Tensor[]> {
  /** Number of examples. */
  readonly length: number;
  /** The columns' values on the host. */
  readonly columns: readonly HostColumn[];

  /** Examples along the first axis of each tensor (all the same length); values are copied once (CPU backends). */
  constructor(...tensors: T) {
    this.columns = tensors.map((t) => ({
      data: t.dataSync().slice(),
      rowShape: t.shape.slice(1),
      dtype: t.dtype,
    }));
    this.length = TensorDataset.checkColumns(tensors.map((t) => t.shape));
  }

  /** A dataset over host arrays already in memory (no copy), e.g. decoded image files. */
  static fromColumns<T extends Tensor[] = Tensor[]>(columns: readonly HostColumn[]): TensorDataset<T> {
    const ds = Object.create(TensorDataset.prototype) as TensorDataset<T>;
    const shapes = columns.map((c) => {
      const row = sizeOf(c.rowShape);
      if (row === 0 || c.data.length % row !== 0) {
        throw new ShapeError(
          `TensorDataset: ${c.data.length} values do not form rows of shape ${formatShape(c.rowShape)}.`,
        );
      }
      return [c.data.length / row, ...c.rowShape];
    });
    Object.assign(ds, { columns: [...columns], length: TensorDataset.checkColumns(shapes) });
    return ds;
  }

  private static checkColumns(shapes: readonly (readonly number[])[]): number {
    if (shapes.length === 0) throw new ArgumentError('TensorDataset needs at least one tensor, e.g. (X, y).');
    const n = shapes[0]!.length === 0 ? 1 : shapes[0]![0]!;
    for (const s of shapes) {
      if (s.length === 0 || s[0] !== n) {
        throw new ShapeError(
          `TensorDataset: every tensor needs the same first dimension (examples), got ${shapes.map(formatShape).join(' and ')}.`,
        );
      }
    }
    return n;
  }

  /** The tensors of the examples at `rows` (in that order), one per column, on the active backend. */
  gather(rows: ArrayLike<number>): TensorBatch<T> {
    const backend = getBackend();
    const batch = this.columns.map((c) =>
      gatherRows(c.data, rows, sizeOf(c.rowShape), [rows.length, ...c.rowShape], { backend, dtype: c.dtype }),
    ) as Tensor[] as TensorBatch<T>;
    Object.defineProperty(batch, disposeSymbol, {
      value: () => {
        for (const t of batch) t.dispose();
      },
    });
    return batch;
  }
}

/** Options of DataLoader (PyTorch's names). */
export interface DataLoaderOptions {
  /** Examples per batch (default 1, as in PyTorch). */
  batchSize?: number | undefined;
  /** Reshuffle the examples at the start of every epoch (default false). */
  shuffle?: boolean | undefined;
  /** Generator for the shuffle; defaults to a fresh one with seed 0, so runs repeat. */
  generator?: Generator | undefined;
  /** Drop the last batch when it is smaller than batchSize (default false). */
  dropLast?: boolean | undefined;
}

/** torch.utils.data.DataLoader over a TensorDataset: iterate it once per epoch. */
export class DataLoader<T extends Tensor[] = Tensor[]> implements Iterable<TensorBatch<T>> {
  readonly batchSize: number;
  readonly shuffle: boolean;
  readonly dropLast: boolean;
  /** The shuffle generator (its state belongs in a checkpoint). */
  readonly generator: Generator;

  /** Minibatches of `dataset`. */
  constructor(
    readonly dataset: TensorDataset<T>,
    opts: DataLoaderOptions = {},
  ) {
    const batchSize = opts.batchSize ?? 1;
    if (!Number.isInteger(batchSize) || batchSize < 1) {
      throw new ArgumentError(
        `DataLoader: batchSize must be a positive integer, got ${batchSize}; e.g. 256.`,
      );
    }
    this.batchSize = batchSize;
    this.shuffle = opts.shuffle ?? false;
    this.dropLast = opts.dropLast ?? false;
    this.generator = opts.generator ?? new Generator(0);
  }

  /** Batches per epoch. */
  get length(): number {
    const n = this.dataset.length / this.batchSize;
    return this.dropLast ? Math.floor(n) : Math.ceil(n);
  }

  /** One epoch of batches; each is freed when the next is requested or the loop ends. */
  *[Symbol.iterator](): Generator_<TensorBatch<T>> {
    const n = this.dataset.length;
    const order = this.shuffle ? randperm(n, this.generator) : null;
    const rows = new Int32Array(this.batchSize);
    const end = this.dropLast ? n - (n % this.batchSize) : n;
    let previous: TensorBatch<T> | null = null;
    try {
      for (let start = 0; start < end; start += this.batchSize) {
        const b = Math.min(this.batchSize, n - start);
        for (let r = 0; r < b; r++) rows[r] = order ? order[start + r]! : start + r;
        previous?.[disposeSymbol]();
        previous = this.dataset.gather(rows.subarray(0, b));
        yield previous;
      }
    } finally {
      previous?.[disposeSymbol]();
    }
  }
}

/** The built-in generator type (the name Generator is the random-number generator here). */
type Generator_<T> = globalThis.Generator<T, void, undefined>;
