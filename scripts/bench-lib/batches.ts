/**
 * Shuffled minibatches over Fashion-MNIST held in memory as one float32 buffer, for the peers that
 * are not dropout-lab (TensorFlow.js): the same pipeline design as src/data/fashionMnist.ts (scale
 * once, shuffle indices per epoch with the seeded Philox generator, gather into a reused buffer).
 */
import { Generator } from '../../src/random/generator.js';
import { randperm } from '../../src/random/randperm.js';

const PIXELS = 784;

/** Train images scaled to [0, 1] and labels, with a seeded per-epoch shuffle. */
export class BatchSource {
  readonly numTrain: number;
  private readonly x: Float32Array;
  private readonly y: Int32Array;
  private readonly generator: Generator;
  private readonly xBuf: Float32Array;
  private readonly yBuf: Int32Array;

  /** Converts the raw uint8 arrays once. */
  constructor(
    images: Uint8Array,
    labels: Uint8Array,
    readonly batchSize: number,
    seed: number,
  ) {
    this.numTrain = labels.length;
    this.x = new Float32Array(this.numTrain * PIXELS);
    for (let i = 0; i < this.x.length; i++) this.x[i] = images[i]! / 255;
    this.y = Int32Array.from(labels);
    this.generator = new Generator(seed);
    this.xBuf = new Float32Array(batchSize * PIXELS);
    this.yBuf = new Int32Array(batchSize);
  }

  private permutation(): Uint32Array {
    return randperm(this.numTrain, this.generator);
  }

  /** One shuffled epoch; each yielded view is overwritten by the next batch. */
  *epoch(): IterableIterator<{ x: Float32Array; y: Int32Array; rows: number }> {
    const order = this.permutation();
    for (let start = 0; start < this.numTrain; start += this.batchSize) {
      const rows = Math.min(this.batchSize, this.numTrain - start);
      for (let r = 0; r < rows; r++) {
        const idx = order[start + r]!;
        this.xBuf.set(this.x.subarray(idx * PIXELS, (idx + 1) * PIXELS), r * PIXELS);
        this.yBuf[r] = this.y[idx]!;
      }
      yield { x: this.xBuf.subarray(0, rows * PIXELS), y: this.yBuf.subarray(0, rows), rows };
    }
  }
}
