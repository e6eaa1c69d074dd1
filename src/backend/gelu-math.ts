/**
 * GELU's scalar arithmetic, the definition the fused `gelu` and `geluBackward` kernels follow on
 * every backend (the reference backend calls these; the wasm kernel in assembly/elementwise.ts and
 * the WGSL in webgpu/kernels.ts repeat the same steps in the same order).
 *
 * Φ(x) uses erf from Abramowitz & Stegun 7.1.26 (|error| ≤ 1.5·10⁻⁷, about one float32 ulp of Φ
 * near 1): erf(z) ≈ 1 − t·(a1 + t·(a2 + t·(a3 + t·(a4 + t·a5))))·exp(−z²), t = 1/(1 + p·z), z ≥ 0.
 * The forward is the op sequence of the composition in ops/gelu.ts (`geluComposed`), each step
 * rounded as that composition's kernel would round it (`round` is Math.fround on float32 storage,
 * the identity on the float64 oracle; exp is taken in float64 and rounded once, like the `exp`
 * kernel), so the fused forward equals the composition bit for bit. The backward is the exact
 * derivative of that same approximation, not the true normal density: the approximation's slope
 * differs from φ by up to 2.5·10⁻⁶, which a float64 central-difference check would see.
 */

/** A&S 7.1.26's p. */
export const ERF_P = 0.3275911;
/** A&S 7.1.26's a1…a5. */
export const ERF_A = [0.254829592, -0.284496736, 1.421413741, -1.453152027, 1.061405429] as const;

/** Rounds a float64 intermediate to the storage precision (Math.fround, or the identity for float64). */
export type Round = (v: number) => number;

/** The steps Φ̃(x) and its derivative share: z = |x|/√2, t, the polynomial, exp(−z²) and q = (1 − erf(z))/2. */
function erfSteps(x: number, r: Round): { z: number; t: number; poly: number; e: number; q: number } {
  const z = r((x >= 0 ? x : -x) * r(Math.SQRT1_2));
  const t = r(1 / r(r(z * r(ERF_P)) + 1));
  let poly = r(t * r(ERF_A[4]));
  for (let i = 3; i >= 0; i--) poly = r(r(poly + r(ERF_A[i]!)) * t);
  const e = r(Math.exp(-r(z * z)));
  return { z, t, poly, e, q: r(r(poly * e) * 0.5) };
}

/** GELU(x) = x·Φ̃(x); Φ̃ = 1 − q for x ≥ 0 and q for x < 0 (NaN takes the x < 0 side, as `ge` does). */
export function geluValue(x: number, r: Round): number {
  const { q } = erfSteps(x, r);
  return r(x * (x >= 0 ? r(1 - q) : q));
}

/**
 * dy·GELU′(x) = dy·(Φ̃(x) + x·Φ̃′(x)), with Φ̃′(x) = exp(−z²)·(p·t²·P′(t) + 2z·P(t))/(2√2) for either
 * sign of x (P the polynomial t·(a1 + …), P′ its derivative Σ k·a_k·t^(k−1)).
 */
export function geluGrad(x: number, dy: number, r: Round): number {
  const { z, t, poly, e, q } = erfSteps(x, r);
  const cdf = x >= 0 ? r(1 - q) : q;
  let dpoly = r(5 * ERF_A[4]);
  for (let i = 3; i >= 0; i--) dpoly = r(r(dpoly * t) + r((i + 1) * ERF_A[i]!));
  const s = r(r(r(r(ERF_P) * r(t * t)) * dpoly) + r(r(2 * z) * poly));
  const density = r(r(e * s) * r(Math.SQRT1_2 / 2));
  return r(dy * r(cdf + r(x * density)));
}
