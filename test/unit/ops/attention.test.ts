/**
 * The fused attention (one kernel forward, one backward: the `attention` primitive) against the
 * composition it replaces (heads permuted out, scale, bmm, softmax, bmm, heads permuted back:
 * attentionComposed), values and the gradients of q, k and v, on every CPU backend and on the float64
 * reference (where the two agree to float64 rounding); with T ≠ S, D not a multiple of 4, odd head
 * counts, Dv ≠ D, inputs that are views, and an input without a gradient. Also which path
 * nn.MultiheadAttention and scaledDotProductAttention take (fused without the weights and without
 * dropout applied, composed otherwise; self-attention's fused path on the one packed projection) and that
 * the paths agree there. `attentionPacked` (q, k and v read from one qkv [N, L, 3, H, D]) against `attention`
 * on qkv's three parts, bit for bit, and against the composition.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Backend } from '../../../src/backend/backend.js';
import { ReferenceBackend } from '../../../src/backend/reference.js';
import {
  Generator,
  getBackend,
  nn,
  setBackend,
  ShapeError,
  tensor,
  tidy,
  type Tensor,
} from '../../../src/index.js';
import {
  attention,
  attentionComposed,
  attentionPacked,
  scaledDotProductAttention,
} from '../../../src/ops/attention.js';
import { backends } from '../../helpers/backends.js';
import { randomArray } from '../../helpers/testData.js';

/** [N, T, S, H, D, Dv] and a scale (undefined: the default 1/√D). */
const SHAPES: readonly { dims: readonly number[]; scale?: number }[] = [
  { dims: [2, 5, 5, 2, 4, 4] },
  { dims: [2, 3, 6, 3, 5, 5] },
  { dims: [3, 17, 17, 4, 16, 16] },
  { dims: [1, 7, 2, 1, 3, 6], scale: 0.9 },
  { dims: [2, 4, 9, 5, 7, 2], scale: 2 },
];

interface Result {
  out: Float32Array;
  grads: (Float32Array | null)[];
}

/** out = f(q, k, v) and the gradients of Σ r ⊙ out (q, k, v; `constant` ones get none). */
function run(
  f: (q: Tensor, k: Tensor, v: Tensor) => Tensor,
  dims: readonly number[],
  seed: number,
  constant: readonly number[] = [],
): Result {
  const [N, T, S, H, D, DV] = dims as [number, number, number, number, number, number];
  return tidy(() => {
    const shapes = [
      [N, T, H, D],
      [N, S, H, D],
      [N, S, H, DV],
    ];
    const leaves = shapes.map((shape, i) =>
      tensor(randomArray(N * shape[1]! * H * shape[3]!, seed + i), {
        shape,
        requiresGrad: !constant.includes(i),
      }),
    ) as [Tensor, Tensor, Tensor];
    const out = f(...leaves);
    assert.deepEqual(out.shape, [N, T, H, DV]);
    out
      .mul(tensor(randomArray(out.size, seed + 3), { shape: out.shape }))
      .sum()
      .backward();
    return { out: out.dataSync(), grads: leaves.map((l) => l.grad?.dataSync() ?? null) };
  });
}

/** |a − e| ≤ tol·(1 + |e|) everywhere. */
function assertClose(a: Float32Array, e: Float32Array, tol: number, what: string): void {
  assert.equal(a.length, e.length, `${what}: length`);
  e.forEach((v, i) => {
    if (!(Math.abs(a[i]! - v) <= tol * (1 + Math.abs(v))))
      assert.fail(`${what}[${i}]: fused ${a[i]}, composed ${v}`);
  });
}

function on<T>(backend: Backend, f: () => T): T {
  const previous = getBackend();
  setBackend(backend);
  try {
    return f();
  } finally {
    setBackend(previous);
  }
}

const composed = (scale?: number) => (q: Tensor, k: Tensor, v: Tensor) =>
  attentionComposed(q, k, v, scale).output;
const fused = (scale?: number) => (q: Tensor, k: Tensor, v: Tensor) => attention(q, k, v, scale);

describe('fused attention against the composition (values and the gradients of q, k, v)', () => {
  const float64 = { name: 'js64', create: async () => new ReferenceBackend(Float64Array) as Backend };
  for (const entry of [...backends, float64]) {
    test(entry.name, async () => {
      const backend = await entry.create();
      // Float32: both sum the same products, in different orders and with different exps (the fused
      // softmax's float32 expF32); float64: the same math to float64 rounding.
      const [valueTol, gradTol] = entry.name === 'js64' ? [1e-12, 1e-12] : [1e-5, 1e-5];
      on(backend, () => {
        for (const { dims, scale } of SHAPES) {
          const got = run(fused(scale), dims, 11);
          const want = run(composed(scale), dims, 11);
          const what = `${dims.join('×')}${scale === undefined ? '' : ` scale ${scale}`}`;
          assertClose(got.out, want.out, valueTol, `${what} out`);
          got.grads.forEach((g, i) => assertClose(g!, want.grads[i]!, gradTol, `${what} grad ${'qkv'[i]}`));
        }
      });
    });
  }
});

test('the primitive is recorded; an input without a gradient gets none, the others the same', () => {
  const dims = [2, 3, 6, 3, 5, 5];
  tidy(() => {
    const q = tensor(randomArray(2 * 3 * 3 * 5, 1), { shape: [2, 3, 3, 5], requiresGrad: true });
    const k = tensor(randomArray(2 * 6 * 3 * 5, 2), { shape: [2, 6, 3, 5] });
    const v = tensor(randomArray(2 * 6 * 3 * 5, 3), { shape: [2, 6, 3, 5] });
    assert.equal(attention(q, k, v).node?.prim, 'attention');
  });
  const all = run(fused(), dims, 21);
  const some = run(fused(), dims, 21, [1]);
  assert.equal(some.grads[1], null);
  assert.deepEqual(some.grads[0], all.grads[0]);
  assert.deepEqual(some.grads[2], all.grads[2]);
});

test('inputs that are views (heads-first tensors permuted) give the values and gradients of their copies', () => {
  const dims = [2, 4, 5, 3, 6, 6];
  const viaViews = (q: Tensor, k: Tensor, v: Tensor): Tensor => {
    // The same values laid out [N, H, L, D], then viewed back as [N, L, H, D].
    const heads = (x: Tensor): Tensor => x.permute([0, 2, 1, 3]).contiguous().permute([0, 2, 1, 3]);
    return attention(heads(q), heads(k), heads(v));
  };
  const a = run(viaViews, dims, 31);
  const b = run(fused(), dims, 31);
  assert.deepEqual(a.out, b.out);
  a.grads.forEach((g, i) => assert.deepEqual(g, b.grads[i]));
});

/** [N, L, H, D] and a scale (undefined: the default 1/√D) for the packed layout (T = S, Dv = D). */
const PACKED_SHAPES: readonly { dims: readonly number[]; scale?: number }[] = [
  { dims: [1, 1, 1, 1] },
  { dims: [2, 5, 2, 4] },
  { dims: [2, 3, 3, 5] },
  { dims: [3, 17, 4, 16] },
  { dims: [1, 6, 1, 3], scale: 0.9 },
];

/** out = f(qkv) for a random qkv [N, L, 3, H, D] and the gradient of Σ r ⊙ out with respect to qkv. */
function runPacked(f: (qkv: Tensor) => Tensor, dims: readonly number[], seed: number): Result {
  const [N, L, H, D] = dims as [number, number, number, number];
  return tidy(() => {
    const qkv = tensor(randomArray(N * L * 3 * H * D, seed), { shape: [N, L, 3, H, D], requiresGrad: true });
    const out = f(qkv);
    assert.deepEqual(out.shape, [N, L, H, D]);
    out
      .mul(tensor(randomArray(out.size, seed + 1), { shape: out.shape }))
      .sum()
      .backward();
    return { out: out.dataSync(), grads: [qkv.grad!.dataSync()] };
  });
}

describe('attentionPacked equals attention on the three parts of qkv, bit for bit (values and the gradient of qkv)', () => {
  const float64 = { name: 'js64', create: async () => new ReferenceBackend(Float64Array) as Backend };
  for (const entry of [...backends, float64]) {
    test(entry.name, async () => {
      const backend = await entry.create();
      on(backend, () => {
        for (const { dims, scale } of PACKED_SHAPES) {
          // The same kernel on the same numbers: packed reads them in place, the separate inputs are
          // the parts' copies (select views, packed by apply), and their gradients pad back into qkv.
          const got = runPacked((qkv) => attentionPacked(qkv, scale), dims, 61);
          const want = runPacked(
            (qkv) => attention(qkv.select(2, 0), qkv.select(2, 1), qkv.select(2, 2), scale),
            dims,
            61,
          );
          const what = `${dims.join('×')}${scale === undefined ? '' : ` scale ${scale}`}`;
          assert.deepEqual(got.out, want.out, `${what} out`);
          assert.deepEqual(got.grads[0], want.grads[0], `${what} grad qkv`);
          // And the composition, to float32 rounding.
          const composedOut = runPacked(
            (qkv) => attentionComposed(qkv.select(2, 0), qkv.select(2, 1), qkv.select(2, 2), scale).output,
            dims,
            61,
          );
          const tol = entry.name === 'js64' ? 1e-12 : 1e-5;
          assertClose(got.out, composedOut.out, tol, `${what} out vs composition`);
          assertClose(got.grads[0]!, composedOut.grads[0]!, tol, `${what} grad qkv vs composition`);
        }
      });
    });
  }
});

test("attentionPacked: the primitive is recorded; a view as qkv gives its copy's values and gradient; bad shapes refused", () => {
  tidy(() => {
    const qkv = tensor(randomArray(2 * 3 * 3 * 2 * 4, 71), { shape: [2, 3, 3, 2, 4], requiresGrad: true });
    assert.equal(attentionPacked(qkv).node?.prim, 'attentionPacked');
    assert.throws(() => attentionPacked(qkv.reshape([2, 3, 6, 4])), /\[N, L, 3, H, D\]/);
    assert.throws(() => attentionPacked(qkv.reshape([2, 9, 1, 2, 4])), ShapeError);
  });
  // qkv laid out [N, 3, H, L, D] and viewed back as [N, L, 3, H, D]: a strided input.
  const dims = [2, 5, 3, 4];
  const viaView = (qkv: Tensor): Tensor =>
    attentionPacked(qkv.permute([0, 2, 3, 1, 4]).contiguous().permute([0, 3, 1, 2, 4]));
  const a = runPacked(viaView, dims, 81);
  const b = runPacked((qkv) => attentionPacked(qkv), dims, 81);
  assert.deepEqual(a.out, b.out);
  assert.deepEqual(a.grads[0], b.grads[0]);
});

test('attention refuses mismatched shapes with a ShapeError', () => {
  const t = (...shape: number[]): Tensor =>
    tensor(new Float32Array(shape.reduce((p, d) => p * d, 1)), { shape });
  assert.throws(() => attention(t(2, 3, 2, 4), t(2, 5, 2, 3), t(2, 5, 2, 4)), ShapeError);
  assert.throws(() => attention(t(2, 3, 2, 4), t(2, 5, 2, 4), t(2, 4, 2, 4)), ShapeError);
  assert.throws(() => attention(t(6, 3, 4), t(6, 5, 4), t(6, 5, 4)), /\[N, T, H, D\]/);
});

/** Counts the calls of the backend's fused attention kernel while `f` runs. */
function fusedCalls(backend: Backend, f: () => void): number {
  return fusedLayouts(backend, f).length;
}

/** Whether each call of the backend's fused attention kernel while `f` runs read one packed qkv. */
function fusedLayouts(backend: Backend, f: () => void): boolean[] {
  const packed: boolean[] = [];
  const original = backend.attention;
  backend.attention = (...args) => {
    packed.push(args[3].packed === true);
    return original.apply(backend, args);
  };
  try {
    f();
  } finally {
    backend.attention = original;
  }
  return packed;
}

test('MultiheadAttention: fused without the weights and with no dropout applied, composed otherwise; the two agree', () => {
  const backend = new ReferenceBackend();
  on(backend, () => {
    tidy(() => {
      const x = tensor(randomArray(3 * 5 * 12, 41), { shape: [3, 5, 12], requiresGrad: true });
      const y = tensor(randomArray(3 * 7 * 12, 42), { shape: [3, 7, 12] });
      const mha = new nn.MultiheadAttention(12, 3, {
        batchFirst: true,
        dropout: 0.25,
        generator: new Generator(5),
      });
      const gradsOf = (out: Tensor): Float32Array[] => {
        out
          .mul(tensor(randomArray(out.size, 43), { shape: out.shape }))
          .sum()
          .backward();
        const grads = [x, ...mha.parameters()].map((p) => p.grad!.dataSync());
        for (const p of [x, ...mha.parameters()]) p.grad = null;
        return grads;
      };
      mha.eval();
      let fusedOut: Tensor | undefined;
      assert.deepEqual(
        fusedLayouts(backend, () => (fusedOut = mha.forward(x))),
        [true],
        'eval, no weights: fused, on the one packed projection',
      );
      let composedOut: Tensor | undefined;
      assert.equal(
        fusedCalls(backend, () => (composedOut = mha.attend(x, x, x).output)),
        0,
        'weights asked for: composed',
      );
      assertClose(fusedOut!.dataSync(), composedOut!.dataSync(), 1e-5, 'self-attention output');
      const gf = gradsOf(fusedOut!);
      const gc = gradsOf(composedOut!);
      gf.forEach((g, i) => assertClose(g, gc[i]!, 1e-5, `gradient ${i}`));
      // Cross-attention (T ≠ S) with needWeights false: fused, on three projections.
      assert.deepEqual(
        fusedLayouts(backend, () => mha.attend(x, y, y, { needWeights: false })),
        [false],
        'cross-attention: fused',
      );
      // The same tensor as query, key and value but passed as different objects: separate projections
      // (the path is chosen by identity), the same output to float32 rounding.
      let separate: Tensor | undefined;
      assert.deepEqual(
        fusedLayouts(backend, () => {
          separate = mha.attend(x, x.reshape(x.shape), x.reshape(x.shape), { needWeights: false }).output;
        }),
        [false],
        'self-attention through three tensor objects: separate projections',
      );
      assertClose(fusedOut!.dataSync(), separate!.dataSync(), 1e-5, 'packed vs separate projections');
      // Training with dropout on the probabilities: composed; without dropout: fused.
      mha.train();
      assert.equal(
        fusedCalls(backend, () => mha.forward(x)),
        0,
        'training with dropout: composed',
      );
      const plain = new nn.MultiheadAttention(12, 3, { batchFirst: true });
      assert.deepEqual(
        fusedLayouts(backend, () => plain.forward(x)),
        [true],
        'training without dropout: fused, packed',
      );
    });
  });
});

test('scaledDotProductAttention: needWeights false takes the fused kernel, with the same output', () => {
  const backend = new ReferenceBackend();
  on(backend, () => {
    tidy(() => {
      const q = tensor(randomArray(4 * 3 * 5, 51), { shape: [4, 3, 5] });
      const k = tensor(randomArray(4 * 6 * 5, 52), { shape: [4, 6, 5] });
      const v = tensor(randomArray(4 * 6 * 7, 53), { shape: [4, 6, 7] });
      let skipped: { output: Tensor; weights: Tensor | null } | undefined;
      assert.equal(
        fusedCalls(backend, () => (skipped = scaledDotProductAttention(q, k, v, { needWeights: false }))),
        1,
      );
      const full = scaledDotProductAttention(q, k, v);
      assert.equal(skipped!.weights, null);
      assert.deepEqual(full.weights.shape, [4, 3, 6]);
      assert.deepEqual(skipped!.output.shape, [4, 3, 7]);
      assertClose(skipped!.output.dataSync(), full.output.dataSync(), 1e-5, 'output');
      // A dropProbabilities hook needs the composition, weights or not.
      const drop = (p: Tensor): Tensor => p.mul(0.5);
      assert.equal(
        fusedCalls(backend, () =>
          scaledDotProductAttention(q, k, v, { needWeights: false, dropProbabilities: drop }),
        ),
        0,
      );
    });
  });
});
