/**
 * GELU's scalar arithmetic, the definition the fused `gelu` and `geluBackward` kernels follow on
 * every backend (the reference backend calls these; the wasm kernel in assembly/elementwise.ts and
 * the WGSL in webgpu/kernels.ts repeat the same steps in the same order).
 *
 * Φ(x) uses erf from Abramowitz & Stegun 7.1.26 (|error| ≤ 1.5·10⁻⁷, about one float32 ulp of Φ
 * near 1): erf(z) ≈ 1 − t·(a1 + t·(a2 + t·(a3 + t·(a4 + t·a5))))·exp(−z²), t = 1/(1 + p·z), z ≥ 0.
 * The forward is the op sequence of the composition in ops/gelu.ts (`geluComposed`), each step
 * rounded to the storage precision (`round`: Math.fround on float32 storage, the identity on the
 * float64 oracle). exp(−z²) is the one step that differs: in float32 it is expf32.ts's float32 exp
 * (≤ 1 ulp from the correctly rounded value), which the wasm kernels take four lanes at a time, where
 * the composition's `exp` kernel rounds float64 Math.exp once; so the fused float32 forward is within
 * a few ulps of the composition (4 at most where Φ̃ is a normal float) rather than equal to it. The
 * float64 oracle keeps Math.exp and so equals its composition bit for bit. The backward is the exact
 * derivative of that same approximation, not the true normal density: the approximation's slope
 * differs from φ by up to 2.5·10⁻⁶, which a float64 central-difference check would see.
 */
import { expF32 } from './expf32.js';

/** A&S 7.1.26's p. */
export const ERF_P = 0.3275911;
/** A&S 7.1.26's a1…a5. */
export const ERF_A = [0.254829592, -0.284496736, 1.421413741, -1.453152027, 1.061405429] as const;

/** Rounds a float64 intermediate to the storage precision (Math.fround, or the identity for float64). */
export type Round = (v: number) => number;

/** A storage precision's arithmetic for GELU (and the softmax's exp): how each step rounds, which exp it takes. */
export interface Precision {
  readonly round: Round;
  readonly exp: (x: number) => number;
}

/** Float32 storage: every step rounded, exp in float32 arithmetic (the wasm kernels' exp). */
export const FLOAT32: Precision = { round: Math.fround, exp: expF32 };
/** Float64 storage (the gradient-check oracle): nothing rounded below float64, Math.exp. */
export const FLOAT64: Precision = { round: (v) => v, exp: Math.exp };

/** The steps Φ̃(x) and its derivative share: z = |x|/√2, t, the polynomial, exp(−z²) and q = (1 − erf(z))/2. */
function erfSteps(x: number, p: Precision): { z: number; t: number; poly: number; e: number; q: number } {
  const r = p.round;
  const z = r((x >= 0 ? x : -x) * r(Math.SQRT1_2));
  const t = r(1 / r(r(z * r(ERF_P)) + 1));
  let poly = r(t * r(ERF_A[4]));
  for (let i = 3; i >= 0; i--) poly = r(r(poly + r(ERF_A[i]!)) * t);
  const e = r(p.exp(-r(z * z)));
  return { z, t, poly, e, q: r(r(poly * e) * 0.5) };
}

/** GELU(x) = x·Φ̃(x); Φ̃ = 1 − q for x ≥ 0 and q for x < 0 (NaN takes the x < 0 side, as `ge` does). */
export function geluValue(x: number, p: Precision): number {
  const r = p.round;
  const { q } = erfSteps(x, p);
  return r(x * (x >= 0 ? r(1 - q) : q));
}

/**
 * dy·GELU′(x) = dy·(Φ̃(x) + x·Φ̃′(x)), with Φ̃′(x) = exp(−z²)·(p·t²·P′(t) + 2z·P(t))/(2√2) for either
 * sign of x (P the polynomial t·(a1 + …), P′ its derivative Σ k·a_k·t^(k−1)).
 */
export function geluGrad(x: number, dy: number, p: Precision): number {
  const r = p.round;
  const { z, t, poly, e, q } = erfSteps(x, p);
  const cdf = x >= 0 ? r(1 - q) : q;
  let dpoly = r(5 * ERF_A[4]);
  for (let i = 3; i >= 0; i--) dpoly = r(r(dpoly * t) + r((i + 1) * ERF_A[i]!));
  const s = r(r(r(r(ERF_P) * r(t * t)) * dpoly) + r(r(2 * z) * poly));
  const density = r(r(e * s) * r(Math.SQRT1_2 / 2));
  return r(dy * r(cdf + r(x * density)));
}
