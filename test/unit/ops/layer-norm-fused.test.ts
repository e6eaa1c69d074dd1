/**
 * The fused LayerNorm primitive (one kernel forward, one backward) against the composition it
 * replaces (layerNormComposed: mean, variance and broadcast arithmetic) on every backend: values and
 * the gradients of x, weight and bias, for each combination of weight and bias, one and two trailing
 * axes, a view as input, and the ViT's row length; plus the cases that keep the composition.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { getBackend, setBackend, tensor, tidy, type Tensor } from '../../../src/index.js';
import { layerNorm, layerNormComposed } from '../../../src/ops/normalization.js';
import { backends } from '../../helpers/backends.js';
import { randomArray } from '../../helpers/testData.js';

/**
 * |fused − composed| ≤ TOL·(1 + |composed|). Both round to float32 but at different places (the
 * composition rounds the mean, the centred values, the variance and 1/√(var + eps) each to float32;
 * the fused kernel keeps float64 to the end), so they differ by a few float32 ulps of the outputs.
 */
const TOL = 2e-5;

function assertClose(actual: Float32Array, expected: Float32Array, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    const d = Math.abs(actual[i]! - expected[i]!);
    if (!(d <= TOL * (1 + Math.abs(expected[i]!))))
      assert.fail(`${what}[${i}]: fused ${actual[i]}, composed ${expected[i]} (|Δ| = ${d})`);
  }
}

type Norm = typeof layerNorm;

/** y and the gradients of Σ w⊙y with respect to x, weight and bias (when given). */
function run(
  norm: Norm,
  shape: number[],
  normalized: number[],
  affine: { weight: boolean; bias: boolean },
  transpose: boolean,
): { y: Float32Array; grads: Float32Array[]; prims: string[] } {
  return tidy(() => {
    const size = shape.reduce((a, b) => a * b, 1);
    const cols = normalized.reduce((a, b) => a * b, 1);
    const x = tensor(randomArray(size, 1, 1, 3), { shape, requiresGrad: true });
    const w = affine.weight
      ? tensor(randomArray(cols, 2, 0.5, 1.5), { shape: normalized, requiresGrad: true })
      : null;
    const b = affine.bias ? tensor(randomArray(cols, 3), { shape: normalized, requiresGrad: true }) : null;
    // A transposed input (a view) is packed for the kernel; its gradient must land in x's layout.
    const input = transpose ? x.transpose(0, 1) : x;
    const y = norm(input, normalized, { weight: w, bias: b, eps: 1e-5 });
    const prims = y.node === null ? [] : [y.node.prim];
    y.mul(tensor(randomArray(y.size, 4), { shape: y.shape }))
      .sum()
      .backward();
    const leaves = [x, w, b].filter((t): t is Tensor => t !== null);
    const grads = leaves.map((t) => t.grad!.dataSync());
    // Gradients outlive tidy (they belong to the leaves): free them here.
    for (const t of leaves) t.grad!.dispose();
    return { y: y.dataSync(), grads, prims };
  });
}

const CASES = [
  { shape: [6, 5], normalized: [5], weight: true, bias: true, transpose: false },
  { shape: [4, 3, 8], normalized: [8], weight: true, bias: false, transpose: false },
  { shape: [3, 4, 5], normalized: [4, 5], weight: false, bias: true, transpose: false },
  { shape: [7, 9], normalized: [7], weight: false, bias: false, transpose: true },
  { shape: [4, 17, 64], normalized: [64], weight: true, bias: true, transpose: false },
];

for (const entry of backends) {
  describe(`fused layerNorm = composition on the ${entry.name} backend`, async () => {
    const backend = await entry.create();
    for (const c of CASES) {
      const title = `[${c.shape}] over [${c.normalized}]${c.transpose ? ' (transposed view)' : ''}, weight ${c.weight}, bias ${c.bias}`;
      test(title, () => {
        const previous = getBackend();
        setBackend(backend);
        try {
          const before = backend.memory();
          const fused = run(layerNorm, c.shape, c.normalized, c, c.transpose);
          const composed = run(layerNormComposed, c.shape, c.normalized, c, c.transpose);
          assert.deepEqual(fused.prims, ['layerNorm'], 'the fused path ran');
          assert.notDeepEqual(composed.prims, ['layerNorm'], 'the composition ran');
          assertClose(fused.y, composed.y, 'y');
          assert.equal(fused.grads.length, 1 + Number(c.weight) + Number(c.bias));
          fused.grads.forEach((g, i) => assertClose(g, composed.grads[i]!, `grad of input ${i}`));
          assert.deepEqual(backend.memory(), before, 'storage leaked');
        } finally {
          setBackend(previous);
        }
      });
    }
  });
}

test('a weight that only broadcasts to normalizedShape keeps the composition', () => {
  tidy(() => {
    const x = tensor(randomArray(12, 5), { shape: [3, 4] });
    const w = tensor([2], { shape: [1] });
    const y = layerNorm(x, [4], { weight: w });
    assert.equal(y.node, null);
    assertClose(y.dataSync(), layerNormComposed(x, [4], { weight: w }).dataSync(), 'y');
  });
});

test('an empty batch takes the composition and gives an empty result', () => {
  tidy(() => {
    const y = layerNorm(tensor([], { shape: [0, 4] }), [4]);
    assert.deepEqual(y.shape, [0, 4]);
  });
});
