/**
 * Dropout's keep rule on the 24-bit uniform stream, written once for every backend and composition.
 * A uniform draw is u = k·2^-24 with k = word >>> 8 (philox.ts), so u ≥ p exactly when
 * k ≥ ceil(p·2^24) (p·2^24 is exact in float64). Kernels compare the integer k; compositions compare
 * u with ceil(p·2^24)·2^-24, which is exact in float32, whereas float32(p) itself may round below p
 * and keep a unit the kernels drop. The reference backend's plain `u >= p` is the same rule.
 */

/** Dropout's keep threshold and survivor scale for one p; see dropoutKeep. */
export interface DropoutKeep {
  /** Keep element i iff (word_i >>> 8) ≥ bits: ceil(p·2^24), an integer in [0, 2^24]. */
  readonly bits: number;
  /** The same threshold on the uniform scale: keep iff u_i ≥ uniform (bits·2^-24, exact in float32). */
  readonly uniform: number;
  /** Survivors' scale 1/(1 − p) in float64; float32 storage rounds it once where it is stored. */
  readonly scale: number;
}

/**
 * Keep threshold and scale of inverted dropout with probability p (already validated to [0, 1] where
 * it entered: the public op or nn layer). Keep iff k ≥ ceil(p·2^24); survivors × 1/(1 − p).
 */
export function dropoutKeep(p: number): DropoutKeep {
  const bits = Math.ceil(p * 2 ** 24);
  return { bits, uniform: bits / 2 ** 24, scale: 1 / (1 - p) };
}
