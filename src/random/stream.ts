/**
 * The random stream every consumer of Philox shares: the generator hands streams out, every backend's
 * random kernels draw from them, and the lab recomputes masks from them. It lives here, below the
 * backends, because it is a property of the counter-based generator (philox.ts), not of any backend.
 */

/** Distributions the counter-based generator can fill storage with. */
export type RandomDist = 'uniform' | 'normal';

/** Philox key and block offset that pin down one random draw; see src/random/philox.ts. */
export interface RandomStream {
  /** 64-bit key as two unsigned 32-bit words. */
  readonly key: readonly [number, number];
  /** First 128-bit counter block (< 2^53) used; element i reads block offset + floor(i / 4), word i % 4. */
  readonly offset: number;
}
