/**
 * Which units dropout zeroed, recovered exactly from the random streams.
 *
 * Approach: every dropout mask is drawn from a Philox stream (key, offset); element i keeps its unit
 * when uniform(i) ≥ p's threshold (random/dropoutKeep.ts). The stochastic ops report each draw to the
 * noise tap (ops/noiseTap.ts) as they draw; NoiseRecorder collects a step's draws, and the masks of
 * example 0 are recomputed here with fillUniform. This reads the actual masks of the step, not a
 * re-sample, and it does not change the run: the tap only observes. Reading the zeros of the dropout
 * output instead would confuse dropped units with units the ReLU already zeroed.
 */
import { tapNoise, type NoiseDraw } from '../ops/noiseTap.js';
import { dropoutKeep } from '../random/dropoutKeep.js';
import { fillUniform } from '../random/philox.js';
import type { RandomStream } from '../random/stream.js';

/** Collects the noise draws of training until `dispose`. */
export class NoiseRecorder {
  private draws: NoiseDraw[] = [];
  private readonly untap: () => void;

  /** Starts listening to the noise tap. */
  constructor() {
    this.untap = tapNoise((d) => this.draws.push(d));
  }

  /** The draws since the last call, in the order they were drawn. */
  take(): NoiseDraw[] {
    const out = this.draws;
    this.draws = [];
    return out;
  }

  /** Stops listening. */
  dispose(): void {
    this.untap();
  }
}

/** Uniforms start … start + n − 1 of a stream (fillUniform fills from a 4-element block boundary). */
export function uniformsOf(stream: RandomStream, start: number, n: number): Float32Array {
  const first = Math.floor(start / 4);
  const u = new Float32Array(start - first * 4 + n);
  fillUniform(stream.key, stream.offset + first, u);
  return u.subarray(start - first * 4);
}

/** Keep mask (1 kept, 0 dropped) of elements start…start+n−1 of a dropout draw with probability p. */
export function keepMask(stream: RandomStream, p: number, start: number, n: number): number[] {
  if (p === 0) return new Array<number>(n).fill(1);
  if (p === 1) return new Array<number>(n).fill(0);
  const thr = dropoutKeep(p).uniform;
  return Array.from(uniformsOf(stream, start, n), (x) => (x >= thr ? 1 : 0));
}
