/**
 * Op-table tests (test/helpers/opTable.ts) on every backend (test/helpers/backends.ts): forward values and
 * backward() gradients against the float64 reference backend, central-difference gradchecks in
 * float64, primitive coverage, and the shape errors users meet first.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ReferenceBackend,
  ShapeError,
  Tensor,
  gatherRows,
  getBackend,
  gradcheck,
  primitiveNames,
  setBackend,
  tensor,
  tidy,
  type Primitive,
} from '../../src/index.js';
import type { Backend } from '../../src/internals.js';
import { backends } from '../helpers/backends.js';
import { caseInputs, opCases, outputWeights, type OpCase } from '../helpers/opTable.js';

interface CaseResult {
  readonly shape: number[];
  readonly out: number[];
  /** Gradient of Σ w ⊙ out per input (null where the input got none); null for non-differentiable cases. */
  readonly grads: (number[] | null)[] | null;
  /** Primitives recorded on the tape. */
  readonly tape: Set<Primitive>;
}

function read(backend: Backend, t: Tensor): number[] {
  // The float64 oracle is read at full precision; dataSync would round it to float32.
  if (backend instanceof ReferenceBackend) {
    const packed = t.packed();
    return Array.from(backend.view(packed.id).subarray(0, t.size));
  }
  return Array.from(t.dataSync());
}

function tapeOf(root: Tensor): Set<Primitive> {
  const prims = new Set<Primitive>();
  const stack = [root];
  const seen = new Set<Tensor>();
  while (stack.length > 0) {
    const t = stack.pop()!;
    if (seen.has(t) || t.node === null) continue;
    seen.add(t);
    prims.add(t.node.prim);
    stack.push(...t.node.inputs);
  }
  return prims;
}

/** Scalar objective Σ w ⊙ y with fixed distinct weights, so each output element gets its own gradient. */
function weighted(y: Tensor): Tensor {
  return y.mul(tensor(outputWeights(y.size), { shape: y.shape })).sum();
}

function runCase(c: OpCase, backend: Backend): CaseResult {
  const previous = getBackend();
  setBackend(backend);
  try {
    return tidy(() => {
      const xs = caseInputs(c).map((x) => tensor(x.data, { shape: x.shape, requiresGrad: true }));
      const y = c.fn(...xs);
      const result = { shape: [...y.shape], out: read(backend, y), tape: tapeOf(y) };
      if (c.differentiable === false) return { ...result, grads: null };
      weighted(y).backward();
      const grads = xs.map((x) => (x.grad === null ? null : read(backend, x.grad)));
      for (const x of xs) x.grad?.dispose();
      return { ...result, grads };
    });
  } finally {
    setBackend(previous);
  }
}

function assertClose(actual: number[], expected: number[], tol: number, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    const ok = Math.abs(a - e) <= tol * (1 + Math.abs(e));
    if (!ok) assert.fail(`${what}[${i}]: got ${a}, expected ${e} (tolerance ${tol}·(1 + |expected|))`);
  }
}

const float64 = new ReferenceBackend(Float64Array);
const oracle = new Map(opCases.map((c) => [c.name, runCase(c, float64)]));

test('op-table case names are unique', () => {
  assert.equal(new Set(opCases.map((c) => c.name)).size, opCases.length);
});

test('every primitive has at least one op-table case (declared and recorded on its tape)', () => {
  const declared = new Set(opCases.flatMap((c) => c.prims));
  const recorded = new Set([...oracle.values()].flatMap((r) => [...r.tape]));
  const undeclared = primitiveNames.filter((p) => !declared.has(p));
  const unrecorded = primitiveNames.filter((p) => !recorded.has(p));
  assert.deepEqual(undeclared, [], `primitives without an op-table case: ${undeclared.join(', ')}`);
  assert.deepEqual(unrecorded, [], `primitives never recorded on a case's tape: ${unrecorded.join(', ')}`);
});

test("each case's declared primitives really run on its tape", () => {
  for (const c of opCases) {
    const tape = oracle.get(c.name)!.tape;
    for (const p of c.prims)
      assert.ok(tape.has(p), `${c.name}: declares ${p} but its tape has [${[...tape]}]`);
  }
});

for (const entry of backends) {
  describe(`op table on the ${entry.name} backend vs float64`, async () => {
    const backend = await entry.create();
    for (const c of opCases) {
      test(c.name, () => {
        const before = backend.memory();
        const got = runCase(c, backend);
        const want = oracle.get(c.name)!;
        assert.deepEqual(got.shape, want.shape, 'output shape');
        assertClose(got.out, want.out, c.tol ?? 1e-5, 'forward');
        if (want.grads !== null) {
          got.grads!.forEach((g, i) => {
            const w = want.grads![i]!;
            if (c.constInputs?.includes(i)) {
              assert.equal(g, null, `input ${i} carries no gradient`);
              assert.equal(w, null, `input ${i} carries no gradient (float64)`);
              return;
            }
            assert.ok(g !== null && w !== null, `input ${i} got a gradient`);
            assertClose(g, w, c.gradTol ?? 1e-4, `grad of input ${i}`);
          });
        }
        // Everything the case created lived in one tidy scope: nothing may leak.
        assert.deepEqual(backend.memory(), before, 'storage leaked by the case');
      });
    }
  });
}

describe('gradcheck (float64 central differences) on every differentiable case', () => {
  for (const c of opCases.filter((k) => k.differentiable !== false)) {
    test(c.name, () => {
      const inputs = caseInputs(c);
      const constants = new Set(c.constInputs ?? []);
      const free = inputs.filter((_, i) => !constants.has(i));
      const fn = (...vars: Tensor[]): Tensor => {
        let k = 0;
        const xs = inputs.map((x, i) => (constants.has(i) ? tensor(x.data, { shape: x.shape }) : vars[k++]!));
        return weighted(c.fn(...xs));
      };
      const r = gradcheck(fn, free);
      assert.ok(
        r.ok,
        `max abs error ${r.maxAbsError} at input ${r.worst.input}[${r.worst.index}]: analytic ${r.worst.analytic}, numeric ${r.worst.numeric}`,
      );
      assert.ok(r.maxAbsError < 1e-6, `float64 gradients should agree to ~1e-9, got ${r.maxAbsError}`);
    });
  }
});

test('gradcheck catches a wrong gradient (the checker itself can fail)', () => {
  // x·stop(x) has derivative x, but d/dx x² = 2x: the detached copy hides half the gradient.
  const r = gradcheck((x) => x.mul(x.detach()).sum(), [{ data: [0.5, -1.25, 2], shape: [3] }]);
  assert.equal(r.ok, false);
  assert.ok(Math.abs(r.worst.numeric - 2 * r.worst.analytic) < 1e-6);
});

test('gradcheck treats an input that gets no gradient as zero instead of crashing', () => {
  const r = gradcheck(
    (c, a) => Tensor.where(c.gt(0), a, a.mul(2)).sum(),
    [
      { data: [1, -1], shape: [2] },
      { data: [0.5, 0.25], shape: [2] },
    ],
  );
  assert.ok(r.ok);
});

describe('gatherRows (minibatches straight into tensor storage)', () => {
  const source = Float32Array.from({ length: 5 * 3 }, (_, i) => i * 0.5 - 2);
  const rows = [4, 0, 4, 2];
  const expected = rows.flatMap((r) => Array.from(source.subarray(r * 3, r * 3 + 3)));
  const asyncRef = (): Backend => {
    // A backend without synchronous reads (like WebGPU) takes the one-upload path.
    const be = new ReferenceBackend();
    Object.defineProperty(be, 'syncRead', { value: false });
    return be;
  };
  for (const entry of [...backends, { name: 'async js', create: async () => asyncRef() }]) {
    test(`gathers the indexed rows in order (${entry.name})`, async () => {
      const be = await entry.create();
      const t = gatherRows(source, Int32Array.from(rows), 3, [4, 1, 3], { backend: be });
      assert.deepEqual(t.shape, [4, 1, 3]);
      assert.deepEqual(Array.from(await t.data()), expected);
      t.dispose();
      (be as Partial<{ dispose: () => void }>).dispose?.();
    });
  }

  test('a shape that the rows do not fill, or a row outside the source, is a clear error', () => {
    assert.throws(() => gatherRows(source, [0, 1], 3, [3, 3]), ShapeError);
    assert.throws(() => gatherRows(source, [0, 5], 3, [2, 3]), /row index 5 is outside the source's 5 rows/);
    assert.throws(() => gatherRows(source, [-1], 3, [1, 3]), RangeError);
  });
});

describe('shape errors', () => {
  test('broadcasting mismatch names both shapes', () => {
    const a = tensor([1, 2, 3, 4, 5, 6], { shape: [2, 3] });
    const b = tensor([1, 2, 3, 4], { shape: [2, 2] });
    assert.throws(
      () => a.add(b),
      (e: unknown) => e instanceof ShapeError && /\[2, 3\]/.test(e.message) && /\[2, 2\]/.test(e.message),
    );
    assert.throws(() => a.mul(tensor([1, 2])), /\[2, 3\].*\[2\]/);
  });

  test('matmul inner-dimension mismatch names both shapes and the dimensions', () => {
    const a = tensor(new Float32Array(6), { shape: [2, 3] });
    const b = tensor(new Float32Array(8), { shape: [4, 2] });
    assert.throws(
      () => a.matmul(b),
      (e: unknown) => e instanceof ShapeError && /\[2, 3\]/.test(e.message) && /\[4, 2\]/.test(e.message),
    );
    // Transposing the left operand makes k = 2 on both sides... but [2,3]ᵀ·[4,2] is 3×2 · 4×2: still a mismatch.
    assert.throws(() => a.matmul(b, { transA: true }), ShapeError);
    assert.deepEqual(
      a.matmul(tensor(new Float32Array(6), { shape: [2, 3] }), { transB: true }).shape,
      [2, 2],
    );
    // A 1-D left operand is a row (torch.matmul): [3]·[4, 2] still does not align.
    assert.throws(() => tensor([1, 2, 3]).matmul(b), /\[3\] and \[4, 2\] do not align \(3 ≠ 4\)/);
  });

  test('reshape mismatch names both shapes and the element count', () => {
    const a = tensor(new Float32Array(6), { shape: [2, 3] });
    assert.throws(
      () => a.reshape(4, 2),
      (e: unknown) =>
        e instanceof ShapeError &&
        /\[2, 3\]/.test(e.message) &&
        /\[4, 2\]/.test(e.message) &&
        /6/.test(e.message),
    );
    assert.throws(() => a.reshape(-1, -1), ShapeError);
    assert.throws(() => a.reshape(4, -1), ShapeError);
    assert.deepEqual(a.reshape(3, -1).shape, [3, 2]);
  });

  test('expand to an incompatible shape throws a ShapeError', () => {
    assert.throws(() => tensor([1, 2, 3]).expand([2, 4]), ShapeError);
  });
});
