/**
 * A tap on the noise that training draws: each stochastic op reports, as it draws, its kind, the
 * input and mask shapes, p and the counter-based stream of its uniforms, which is everything needed
 * to recompute any element of its mask afterwards (random/philox.ts). The lab's network view listens
 * while it trains, to show which units, feature maps, blocks or residual branches a step dropped;
 * the ops pay one comparison when nothing listens, and the tap only observes: it never changes a draw.
 */
import type { RandomStream } from '../random/stream.js';

/** Which rule turns the stream's uniforms into the mask (see the fields for each one's geometry). */
export type NoiseKind =
  /** Inverted dropout per element of the input: keep where u ≥ dropoutKeep(p).uniform. */
  | 'dropout'
  /** Dropout with a mask of `maskShape` broadcast over the input (spatial dropout: [N, C, 1, 1]). */
  | 'broadcast'
  /** DropBlock: seeds where u < γ inside the valid region, grown into blockSize × blockSize blocks. */
  | 'dropblock'
  /** DropPath: one draw per example; keep its residual branch where u ≥ dropoutKeep(p).uniform. */
  | 'droppath';

/** One draw of a stochastic op in training. */
export interface NoiseDraw {
  readonly kind: NoiseKind;
  /** Shape of the tensor the noise multiplies. */
  readonly shape: readonly number[];
  /** Shape of the uniform draw (the input's shape, or the broadcast mask's). */
  readonly maskShape: readonly number[];
  /** Drop probability. */
  readonly p: number;
  /** The uniforms' stream: element i of the draw is uniform i of this stream. */
  readonly stream: RandomStream;
  /** DropBlock's block side. */
  readonly blockSize?: number;
  /** True when the noise multiplies a parameter (DropConnect's weights), not activations. */
  readonly onParameter?: boolean;
}

let listener: ((draw: NoiseDraw) => void) | undefined;

/** Calls `fn` with every noise draw until the returned function is called (one listener at a time). */
export function tapNoise(fn: (draw: NoiseDraw) => void): () => void {
  listener = fn;
  return () => {
    if (listener === fn) listener = undefined;
  };
}

/** Reports a draw to the listener, if any (called by the stochastic ops as they draw). */
export function noteNoise(draw: NoiseDraw): void {
  listener?.(draw);
}
