/**
 * The fused GELU (one kernel forward, one backward) against the composition it replaces
 * (`geluComposed`): forward bit for bit on the float32 and float64 reference backends and on wasm,
 * gradients within a stated tolerance (the fused backward is the analytic derivative, the
 * composition's the chain rule through ~20 rounded steps); wasm equal to the reference backend bit
 * for bit, values and gradients; and wasm on 1, 2 and 3 threads bit-identical on tensors large enough
 * to be split, read contiguously and through a transpose.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ReferenceBackend, getBackend, setBackend, tensor, tidy, type Tensor } from '../../../src/index.js';
import type { Backend } from '../../../src/internals.js';
import { createWasmBackend } from '../../../src/backend/wasm/index.js';
import type { HandoffCost } from '../../../src/backend/wasm/cost-model.js';
import type { ThreadTrace } from '../../../src/backend/wasm/parallel.js';
import { gelu, geluComposed } from '../../../src/ops/gelu.js';
import { randomArray } from '../../helpers/testData.js';

/** x over GELU's whole range (both tails, the kink of |x| at 0) plus the special values. */
function inputs(n: number, seed: number): Float32Array {
  const x = randomArray(n, seed, -7, 7);
  x.set([0, -0, 1e-30, -1e-30, 12, -12, 80, -80, Infinity, -Infinity, NaN], 0);
  return x;
}

/** GELU's output and the gradient of Σ dy ⊙ GELU(x), read at the backend's full precision. */
function run(
  be: Backend,
  f: (x: Tensor) => Tensor,
  x: Float32Array,
  dy: Float32Array,
  shape: number[],
  transpose = false,
): { y: number[]; dx: number[] } {
  const previous = getBackend();
  setBackend(be);
  try {
    return tidy(() => {
      const leaf = tensor(x, { shape, requiresGrad: true });
      const y = f(transpose ? leaf.transpose(0, 1) : leaf);
      y.backward(tensor(dy, { shape: y.shape }));
      const read = (t: Tensor): number[] =>
        be instanceof ReferenceBackend
          ? Array.from(be.view(t.packed().id).subarray(0, t.size))
          : Array.from(t.dataSync());
      return { y: read(y), dx: read(leaf.grad!) };
    });
  } finally {
    setBackend(previous);
  }
}

/** Bitwise equality, every NaN equal to every NaN. */
function assertBitEqual(actual: number[], expected: number[], what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    if (!(Object.is(a, e) || (Number.isNaN(a) && Number.isNaN(e)))) {
      assert.fail(`${what}[${i}]: got ${a}, expected ${e}`);
    }
  }
}

/** |a − e| ≤ tol·(1 + |e|) where e is finite; a NaN or infinity must be matched exactly. */
function assertClose(actual: number[], expected: number[], tol: number, what: string): number {
  let worst = 0;
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    if (!Number.isFinite(e)) {
      assert.ok(
        Object.is(a, e) || (Number.isNaN(a) && Number.isNaN(e)),
        `${what}[${i}]: got ${a}, expected ${e}`,
      );
      continue;
    }
    const d = Math.abs(a - e) / (1 + Math.abs(e));
    if (!(d <= tol)) assert.fail(`${what}[${i}] (x ${i}): got ${a}, expected ${e} (|Δ|/(1 + |e|) = ${d})`);
    worst = Math.max(worst, d);
  }
  return worst;
}

const N = 20_011;
const x = inputs(N, 1);
const dy = randomArray(N, 2, -3, 3);

describe('fused GELU against its composition', () => {
  for (const [name, be] of [
    ['float32 reference', new ReferenceBackend()],
    ['float64 reference', new ReferenceBackend(Float64Array)],
  ] as const) {
    test(`${name}: forward bit for bit, gradient within ${name.startsWith('float32') ? '4e-7' : '1e-14'}`, (t) => {
      const fused = run(be, gelu, x, dy, [N]);
      const composed = run(be, geluComposed, x, dy, [N]);
      assertBitEqual(fused.y, composed.y, 'forward');
      // float32: the composition's gradient rounds ~30 steps, each to half an ulp (~6·10⁻⁸ relative);
      // float64: the same derivative in two orders of operations.
      const tol = name.startsWith('float32') ? 4e-7 : 1e-14;
      const worst = assertClose(fused.dx, composed.dx, tol, 'gradient');
      t.diagnostic(`worst gradient |Δ|/(1 + |expected|): ${worst.toExponential(2)}`);
    });
  }

  test('wasm: forward bit for bit with the composition', async () => {
    const be = await createWasmBackend({ threads: 1 });
    try {
      assertBitEqual(run(be, gelu, x, dy, [N]).y, run(be, geluComposed, x, dy, [N]).y, 'forward');
    } finally {
      be.dispose();
    }
  });

  test('the gradient is the derivative of GELU: central differences in float64 agree', () => {
    // Catches a wrong formula the two float32 paths could share: dGELU/dx at a few points by
    // (GELU(x + h) − GELU(x − h))/2h on the float64 oracle.
    const be = new ReferenceBackend(Float64Array);
    const points = Float32Array.from([-5, -2.5, -1, -0.3, 0, 0.3, 1, 2.5, 5]);
    const ones = new Float32Array(points.length).fill(1);
    const analytic = run(be, gelu, points, ones, [points.length]).dx;
    const h = 1e-5;
    const at = (d: number): number[] =>
      run(
        be,
        gelu,
        Float32Array.from(points, (v) => v + d),
        ones,
        [points.length],
      ).y;
    const [plus, minus] = [at(h), at(-h)];
    // Float32Array.from rounds x ± h, so the step is the rounded one.
    const numeric = plus.map(
      (p, i) => (p - minus[i]!) / (Math.fround(points[i]! + h) - Math.fround(points[i]! - h)),
    );
    assertClose(analytic, numeric, 1e-6, 'dGELU/dx');
  });
});

describe('fused GELU: wasm against the reference backend, and across thread counts', () => {
  test('wasm equals the float32 reference backend bit for bit (values and gradients)', async () => {
    const be = await createWasmBackend({ threads: 1 });
    try {
      const want = run(new ReferenceBackend(), gelu, x, dy, [N]);
      const got = run(be, gelu, x, dy, [N]);
      assertBitEqual(got.y, want.y, 'forward');
      assertBitEqual(got.dx, want.dx, 'gradient');
    } finally {
      be.dispose();
    }
  });

  test('1, 2 and 3 threads give bit-identical values and gradients on split tensors', async () => {
    // 4352×128 is the tiny ViT's MLP activation at batch 256; 391×1031 read through a transpose puts
    // the cuts inside rows of odd length.
    const cases = [
      { shape: [4352, 128], transpose: false },
      { shape: [1031, 391], transpose: true },
    ];
    const results: { y: number[]; dx: number[] }[][] = [];
    for (const threads of [1, 2, 3]) {
      const be = await createWasmBackend({ threads });
      const trace: ThreadTrace = { dispatches: new Map(), syncMs: 0 };
      be.traceThreads(trace);
      // Keep the hand-off cost nominal: a loaded machine would otherwise stop the splits under test.
      (be as unknown as { parallel: { handoff: HandoffCost } }).parallel.handoff.record = () => {};
      try {
        results.push(
          cases.map(({ shape, transpose }) => {
            const n = shape[0]! * shape[1]!;
            trace.dispatches.clear();
            const r = run(be, gelu, inputs(n, 3), randomArray(n, 4, -3, 3), shape, transpose);
            if (threads > 1) {
              const split = new Set([...trace.dispatches.keys()].map((k) => k.split(' ')[0]!));
              for (const c of ['unary', 'binary']) {
                assert.ok(split.has(c), `${threads} threads, ${shape}: gelu's ${c} kernel was not split`);
              }
            }
            return r;
          }),
        );
      } finally {
        be.traceThreads(undefined);
        be.dispose();
      }
    }
    for (const t of [1, 2]) {
      cases.forEach(({ shape }, c) => {
        assertBitEqual(results[t]![c]!.y, results[0]![c]!.y, `${t + 1} threads ${shape}: forward`);
        assertBitEqual(results[t]![c]!.dx, results[0]![c]!.dx, `${t + 1} threads ${shape}: gradient`);
      });
    }
  });
});
