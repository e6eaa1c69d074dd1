/**
 * The fused GELU (one kernel forward, one backward) against the composition it replaces
 * (`geluComposed`): forward within 4 float32 ulps on the float32 reference backend and on wasm (the
 * fused kernels take exp(−z²) in float32 arithmetic, backend/expf32.ts, where the composition's `exp`
 * rounds float64 Math.exp once) and bit for bit on the float64 reference backend (Math.exp on both
 * sides); gradients within a stated tolerance (the fused backward is the analytic derivative, the
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
  // ±13.3…14.4: exp(−x²/2) is subnormal there, the float32 exp's gradual underflow.
  x.set([0, -0, 1e-30, -1e-30, 12, -12, 13.3, -13.6, 14, -14.4, 80, -80, Infinity, -Infinity, NaN], 0);
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

const f32 = new Float32Array(1);
const i32 = new Int32Array(f32.buffer);

/** The float32 v as an integer that counts ulps: adjacent floats differ by 1, ±0 both map to 0. */
function ordinal(v: number): number {
  f32[0] = v;
  const w = i32[0]!;
  return w < 0 ? -(w & 0x7fffffff) : w;
}

/**
 * The fused float32 forward against the composition's: at most 4 float32 ulps apart where Φ̃(x) is a
 * normal float (|x| ≤ 12.5), and within |x|·2⁻¹⁴⁶ (a few of q's least ulps, scaled by x) beyond, where
 * q = (1 − erf)/2 is subnormal and keeps only a few bits on either path. A NaN must meet a NaN and
 * an infinity itself. Returns the worst ulps seen where they are counted.
 */
function assertForwardClose(actual: number[], expected: number[], xs: Float32Array, what: string): number {
  assert.equal(actual.length, expected.length, `${what}: length`);
  let worst = 0;
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    const xi = xs[i]!;
    if (!Number.isFinite(e) || !Number.isFinite(a)) {
      assert.ok(
        Object.is(a, e) || (Number.isNaN(a) && Number.isNaN(e)),
        `${what}[${i}]: got ${a}, expected ${e}`,
      );
    } else if (Math.abs(xi) <= 12.5) {
      const d = Math.abs(ordinal(a) - ordinal(e));
      if (!(d <= 4)) assert.fail(`${what}[${i}] (x ${xi}): got ${a}, expected ${e} (${d} ulp apart)`);
      worst = Math.max(worst, d);
    } else if (!(Math.abs(a - e) <= Math.abs(xi) * 2 ** -146)) {
      assert.fail(`${what}[${i}] (x ${xi}): got ${a}, expected ${e}`);
    }
  }
  return worst;
}

const N = 20_011;
const x = inputs(N, 1);
const dy = randomArray(N, 2, -3, 3);

describe('fused GELU against its composition', () => {
  // The float32 exp is within 1 ulp (~1.2·10⁻⁷ relative) of the rounded Math.exp the composition
  // takes; the roundings of poly·e and x·Φ̃ after it can each move the result one more ulp, and the
  // same relative error counts up to twice the ulps in another binade: a sweep of 6·10⁶ points over
  // [−12.5, 12.5] found 4 ulp at worst (3 or more at 0.05% of them).
  test('float32 reference: forward within 4 ulp, gradient within 4e-7', (t) => {
    const be = new ReferenceBackend();
    const fused = run(be, gelu, x, dy, [N]);
    const composed = run(be, geluComposed, x, dy, [N]);
    const ulps = assertForwardClose(fused.y, composed.y, x, 'forward');
    // The composition's gradient rounds ~30 steps, each to half an ulp (~6·10⁻⁸ relative).
    const worst = assertClose(fused.dx, composed.dx, 4e-7, 'gradient');
    t.diagnostic(`worst forward ${ulps} ulp; worst gradient |Δ|/(1 + |expected|): ${worst.toExponential(2)}`);
  });

  test('float64 reference: forward bit for bit, gradient within 1e-14', (t) => {
    // Float64 storage keeps Math.exp (gelu-math.ts's FLOAT64), as the composition's exp does.
    const be = new ReferenceBackend(Float64Array);
    const fused = run(be, gelu, x, dy, [N]);
    const composed = run(be, geluComposed, x, dy, [N]);
    assertBitEqual(fused.y, composed.y, 'forward');
    // The same derivative in two orders of operations.
    const worst = assertClose(fused.dx, composed.dx, 1e-14, 'gradient');
    t.diagnostic(`worst gradient |Δ|/(1 + |expected|): ${worst.toExponential(2)}`);
  });

  test('wasm: forward within 4 ulp of the composition', async (t) => {
    const be = await createWasmBackend({ threads: 1 });
    try {
      const ulps = assertForwardClose(
        run(be, gelu, x, dy, [N]).y,
        run(be, geluComposed, x, dy, [N]).y,
        x,
        'forward',
      );
      t.diagnostic(`worst forward ${ulps} ulp`);
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
      // Read through a transpose, every element takes the kernels' scalar path (geluS, expF32S), and
      // contiguously the SIMD path (four and sixteen at a time) with a scalar tail (N = 20011).
      const xt = inputs(120 * 97, 5);
      const dyt = randomArray(120 * 97, 6, -3, 3);
      const wantT = run(new ReferenceBackend(), gelu, xt, dyt, [120, 97], true);
      const gotT = run(be, gelu, xt, dyt, [120, 97], true);
      assertBitEqual(gotT.y, wantT.y, 'forward, transposed');
      assertBitEqual(gotT.dx, wantT.dx, 'gradient, transposed');
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
