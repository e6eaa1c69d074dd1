/**
 * exp in float32 arithmetic, for GELU's exp(−z²) (gelu-math.ts) and the softmax's exp(x − m)
 * (reference.ts): the wasm kernels take it four lanes per SIMD step (wasm/assembly/expf32.ts's
 * expF32V/expF32S), where float64 Math.exp costs a scalar call per element (~8 ns, most of a GELU). This file is the definition; the wasm code repeats its
 * steps in its order, each a float32 add, subtract or multiply (never a fused multiply-add, which
 * rounds once where this rounds twice), so all three agree bit for bit.
 *
 * Cody–Waite reduction and Cephes' expf polynomial (Moshier, http://www.netlib.org/cephes/):
 *   x is clamped to [−110, 89] (exp(−110) rounds to 0, exp(89) overflows: the clamp keeps n small);
 *   n = x·log2e rounded to nearest even, by adding and subtracting 1.5·2²³;
 *   r = (x − n·C1) − n·C2, C1 + C2 = ln 2 (C1 has 9 bits, so n·C1 and x − n·C1 are exact);
 *   exp(r) ≈ ((((((P0·r + P1)·r + P2)·r + P3)·r + P4)·r + P5)·r²) + r) + 1, |r| ≤ ~0.35;
 *   exp(x) = exp(r)·2^⌊n/2⌋·2^(n−⌊n/2⌋), each power built from exponent bits. Two factors, so that
 *   n down to −159 and up to 128 stays in the normal exponent range: results below 2⁻¹²⁶ come out
 *   subnormal (rounded once, by the last multiply) and results above the float32 range ∞.
 * −∞ gives 0, +∞ gives ∞, NaN gives NaN. Measured against float64 Math.exp rounded to float32 (test/
 * unit/backend/expf32.test.ts): at most 1 ulp apart over a dense sweep of [−104, 88.7].
 */

/** 1.5·2²³: adding it to |v| < 2²² rounds v to an integer (nearest, ties to even) in the low mantissa bits. */
export const EXP_MAGIC = 12582912;
/** log2(e), rounded to float32. */
export const EXP_LOG2E = Math.fround(Math.LOG2E);
/** ln 2's high part, 0.693359375 (9 significant bits, so n·C1 is exact for |n| < 2¹⁵). */
export const EXP_C1 = 0.693359375;
/** ln 2 − C1, rounded to float32. */
export const EXP_C2 = Math.fround(-2.1219444e-4);
/** Cephes expf's P0…P5, float32: exp(r) ≈ 1 + r + r²·(P5 + r·(P4 + … + r·P0)). */
export const EXP_P = [
  Math.fround(1.98756915e-4),
  Math.fround(1.3981999507e-3),
  Math.fround(8.3334519073e-3),
  Math.fround(4.1665795894e-2),
  Math.fround(1.6666665459e-1),
  Math.fround(5.0000001201e-1),
] as const;
/** The clamp: below it the result rounds to 0, above it overflows to ∞. */
export const EXP_MIN = -110;
/** See EXP_MIN. */
export const EXP_MAX = 89;

// One word seen as float32 and as int32: the rounding trick leaves n in k's low bits, and 2^m is the
// float whose exponent field is m + 127.
const f32 = new Float32Array(1);
const i32 = new Int32Array(f32.buffer);
const MAGIC_BITS = 0x4b400000;

/** 2^m for −126 ≤ m ≤ 127, from the exponent bits. */
function pow2(m: number): number {
  i32[0] = (m + 127) << 23;
  return f32[0]!;
}

/** exp(x) in float32 arithmetic (x a float32 value); see the file comment for the steps. */
export function expF32(x: number): number {
  const fr = Math.fround;
  // Math.max/min return NaN for NaN, as f32.max/min and f32x4.max/min do.
  const xc = Math.min(Math.max(x, EXP_MIN), EXP_MAX);
  const k = fr(fr(xc * EXP_LOG2E) + EXP_MAGIC);
  const n = fr(k - EXP_MAGIC);
  const r = fr(fr(xc - fr(n * EXP_C1)) - fr(n * EXP_C2));
  let p = EXP_P[0];
  for (let i = 1; i < 6; i++) p = fr(fr(p * r) + EXP_P[i]!);
  const e = fr(fr(fr(p * fr(r * r)) + r) + 1);
  // n from k's bits (the same integer as n, |n| ≤ 159); NaN leaves garbage here, and e is NaN anyway.
  f32[0] = k;
  const ni = (i32[0]! - MAGIC_BITS) | 0;
  const n1 = ni >> 1;
  return fr(fr(e * pow2(n1)) * pow2(ni - n1));
}
