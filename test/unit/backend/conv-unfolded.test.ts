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
import { ReferenceBackend } from '../../../src/backend/reference.js';
import { createWasmBackend } from '../../../src/backend/wasm/index.js';
import { conv2d, conv2dComposed } from '../../../src/ops/conv.js';
import { assertClose, runConv, type ConvCase } from '../../helpers/convRun.js';
import { traceThreads, commandsOf } from '../../helpers/threadTrace.js';

const CASES: ConvCase[] = [
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
      const traces = wasm.map(traceThreads);
      try {
        const blocked = runConv(wasm[0]!, c, conv2d);
        const composed = runConv(wasm[0]!, c, conv2dComposed);
        assertBits(blocked.out, composed.out, 'forward');
        assertBits(blocked.grads[0]!, composed.grads[0]!, 'dx');
        blocked.grads
          .slice(1)
          .forEach((g, i) => assertClose(g, composed.grads[i + 1]!, 2e-5, `grad ${i + 1}`));
        const reference = runConv(new ReferenceBackend(), c, conv2d);
        assertClose(blocked.out, reference.out, 2e-5, 'forward vs reference');
        blocked.grads.forEach((g, i) => assertClose(g, reference.grads[i]!, 2e-5, `grad ${i} vs reference`));
        for (const be of wasm.slice(1)) {
          const other = runConv(be, c, conv2d);
          assertBits(other.out, blocked.out, `forward, ${be.threads} threads`);
          other.grads.forEach((g, i) => assertBits(g, blocked.grads[i]!, `grad ${i}, ${be.threads} threads`));
        }
        if (c.name.startsWith('LeNet')) {
          for (const trace of traces.slice(1)) {
            const commands = commandsOf(trace);
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
