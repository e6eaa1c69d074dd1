/**
 * The max-pooling kernels (Backend.maxPool2d / maxPool2dBackward): against the im2col → amax →
 * permute composition they replace where windows have no ties (values and gradients), PyTorch's tie
 * and NaN rules, wasm against the reference backend bit for bit, and the wasm kernels split across
 * 1, 2 and 3 threads bit for bit on a LeNet-sized batch.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Backend, Im2colGeometry } from '../../../src/backend/backend.js';
import { ReferenceBackend } from '../../../src/backend/reference.js';
import { createBackend, disposeBackend } from '../../../src/backend/select.js';
import type { WasmBackend } from '../../../src/backend/wasm/index.js';
import { im2col, maxPool2d, windowGeometry, type WindowOptions } from '../../../src/ops/conv.js';
import { getBackend, setBackend, tidy } from '../../../src/tensor/engine.js';
import { tensor } from '../../../src/tensor/creation.js';
import type { Tensor } from '../../../src/tensor/tensor.js';
import { coarseArray, randomArray } from '../../helpers/testData.js';
import { traceThreads, commandsOf } from '../../helpers/threadTrace.js';

/** Seeded test values: uniform in [−2, 2), or (with `ties`) small integers, so windows tie. */
function values(n: number, seed: number, ties = false): Float32Array {
  return ties ? coarseArray(n, seed) : randomArray(n, seed);
}

/** The windows the tests pool over: non-overlapping, padded, overlapping (stride < kernel), uneven, wide. */
const WINDOWS: { name: string; shape: number[]; kernel: number | [number, number]; opts: WindowOptions }[] = [
  { name: '2×2', shape: [2, 3, 6, 8], kernel: 2, opts: {} },
  { name: '3×3 stride 2 padding 1', shape: [2, 2, 7, 6], kernel: 3, opts: { stride: 2, padding: 1 } },
  {
    name: '3×3 stride 1 padding 1 (overlap)',
    shape: [1, 3, 5, 6],
    kernel: 3,
    opts: { stride: 1, padding: 1 },
  },
  {
    name: '2×3 stride [1, 2] padding [1, 0]',
    shape: [2, 2, 5, 7],
    kernel: [2, 3],
    opts: { stride: [1, 2], padding: [1, 0] },
  },
  // wasm's four-at-a-time path (2 wide, column stride 2, no column padding) and its scalar tail.
  { name: '2×2 on a wide plane (SIMD blocks and tail)', shape: [2, 2, 12, 20], kernel: 2, opts: {} },
  {
    name: '3×2 stride 2 padding [1, 0] (SIMD blocks, clipped rows)',
    shape: [2, 2, 7, 9],
    kernel: [3, 2],
    opts: { stride: 2, padding: [1, 0] },
  },
];

function geometryOf(shape: number[], kernel: number | [number, number], opts: WindowOptions): Im2colGeometry {
  return tidy(() =>
    windowGeometry(
      tensor(new Float32Array(shape.reduce((a, b) => a * b, 1)), { shape }),
      kernel,
      opts,
      kernel,
      'test',
    ),
  );
}

/** Max pooling as it was composed before the kernel: im2col (−∞ padding) → amax over each patch → NCHW. */
function composed(x: Tensor, g: Im2colGeometry): Tensor {
  const cols = im2col(x, g, -Infinity);
  return cols
    .reshape([cols.shape[0]!, g.channels, g.kernelH * g.kernelW])
    .amax(2)
    .reshape([g.batch, g.outH * g.outW, g.channels])
    .permute([0, 2, 1])
    .reshape([g.batch, g.channels, g.outH, g.outW]);
}

/** Forward values and the gradient of Σ w ⊙ pool(x) through `pool` on `backend`. */
function valueAndGrad(
  backend: Backend,
  x: Float32Array,
  shape: number[],
  pool: (x: Tensor) => Tensor,
): { out: Float32Array; grad: Float32Array } {
  const previous = getBackend();
  setBackend(backend);
  try {
    return tidy(() => {
      const leaf = tensor(x, { shape, requiresGrad: true });
      const y = pool(leaf);
      y.mul(tensor(values(y.size, 99), { shape: y.shape }))
        .sum()
        .backward();
      const result = { out: y.dataSync(), grad: leaf.grad!.dataSync() };
      leaf.grad!.dispose();
      return result;
    });
  } finally {
    setBackend(previous);
  }
}

/** The raw kernels on `backend`: output, indices and dx for dy = `dy`. */
function kernels(
  backend: Backend,
  x: Float32Array,
  dy: Float32Array,
  g: Im2colGeometry,
): { out: Float32Array; indices: Float32Array; dx: Float32Array } {
  const outSize = g.batch * g.channels * g.outH * g.outW;
  const ids = [
    backend.alloc(x.length),
    backend.alloc(outSize),
    backend.alloc(outSize),
    backend.alloc(outSize),
    backend.alloc(x.length),
  ];
  const [px, pout, pidx, pdy, pdx] = ids as [number, number, number, number, number];
  try {
    backend.write(px, x);
    backend.write(pdy, dy);
    // dx starts dirty: the kernel must write it whole.
    backend.fill(pdx, x.length, 7);
    backend.maxPool2d(px, g, pout, pidx);
    backend.maxPool2dBackward(pdy, pidx, g, pdx);
    return {
      out: backend.readSync(pout, outSize),
      indices: backend.readSync(pidx, outSize),
      dx: backend.readSync(pdx, x.length),
    };
  } finally {
    for (const id of ids) backend.free(id);
  }
}

/** The first index where two arrays differ as bits (Object.is, so NaN = NaN and −0 ≠ 0), or −1. */
function firstDifference(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  return a.findIndex((v, i) => !Object.is(v, b[i]));
}

const reference = new ReferenceBackend();
const wasm = await createBackend('wasm');

describe('maxPool2d kernel against the im2col → amax composition (no ties)', () => {
  for (const backend of [reference, wasm]) {
    for (const w of WINDOWS) {
      test(`${backend.name}: ${w.name}`, () => {
        const g = geometryOf(w.shape, w.kernel, w.opts);
        const x = values(
          w.shape.reduce((a, b) => a * b, 1),
          3,
        );
        const got = valueAndGrad(backend, x, w.shape, (t) => maxPool2d(t, w.kernel, w.opts));
        const want = valueAndGrad(backend, x, w.shape, (t) => composed(t, g));
        assert.equal(firstDifference(got.out, want.out), -1, 'values');
        // Where windows overlap, an element that is the max of several sums their gradients: the
        // composition in float64 (col2im), the kernel in float32, so the last bit may differ there.
        got.grad.forEach((v, i) => {
          const e = want.grad[i]!;
          assert.ok(Math.abs(v - e) <= 1e-6 * (1 + Math.abs(e)), `grad[${i}]: ${v} vs ${e}`);
        });
      });
    }
  }
});

describe("PyTorch's rules (torch.nn.functional.max_pool2d(return_indices=True) gives these)", () => {
  for (const backend of [reference, wasm]) {
    test(`${backend.name}: the first maximum wins a tie and takes the whole gradient`, () => {
      const g = geometryOf([1, 1, 2, 2], 2, {});
      const r = kernels(backend, Float32Array.from([3, 3, 3, 2]), Float32Array.from([5]), g);
      assert.deepEqual([...r.out, ...r.indices], [3, 0]);
      assert.deepEqual([...r.dx], [5, 0, 0, 0]);
    });
    test(`${backend.name}: a NaN is the maximum (the last NaN's index, as PyTorch's scan)`, () => {
      const g = geometryOf([1, 1, 2, 2], 2, {});
      const r = kernels(backend, Float32Array.from([1, NaN, NaN, 2]), Float32Array.from([1]), g);
      assert.ok(Number.isNaN(r.out[0]));
      assert.deepEqual([...r.indices], [2]);
      assert.deepEqual([...r.dx], [0, 0, 1, 0]);
    });
    test(`${backend.name}: all −∞ windows point at their first in-image tap; overlaps add`, () => {
      const g = geometryOf([1, 1, 3, 3], 3, { stride: 1, padding: 1 });
      const r = kernels(backend, new Float32Array(9).fill(-Infinity), new Float32Array(9).fill(1), g);
      assert.deepEqual([...r.out], new Array(9).fill(-Infinity));
      assert.deepEqual([...r.indices], [0, 0, 1, 0, 0, 1, 3, 3, 4]);
      assert.deepEqual([...r.dx], [4, 2, 0, 2, 1, 0, 0, 0, 0]);
    });
  }
});

test('wasm and reference kernels agree bit for bit (ties, NaN, ±∞, −0, overlap, padding)', () => {
  for (const w of WINDOWS) {
    const g = geometryOf(w.shape, w.kernel, w.opts);
    const x = values(
      w.shape.reduce((a, b) => a * b, 1),
      5,
      true,
    );
    [NaN, Infinity, -Infinity, -0, 0].forEach((v, i) => (x[7 * i + 1] = v));
    const dy = values(g.batch * g.channels * g.outH * g.outW, 6);
    const a = kernels(reference, x, dy, g);
    const b = kernels(wasm, x, dy, g);
    for (const k of ['out', 'indices', 'dx'] as const) {
      assert.equal(firstDifference(b[k], a[k]), -1, `${w.name}: ${k}`);
    }
  }
});

test('the wasm kernels give the same bits on 1, 2 and 3 threads (LeNet-sized batches, split by planes)', async () => {
  const cases = [
    { shape: [256, 6, 28, 28], kernel: 2 as const, opts: {} },
    { shape: [64, 6, 28, 28], kernel: 3 as const, opts: { stride: 2, padding: 1 } },
  ];
  const runs: { out: Float32Array; indices: Float32Array; dx: Float32Array }[][] = [];
  for (const threads of [1, 2, 3]) {
    const be = await createBackend('wasm', { threads });
    const trace = traceThreads(be as WasmBackend);
    try {
      runs.push(
        cases.map((c, i) => {
          const g = geometryOf(c.shape, c.kernel, c.opts);
          const x = values(
            c.shape.reduce((a, b) => a * b, 1),
            11 + i,
            true,
          );
          return kernels(be, x, values(g.batch * g.channels * g.outH * g.outW, 12 + i), g);
        }),
      );
      const commands = commandsOf(trace);
      if (threads > 1) {
        for (const c of ['maxPool', 'maxPoolBackward'])
          assert.ok(commands.has(c), `${threads} threads: ${c} never split`);
      }
    } finally {
      disposeBackend(be);
    }
  }
  for (const [t, run] of runs.slice(1).entries()) {
    run.forEach((r, i) => {
      for (const k of ['out', 'indices', 'dx'] as const) {
        assert.equal(firstDifference(r[k], runs[0]![i]![k]), -1, `${t + 2} threads, case ${i}: ${k}`);
      }
    });
  }
});
