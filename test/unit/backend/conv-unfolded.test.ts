/**
 * The unfolded convolution (Backend.conv2dUnfolded / conv2dUnfoldedBackward, the `conv2dUnfolded`
 * primitive conv.ts takes for patches of more than DIRECT_MAX_PATCH taps): on wasm, a block of
 * images at a time, against the composition it replaces (im2col → linear → permute, conv2dComposed):
 * the forward and dx bit for bit (each element is the same GEMM chain), the weight and bias gradients
 * within float32 rounding (they are summed in another grouping); 1, 2 and 3 threads bit for bit;
 * and the reference backend within float32 rounding, over geometries with one and several images
 * per block, padding, strides, and a batch that leaves a partial block and a partial group.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Backend } from '../../../src/backend/backend.js';
import { ReferenceBackend } from '../../../src/backend/reference.js';
import type { HandoffCost } from '../../../src/backend/wasm/cost-model.js';
import { createWasmBackend } from '../../../src/backend/wasm/index.js';
import type { ThreadTrace } from '../../../src/backend/wasm/parallel.js';
import { conv2d, conv2dComposed, type WindowOptions } from '../../../src/ops/conv.js';
import { getBackend, setBackend, tidy } from '../../../src/tensor/engine.js';
import { tensor } from '../../../src/tensor/creation.js';
import { randomArray } from '../../helpers/testData.js';

interface Case {
  name: string;
  x: number[];
  w: number[];
  opts: WindowOptions;
  bias: boolean;
  relu: boolean;
}

const CASES: Case[] = [
  {
    // 100 positions: 2 images a block; 11 images: a partial block and groups of 2 (the last of 1).
    name: "LeNet's conv2 6→16, 5×5, ReLU, batch 11",
    x: [11, 6, 14, 14],
    w: [16, 6, 5, 5],
    opts: {},
    bias: true,
    relu: true,
  },
  {
    name: '3→5, 3×4, stride 2, padding [1, 0], no bias',
    x: [9, 3, 9, 8],
    w: [5, 3, 3, 4],
    opts: { stride: 2, padding: [1, 0] },
    bias: false,
    relu: false,
  },
  {
    // 289 positions: more than a block's 256 rows, so one image a block.
    name: '4→7, 3×3, padding 1, 17×17 images',
    x: [3, 4, 17, 17],
    w: [7, 4, 3, 3],
    opts: { padding: 1 },
    bias: true,
    relu: true,
  },
];

const size = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

interface Result {
  out: Float32Array;
  grads: Float32Array[];
}

/** Forward values and the gradients (x, weight, bias) of Σ r ⊙ conv(x) on `backend`. */
function run(backend: Backend, c: Case, conv: typeof conv2d): Result {
  const previous = getBackend();
  setBackend(backend);
  try {
    return tidy(() => {
      const leaves = [
        tensor(randomArray(size(c.x), 1), { shape: c.x, requiresGrad: true }),
        tensor(randomArray(size(c.w), 2, -0.5, 0.5), { shape: c.w, requiresGrad: true }),
        ...(c.bias ? [tensor(randomArray(c.w[0]!, 3), { shape: [c.w[0]!], requiresGrad: true })] : []),
      ];
      const y = conv(leaves[0]!, leaves[1]!, leaves[2] ?? null, { ...c.opts, relu: c.relu });
      y.mul(tensor(randomArray(y.size, 4), { shape: y.shape }))
        .sum()
        .backward();
      const result = { out: y.dataSync(), grads: leaves.map((l) => l.grad!.dataSync()) };
      for (const l of leaves) l.grad!.dispose();
      return result;
    });
  } finally {
    setBackend(previous);
  }
}

/** |a − e| ≤ tol·(1 + |e|) everywhere. */
function assertClose(a: Float32Array, e: Float32Array, tol: number, what: string): void {
  assert.equal(a.length, e.length, `${what}: length`);
  e.forEach((v, i) => {
    assert.ok(Math.abs(a[i]! - v) <= tol * (1 + Math.abs(v)), `${what}[${i}]: ${a[i]} vs ${v}`);
  });
}

/** Same bits (as 32-bit words), with the first differing index in the message. */
function assertBits(a: Float32Array, e: Float32Array, what: string): void {
  assert.equal(a.length, e.length, `${what}: length`);
  const [wa, we] = [
    new Uint32Array(a.buffer, a.byteOffset, a.length),
    new Uint32Array(e.buffer, e.byteOffset, e.length),
  ];
  const i = wa.findIndex((v, j) => v !== we[j]);
  assert.equal(i, -1, `${what}: first difference at ${i}: ${a[i]} vs ${e[i]}`);
}

describe('conv2d unfolded (a block of images at a time) against the im2col route', () => {
  for (const c of CASES) {
    test(`${c.name}: wasm blocked = composition (forward and dx bit for bit), = reference, threads`, async () => {
      const wasm = await Promise.all([1, 2, 3].map((threads) => createWasmBackend({ threads })));
      const traces = wasm.map((be) => {
        const trace: ThreadTrace = { dispatches: new Map(), syncMs: 0 };
        be.traceThreads(trace);
        // Keep the hand-off cost nominal: a loaded machine would otherwise stop the splits tested here.
        (be as unknown as { parallel: { handoff: HandoffCost } }).parallel.handoff.record = () => {};
        return trace;
      });
      try {
        const blocked = run(wasm[0]!, c, conv2d);
        const composed = run(wasm[0]!, c, conv2dComposed);
        assertBits(blocked.out, composed.out, 'forward');
        assertBits(blocked.grads[0]!, composed.grads[0]!, 'dx');
        blocked.grads
          .slice(1)
          .forEach((g, i) => assertClose(g, composed.grads[i + 1]!, 2e-5, `grad ${i + 1}`));
        const reference = run(new ReferenceBackend(), c, conv2d);
        assertClose(blocked.out, reference.out, 2e-5, 'forward vs reference');
        blocked.grads.forEach((g, i) => assertClose(g, reference.grads[i]!, 2e-5, `grad ${i} vs reference`));
        for (const be of wasm.slice(1)) {
          const other = run(be, c, conv2d);
          assertBits(other.out, blocked.out, `forward, ${be.threads} threads`);
          other.grads.forEach((g, i) => assertBits(g, blocked.grads[i]!, `grad ${i}, ${be.threads} threads`));
        }
        if (c.name.startsWith('LeNet')) {
          for (const trace of traces.slice(1)) {
            const commands = new Set([...trace.dispatches.keys()].map((k) => k.split(' ')[0]));
            for (const name of ['convUnfolded', 'convUnfoldedDx', 'convUnfoldedDw'])
              assert.ok(commands.has(name), `${name} never split between threads`);
          }
        }
      } finally {
        for (const be of wasm) be.dispose();
      }
    });
  }
});
