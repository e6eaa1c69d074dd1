/**
 * The direct convolution (Backend.conv2d / conv2dWeightGrad and the `conv2d` primitive conv.ts takes
 * for patches of ≤ DIRECT_MAX_PATCH taps): against the im2col → linear → permute route it replaces
 * (values and the gradients of x, weight and bias) over padded, strided, multi-channel and odd-width
 * geometries; wasm against the reference backend bit for bit (±∞, NaN and −0 included); and the wasm
 * kernels split across 1, 2 and 3 threads bit for bit on LeNet's first layer.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Backend, Im2colGeometry } from '../../../src/backend/backend.js';
import { ReferenceBackend } from '../../../src/backend/reference.js';
import { createBackend, disposeBackend } from '../../../src/backend/select.js';
import { createWasmBackend, type WasmBackend } from '../../../src/backend/wasm/index.js';
import {
  conv2d,
  DIRECT_MAX_PATCH,
  im2col,
  windowGeometry,
  type WindowOptions,
} from '../../../src/ops/conv.js';
import { linear } from '../../../src/ops/linear.js';
import { getBackend, setBackend, tidy } from '../../../src/tensor/engine.js';
import { tensor } from '../../../src/tensor/creation.js';
import type { Tensor } from '../../../src/tensor/tensor.js';
import { assertClose, runConv, sizeOf, type ConvCase } from '../../helpers/convRun.js';
import { randomArray } from '../../helpers/testData.js';
import { traceThreads, commandsOf } from '../../helpers/threadTrace.js';

/**
 * Padding, stride 2 (and mixed strides), C_in 1 and 2, kernels 2, 3, 5 and 3×9 (two runs of four taps
 * a tap row in the weight gradient), widths not a multiple of 4; output rows of 4, 11, 12, 15 and 37
 * take each of wasm's 1-, 2-, 3- and 4-vector blocks, with and without a partial last vector.
 */
const CASES: ConvCase[] = [
  {
    name: 'LeNet-like 1→6, 5×5, padding 2, ReLU',
    x: [2, 1, 12, 12],
    w: [6, 1, 5, 5],
    opts: { padding: 2 },
    bias: true,
    relu: true,
  },
  {
    name: '2→3, 3×3, stride 2, padding 1',
    x: [2, 2, 9, 7],
    w: [3, 2, 3, 3],
    opts: { stride: 2, padding: 1 },
    bias: true,
    relu: false,
  },
  {
    name: '2→4, 3×3, width 11, no padding, no bias',
    x: [2, 2, 7, 11],
    w: [4, 2, 3, 3],
    opts: {},
    bias: false,
    relu: false,
  },
  {
    name: '1→5, 5×5, width 13, padding 1, ReLU',
    x: [1, 1, 9, 13],
    w: [5, 1, 5, 5],
    opts: { padding: 1 },
    bias: true,
    relu: true,
  },
  {
    name: '2→3, 3×5, stride [2, 1], padding [0, 2]',
    x: [2, 2, 8, 9],
    w: [3, 2, 3, 5],
    opts: { stride: [2, 1], padding: [0, 2] },
    bias: true,
    relu: false,
  },
  {
    name: '1→2, 3×3, stride [1, 2], padding 1, ReLU',
    x: [2, 1, 6, 9],
    w: [2, 1, 3, 3],
    opts: { stride: [1, 2], padding: 1 },
    bias: true,
    relu: true,
  },
  {
    name: '1→3, 2×2 (4 taps: the bias sum alone in the last pass), rows of 4',
    x: [2, 1, 5, 5],
    w: [3, 1, 2, 2],
    opts: {},
    bias: true,
    relu: false,
  },
  {
    name: '2→2, 3×3, rows of 15 (a 16-wide block with a partial vector)',
    x: [1, 2, 4, 17],
    w: [2, 2, 3, 3],
    opts: {},
    bias: true,
    relu: true,
  },
  {
    name: '1→3, 3×9, padding [1, 2], rows of 10 (two runs of four taps a tap row, then one)',
    x: [2, 1, 6, 14],
    w: [3, 1, 3, 9],
    opts: { padding: [1, 2] },
    bias: true,
    relu: true,
  },
  {
    name: '1→2, 3×3 on a 37-wide row (16-wide blocks and a tail)',
    x: [1, 1, 6, 37],
    w: [2, 1, 3, 3],
    opts: { padding: 1 },
    bias: false,
    relu: true,
  },
];

/** conv2d as the im2col route computes it: im2col → linear (bias, ReLU fused) → NCHW. */
function viaIm2col(x: Tensor, w: Tensor, b: Tensor | null, opts: WindowOptions & { relu: boolean }): Tensor {
  const [oc, c, kh, kw] = w.shape as [number, number, number, number];
  const g = windowGeometry(x, [kh, kw], opts, 1, 'test');
  const y = linear(im2col(x, g), w.reshape([oc, c * kh * kw]), b, { relu: opts.relu });
  return y
    .reshape([g.batch, g.outH * g.outW, oc])
    .permute([0, 2, 1])
    .reshape([g.batch, oc, g.outH, g.outW]);
}

/** The first index where two arrays differ as bits (Object.is, so NaN = NaN and −0 ≠ 0), or −1. */
function firstDifference(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  return a.findIndex((v, i) => !Object.is(v, b[i]));
}

function geometryOf(c: ConvCase): Im2colGeometry {
  return tidy(() =>
    windowGeometry(
      tensor(new Float32Array(sizeOf(c.x)), { shape: c.x }),
      [c.w[2]!, c.w[3]!],
      c.opts,
      1,
      'test',
    ),
  );
}

/**
 * The raw kernels on `backend`: out, dweight and dbias (with `bias`) for dy; with `relu` the weight
 * kernel masks dy by the forward's output itself, and `maskedDw`/`maskedDb` are the same gradients of
 * dy ⊙ (out > 0) written out first (the composition the mask replaces).
 */
function kernels(
  backend: Backend,
  c: ConvCase,
  x: Float32Array,
  w: Float32Array,
  b: Float32Array,
  dy: Float32Array,
): { out: Float32Array; dw: Float32Array; db: Float32Array; maskedDw: Float32Array; maskedDb: Float32Array } {
  const g = geometryOf(c);
  const oc = c.w[0]!;
  const outSize = g.batch * oc * g.outH * g.outW;
  const ids = [x.length, w.length, oc, outSize, outSize, w.length, oc].map((n) => backend.alloc(n));
  const [px, pw, pb, pout, pdy, pdw, pdb] = ids as [number, number, number, number, number, number, number];
  try {
    backend.write(px, x);
    backend.write(pw, w);
    backend.write(pb, b);
    backend.write(pdy, dy);
    // Outputs start dirty: the kernels must write them whole.
    for (const [id, n] of [
      [pout, outSize],
      [pdw, w.length],
      [pdb, oc],
    ] as const)
      backend.fill(id, n, 7);
    backend.conv2d(px, pw, c.bias ? pb : -1, g, oc, c.relu, pout);
    backend.conv2dWeightGrad(px, pdy, g, oc, pdw, c.bias ? pdb : -1, c.relu ? pout : -1);
    const result = {
      out: backend.readSync(pout, outSize),
      dw: backend.readSync(pdw, w.length),
      db: backend.readSync(pdb, oc),
    };
    // dy ⊙ (out > 0) as the composition computes it (a float32 product by 1 or 0: exact in JS too).
    const masked = c.relu ? Float32Array.from(dy, (v, i) => v * (result.out[i]! > 0 ? 1 : 0)) : dy;
    backend.write(pdy, masked);
    backend.conv2dWeightGrad(px, pdy, g, oc, pdw, c.bias ? pdb : -1, -1);
    return { ...result, maskedDw: backend.readSync(pdw, w.length), maskedDb: backend.readSync(pdb, oc) };
  } finally {
    for (const id of ids) backend.free(id);
  }
}

const reference = new ReferenceBackend();
const wasm = await createBackend('wasm');

test('every case takes the direct path (a patch of at most DIRECT_MAX_PATCH taps)', () => {
  for (const c of CASES) assert.ok(c.w[1]! * c.w[2]! * c.w[3]! <= DIRECT_MAX_PATCH, c.name);
  const x = tensor(randomArray(2 * 2 * 6 * 6, 5), { shape: [2, 2, 6, 6] });
  const small = conv2d(x, tensor(randomArray(3 * 2 * 3 * 3, 6), { shape: [3, 2, 3, 3] }));
  const large = conv2d(x, tensor(randomArray(3 * 2 * 5 * 5, 7), { shape: [3, 2, 5, 5] }));
  assert.equal(small.node, null, 'no tape without gradients');
  assert.deepEqual(small.shape, [2, 3, 4, 4]);
  assert.deepEqual(large.shape, [2, 3, 2, 2]);
});

describe('direct conv2d against the im2col → linear → permute route (values and all gradients)', () => {
  for (const backend of [reference, wasm]) {
    for (const c of CASES) {
      test(`${backend.name}: ${c.name}`, () => {
        const got = runConv(backend, c, (x, w, b, o) => conv2d(x, w, b, o));
        const want = runConv(backend, c, viaIm2col);
        // Both sum the same products in float32; only the order (and the GEMM's) differs.
        assertClose(got.out, want.out, 1e-5, 'values');
        assertClose(got.grads[1]!, want.grads[1]!, 1e-4, 'dweight');
        if (c.bias) assertClose(got.grads[2]!, want.grads[2]!, 1e-4, 'dbias');
        // dx takes the im2col route's kernels on the same dy: identical unless ReLU's mask saw a
        // differently rounded output at 0.
        if (!c.relu) assert.equal(firstDifference(got.grads[0]!, want.grads[0]!), -1, 'dx bits');
        else assertClose(got.grads[0]!, want.grads[0]!, 1e-5, 'dx');
      });
    }
  }
});

test('the first layer (input without a gradient) computes no dx and the same dweight (ReLU mask in the kernel)', () => {
  const previous = getBackend();
  setBackend(wasm);
  try {
    tidy(() => {
      const x = tensor(randomArray(2 * 1 * 10 * 10, 8), { shape: [2, 1, 10, 10] });
      const w = tensor(randomArray(6 * 25, 9), { shape: [6, 1, 5, 5], requiresGrad: true });
      const r = tensor(randomArray(2 * 6 * 10 * 10, 10), { shape: [2, 6, 10, 10] });
      const y = conv2d(x, w, null, { padding: 2, relu: true });
      assert.equal(y.node?.prim, 'conv2d');
      // Without dx, ReLU's mask is applied inside the weight kernel; with it, dy ⊙ (out > 0) is
      // written out for both: the same dweight either way.
      y.mul(r).sum().backward();
      assert.equal(x.grad, null);
      const fused = w.grad!.dataSync();
      assert.ok(fused.some((v) => v !== 0));
      w.grad!.dispose();
      w.grad = null;
      const xg = tensor(x.dataSync(), { shape: x.shape, requiresGrad: true });
      conv2d(xg, w, null, { padding: 2, relu: true }).mul(r).sum().backward();
      assert.equal(firstDifference(fused, w.grad!.dataSync()), -1, 'dweight with and without dx');
      w.grad!.dispose();
      xg.grad!.dispose();
    });
  } finally {
    setBackend(previous);
  }
});

test('an input that is a view (NHWC data permuted to NCHW) gives the same gradients as its copy', () => {
  const previous = getBackend();
  setBackend(wasm);
  try {
    tidy(() => {
      const nhwc = tensor(randomArray(2 * 9 * 10 * 2, 15), { shape: [2, 9, 10, 2] });
      const w = tensor(randomArray(3 * 2 * 3 * 3, 16), { shape: [3, 2, 3, 3], requiresGrad: true });
      const b = tensor(randomArray(3, 17), { shape: [3], requiresGrad: true });
      const grads = [nhwc.permute([0, 3, 1, 2]), nhwc.permute([0, 3, 1, 2]).contiguous()].map((x) => {
        const y = conv2d(x, w, b, { padding: 1, relu: true });
        y.mul(tensor(randomArray(y.size, 18), { shape: y.shape }))
          .sum()
          .backward();
        const got = [w.grad!.dataSync(), b.grad!.dataSync()];
        w.grad!.dispose();
        b.grad!.dispose();
        w.grad = null;
        b.grad = null;
        return got;
      });
      assert.equal(firstDifference(grads[0]![0]!, grads[1]![0]!), -1, 'dweight');
      assert.equal(firstDifference(grads[0]![1]!, grads[1]![1]!), -1, 'dbias');
    });
  } finally {
    setBackend(previous);
  }
});

test('wasm (both kernel builds) and reference kernels agree bit for bit (±∞, NaN, −0 inputs; bias, ReLU, odd widths)', async () => {
  // The relaxed-SIMD build must not fuse the multiply-adds either: the order is part of the contract.
  const simd = await createWasmBackend({ variant: 'simd' });
  const builds: Backend[] = [wasm, simd];
  try {
    for (const c of CASES) {
      const x = randomArray(sizeOf(c.x), 11);
      [NaN, Infinity, -Infinity, -0, 0].forEach((v, i) => (x[7 * i + 3] = v));
      const w = randomArray(sizeOf(c.w), 12, -0.5, 0.5);
      const b = randomArray(c.w[0]!, 13);
      const g = geometryOf(c);
      const dy = randomArray(g.batch * c.w[0]! * g.outH * g.outW, 14);
      const clean = Float32Array.from(x, (v) => (Number.isFinite(v) ? v : 0.5));
      for (const input of [clean, x]) {
        const a = kernels(reference, c, input, w, b, dy);
        // ReLU's mask applied inside the kernel equals the written-out composition, bit for bit.
        assert.equal(firstDifference(a.dw, a.maskedDw), -1, `${c.name}: masked dw`);
        if (c.bias) assert.equal(firstDifference(a.db, a.maskedDb), -1, `${c.name}: masked db`);
        for (const be of builds) {
          const z = kernels(be, c, input, w, b, dy);
          for (const k of ['out', 'dw', 'db', 'maskedDw', 'maskedDb'] as const) {
            if ((k === 'db' || k === 'maskedDb') && !c.bias) continue;
            assert.equal(firstDifference(z[k], a[k]), -1, `${(be as WasmBackend).variant} ${c.name}: ${k}`);
          }
        }
      }
    }
  } finally {
    simd.dispose();
  }
});

test("the wasm kernels give the same bits on 1, 2 and 3 threads (LeNet's first layer, split by images)", async () => {
  const lenet: ConvCase = {
    name: 'LeNet conv1',
    x: [256, 1, 28, 28],
    w: [6, 1, 5, 5],
    opts: { padding: 2 },
    bias: true,
    relu: true,
  };
  const x = randomArray(sizeOf(lenet.x), 21);
  const w = randomArray(sizeOf(lenet.w), 22, -0.5, 0.5);
  const b = randomArray(6, 23);
  const dy = randomArray(256 * 6 * 28 * 28, 24);
  const runs: ReturnType<typeof kernels>[] = [];
  for (const threads of [1, 2, 3]) {
    const be = await createBackend('wasm', { threads });
    const trace = traceThreads(be as WasmBackend);
    try {
      runs.push(kernels(be, lenet, x, w, b, dy));
      const commands = commandsOf(trace);
      if (threads > 1) {
        for (const c of ['directConv', 'directConvWeightGrad'])
          assert.ok(commands.has(c), `${threads} threads: ${c} never split`);
      }
    } finally {
      disposeBackend(be);
    }
  }
  for (const [t, r] of runs.slice(1).entries()) {
    for (const k of ['out', 'dw', 'db', 'maskedDw', 'maskedDb'] as const) {
      assert.equal(firstDifference(r[k], runs[0]![k]), -1, `${t + 2} threads: ${k}`);
    }
  }
});
