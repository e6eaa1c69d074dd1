/** nn.Embedding: a lookup table of learnable vectors, row i for index i (torch.nn.Embedding). */
import { ArgumentError, formatValue } from '../errors.js';
import { defaultGenerator, type Generator } from '../random/generator.js';
import { randn } from '../tensor/creation.js';
import { composite, getBackend } from '../tensor/engine.js';
import { checkOptions } from '../tensor/options.js';
import type { Tensor } from '../tensor/tensor.js';
import { Module } from './module.js';

/** Options of Embedding. */
export interface EmbeddingOptions {
  /** Generator of the initial weights (N(0, 1), as PyTorch); defaults to the global one. */
  generator?: Generator | undefined;
}

/** A table of `numEmbeddings` vectors of size `embeddingDim`; forward maps indices [...] to [..., embeddingDim]. */
export class Embedding extends Module {
  /** The table [numEmbeddings, embeddingDim], drawn from N(0, 1). */
  readonly weight: Tensor;

  /** A table of `numEmbeddings` rows of `embeddingDim` values. */
  constructor(
    readonly numEmbeddings: number,
    readonly embeddingDim: number,
    opts: EmbeddingOptions = {},
  ) {
    super();
    checkOptions('Embedding', opts, ['generator'], {
      paddingIdx: 'not implemented; zero that row of weight and its gradient yourself',
      maxNorm: 'not implemented; renormalise the rows of weight yourself',
    });
    for (const [name, v] of [
      ['numEmbeddings', numEmbeddings],
      ['embeddingDim', embeddingDim],
    ] as const) {
      if (!(Number.isInteger(v) && v > 0)) {
        throw new ArgumentError(`Embedding: ${name} must be a positive integer, got ${formatValue(v)}.`);
      }
    }
    const weight = randn([numEmbeddings, embeddingDim], {
      generator: opts.generator ?? defaultGenerator,
      backend: getBackend(),
      requiresGrad: true,
    });
    this.weight = this.registerParameter('weight', weight)!;
  }

  /** `numEmbeddings, embeddingDim`, as PyTorch prints an Embedding. */
  override extraRepr(): string {
    return `${this.numEmbeddings}, ${this.embeddingDim}`;
  }

  /** The rows of `indices` (integer values of any shape): [...indices.shape, embeddingDim]. */
  override forward(indices: Tensor): Tensor {
    const n = this.numEmbeddings;
    if (indices.backend.syncRead) {
      for (const v of indices.dataSync()) {
        if (!(Number.isInteger(v) && v >= 0 && v < n)) {
          throw new ArgumentError(`Embedding: index ${v} is not in 0…${n - 1}; check the token ids.`);
        }
      }
    }
    return composite(() =>
      // indexSelect's gradient scatter-adds into the rows looked up (a repeated index sums), on every backend.
      this.weight.indexSelect(0, indices.reshape([-1])).reshape([...indices.shape, this.embeddingDim]),
    );
  }
}
