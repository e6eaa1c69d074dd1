/**
 * The WebGPU backend against the reference backend (the oracle), kernel by kernel: exact for copies,
 * + − ×, comparisons, where, max, argmax, uniform draws and dropout; within float32 rounding for
 * matmul, exp/log/tanh/div, GELU and its backward, sums, softmax (forward and backward), softmax
 * cross-entropy and attention (forward and backward); plus the recording machinery (one submit
 * per read), the buffer pool, the error paths, and a short DropoutMLP training run against the
 * reference backend. Skipped, with the reason printed, where no WebGPU adapter is available.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { Backend, BinaryOp, Im2colGeometry, RandomStream, UnaryOp } from '../../src/backend/backend.js';
import { ReferenceBackend } from '../../src/backend/reference.js';
import { DropoutLabError } from '../../src/errors.js';
import { DropoutMLP, Generator, Tensor, getBackend, setBackend, tensor, tidy } from '../../src/index.js';
import { caseInputs, opCases, outputWeights, type OpCase } from '../helpers/opTable.js';
import { collapseDims } from '../../src/backend/strides.js';
import { bufferSize, createWebGPUBackend, type WebGPUBackend } from '../../src/backend/webgpu/index.js';
import { coarseArray, randomArray, rng } from '../helpers/testData.js';

let gpu: WebGPUBackend | null = null;
let skipReason: string | false = false;
try {
  gpu = await createWebGPUBackend();
} catch (error) {
  // With CI=true (lavapipe is installed there) any failure to create the backend is a failure.
  if (process.env['CI'] === 'true') throw error;
  skipReason = `no WebGPU adapter: ${(error as Error).message}`;
  console.log(`# webgpu backend skipped: ${skipReason}`);
}

after(() => gpu?.dispose());

/** mulberry32: a tiny seeded generator for test inputs (the lint rule bans Math.random). */

function assertExact(actual: Float32Array, expected: Float32Array, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    if (Number.isNaN(a) && Number.isNaN(e)) continue;
    if (!Object.is(a, e) && !(a === 0 && e === 0))
      assert.fail(`${what}: element ${i} is ${a}, expected ${e}`);
  }
}

function assertClose(
  actual: Float32Array,
  expected: Float32Array,
  what: string,
  rtol = 1e-5,
  scale?: Float32Array | number,
): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    if (Number.isNaN(a) && Number.isNaN(e)) continue;
    if (a === e) continue;
    const s = scale === undefined ? 0 : typeof scale === 'number' ? scale : scale[i]!;
    const tol = rtol * (Math.abs(e) + s) + 1e-30;
    if (!(Math.abs(a - e) <= tol)) assert.fail(`${what}: element ${i} is ${a}, expected ${e} (tol ${tol})`);
  }
}

/** Runs `f` on both backends with the same uploaded inputs; returns the outputs read back. */
async function both(
  inputs: readonly Float32Array[],
  outSizes: readonly number[],
  f: (be: Backend, ins: number[], outs: number[]) => void,
): Promise<{ got: Float32Array[]; want: Float32Array[] }> {
  const ref = new ReferenceBackend();
  const g = gpu!;
  const run = (be: Backend): { ins: number[]; outs: number[] } => {
    const ins = inputs.map((data) => {
      const id = be.alloc(data.length);
      be.write(id, data);
      return id;
    });
    const outs = outSizes.map((n) => be.alloc(n, false));
    f(be, ins, outs);
    return { ins, outs };
  };
  const r = run(ref);
  const w = run(g);
  const want = r.outs.map((id, i) => ref.readSync(id, outSizes[i]!));
  const got = await Promise.all(w.outs.map((id, i) => g.read(id, outSizes[i]!)));
  for (const id of [...w.ins, ...w.outs]) g.free(id);
  return { got, want };
}

describe('webgpu backend helpers (no GPU needed)', () => {
  it('collapses contiguous axes and drops unit axes', () => {
    assert.deepEqual(collapseDims([2, 3, 4], [[12, 4, 1]]), { shape: [24], strides: [[1]] });
    assert.deepEqual(
      collapseDims(
        [2, 1, 4],
        [
          [4, 4, 1],
          [0, 0, 1],
        ],
      ),
      {
        shape: [2, 4],
        strides: [
          [4, 1],
          [0, 1],
        ],
      },
    );
    assert.deepEqual(collapseDims([], [[]]), { shape: [], strides: [[]] });
    assert.deepEqual(collapseDims([3, 2], [[1, 3]]), { shape: [3, 2], strides: [[1, 3]] });
  });

  it('rounds sizes to classes with at most 12.5% waste', () => {
    assert.equal(bufferSize(4), 256);
    for (const b of [257, 1000, 4096, 5000, 100_000, 3_211_264]) {
      const c = bufferSize(b);
      assert.ok(c >= b && c <= b * 1.125 + 256, `${b} -> ${c}`);
      assert.equal(c % 4, 0);
    }
  });
});

describe('webgpu backend vs reference', { skip: skipReason }, () => {
  it('is asynchronous: readSync throws a clear error', () => {
    const id = gpu!.alloc(4);
    assert.throws(
      () => gpu!.readSync(id, 4),
      (e: unknown) => e instanceof DropoutLabError && /await t\.data\(\)/.test(e.message),
    );
    gpu!.free(id);
  });

  it('write/read round trip, offsets, zeroed allocation and pool reuse', async () => {
    const g = gpu!;
    const data = randomArray(1000, 1);
    const id = g.alloc(1000);
    g.write(id, data);
    assertExact(await g.read(id, 1000), data, 'round trip');
    g.write(id, [7, 8, 9], 10);
    const r = await g.read(id, 13);
    assert.deepEqual(Array.from(r.subarray(10, 13)), [7, 8, 9]);
    const before = g.memory();
    g.free(id);
    assert.equal(g.memory().buffers, before.buffers - 1);
    // The same size class comes back from the pool and must read as zeros.
    const again = g.alloc(1000);
    assert.ok(g.stats().pooledBuffers >= 0);
    assertExact(await g.read(again, 1000), new Float32Array(1000), 'zeroed reuse');
    // A pooled buffer written while work is recorded: order is kept.
    g.fill(again, 1000, 3);
    g.write(again, [1, 2], 0);
    const w = await g.read(again, 4);
    assert.deepEqual(Array.from(w), [1, 2, 3, 3]);
    g.free(again);
  });

  it('fill and all unary ops, contiguous and strided (transpose, broadcast)', async () => {
    const ops: UnaryOp[] = ['copy', 'neg', 'exp', 'log', 'sqrt', 'abs', 'tanh', 'gelu'];
    const cases: { shape: number[]; strides: number[]; n: number }[] = [
      { shape: [37, 29], strides: [1, 37], n: 37 * 29 }, // transpose
      { shape: [5, 7, 3], strides: [0, 3, 1], n: 21 }, // broadcast on the first axis
      { shape: [1000], strides: [1], n: 1000 },
      { shape: [], strides: [], n: 1 },
      { shape: [2, 3, 2, 2, 3], strides: [36, 1, 18, 3, 6], n: 72 },
    ];
    for (const op of ops) {
      for (const c of cases) {
        const x = op === 'log' || op === 'sqrt' ? randomArray(c.n, 3, 0.01, 5) : randomArray(c.n, 3, -6, 6);
        const size = c.shape.reduce((a, b) => a * b, 1);
        const { got, want } = await both([x], [size], (be, [xi], [o]) =>
          be.unary(op, xi!, c.strides, o!, c.shape),
        );
        const what = `${op} ${JSON.stringify(c.shape)}`;
        if (op === 'copy' || op === 'neg' || op === 'abs') assertExact(got[0]!, want[0]!, what);
        // GELU's one exp is the GPU's, whose error grows with |x| (WGSL allows 3 + 2·|x| ulp).
        else if (op === 'gelu') assertClose(got[0]!, want[0]!, what, 1e-5, 1e-6);
        else assertClose(got[0]!, want[0]!, what, 2e-6, op === 'tanh' || op === 'log' ? 1e-6 : 0);
      }
    }
    const { got, want } = await both([], [777], (be, _i, [o]) => be.fill(o!, 777, -2.5));
    assertExact(got[0]!, want[0]!, 'fill');
  });

  it('binary ops with broadcasting and strides; NaN propagation in maximum/minimum', async () => {
    const ops: BinaryOp[] = [
      'add',
      'sub',
      'mul',
      'div',
      'maximum',
      'minimum',
      'gt',
      'ge',
      'lt',
      'eq',
      'geluBackward',
    ];
    const cases: { shape: number[]; a: number[]; b: number[]; na: number; nb: number }[] = [
      { shape: [64, 33], a: [33, 1], b: [33, 1], na: 64 * 33, nb: 64 * 33 },
      { shape: [64, 33], a: [33, 1], b: [0, 1], na: 64 * 33, nb: 33 },
      { shape: [4, 5, 6], a: [0, 6, 1], b: [30, 0, 5], na: 30, nb: 4 * 30 },
      { shape: [300], a: [1], b: [0], na: 300, nb: 1 },
      { shape: [], a: [], b: [], na: 1, nb: 1 },
    ];
    for (const op of ops) {
      for (const c of cases) {
        const a = coarseArray(c.na, 5);
        const b = op === 'div' ? randomArray(c.nb, 6, 0.5, 3) : coarseArray(c.nb, 6);
        if (op === 'maximum' || op === 'minimum') a[0] = NaN;
        const size = c.shape.reduce((p, q) => p * q, 1);
        const { got, want } = await both([a, b], [size], (be, [ai, bi], [o]) =>
          be.binary(op, ai!, c.a, bi!, c.b, o!, c.shape),
        );
        const what = `${op} ${JSON.stringify(c.shape)}`;
        if (op === 'div') assertClose(got[0]!, want[0]!, what, 3e-7);
        // dy·GELU′(x) cancels near x ≈ −0.75, where GELU′ = 0: an absolute tolerance there.
        else if (op === 'geluBackward') assertClose(got[0]!, want[0]!, what, 1e-5, 1);
        else assertExact(got[0]!, want[0]!, what);
      }
    }
    // Random (non-integer) inputs for the arithmetic that must be exact.
    for (const op of ['add', 'sub', 'mul'] as const) {
      const a = randomArray(5000, 8);
      const b = randomArray(5000, 9);
      const { got, want } = await both([a, b], [5000], (be, [ai, bi], [o]) =>
        be.binary(op, ai!, [1], bi!, [1], o!, [5000]),
      );
      assertExact(got[0]!, want[0]!, `${op} random`);
    }
  });

  it('where with broadcast condition', async () => {
    const cond = coarseArray(4 * 1 * 6, 11);
    const a = randomArray(5 * 6, 12);
    const b = randomArray(4 * 5, 13);
    const shape = [4, 5, 6];
    const { got, want } = await both([cond, a, b], [120], (be, [c, ai, bi], [o]) =>
      be.where(c!, [6, 0, 1], ai!, [0, 6, 1], bi!, [5, 1, 0], o!, shape),
    );
    assertExact(got[0]!, want[0]!, 'where');
  });

  it('reduce sum/max over the middle axis (thread and workgroup variants), NaN in max', async () => {
    const cases = [
      [3, 17, 5],
      [1, 5000, 1],
      [7, 300, 2],
      [128, 10, 1],
      [1, 256, 128],
      [2, 1, 9],
    ] as const;
    for (const [outer, red, inner] of cases) {
      const x = randomArray(outer * red * inner, 21);
      for (const op of ['sum', 'max'] as const) {
        const { got, want } = await both([x], [outer * inner], (be, [xi], [o]) =>
          be.reduce(op, xi!, outer, red, inner, o!),
        );
        const what = `${op} [${outer},${red},${inner}]`;
        if (op === 'max') assertExact(got[0]!, want[0]!, what);
        else assertClose(got[0]!, want[0]!, what, 1e-5, red * 2);
      }
    }
    const x = randomArray(600, 22);
    x[123] = NaN;
    for (const [outer, red, inner] of [
      [1, 600, 1],
      [6, 100, 1],
    ] as const) {
      const { got, want } = await both([x], [outer * inner], (be, [xi], [o]) =>
        be.reduce('max', xi!, outer, red, inner, o!),
      );
      assertExact(got[0]!, want[0]!, `max with NaN [${outer},${red},${inner}]`);
    }
  });

  it('matmul: all four transpose combinations, odd sizes, bias and ReLU epilogues', async () => {
    const shapes = [
      [1, 1, 1],
      [17, 23, 31],
      [70, 65, 129],
      [64, 10, 256],
      [3, 5, 0],
    ] as const;
    for (const [m, n, k] of shapes) {
      const a = randomArray(m * k, m + 1);
      const b = randomArray(k * n, n + 2);
      const bias = randomArray(n, 3);
      for (const transA of [false, true]) {
        for (const transB of [false, true]) {
          for (const ep of [undefined, { relu: false }, { relu: true }, { relu: true, noBias: true }]) {
            const { got, want } = await both([a, b, bias], [m * n], (be, [ai, bi, ci], [o]) =>
              be.matmul(
                ai!,
                bi!,
                o!,
                m,
                n,
                k,
                transA,
                transB,
                ep === undefined ? undefined : { bias: 'noBias' in ep ? -1 : ci!, relu: ep.relu },
              ),
            );
            const what = `matmul ${m}×${n}×${k} ${transA ? 'T' : 'N'}${transB ? 'T' : 'N'} ${JSON.stringify(ep)}`;
            // Rounding of a k-term sum is bounded by k·eps·Σ|a||b| ≤ k·eps·4k.
            assertClose(got[0]!, want[0]!, what, 1e-5, 4 * Math.sqrt(k + 1));
          }
        }
      }
    }
  });

  it('argmax (first on ties)', async () => {
    const x = coarseArray(37 * 11, 31);
    const { got, want } = await both([x], [37], (be, [xi], [o]) => be.argmax(xi!, 37, 11, o!));
    assertExact(got[0]!, want[0]!, 'argmax');
  });

  it('maxPool2d and its backward match the reference bit for bit (ties, NaN, overlap, padding)', async () => {
    const geometries: Im2colGeometry[] = [
      {
        batch: 2,
        channels: 3,
        height: 6,
        width: 8,
        kernelH: 2,
        kernelW: 2,
        strideH: 2,
        strideW: 2,
        padH: 0,
        padW: 0,
        outH: 3,
        outW: 4,
      },
      {
        batch: 1,
        channels: 2,
        height: 5,
        width: 7,
        kernelH: 3,
        kernelW: 3,
        strideH: 1,
        strideW: 2,
        padH: 1,
        padW: 1,
        outH: 5,
        outW: 4,
      },
    ];
    for (const geom of geometries) {
      const inSize = geom.batch * geom.channels * geom.height * geom.width;
      const outSize = geom.batch * geom.channels * geom.outH * geom.outW;
      const x = coarseArray(inSize, 41);
      x[5] = NaN;
      const dy = randomArray(outSize, 42);
      const { got, want } = await both([x, dy], [outSize, outSize, inSize], (be, [xi, gi], [o, idx, dx]) => {
        be.maxPool2d(xi!, geom, o!, idx!);
        be.maxPool2dBackward(gi!, idx!, geom, dx!);
      });
      ['out', 'indices', 'dx'].forEach((what, i) => assertExact(got[i]!, want[i]!, `maxPool2d ${what}`));
    }
  });

  it('the direct conv2d and its weight/bias gradient match the reference within float32 tolerance', async () => {
    // Padding with a row that ends in a partial vector; stride 2 with unequal padding; no bias.
    const cases: { geom: Im2colGeometry; oc: number; bias: boolean; relu: boolean }[] = [
      {
        geom: {
          batch: 2,
          channels: 1,
          height: 7,
          width: 9,
          kernelH: 5,
          kernelW: 5,
          strideH: 1,
          strideW: 1,
          padH: 2,
          padW: 2,
          outH: 7,
          outW: 9,
        },
        oc: 6,
        bias: true,
        relu: true,
      },
      {
        geom: {
          batch: 2,
          channels: 2,
          height: 6,
          width: 7,
          kernelH: 3,
          kernelW: 3,
          strideH: 2,
          strideW: 2,
          padH: 1,
          padW: 0,
          outH: 3,
          outW: 3,
        },
        oc: 3,
        bias: false,
        relu: false,
      },
    ];
    for (const { geom, oc, bias, relu } of cases) {
      const patch = geom.channels * geom.kernelH * geom.kernelW;
      const inSize = geom.batch * geom.channels * geom.height * geom.width;
      const outSize = geom.batch * oc * geom.outH * geom.outW;
      const inputs = [
        randomArray(inSize, 51),
        randomArray(oc * patch, 52),
        randomArray(oc, 53),
        randomArray(outSize, 54),
      ];
      const { got, want } = await both(
        inputs,
        [outSize, oc * patch, oc],
        (be, [x, w, b, dy], [o, dw, db]) => {
          be.conv2d(x!, w!, bias ? b! : -1, geom, oc, relu, o!);
          be.conv2dWeightGrad(x!, dy!, geom, oc, dw!, bias ? db! : -1, relu ? o! : -1);
        },
      );
      // Same order as the reference; the GPU may contract a multiply-add and sums the images in float32.
      assertClose(got[0]!, want[0]!, 'conv2d', 1e-5, 1);
      assertClose(got[1]!, want[1]!, 'conv2d dweight', 1e-5, 1);
      if (bias) assertClose(got[2]!, want[2]!, 'conv2d dbias', 1e-5, 1);
    }
  });

  it('uniform draws are bit-identical to the reference Philox stream; normal within 1e-5', async () => {
    const streams: RandomStream[] = [
      { key: [0, 0], offset: 0 },
      { key: [0xdeadbeef, 0x12345678], offset: 4294967290 }, // crosses the 32-bit counter word
      { key: [42, 7], offset: 2 ** 40 + 3 },
    ];
    for (const stream of streams) {
      for (const size of [1, 7, 4099]) {
        const u = await both([], [size], (be, _i, [o]) => be.random('uniform', stream, o!, size));
        assertExact(u.got[0]!, u.want[0]!, `uniform ${size} ${JSON.stringify(stream)}`);
        const z = await both([], [size], (be, _i, [o]) => be.random('normal', stream, o!, size));
        assertClose(z.got[0]!, z.want[0]!, `normal ${size}`, 1e-5, 1);
      }
    }
  });

  it('fused dropout is bit-identical to the reference for several p', async () => {
    const x = randomArray(10_001, 41);
    for (const p of [0.1, 0.2, 0.5, 0.9, 1 / 3, 0.7]) {
      const stream: RandomStream = { key: [123, 456], offset: 77 };
      const { got, want } = await both([x], [x.length], (be, [xi], [o]) =>
        be.dropout(xi!, stream, p, o!, x.length),
      );
      assertExact(got[0]!, want[0]!, `dropout p=${p}`);
    }
  });

  it('softmax cross-entropy', async () => {
    for (const [rows, cols] of [
      [256, 10],
      [3, 1000],
      [1, 1],
    ] as const) {
      const z = randomArray(rows * cols, 51, -8, 8);
      const labels = Float32Array.from({ length: rows }, (_, r) => (r * 7) % cols);
      const { got, want } = await both([z, labels], [rows, rows * cols], (be, [zi, li], [l, g]) =>
        be.softmaxCrossEntropy(zi!, li!, rows, cols, l!, g!),
      );
      assertClose(got[0]!, want[0]!, `losses ${rows}×${cols}`, 1e-5, 1);
      assertClose(got[1]!, want[1]!, `grad ${rows}×${cols}`, 1e-5, 1);
    }
  });

  it('layerNorm forward and backward (float32 row sums; the reference sums in float64)', async () => {
    for (const [rows, cols, affine] of [
      [4352, 64, true],
      [5, 13, false],
      [1, 1, true],
    ] as const) {
      const size = rows * cols;
      const x = randomArray(size, 71);
      const g = randomArray(size, 72);
      const gamma = randomArray(cols, 73, 0.5, 1.5);
      const beta = randomArray(cols, 74);
      const { got, want } = await both(
        [x, g, gamma, beta],
        [size, rows, rows, size, size],
        (be, [xi, gi, wi, bi], [y, mean, rstd, dx, gxhat]) => {
          be.layerNorm(xi!, affine ? wi! : -1, affine ? bi! : -1, rows, cols, 1e-5, y!, mean!, rstd!);
          be.layerNormBackward(
            gi!,
            xi!,
            affine ? wi! : -1,
            mean!,
            rstd!,
            rows,
            cols,
            dx!,
            affine ? gxhat! : -1,
          );
        },
      );
      const names = ['y', 'mean', 'rstd', 'dx', 'g·x̂'];
      got
        .slice(0, affine ? 5 : 4)
        .forEach((o, i) => assertClose(o, want[i]!, `${names[i]} ${rows}×${cols}`, 1e-4, 1));
    }
  });

  it('softmax and its backward (float32 on the GPU, float64 in the reference)', async () => {
    for (const [rows, cols] of [
      [1024 * 17, 17],
      [3, 1000],
      [5, 1],
    ] as const) {
      const x = randomArray(rows * cols, 71, -8, 8);
      const dy = randomArray(rows * cols, 72, -1, 1);
      const { got, want } = await both([x, dy], [rows * cols, rows * cols], (be, [xi, gi], [y, dx]) => {
        be.softmax(xi!, rows, cols, y!);
        be.softmaxBackward(y!, gi!, rows, cols, dx!);
      });
      // GPU exp carries a few ulp of |x − m| (≤ 16 here): absolute error well under 1e-5 of a probability.
      assertClose(got[0]!, want[0]!, `softmax ${rows}×${cols}`, 1e-5, 1);
      assertClose(got[1]!, want[1]!, `softmaxBackward ${rows}×${cols}`, 1e-5, 1);
    }
    const specials = Float32Array.from([1, NaN, 2, -Infinity, 0.5, -Infinity, 7, 7, 7]);
    const { got, want } = await both([specials], [9], (be, [xi], [y]) => be.softmax(xi!, 3, 3, y!));
    assertClose(got[0]!, want[0]!, 'softmax specials', 1e-6, 1);
  });

  it('attention and its backward (one thread per (n, h) block; float32 sums in the CPU order)', async () => {
    // [N, T, S, H, D, Dv]: the ViT's block (1024 blocks), T ≠ S with odd H, D off the SIMD lanes.
    for (const [N, T, S, H, D, DV] of [
      [256, 17, 17, 4, 16, 16],
      [2, 3, 6, 3, 5, 7],
    ] as const) {
      const shape = { batch: N, queries: T, keys: S, heads: H, dim: D, valueDim: DV };
      const inputs = [N * T * H * D, N * S * H * D, N * S * H * DV, N * T * H * DV].map((n, i) =>
        randomArray(n, 81 + i),
      );
      const sizes = [N * T * H * DV, N * H * T * S, N * T * H * D, N * S * H * D, N * S * H * DV];
      const scale = 1 / Math.sqrt(D);
      const { got, want } = await both(inputs, sizes, (be, [q, k, v, g], [out, probs, dq, dk, dv]) => {
        be.attention(q!, k!, v!, shape, scale, out!, probs!);
        be.attentionBackward(g!, q!, k!, v!, probs!, shape, scale, dq!, dk!, dv!);
      });
      ['out', 'probs', 'dq', 'dk', 'dv'].forEach((name, i) =>
        assertClose(got[i]!, want[i]!, `attention ${name} ${N}×${T}×${S}×${H}×${D}×${DV}`, 1e-4, 1),
      );
    }
  });

  it('attention on one packed qkv [N, L, 3, H, D] and its backward into one dqkv (bound once each)', async () => {
    // [N, L, H, D]: the ViT's block and a small odd one; the reference's packed kernels are checked
    // bit for bit against its separate ones (test/unit/backend/attention.test.ts).
    for (const [N, L, H, D] of [
      [64, 17, 4, 16],
      [2, 5, 3, 5],
    ] as const) {
      const shape = { batch: N, queries: L, keys: L, heads: H, dim: D, valueDim: D, packed: true };
      const inputs = [N * L * 3 * H * D, N * L * H * D].map((n, i) => randomArray(n, 91 + i));
      const sizes = [N * L * H * D, N * H * L * L, N * L * 3 * H * D];
      const scale = 1 / Math.sqrt(D);
      const { got, want } = await both(inputs, sizes, (be, [qkv, g], [out, probs, dqkv]) => {
        be.attention(qkv!, qkv!, qkv!, shape, scale, out!, probs!);
        be.attentionBackward(g!, qkv!, qkv!, qkv!, probs!, shape, scale, dqkv!, dqkv!, dqkv!);
      });
      ['out', 'probs', 'dqkv'].forEach((name, i) =>
        assertClose(got[i]!, want[i]!, `packed attention ${name} ${N}×${L}×${H}×${D}`, 1e-4, 1),
      );
    }
  });

  it('sgdStep with and without momentum / weight decay', async () => {
    for (const params of [
      { lr: 0.1, momentum: 0, weightDecay: 0 },
      { lr: 0.05, momentum: 0.9, weightDecay: 1e-4 },
    ]) {
      const w = randomArray(3000, 61);
      const g = randomArray(3000, 62);
      const v = randomArray(3000, 63);
      const { got, want } = await both([w, g, v], [3000, 3000], (be, [wi, gi, vi], [ow, ov]) => {
        be.sgdStep(wi!, gi!, params.momentum > 0 ? vi! : -1, 3000, params);
        be.unary('copy', wi!, [1], ow!, [3000]);
        be.unary('copy', vi!, [1], ov!, [3000]);
      });
      assertClose(got[0]!, want[0]!, 'sgd w', 1e-6, 1);
      assertClose(got[1]!, want[1]!, 'sgd v', 1e-6, 1);
    }
  });

  it('an output that aliases an input is computed correctly', async () => {
    const g = gpu!;
    const a = g.alloc(100);
    g.write(a, randomArray(100, 71));
    const before = await g.read(a, 100);
    g.binary('mul', a, [1], a, [1], a, [100]);
    const after = await g.read(a, 100);
    for (let i = 0; i < 100; i++) assert.equal(after[i], Math.fround(before[i]! * before[i]!));
    g.free(a);
  });

  it('records a whole sequence of kernels into one submit and reads nothing until asked', async () => {
    const g = gpu!;
    const x = g.alloc(1024);
    g.fill(x, 1024, 1);
    const submits = g.stats().submits;
    let cur = x;
    for (let i = 0; i < 50; i++) {
      const next = g.alloc(1024, false);
      g.binary('add', cur, [1], cur, [1], next, [1024]);
      if (cur !== x) g.free(cur);
      cur = next;
    }
    assert.equal(g.stats().submits, submits, 'no submit before the read');
    const out = await g.read(cur, 4);
    assert.equal(g.stats().submits, submits + 1, 'one submit for 50 kernels and the read');
    assert.deepEqual(Array.from(out), [2 ** 50, 2 ** 50, 2 ** 50, 2 ** 50]);
    g.free(cur);
    g.free(x);
  });

  it('memory() tracks live buffers; freed buffers go back to the pool', async () => {
    const g = gpu!;
    const m0 = g.memory();
    const ids = Array.from({ length: 10 }, () => g.alloc(5000));
    assert.equal(g.memory().buffers, m0.buffers + 10);
    assert.equal(g.memory().bytes, m0.bytes + 10 * 5000 * 4);
    for (const id of ids) g.free(id);
    assert.deepEqual(g.memory(), m0);
    const pooled = g.stats().pooledBuffers;
    const again = g.alloc(5000);
    assert.equal(g.stats().pooledBuffers, pooled - 1, 'reused from the pool');
    g.free(again);
  });
});

/** An op-table case on a backend with asynchronous reads: forward values and Σ w ⊙ y gradients. */
async function runCaseAsync(
  c: OpCase,
  backend: Backend,
): Promise<{ shape: number[]; out: Float32Array; grads: (Float32Array | null)[] }> {
  const previous = getBackend();
  setBackend(backend);
  let kept: { y: Tensor; grads: (Tensor | null)[] };
  try {
    kept = tidy(() => {
      const xs = caseInputs(c).map((x) => tensor(x.data, { shape: x.shape, requiresGrad: true }));
      const y = c.fn(...xs);
      if (c.differentiable === false) return { y, grads: [] };
      y.mul(tensor(outputWeights(y.size), { shape: y.shape }))
        .sum()
        .backward();
      return { y, grads: xs.map((x) => x.grad) };
    });
  } finally {
    setBackend(previous);
  }
  const out = await kept.y.data();
  const grads = await Promise.all(kept.grads.map((g) => (g === null ? null : g.data())));
  kept.y.dispose();
  for (const g of kept.grads) g?.dispose();
  return { shape: [...kept.y.shape], out, grads };
}

describe('op table on the webgpu backend (async reads) vs float64', { skip: skipReason }, () => {
  const oracle = new ReferenceBackend(Float64Array);
  for (const c of opCases) {
    it(c.name, async () => {
      const want = await runCaseAsync(c, oracle);
      const before = gpu!.memory();
      const got = await runCaseAsync(c, gpu!);
      assert.deepEqual(got.shape, want.shape, 'output shape');
      assertClose(got.out, Float32Array.from(want.out), 'forward', c.tol ?? 1e-5, 1);
      assert.equal(got.grads.length, want.grads.length);
      got.grads.forEach((g, i) => {
        const w = want.grads[i]!;
        assert.equal(g === null, w === null, `grad ${i} presence`);
        if (g !== null) assertClose(g, Float32Array.from(w!), `grad ${i}`, c.gradTol ?? 1e-4, 1);
      });
      assert.deepEqual(gpu!.memory(), before, 'no leaked storage');
    });
  }
});

/** Synthetic 28×28 "images": class k lights up a band of rows, plus seeded noise. */
function synthetic(n: number, seed: number): { X: Float32Array; y: Float32Array } {
  const r = rng(seed);
  const X = new Float32Array(n * 784);
  const y = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const k = Math.floor(r() * 10);
    y[i] = k;
    for (let p = 0; p < 784; p++) {
      const row = Math.floor(p / 28);
      X[i * 784 + p] = Math.fround((Math.floor(row / 3) === k ? 0.8 : 0) + 0.2 * r());
    }
  }
  return { X, y };
}

/** A few SGD steps of DropoutMLP on one backend; the losses as the Trainer reads them (await data()). */
async function trainLosses(backend: Backend, steps: number): Promise<number[]> {
  const previous = getBackend();
  setBackend(backend);
  try {
    const model = new DropoutMLP({ numHiddens1: 64, numHiddens2: 32, lr: 0.5, generator: new Generator(7) });
    model.train();
    const losses: number[] = [];
    let optim: ReturnType<DropoutMLP['configureOptimizers']> | null = null;
    for (let s = 0; s < steps; s++) {
      const data = synthetic(64, 100 + (s % 2));
      const X = tensor(Array.from(data.X), { shape: [64, 1, 28, 28] });
      const y = tensor(Array.from(data.y));
      const loss = tidy(() => {
        const l = model.trainingStep({ X, y });
        optim ??= model.configureOptimizers();
        optim.zeroGrad();
        l.backward();
        optim.step();
        return l;
      });
      losses.push((await loss.data())[0]!);
      loss.dispose();
      X.dispose();
      y.dispose();
    }
    return losses;
  } finally {
    setBackend(previous);
  }
}

describe('training on the webgpu backend', { skip: skipReason }, () => {
  it('DropoutMLP: same seed, same losses as the reference backend (within 1e-4), one submit per step', async () => {
    const steps = 8;
    const want = await trainLosses(new ReferenceBackend(), steps);
    const submits = gpu!.stats().submits;
    const got = await trainLosses(gpu!, steps);
    const perStep = (gpu!.stats().submits - submits) / steps;
    for (let i = 0; i < steps; i++) {
      assert.ok(Math.abs(got[i]! - want[i]!) <= 1e-4, `step ${i}: webgpu ${got[i]} vs reference ${want[i]}`);
    }
    assert.ok(want[steps - 1]! < want[0]!, `the loss goes down (${want.join(', ')})`);
    assert.ok(perStep <= 2, `submits per step: ${perStep}`);
  });
});

describe('webgpu backend errors', () => {
  it('an adapter that refuses a device gives a one-line DropoutLabError', async () => {
    const adapter = {
      limits: { maxStorageBufferBindingSize: 1 << 27, maxBufferSize: 1 << 28 },
      requestDevice: () => Promise.reject(new Error('device creation failed\nsecond line')),
    } as unknown as GPUAdapter;
    await assert.rejects(
      createWebGPUBackend({ adapter }),
      (e: unknown) => e instanceof DropoutLabError && !e.message.includes('\n') && /refused/.test(e.message),
    );
  });

  it('rejects use after dispose and unknown storage with DropoutLabError', { skip: skipReason }, async () => {
    const be = await createWebGPUBackend();
    const id = be.alloc(4);
    be.dispose();
    assert.throws(() => be.fill(id, 4, 1), DropoutLabError);
    assert.throws(() => gpu!.fill(123456789, 4, 1), DropoutLabError);
  });
});
