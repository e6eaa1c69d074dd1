/**
 * The float32 exp GELU takes (src/backend/expf32.ts; the wasm kernels repeat its steps, and
 * test/unit/ops/gelu.test.ts holds wasm to the reference backend bit for bit) against float64
 * Math.exp rounded to float32: a dense sweep of [−104, 0], the range GELU's exp(−z²) sees before
 * the result rounds to 0 (subnormal results included), the positive range, and the special values.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { expF32 } from '../../../src/backend/expf32.js';

const bits = new Float32Array(1);
const word = new Int32Array(bits.buffer);

/** The float32 v as an integer that counts ulps: adjacent floats differ by 1, ±0 both map to 0. */
function ordinal(v: number): number {
  bits[0] = v;
  const w = word[0]!;
  return w < 0 ? -(w & 0x7fffffff) : w;
}

/** Largest |expF32(x) − exp(x)| in float32 ulps over `count` evenly spaced float32 x in [lo, hi]. */
function worstUlps(lo: number, hi: number, count: number): { ulps: number; at: number } {
  let worst = { ulps: 0, at: lo };
  for (let i = 0; i <= count; i++) {
    const x = Math.fround(lo + ((hi - lo) * i) / count);
    const ulps = Math.abs(ordinal(expF32(x)) - ordinal(Math.fround(Math.exp(x))));
    if (ulps > worst.ulps) worst = { ulps, at: x };
  }
  return worst;
}

test('expF32 is within 1 ulp of the correctly rounded exp over [−104, 0] (subnormals included)', (t) => {
  // 2·10⁶ points, one every ~5·10⁻⁵ (an exhaustive run over every float32 in [−104, −0], 1.1·10⁹
  // values, also found at most 1 ulp).
  const { ulps, at } = worstUlps(-104, 0, 2_000_000);
  t.diagnostic(`max error ${ulps} ulp (at x = ${at})`);
  assert.ok(ulps <= 1, `${ulps} ulp at x = ${at}`);
  // Near 0 the reduction is trivial (n = 0): the polynomial alone.
  const near0 = worstUlps(-1e-3, 0, 200_000);
  assert.ok(near0.ulps <= 1, `${near0.ulps} ulp at x = ${near0.at}`);
});

test('expF32 is within 1 ulp over the positive range, up to the float32 overflow', () => {
  const { ulps, at } = worstUlps(0, 88.72, 500_000);
  assert.ok(ulps <= 1, `${ulps} ulp at x = ${at}`);
});

test('expF32: special values, underflow to 0 and overflow to ∞', () => {
  const cases: [number, number][] = [
    [0, 1],
    [-0, 1],
    [-Infinity, 0],
    [Infinity, Infinity],
    [-104, 0], // exp(−104) ≈ 6.8·10⁻⁴⁶ is under half the least subnormal
    [-1e30, 0],
    [-3.4e38, 0],
    [88.73, Infinity],
    [1e30, Infinity],
    [Math.fround(-103.9), Math.fround(Math.exp(Math.fround(-103.9)))], // the least subnormal, 2⁻¹⁴⁹
    [Math.fround(-87.5), Math.fround(Math.exp(Math.fround(-87.5)))], // subnormal
    [Math.fround(88.72), Math.fround(Math.exp(Math.fround(88.72)))], // near the float32 maximum
  ];
  for (const [x, want] of cases)
    assert.ok(Object.is(expF32(x), want), `exp(${x}) = ${expF32(x)}, expected ${want}`);
  assert.ok(Number.isNaN(expF32(NaN)));
  assert.equal(expF32(Math.fround(-103.9)), 2 ** -149);
});
