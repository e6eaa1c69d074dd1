/**
 * Which hidden units dropout zeroed, recovered exactly from the random streams.
 *
 * Approach: every dropout mask is drawn from a Philox stream (key, offset) that the model's generator
 * hands out with `next('uniform', size)`; element i of the mask keeps its unit when uniform(i) ≥ p
 * (the keep rule of random/dropoutKeep.ts). The recorder wraps the generator's
 * `next` to log each uniform draw; after a training step the last draws are the dropout masks of that
 * step (layer 1, then layer 2), and the masks of example 0 of the minibatch (elements 0…h−1 of each
 * draw) are recomputed here with fillUniform. This reads the actual masks of the step, not a
 * re-sample, and it does not change the run: the wrapper only observes the draws. Reading the zeros of
 * the dropout output instead would confuse dropped units with units the ReLU already zeroed.
 */
import type { Generator } from '../random/generator.js';
import { dropoutKeep } from '../random/dropoutKeep.js';
import { fillUniform } from '../random/philox.js';
import type { RandomStream } from '../random/stream.js';

/** One uniform draw: its stream and its element count. */
export interface Draw {
  readonly stream: RandomStream;
  readonly size: number;
}

/** Logs the uniform draws of a generator until `dispose`. */
export class DrawRecorder {
  private draws: Draw[] = [];
  private readonly generator: Generator;

  /** Starts recording the draws of `generator`. */
  constructor(generator: Generator) {
    this.generator = generator;
    const original = Object.getPrototypeOf(generator).next as Generator['next'];
    const draws = (): Draw[] => this.draws;
    generator.next = function (this: Generator, dist, size) {
      const stream = original.call(this, dist, size);
      if (dist === 'uniform') draws().push({ stream, size });
      return stream;
    };
  }

  /** The draws since the last call, oldest first. */
  take(): Draw[] {
    const out = this.draws;
    this.draws = [];
    return out;
  }

  /** Stops recording (restores the generator's own `next`). */
  dispose(): void {
    Reflect.deleteProperty(this.generator, 'next');
  }
}

/** Keep mask (1 kept, 0 dropped) of elements start…start+n−1 of a dropout draw with probability p. */
export function keepMask(stream: RandomStream, p: number, start: number, n: number): number[] {
  if (p === 0) return new Array<number>(n).fill(1);
  if (p === 1) return new Array<number>(n).fill(0);
  // fillUniform fills from a block boundary (4 elements per block).
  const first = Math.floor(start / 4);
  const u = new Float32Array(start - first * 4 + n);
  fillUniform(stream.key, stream.offset + first, u);
  const thr = dropoutKeep(p).uniform;
  return Array.from(u.subarray(start - first * 4), (x) => (x >= thr ? 1 : 0));
}

/**
 * Masks of one training step for example 0 of the batch: `draws` are the uniform draws recorded during
 * the step; layers with 0 < p < 1 drew one mask each, in layer order, at the end of the list.
 */
export function stepMasks(
  draws: readonly Draw[],
  ps: readonly number[],
  widths: readonly number[],
): { keep: number[][]; droppedFraction: number[] } | undefined {
  const drawing = ps.filter((p) => p > 0 && p < 1).length;
  if (draws.length < drawing) return undefined;
  const mine = draws.slice(draws.length - drawing);
  let next = 0;
  const keep: number[][] = [];
  const droppedFraction: number[] = [];
  ps.forEach((p, layer) => {
    const h = widths[layer]!;
    if (p === 0 || p === 1) {
      keep.push(new Array<number>(h).fill(p === 0 ? 1 : 0));
      droppedFraction.push(p);
      return;
    }
    const d = mine[next++]!;
    const row = keepMask(d.stream, p, 0, h);
    keep.push(row);
    droppedFraction.push(1 - row.reduce((a, b) => a + b, 0) / h);
  });
  return { keep, droppedFraction };
}
