/**
 * The fused softmax (one kernel forward, one backward: the `softmax` primitive) against the composition
 * it replaces (max, sub, exp, sum, div: softmaxComposed), values and gradients, on every CPU backend.
 * Both round x − m to float32 the same way; the composition then rounds exp (float64 Math.exp), the
 * float64 sum and the quotient, the fused kernel takes the float32 expF32 (≤ 1 ulp = 2·2⁻²⁴ relative
 * from the rounded exp, so its float64 sum is as close to the composition's) and rounds the quotient:
 * 2 + 2 + 1 + 2·1 = 7 units of 2⁻²⁴, so values agree to 8·2⁻²⁴ relative (measured: under 4),
 * gradients to 1e-5 of their row's largest. Also which path Tensor.softmax takes, and masked (−∞)
 * scores.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { getBackend, setBackend, softmax, tensor, tidy, type Tensor } from '../../../src/index.js';
import { softmaxComposed } from '../../../src/ops/softmax.js';
import { backends } from '../../helpers/backends.js';
import { randomArray } from '../../helpers/testData.js';

const GRAD_TOL = 1e-5;

/** y = f(x) and d(Σ w·y)/dx for x of `shape` filled with `data`. */
function run(f: (x: Tensor) => Tensor, data: Float32Array, shape: number[], w: Float32Array) {
  return tidy(() => {
    const x = tensor(data, { shape, requiresGrad: true });
    const y = f(x);
    const prim = y.node?.prim;
    y.mul(tensor(w, { shape })).sum().backward();
    return { y: y.dataSync(), grad: x.grad!.dataSync(), prim };
  });
}

/** |a − e| ≤ tol(e, i) for every element, NaN matching NaN. */
function assertWithin(a: Float32Array, e: Float32Array, tol: (e: number, i: number) => number, what: string) {
  assert.equal(a.length, e.length, `${what}: length`);
  for (let i = 0; i < e.length; i++) {
    if (a[i] === e[i] || (Number.isNaN(a[i]!) && Number.isNaN(e[i]!))) continue;
    if (!(Math.abs(a[i]! - e[i]!) <= tol(e[i]!, i)))
      assert.fail(`${what}[${i}]: fused ${a[i]}, composed ${e[i]} (tolerance ${tol(e[i]!, i)})`);
  }
}

/** How far the fused value may be from the composition's value e (see the file comment). */
const valueTol = (e: number): number => 8 * 2 ** -24 * Math.abs(e) + 1e-30;

/** The largest |g| of each row of `cols`, per element (the scale of a row's gradient). */
function rowScale(g: Float32Array, cols: number): Float32Array {
  const s = new Float32Array(g.length);
  for (let r = 0; r < g.length / cols; r++) {
    let m = 0;
    for (let c = 0; c < cols; c++) m = Math.max(m, Math.abs(g[r * cols + c]!));
    s.fill(m, r * cols, (r + 1) * cols);
  }
  return s;
}

const CASES: { name: string; shape: number[]; data: (n: number) => Float32Array }[] = [
  { name: '4×17', shape: [4, 17], data: (n) => randomArray(n, 1, -6, 6) },
  // Attention's probabilities: [batch·heads, tokens, tokens].
  { name: 'attention 64×17×17', shape: [64, 17, 17], data: (n) => randomArray(n, 2, -8, 8) },
  { name: 'one column', shape: [5, 1], data: (n) => randomArray(n, 3) },
  { name: '3×1000, wide range', shape: [3, 1000], data: (n) => randomArray(n, 4, -30, 30) },
  {
    name: 'masked scores (−∞ entries)',
    shape: [6, 9],
    data: (n) => randomArray(n, 5, -4, 4).map((v, i) => (i % 4 === 1 ? -Infinity : v)),
  },
];

for (const entry of backends) {
  describe(`fused softmax vs its composition on the ${entry.name} backend`, async () => {
    const backend = await entry.create();
    const on = <T>(f: () => T): T => {
      const previous = getBackend();
      setBackend(backend);
      try {
        return f();
      } finally {
        setBackend(previous);
      }
    };

    for (const c of CASES) {
      test(c.name, () =>
        on(() => {
          const n = c.shape.reduce((a, b) => a * b, 1);
          const data = c.data(n);
          const w = randomArray(n, 99, -1, 1);
          const fused = run((x) => x.softmax(-1), data, c.shape, w);
          const composed = run((x) => softmaxComposed(x, -1), data, c.shape, w);
          assert.equal(fused.prim, 'softmax', 'the last axis of a contiguous tensor takes the fused kernel');
          assert.equal(composed.prim, 'div');
          const cols = c.shape[c.shape.length - 1]!;
          assertWithin(fused.y, composed.y, valueTol, 'values');
          const scale = rowScale(composed.grad, cols);
          assertWithin(fused.grad, composed.grad, (_, i) => GRAD_TOL * scale[i]! + 1e-30, 'gradients');
          // Masked entries get exactly zero probability and zero gradient.
          data.forEach((v, i) => {
            if (v === -Infinity) assert.ok(fused.y[i] === 0 && fused.grad[i] === 0, `masked entry ${i}`);
          });
          // Each row sums to 1 within float32 rounding of its entries.
          for (let r = 0; r < n / cols; r++) {
            const sum = fused.y.subarray(r * cols, (r + 1) * cols).reduce((a, b) => a + b, 0);
            assert.ok(Math.abs(sum - 1) <= cols * 1.2e-7, `row ${r} sums to ${sum}`);
          }
        }),
      );
    }

    test('other axes and views keep the composition; the result equals the fused one on the same values', () =>
      on(() =>
        tidy(() => {
          const x = tensor(randomArray(15, 7), { shape: [3, 5], requiresGrad: true });
          assert.equal(x.softmax(0).node?.prim, 'div', 'axis 0');
          assert.equal(x.softmax(1).node?.prim, 'softmax', 'axis 1 = the last');
          const view = x.t();
          const viaView = view.softmax(-1);
          assert.equal(viaView.node?.prim, 'div', 'a transposed view');
          const packed = softmax(view.contiguous(), -1);
          assert.equal(packed.node?.prim, 'softmax');
          assertWithin(viaView.dataSync(), packed.dataSync(), valueTol, 'view vs packed');
        }),
      ));
  });
}
