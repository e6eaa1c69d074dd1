/**
 * The wasm backend against the reference backend (the oracle), kernel by kernel, for both kernel
 * builds (plain SIMD, relaxed SIMD where the engine has it) and for 1 and 2 threads: exact where the
 * arithmetic is the same (copies, + - * /, comparisons, reductions, uniform draws, dropout, SGD,
 * softmax and its backward, and the fused GELU and its backward, whose exp is the same float32
 * expF32 step for step),
 * within float32 rounding (1e-5 relative) for matmul, exp/log/tanh and softmax cross-entropy.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type {
  Backend,
  BinaryOp,
  Im2colGeometry,
  RandomStream,
  StorageId,
  UnaryOp,
} from '../../src/backend/backend.js';
import { ReferenceBackend } from '../../src/backend/reference.js';
import { createWasmBackend, relaxedSimdSupported, type WasmBackend } from '../../src/backend/wasm/index.js';
import { collapseDimsMinRank1 } from '../../src/backend/strides.js';
import { MAX_THREADS } from '../../src/backend/wasm/limits.js';
import { HANDOFF_MICROS, type HandoffCost } from '../../src/backend/wasm/cost-model.js';
import { blockSize } from '../../src/backend/wasm/allocator.js';
import { PathChooser, PROBE_RUNS } from '../../src/backend/wasm/path-chooser.js';
import { unsharedMemoryVariant, kernelBytes } from '../../src/backend/wasm/binary.js';
import { coarseArray, randomArray, rng } from '../helpers/testData.js';

/** mulberry32: a tiny seeded generator for test inputs (the lint rule bans Math.random). */

function upload(be: Backend, data: Float32Array): number {
  const id = be.alloc(data.length);
  be.write(id, data);
  return id;
}

/** Bitwise equality that treats every NaN as equal. */
function assertExact(actual: Float32Array, expected: Float32Array, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    if (Number.isNaN(a) && Number.isNaN(e)) continue;
    if (!Object.is(a, e)) assert.fail(`${what}: element ${i} is ${a}, expected ${e}`);
  }
}

/** |a - e| <= rtol·(|e| + scale) per element (scale bounds the rounding of sums with cancellation). */
function assertClose(
  actual: Float32Array,
  expected: Float32Array,
  what: string,
  rtol = 1e-5,
  scale?: Float32Array,
): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    if (Number.isNaN(a) && Number.isNaN(e)) continue;
    if (a === e) continue;
    const tol = rtol * (Math.abs(e) + (scale !== undefined ? scale[i]! : 0)) + 1e-30;
    if (!(Math.abs(a - e) <= tol)) assert.fail(`${what}: element ${i} is ${a}, expected ${e} (tol ${tol})`);
  }
}

function contiguous(shape: readonly number[]): number[] {
  const s: number[] = [];
  let acc = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    s[d] = acc;
    acc *= shape[d]!;
  }
  return s;
}

/** One strided input: storage size and element strides over an output shape. */
interface StridedCase {
  readonly name: string;
  readonly shape: number[];
  readonly strides: number[][];
  readonly sizes: number[];
}

/** Output shapes with per-input strides: contiguous, transposed, row/column/scalar broadcasts. */
function stridedCases(inputs: number): StridedCase[] {
  const same = (s: number[], size: number): { strides: number[][]; sizes: number[] } => ({
    strides: Array.from({ length: inputs }, () => s),
    sizes: Array.from({ length: inputs }, () => size),
  });
  const cases: StridedCase[] = [
    { name: 'contiguous 3×5×7', shape: [3, 5, 7], ...same(contiguous([3, 5, 7]), 105) },
    { name: 'contiguous 1', shape: [1], ...same([1], 1) },
    { name: 'rank 0', shape: [], ...same([], 1) },
    { name: 'contiguous 1031', shape: [1031], ...same([1], 1031) },
    { name: 'transposed 6×9', shape: [6, 9], ...same([1, 6], 54) },
    { name: 'permuted 2×3×5', shape: [2, 3, 5], ...same([1, 10, 2], 30) },
  ];
  if (inputs >= 2) {
    const last = inputs - 1;
    const mixed = (name: string, shape: number[], other: number[], otherSize: number): StridedCase => {
      const strides = Array.from({ length: inputs }, () => contiguous(shape));
      const sizes = Array.from({ length: inputs }, () => shape.reduce((a, b) => a * b, 1));
      strides[last] = other;
      sizes[last] = otherSize;
      return { name, shape, strides, sizes };
    };
    cases.push(
      mixed('row broadcast (bias) 13×19', [13, 19], [0, 1], 19),
      mixed('column broadcast 13×19', [13, 19], [1, 0], 13),
      mixed('scalar broadcast 4×33', [4, 33], [0, 0], 1),
      mixed('broadcast middle 3×4×5', [3, 4, 5], [5, 0, 1], 15),
    );
    // First input broadcast, last contiguous (e.g. 1 - x).
    const first: StridedCase = {
      name: 'scalar first 5×6',
      shape: [5, 6],
      strides: Array.from({ length: inputs }, (_, j) => (j === 0 ? [0, 0] : [6, 1])),
      sizes: Array.from({ length: inputs }, (_, j) => (j === 0 ? 1 : 30)),
    };
    // Outer product shape: [m,1] against [1,n].
    const outer: StridedCase = {
      name: 'outer 7×11',
      shape: [7, 11],
      strides: Array.from({ length: inputs }, (_, j) => (j % 2 === 0 ? [1, 0] : [0, 1])),
      sizes: Array.from({ length: inputs }, (_, j) => (j % 2 === 0 ? 7 : 11)),
    };
    cases.push(first, outer);
  } else {
    cases.push(
      { name: 'expand row 13×19', shape: [13, 19], strides: [[0, 1]], sizes: [19] },
      { name: 'expand column 13×19', shape: [13, 19], strides: [[1, 0]], sizes: [13] },
      { name: 'expand scalar 4×33', shape: [4, 33], strides: [[0, 0]], sizes: [1] },
    );
  }
  return cases;
}

const UNARY: readonly UnaryOp[] = ['copy', 'neg', 'exp', 'log', 'sqrt', 'abs', 'tanh', 'gelu'];
const BINARY: readonly BinaryOp[] = [
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
const APPROX_UNARY = new Set<UnaryOp>(['exp', 'log', 'tanh']);

/** An im2col geometry from the image size, window, stride and padding ([rows, columns] each). */
function unfoldGeometry(
  [batch, channels, height, width]: readonly [number, number, number, number],
  [kernelH, kernelW]: readonly [number, number],
  [strideH, strideW]: readonly [number, number],
  [padH, padW]: readonly [number, number],
): Im2colGeometry {
  const outH = Math.floor((height + 2 * padH - kernelH) / strideH) + 1;
  const outW = Math.floor((width + 2 * padW - kernelW) / strideW) + 1;
  return { batch, channels, height, width, kernelH, kernelW, strideH, strideW, padH, padW, outH, outW };
}

/**
 * Unfolds that take every path of the wasm kernels (assembly/conv.ts): kernel widths below 4, 4 to 8
 * (the overlapping-copy path) and above 8; strides above 1, unequal and wider than the kernel (pixels
 * no window reads); padding on one axis only; a kernel wider and taller than the image; windows
 * wholly in the padding; a 1×1 kernel. Each image and column tensor is large enough (≥ 33k
 * elements) to be split between 2 or 3 threads.
 */
const ODD_UNFOLDS: readonly { name: string; geom: Im2colGeometry; padValue: number }[] = [
  {
    name: '3×3 stride 2 pad 1, 3×17×15',
    geom: unfoldGeometry([60, 3, 17, 15], [3, 3], [2, 2], [1, 1]),
    padValue: 0,
  },
  {
    name: '4×6 stride (1, 2) pad (2, 3)',
    geom: unfoldGeometry([150, 2, 13, 11], [4, 6], [1, 2], [2, 3]),
    padValue: -1,
  },
  {
    name: '5×7 kernel over a 4×3 image, pad (2, 3)',
    geom: unfoldGeometry([1500, 2, 4, 3], [5, 7], [1, 1], [2, 3]),
    padValue: 0,
  },
  {
    name: '2×2 pad 2 over 2×2 (windows in the padding)',
    geom: unfoldGeometry([3000, 3, 2, 2], [2, 2], [1, 1], [2, 2]),
    padValue: -Infinity,
  },
  {
    name: '2×2 stride 3 (gaps)',
    geom: unfoldGeometry([50, 4, 20, 20], [2, 2], [3, 3], [0, 0]),
    padValue: -Infinity,
  },
  { name: '9×9 pad 2, 16×16', geom: unfoldGeometry([150, 1, 16, 16], [9, 9], [1, 1], [2, 2]), padValue: -1 },
  { name: '1×1', geom: unfoldGeometry([100, 5, 9, 9], [1, 1], [1, 1], [0, 0]), padValue: 0 },
  { name: '5×5 pad 2, 3×11×13', geom: unfoldGeometry([100, 3, 11, 13], [5, 5], [1, 1], [2, 2]), padValue: 0 },
  { name: '4×4 stride 2 pad 1', geom: unfoldGeometry([100, 2, 15, 15], [4, 4], [2, 2], [1, 1]), padValue: 0 },
  {
    name: '8×8 over 10×12, pad (0, 1)',
    geom: unfoldGeometry([400, 1, 10, 12], [8, 8], [1, 1], [0, 1]),
    padValue: 0,
  },
];

const oddUnfoldCache = new Map<string, { cols: Float32Array; image: Float32Array }>();

/**
 * Column gradients in [−2, 2), a quarter of them replaced by ±2^40. A float64 sum of a few float32
 * values in [−2, 2) is exact whatever the order; with these, ±2^40 cancel and the small taps added
 * while a 2^40 was in the sum lose their low bits, so a col2im that added an element's taps out of
 * ascending (kh, kw) order would differ from the reference.
 */
function cancellingArray(n: number, seed: number): Float32Array {
  const r = rng(seed + 1);
  return randomArray(n, seed).map((v) => {
    const u = r();
    return u < 0.125 ? 2 ** 40 : u < 0.25 ? -(2 ** 40) : v;
  });
}

/** The reference backend's im2col and col2im of an ODD_UNFOLDS case (computed once for every config). */
function oddUnfoldReference(c: (typeof ODD_UNFOLDS)[number]): { cols: Float32Array; image: Float32Array } {
  const cached = oddUnfoldCache.get(c.name);
  if (cached !== undefined) return cached;
  const { geom } = c;
  const be = new ReferenceBackend();
  const image = geom.batch * geom.channels * geom.height * geom.width;
  const cols = geom.batch * geom.outH * geom.outW * geom.channels * geom.kernelH * geom.kernelW;
  const colsOut = be.alloc(cols);
  be.im2col(upload(be, randomArray(image, 31)), colsOut, geom, c.padValue);
  const imageOut = be.alloc(image);
  be.col2im(upload(be, cancellingArray(cols, 32)), imageOut, geom);
  const result = { cols: be.readSync(colsOut, cols), image: be.readSync(imageOut, image) };
  oddUnfoldCache.set(c.name, result);
  return result;
}

interface Config {
  readonly variant: 'simd' | 'relaxed';
  readonly threads: number;
}

const configs: Config[] = [
  { variant: 'simd', threads: 1 },
  { variant: 'simd', threads: 2 },
];
// Node 20 needs a V8 flag for relaxed SIMD, which createWasmBackend sets; probe after creating one.
const probe = await createWasmBackend({ variant: 'auto' });
probe.dispose();
if (probe.variant === 'relaxed' || relaxedSimdSupported()) {
  configs.push({ variant: 'relaxed', threads: 1 }, { variant: 'relaxed', threads: 2 });
}
// More threads than this machine may have cores: chunks are taken by whichever thread is free, so
// the results must not change (and nothing may hang) when helpers are descheduled.
configs.push({ variant: configs[configs.length - 1]!.variant, threads: 3 });

for (const cfg of configs) {
  describe(`wasm backend (${cfg.variant}, ${cfg.threads} thread${cfg.threads > 1 ? 's' : ''})`, () => {
    let w: WasmBackend;
    const ref = new ReferenceBackend();
    before(async () => {
      w = await createWasmBackend(cfg);
      assert.equal(w.variant, cfg.variant);
      assert.equal(w.threads, cfg.threads);
    });
    after(() => w.dispose());

    /** Runs `f` on both backends with the same inputs and returns both outputs. */
    function both(
      inputs: readonly Float32Array[],
      outSize: number,
      f: (be: Backend, ids: number[], out: number) => void,
    ): [Float32Array, Float32Array] {
      const results = [w as Backend, ref].map((be) => {
        const ids = inputs.map((d) => upload(be, d));
        const out = be.alloc(outSize);
        f(be, ids, out);
        const r = be.readSync(out, outSize);
        ids.forEach((id) => be.free(id));
        be.free(out);
        return r;
      });
      return [results[0]!, results[1]!];
    }

    it('reports its name and synchronous reads', () => {
      assert.equal(w.name, 'wasm');
      assert.equal(w.syncRead, true);
    });

    it('fill', () => {
      for (const size of [1, 3, 4, 37]) {
        const [a, e] = both([], size, (be, _, out) => be.fill(out, size, -1.5));
        assertExact(a, e, `fill ${size}`);
      }
    });

    it('write at an offset, read and read()', async () => {
      const id = w.alloc(10);
      w.write(id, [1, 2, 3], 4);
      assert.deepEqual(Array.from(w.readSync(id, 10)), [0, 0, 0, 0, 1, 2, 3, 0, 0, 0]);
      assert.deepEqual(Array.from(await w.read(id, 3)), [0, 0, 0]);
      w.free(id);
    });

    for (const op of UNARY) {
      it(`unary ${op}`, () => {
        for (const c of stridedCases(1)) {
          const size = c.shape.reduce((a, b) => a * b, 1);
          const positive = op === 'log' || op === 'sqrt';
          const x = randomArray(c.sizes[0]!, 11, positive ? 0.01 : -3, 3);
          const [a, e] = both([x], size, (be, [id], out) => be.unary(op, id!, c.strides[0]!, out, c.shape));
          if (APPROX_UNARY.has(op)) assertClose(a, e, `${op} ${c.name}`, 1e-6);
          else assertExact(a, e, `${op} ${c.name}`);
        }
      });
    }

    it('unary special values (NaN, ±Infinity, -0)', () => {
      const x = Float32Array.from([NaN, Infinity, -Infinity, -0, 0, 1e-40, -1]);
      for (const op of UNARY) {
        const [a, e] = both([x], x.length, (be, [id], out) => be.unary(op, id!, [1], out, [x.length]));
        assertClose(a, e, `${op} specials`, 1e-6);
      }
    });

    for (const op of BINARY) {
      it(`binary ${op}`, () => {
        for (const c of stridedCases(2)) {
          const size = c.shape.reduce((p, q) => p * q, 1);
          const ia = coarseArray(c.sizes[0]!, 21);
          const ib = op === 'div' ? randomArray(c.sizes[1]!, 22, 0.5, 2) : coarseArray(c.sizes[1]!, 23);
          const [a, e] = both([ia, ib], size, (be, [x, y], out) =>
            be.binary(op, x!, c.strides[0]!, y!, c.strides[1]!, out, c.shape),
          );
          assertExact(a, e, `${op} ${c.name}`);
        }
      });
    }

    it('binary special values (NaN, -0, Infinity, division by zero)', () => {
      const xa = Float32Array.from([NaN, 1, -0, 0, Infinity, -1, 3, NaN]);
      const xb = Float32Array.from([1, NaN, 0, -0, Infinity, 0, 3, NaN]);
      for (const op of BINARY) {
        const [a, e] = both([xa, xb], 8, (be, [x, y], out) => be.binary(op, x!, [1], y!, [1], out, [8]));
        assertExact(a, e, `${op} specials`);
      }
    });

    it('where', () => {
      for (const c of stridedCases(3)) {
        const size = c.shape.reduce((p, q) => p * q, 1);
        const cond = coarseArray(c.sizes[0]!, 31).map((v) => (v > 0 ? 1 : v === 0 ? -0 : v < -2 ? NaN : 0));
        const [a, e] = both(
          [cond, randomArray(c.sizes[1]!, 32), randomArray(c.sizes[2]!, 33)],
          size,
          (be, [x, y, z], out) =>
            be.where(x!, c.strides[0]!, y!, c.strides[1]!, z!, c.strides[2]!, out, c.shape),
        );
        assertExact(a, e, `where ${c.name}`);
      }
    });

    it('reduce sum and max over [outer, reduce, inner]', () => {
      const shapes = [
        [1, 1, 1],
        [1, 256, 256],
        [3, 5, 7],
        [4, 9, 1],
        [2, 3, 13],
        [5, 1, 8],
        [1, 100, 3],
      ] as const;
      for (const [outer, red, inner] of shapes) {
        const x = randomArray(outer * red * inner, outer * 100 + red + inner);
        for (const op of ['sum', 'max'] as const) {
          const [a, e] = both([x], outer * inner, (be, [id], out) =>
            be.reduce(op, id!, outer, red, inner, out),
          );
          assertExact(a, e, `${op} ${outer}×${red}×${inner}`);
        }
      }
      // max propagates NaN and keeps the first of -0/+0; ties and -Infinity too.
      const special = Float32Array.from([-0, 0, NaN, 1, 1, -Infinity, 0, -0, -Infinity, -Infinity, 2, NaN]);
      for (const [outer, red, inner] of [
        [3, 4, 1],
        [1, 3, 4],
        [2, 2, 3],
      ] as const) {
        const [a, e] = both([special], outer * inner, (be, [id], out) =>
          be.reduce('max', id!, outer, red, inner, out),
        );
        assertExact(a, e, `max specials ${outer}×${red}×${inner}`);
      }
    });

    it('matmul: all transposes, odd sizes, k blocking, both split directions, epilogues', () => {
      const shapes = [
        [1, 1, 1],
        [3, 5, 7],
        [4, 8, 4],
        [37, 29, 53],
        [9, 17, 300],
        [130, 70, 520],
        [200, 10, 300],
        [256, 10, 256],
        [5, 3, 0],
      ] as const;
      for (const [m, n, k] of shapes) {
        for (const transA of [false, true]) {
          for (const transB of [false, true]) {
            for (const epi of ['none', 'bias', 'relu', 'bias+relu'] as const) {
              if (epi !== 'none' && m * n * k > 1e6 && (transA || transB)) continue; // keep the test fast
              const A = randomArray(m * k, m + 3 * n + 7 * k + (transA ? 1 : 0));
              const B = randomArray(k * n, m + 5 * n + 11 * k + (transB ? 1 : 0));
              const bias = randomArray(n, 99);
              const useBias = epi.startsWith('bias');
              const relu = epi.endsWith('relu');
              const run = (absolute: boolean): [Float32Array, Float32Array] =>
                both(
                  [absolute ? A.map(Math.abs) : A, absolute ? B.map(Math.abs) : B, bias],
                  m * n,
                  (be, [a, b, bi], out) =>
                    be.matmul(
                      a!,
                      b!,
                      out,
                      m,
                      n,
                      k,
                      transA,
                      transB,
                      epi === 'none' ? undefined : { bias: useBias ? bi! : -1, relu },
                    ),
                );
              const [actual, expected] = run(false);
              // Rounding of a dot product is bounded relative to Σ|a||b| (+|bias|), not to the result.
              const [, scale] = run(true);
              assertClose(
                actual,
                expected,
                `matmul ${m}×${n}×${k} tA=${transA} tB=${transB} ${epi}`,
                1e-5,
                scale.map((s, i) => s + (useBias ? Math.abs(bias[i % n]!) : 0) + 1e-6),
              );
            }
          }
        }
      }
    });

    it('batchMatmul: every item equals a lone matmul of it, bit for bit, on every transpose', () => {
      // [batch, m, n, k]: attention's head products (17 tokens, 16 per head) and odd sizes, on both
      // sides of gemmBatch's small-item kernel (m·n ≤ 1024).
      for (const [batch, m, n, k] of [
        [1, 3, 5, 7],
        [7, 17, 17, 16],
        [64, 17, 16, 17],
        [3, 37, 29, 53],
        [4, 32, 32, 40],
        [3, 5, 33, 9],
        [2, 5, 3, 0],
      ] as const) {
        for (const transA of [false, true]) {
          for (const transB of [false, true]) {
            const A = randomArray(batch * m * k, batch + m + 3 * n + 7 * k + (transA ? 1 : 0));
            const B = randomArray(batch * k * n, batch + m + 5 * n + 11 * k + (transB ? 1 : 0));
            const what = `bmm ${batch}×${m}×${n}×${k} tA=${transA} tB=${transB}`;
            const [actual, expected] = both([A, B], batch * m * n, (be, [a, b], out) =>
              be.batchMatmul(a!, b!, out, batch, m, n, k, transA, transB),
            );
            assertClose(actual, expected, what, 1e-5, new Float32Array(batch * m * n).fill(k + 1));
            for (let t = 0; t < batch; t++) {
              const a = upload(w, A.subarray(t * m * k, (t + 1) * m * k));
              const b = upload(w, B.subarray(t * k * n, (t + 1) * k * n));
              const c = w.alloc(m * n);
              w.matmul(a, b, c, m, n, k, transA, transB);
              assertExact(
                w.readSync(c, m * n),
                actual.subarray(t * m * n, (t + 1) * m * n),
                `${what} item ${t}`,
              );
              [a, b, c].forEach((id) => w.free(id));
            }
          }
        }
      }
    });

    it('argmax (first on ties)', () => {
      for (const [rows, cols] of [
        [1, 1],
        [5, 10],
        [7, 3],
        [2, 33],
      ] as const) {
        const x = coarseArray(rows * cols, rows * 7 + cols);
        const [a, e] = both([x], rows, (be, [id], out) => be.argmax(id!, rows, cols, out));
        assertExact(a, e, `argmax ${rows}×${cols}`);
      }
    });

    const streams: RandomStream[] = [
      { key: [0, 0], offset: 0 },
      { key: [0xdeadbeef, 0xcafef00d], offset: 12345 },
      { key: [7, 0xffffffff], offset: 2 ** 32 - 3 }, // counter crosses into the high word
      { key: [123456789, 42], offset: 2 ** 45 + 17 },
    ];

    it('random uniform is bit-identical to the reference', () => {
      for (const stream of streams) {
        for (const size of [1, 3, 4, 17, 1000, 70001]) {
          const [a, e] = both([], size, (be, _, out) => be.random('uniform', stream, out, size));
          assertExact(a, e, `uniform ${size} offset ${stream.offset}`);
        }
      }
    });

    it('random normal matches the reference within 1e-6', () => {
      for (const stream of streams) {
        for (const size of [1, 2, 5, 1001]) {
          const [a, e] = both([], size, (be, _, out) => be.random('normal', stream, out, size));
          const ones = new Float32Array(size).fill(1);
          assertClose(a, e, `normal ${size}`, 1e-6, ones);
        }
      }
    });

    it('dropout is bit-identical to the reference', () => {
      for (const stream of streams) {
        for (const p of [0.1, 0.2, 0.5, 1 / 3, 0.9, 1e-9, 1 - 1e-9]) {
          for (const size of [1, 7, 100, 70001]) {
            const x = randomArray(size, size + 5);
            const [a, e] = both([x], size, (be, [id], out) => be.dropout(id!, stream, p, out, size));
            assertExact(a, e, `dropout p=${p} size=${size}`);
          }
        }
      }
    });

    it('dropout on a stream seen before re-applies the cached mask, bit-identical to the reference', () => {
      // The backward pass calls dropout again with the forward's stream on the gradient; the wasm
      // backend then reads the mask it kept instead of running Philox. Sizes cover the SIMD groups,
      // the scalar tail and the 2-thread split; eleven streams overflow the 8-entry cache, so the
      // first ones are drawn afresh when they come back.
      const many = Array.from({ length: 11 }, (_, i) => ({
        key: [i, 99] as [number, number],
        offset: 3 * i,
      }));
      for (const p of [0.5, 0.2]) {
        for (const size of [1, 5, 16, 37, 70001]) {
          for (const round of [0, 1]) {
            for (const [si, stream] of many.entries()) {
              for (const [which, seed] of [
                ['forward', 1],
                ['backward', 2],
              ] as const) {
                const x = randomArray(size, size + si + seed * 7 + round);
                const [a, e] = both([x], size, (be, [id], out) => be.dropout(id!, stream, p, out, size));
                assertExact(a, e, `${which} round ${round} stream ${si} p=${p} size=${size}`);
              }
            }
          }
        }
      }
    });

    it('softmaxCrossEntropy', () => {
      for (const [rows, cols] of [
        [1, 1],
        [5, 10],
        [256, 10],
        [3, 13],
      ] as const) {
        const logits = randomArray(rows * cols, rows + cols, -8, 8);
        const r = rng(rows * cols);
        const labels = Float32Array.from({ length: rows }, () => Math.floor(r() * cols));
        const results = [w as Backend, ref].map((be) => {
          const z = upload(be, logits);
          const y = upload(be, labels);
          const l = be.alloc(rows);
          const g = be.alloc(rows * cols);
          be.softmaxCrossEntropy(z, y, rows, cols, l, g);
          const out = [be.readSync(l, rows), be.readSync(g, rows * cols)] as const;
          [z, y, l, g].forEach((id) => be.free(id));
          return out;
        });
        const [[la, ga], [le, ge]] = [results[0]!, results[1]!];
        assertClose(la, le, `losses ${rows}×${cols}`, 1e-5, new Float32Array(rows).fill(1e-3));
        assertClose(ga, ge, `grad ${rows}×${cols}`, 1e-5, new Float32Array(rows * cols).fill(1e-3));
      }
    });

    it('layerNorm and layerNormBackward are bit-identical to the reference (split by rows on 2+ threads)', () => {
      const want = layerNormOutputs(ref);
      layerNormOutputs(w).forEach((o, i) => assertExact(o, want[i]!, `layerNorm output ${i}`));
    });

    it('softmax and softmaxBackward are bit-identical to the reference (special values too)', () => {
      for (const [rows, cols] of [
        [1, 1],
        [3, 2],
        [5, 17],
        [64, 4],
        [9, 13],
        [4, 257],
      ] as const) {
        const x = randomArray(rows * cols, rows + cols, -8, 8);
        const dy = randomArray(rows * cols, rows * cols, -1, 1);
        const [y, ye] = both([x], rows * cols, (be, [xi], out) => be.softmax(xi!, rows, cols, out));
        assertExact(y, ye, `softmax ${rows}×${cols}`);
        const [dx, dxe] = both([ye, dy], rows * cols, (be, [yi, gi], out) =>
          be.softmaxBackward(yi!, gi!, rows, cols, out),
        );
        assertExact(dx, dxe, `softmaxBackward ${rows}×${cols}`);
      }
      // Rows of 5: a NaN, a +∞ (∞ − ∞ is NaN), −∞ entries (a masked score is 0), all −∞ (NaN, as the
      // composition and PyTorch give), ties of ±0, a row far from 0 (the shift keeps it finite), and
      // shifts whose exp is subnormal or 0 (expF32's two-factor scaling, lanes and tail alike).
      const specials = Float32Array.from(
        [
          [1, NaN, 2, 3, 4],
          [1, Infinity, 2, 3, 4],
          [-Infinity, 0.5, -Infinity, 2, -1],
          [-Infinity, -Infinity, -Infinity, -Infinity, -Infinity],
          [-0, 0, -0, 0, -1],
          [1000, 999, 998.5, -1000, 1000],
          [0, -88.5, -95.25, -103.75, -120],
        ].flat(),
      );
      const [y, ye] = both([specials], 35, (be, [xi], out) => be.softmax(xi!, 7, 5, out));
      assertExact(y, ye, 'softmax specials');
      assert.deepEqual(
        Array.from(y.subarray(10, 15)).map((v) => v === 0),
        [true, false, true, false, false],
      );
      assert.ok(y.subarray(0, 10).every(Number.isNaN) && y.subarray(15, 20).every(Number.isNaN));
      assert.ok(y[32]! > 0 && y[32]! < 2 ** -126 && y[34] === 0, 'a subnormal and an underflow');
      const [dx, dxe] = both([ye, randomArray(35, 5)], 35, (be, [yi, gi], out) =>
        be.softmaxBackward(yi!, gi!, 7, 5, out),
      );
      assertExact(dx, dxe, 'softmaxBackward specials');
    });

    it('sgdStep is bit-identical (with and without momentum and weight decay)', () => {
      const settings = [
        { lr: 0.1, momentum: 0, weightDecay: 0 },
        { lr: 0.05, momentum: 0.9, weightDecay: 1e-4 },
        { lr: 0.3, momentum: 0.5, weightDecay: 0 },
      ];
      for (const params of settings) {
        // 70001 elements: large enough to be split between threads, odd so the split has a tail.
        for (const size of [1, 5, 1027, 70001]) {
          const withV = params.momentum > 0;
          const results = [w as Backend, ref].map((be) => {
            const p = upload(be, randomArray(size, 1));
            const g = upload(be, randomArray(size, 2));
            const v = withV ? upload(be, randomArray(size, 3)) : -1;
            be.sgdStep(p, g, v, size, params);
            be.sgdStep(p, g, v, size, params);
            const out = [be.readSync(p, size), withV ? be.readSync(v, size) : new Float32Array(0)] as const;
            [p, g].forEach((id) => be.free(id));
            if (withV) be.free(v);
            return out;
          });
          assertExact(results[0]![0], results[1]![0], `sgd params ${JSON.stringify(params)}`);
          assertExact(results[0]![1], results[1]![1], `sgd velocity ${JSON.stringify(params)}`);
        }
      }
    });

    it('im2col and col2im match the reference bit for bit on odd geometries, split between threads', () => {
      // Reset the measured hand-off (a loaded machine raises it) so each large op is split on 2+
      // threads, at cuts inside output rows; the trace checks that both kernels were split.
      const { handoff } = (w as unknown as { parallel: { handoff: HandoffCost } }).parallel;
      const trace = { dispatches: new Map<string, { count: number; chunks: number }>(), syncMs: 0 };
      w.traceThreads(trace);
      try {
        for (const c of ODD_UNFOLDS) {
          const { geom, padValue } = c;
          const expected = oddUnfoldReference(c);
          const image = geom.batch * geom.channels * geom.height * geom.width;
          const cols = geom.batch * geom.outH * geom.outW * geom.channels * geom.kernelH * geom.kernelW;
          const [x, g] = [upload(w, randomArray(image, 31)), upload(w, cancellingArray(cols, 32))];
          const [colsOut, imageOut] = [w.alloc(cols), w.alloc(image)];
          handoff.micros = HANDOFF_MICROS;
          w.im2col(x, colsOut, geom, padValue);
          handoff.micros = HANDOFF_MICROS;
          w.col2im(g, imageOut, geom);
          assertExact(w.readSync(colsOut, cols), expected.cols, `im2col ${c.name}`);
          assertExact(w.readSync(imageOut, image), expected.image, `col2im ${c.name}`);
          [x, g, colsOut, imageOut].forEach((id) => w.free(id));
        }
      } finally {
        w.traceThreads(undefined);
      }
      if (cfg.threads > 1) {
        const split = [...trace.dispatches.keys()].map((k) => k.split(' ')[0]);
        assert.ok(split.includes('im2col') && split.includes('col2im'), `split: ${split.join(', ')}`);
      }
    });

    it('alloc/free cycles keep memory flat; views survive memory growth', () => {
      const keep = upload(w, Float32Array.from([1, 2, 3]));
      const base = w.memory();
      const cycle = (): void => {
        const ids = [10, 1000, 784 * 256, 65536, 3, 10].map((n) => w.alloc(n));
        for (const id of ids) w.fill(id, 1, 5);
        ids.forEach((id) => w.free(id));
      };
      cycle();
      const heap = w.heapBytes();
      for (let i = 0; i < 20; i++) cycle();
      assert.deepEqual(w.memory(), base);
      assert.equal(w.heapBytes(), heap);
      // Growth: a 64 MiB buffer forces memory.grow; older storage must still read back.
      const big = w.alloc(16 << 20);
      w.fill(big, 16 << 20, 2);
      assert.deepEqual(Array.from(w.readSync(keep, 3)), [1, 2, 3]);
      assert.equal(w.readSync(big, 16 << 20)[(16 << 20) - 1], 2);
      // Reused blocks come back zero-filled.
      w.free(big);
      const again = w.alloc(16 << 20);
      assert.equal(w.readSync(again, 16 << 20)[12345], 0);
      w.free(again);
      w.free(keep);
      assert.equal(w.memory().buffers, base.buffers - 1);
    });
  });
}

/**
 * im2col and col2im of a LeNet conv (5×5, padding 2), a 2×2 max-pool window (−∞ padding value), a
 * strided padded 3×3 window on an odd image and a 3×3 stride-2 window without padding: large enough
 * to be split between threads.
 */
function convUnfolds(be: Backend): Float32Array[] {
  const out: Float32Array[] = [];
  for (const [[batch, channels, height, width], k, stride, pad, padValue] of [
    [[64, 6, 14, 14], 5, 1, 2, 0],
    [[64, 6, 28, 28], 2, 2, 0, -Infinity],
    [[33, 5, 15, 13], 3, 2, 1, 0],
    [[40, 4, 17, 17], 3, 2, 0, 0],
  ] as const) {
    const outH = Math.floor((height + 2 * pad - k) / stride) + 1;
    const outW = Math.floor((width + 2 * pad - k) / stride) + 1;
    const geom = {
      batch,
      channels,
      height,
      width,
      kernelH: k,
      kernelW: k,
      strideH: stride,
      strideW: stride,
      padH: pad,
      padW: pad,
      outH,
      outW,
    };
    const imageSize = batch * channels * height * width;
    const colsSize = batch * outH * outW * channels * k * k;
    const x = upload(be, randomArray(imageSize, 12));
    const cols = be.alloc(colsSize);
    be.im2col(x, cols, geom, padValue);
    out.push(be.readSync(cols, colsSize));
    const g = upload(be, randomArray(colsSize, 13));
    const image = be.alloc(imageSize);
    be.col2im(g, image, geom);
    out.push(be.readSync(image, imageSize));
  }
  return out;
}

/**
 * Softmax and its backward over rows large enough to be split across threads (cost-model.ts):
 * attention's probabilities ([1024·17, 17], the tiny ViT's per head-batch), rows of 5 (an odd count)
 * and rows of 1000. On a wasm backend with helpers each kernel must be split (the trace checks it).
 */
function softmaxRows(be: Backend): Float32Array[] {
  const out: Float32Array[] = [];
  const wasm = be instanceof ReferenceBackend ? undefined : (be as WasmBackend);
  const trace = { dispatches: new Map<string, { count: number; chunks: number }>(), syncMs: 0 };
  wasm?.traceThreads(trace);
  const { handoff } = (be as unknown as { parallel?: { handoff: HandoffCost } }).parallel ?? {};
  const split = (name: string, run: () => void): void => {
    // From the nominal hand-off cost, as stridedElementwise does, so a loaded machine still splits.
    if (handoff !== undefined) handoff.micros = HANDOFF_MICROS;
    trace.dispatches.clear();
    run();
    if (wasm !== undefined && wasm.threads > 1)
      assert.equal(trace.dispatches.size, 1, `${name} was not split`);
  };
  for (const [rows, cols] of [
    [1024 * 17, 17],
    [7001, 5],
    [300, 1000],
  ] as const) {
    const size = rows * cols;
    const x = upload(be, randomArray(size, cols, -8, 8));
    const dy = upload(be, randomArray(size, cols + 1));
    const y = be.alloc(size);
    const dx = be.alloc(size);
    split(`softmax ${rows}×${cols}`, () => be.softmax(x, rows, cols, y));
    split(`softmaxBackward ${rows}×${cols}`, () => be.softmaxBackward(y, dy, rows, cols, dx));
    out.push(be.readSync(y, size), be.readSync(dx, size));
    [x, dy, y, dx].forEach((id) => be.free(id));
  }
  wasm?.traceThreads(undefined);
  return out;
}

/**
 * Strided unary, binary and where ops large enough (403k elements) to be split across threads
 * (cost-model.ts): contiguous (one
 * long row), row broadcasts (a bias row, a per-row scale), a transposed read, and rows of odd
 * length so the cuts fall inside rows.
 */
function stridedElementwise(be: WasmBackend): Float32Array[] {
  const out: Float32Array[] = [];
  const size = 1031 * 391;
  const x = upload(be, randomArray(size, 21));
  const y = upload(be, randomArray(size, 22));
  const row = upload(be, randomArray(391, 23));
  const col = upload(be, randomArray(1031, 24));
  const o = be.alloc(size);
  const shape = [1031, 391];
  const mask = be.alloc(size);
  be.binary('gt', x, [391, 1], y, [391, 1], mask, shape);
  const cases: [string, (o: StorageId) => void][] = [
    ['exp', (o) => be.unary('exp', x, [391, 1], o, shape)],
    ['tanh of a transpose', (o) => be.unary('tanh', x, [1, 391], o, [391, 1031])],
    ['gelu of a transpose', (o) => be.unary('gelu', x, [1, 391], o, [391, 1031])],
    ['geluBackward', (o) => be.binary('geluBackward', x, [391, 1], y, [391, 1], o, shape)],
    ['neg of a broadcast row', (o) => be.unary('neg', row, [0, 1], o, shape)],
    ['add', (o) => be.binary('add', x, [391, 1], y, [391, 1], o, shape)],
    ['mul by a row', (o) => be.binary('mul', x, [391, 1], row, [0, 1], o, shape)],
    ['sub a column', (o) => be.binary('sub', x, [391, 1], col, [1, 0], o, shape)],
    ['div a column by a transpose', (o) => be.binary('div', col, [1, 0], y, [1, 1031], o, [1031, 391])],
    ['maximum of 3-d', (o) => be.binary('maximum', x, [391, 1, 17], row, [0, 0, 1], o, [1031, 17, 23])],
    ['where', (o) => be.where(mask, [391, 1], y, [391, 1], row, [0, 1], o, shape)],
  ];
  // A loaded machine raises the measured hand-off cost until only probes split; start each case
  // from the nominal cost so every case is split on 2+ threads (the trace checks that it was).
  const { handoff } = (be as unknown as { parallel: { handoff: HandoffCost } }).parallel;
  const trace = { dispatches: new Map<string, { count: number; chunks: number }>(), syncMs: 0 };
  be.traceThreads(trace);
  for (const [name, run] of cases) {
    handoff.micros = HANDOFF_MICROS;
    trace.dispatches.clear();
    run(o);
    if (be.threads > 1) assert.equal(trace.dispatches.size, 1, `${name} was not split`);
    out.push(be.readSync(o, size));
  }
  be.traceThreads(undefined);
  return out;
}

/**
 * LayerNorm forward and backward (out, mean, rstd, dx, g·x̂) on `be` over row lengths that are and
 * are not multiples of 4 (the SIMD pass's tail), with and without gamma and beta, and the ViT's
 * [256·17, 64], large enough to be split by rows on 2+ threads (checked by the trace on a wasm backend).
 */
function layerNormOutputs(be: Backend): Float32Array[] {
  const out: Float32Array[] = [];
  const wasm = be instanceof ReferenceBackend ? undefined : (be as WasmBackend);
  const trace = { dispatches: new Map<string, { count: number; chunks: number }>(), syncMs: 0 };
  wasm?.traceThreads(trace);
  // A loaded machine raises the measured hand-off cost until only probes split; start each call
  // from the nominal cost so the large case is split on 2+ threads (the trace checks that it was).
  const nominal = (): void => {
    if (wasm !== undefined)
      (wasm as unknown as { parallel: { handoff: HandoffCost } }).parallel.handoff.micros = HANDOFF_MICROS;
  };
  for (const [rows, cols, affine] of [
    [1, 1, true],
    [5, 3, false],
    [7, 13, true],
    [33, 64, false],
    [256 * 17, 64, true],
  ] as const) {
    const size = rows * cols;
    // Inputs with a large mean and a small spread, where the variance's cancellation shows.
    const x = upload(be, randomArray(size, rows + cols, 2.5, 3.5));
    const g = upload(be, randomArray(size, rows + 2 * cols));
    const gamma = affine ? upload(be, randomArray(cols, 3 * cols, 0.5, 1.5)) : -1;
    const beta = affine ? upload(be, randomArray(cols, 5 * cols)) : -1;
    const [y, mean, rstd, dx, gxhat] = [size, rows, rows, size, size].map((n) => be.alloc(n));
    trace.dispatches.clear();
    nominal();
    be.layerNorm(x, gamma, beta, rows, cols, 1e-5, y!, mean!, rstd!);
    nominal();
    be.layerNormBackward(g, x, gamma, mean!, rstd!, rows, cols, dx!, affine ? gxhat! : -1);
    if (wasm !== undefined && wasm.threads > 1 && size > 100000) {
      assert.deepEqual([...trace.dispatches.keys()].map((k) => k.split(' ')[0]).sort(), [
        'layerNorm',
        'layerNormBackward',
      ]);
    }
    out.push(
      be.readSync(y!, size),
      be.readSync(mean!, rows),
      be.readSync(rstd!, rows),
      be.readSync(dx!, size),
    );
    if (affine) out.push(be.readSync(gxhat!, size));
    [x, g, y!, mean!, rstd!, dx!, gxhat!].forEach((id) => be.free(id));
    if (affine) [gamma, beta].forEach((id) => be.free(id));
  }
  wasm?.traceThreads(undefined);
  return out;
}

describe('wasm backend: thread count and helpers', () => {
  it('1, 2, 3 and 4 threads give bit-identical matmul, uniform, dropout, SGD, strided unary/binary/where, im2col, col2im and layerNorm results', async () => {
    for (const variant of configs.filter((c) => c.threads === 1).map((c) => c.variant)) {
      const backends = await Promise.all(
        [1, 2, 3, 4].map((threads) => createWasmBackend({ threads, variant })),
      );
      assert.deepEqual(
        backends.map((be) => be.threads),
        [1, 2, 3, 4],
      );
      const outs = backends.map((be) => {
        const r: Float32Array[] = [];
        for (const [m, n, k, ta, tb] of [
          [256, 256, 784, false, true],
          [256, 784, 256, true, false],
          [256, 10, 256, false, true],
          [99, 45, 301, true, true],
          [12, 300, 700, false, false],
          [500, 12, 300, false, true],
        ] as const) {
          const a = upload(be, randomArray(m * k, 1));
          const b = upload(be, randomArray(n * k, 2));
          const bias = upload(be, randomArray(n, 3));
          const c = be.alloc(m * n);
          be.matmul(a, b, c, m, n, k, ta, tb, { bias, relu: true });
          r.push(be.readSync(c, m * n));
        }
        const x = upload(be, randomArray(100003, 4));
        const o = be.alloc(100003);
        be.dropout(x, { key: [1, 2], offset: 99 }, 0.5, o, 100003);
        r.push(be.readSync(o, 100003));
        // The backward pass re-applies a cached mask.
        be.dropout(x, { key: [1, 2], offset: 99 }, 0.5, o, 100003);
        r.push(be.readSync(o, 100003));
        be.random('uniform', { key: [3, 4], offset: 5 }, o, 100003);
        r.push(be.readSync(o, 100003));
        const g = upload(be, randomArray(100003, 6));
        const v = upload(be, randomArray(100003, 8));
        be.sgdStep(x, g, v, 100003, { lr: 0.1, momentum: 0.9, weightDecay: 1e-3 });
        r.push(be.readSync(x, 100003), be.readSync(v, 100003));
        // Batched products (attention's heads) share out items between threads.
        for (const [batch, m, n, k, ta, tb] of [
          [512, 17, 17, 16, false, true],
          [512, 17, 16, 17, false, false],
          [512, 16, 17, 17, true, false],
        ] as const) {
          const a = upload(be, randomArray(batch * m * k, 12));
          const b = upload(be, randomArray(batch * n * k, 13));
          const c = be.alloc(batch * m * n);
          be.batchMatmul(a, b, c, batch, m, n, k, ta, tb);
          r.push(be.readSync(c, batch * m * n));
        }
        // Sparse left operands take the sparse × dense path.
        const a = upload(be, sparsify(randomArray(256 * 784, 9), 0.3, 10));
        const b = upload(be, randomArray(784 * 256, 11));
        const c = be.alloc(256 * 256);
        be.matmul(a, b, c, 256, 256, 784, false, false);
        r.push(be.readSync(c, 256 * 256));
        r.push(...stridedElementwise(be));
        r.push(...layerNormOutputs(be));
        r.push(...convUnfolds(be));
        return r;
      });
      for (let t = 1; t < backends.length; t++) {
        outs[0]!.forEach((o, i) => assertExact(outs[t]![i]!, o, `${variant}, ${t + 1} threads, output ${i}`));
      }
      // The unfolds split across threads are also the reference backend's, bit for bit.
      const reference = convUnfolds(new ReferenceBackend());
      reference.forEach((e, i) =>
        assertExact(outs[1]![outs[1]!.length - reference.length + i]!, e, `im2col/col2im ${i}`),
      );
      backends.forEach((be) => be.dispose());
    }
  });

  it('softmax and its backward split by rows on 2 and 3 threads, bit-identical to 1 thread and the reference', async () => {
    const backends = await Promise.all([1, 2, 3].map((threads) => createWasmBackend({ threads })));
    try {
      const reference = softmaxRows(new ReferenceBackend());
      for (const be of backends) {
        softmaxRows(be).forEach((o, i) =>
          assertExact(o, reference[i]!, `${be.threads} threads, output ${i}`),
        );
      }
    } finally {
      backends.forEach((be) => be.dispose());
    }
  });

  it('16 threads (far more than cores) give the same results as one', async () => {
    const many = await createWasmBackend({ threads: 16 });
    const one = await createWasmBackend({ threads: 1 });
    try {
      assert.equal(many.threads, 16);
      const outs = [one, many].map((be) => {
        const r: Float32Array[] = [];
        for (const density of [1, 0.3]) {
          const a = upload(be, sparsify(randomArray(300 * 500, 1), density, 2));
          const b = upload(be, randomArray(500 * 260, 3));
          const c = be.alloc(300 * 260);
          be.matmul(a, b, c, 300, 260, 500, false, false);
          r.push(be.readSync(c, 300 * 260));
        }
        const x = upload(be, randomArray(150001, 4));
        const o = be.alloc(150001);
        be.dropout(x, { key: [5, 6], offset: 7 }, 0.4, o, 150001);
        r.push(be.readSync(o, 150001));
        return r;
      });
      outs[0]!.forEach((o, i) => assertExact(outs[1]![i]!, o, `output ${i}`));
    } finally {
      many.dispose();
      one.dispose();
    }
  });

  it('hand-offs stay correct over a thousand back-to-back commands', async () => {
    // A helper descheduled between reading a command and claiming it once ran the stale command
    // with the next one's arguments (seen once in a full test run; the claim is now tied to the
    // command's sequence number). This is a regression smoke test: the window is too narrow to hit
    // on demand.
    const one = await createWasmBackend({ threads: 1 });
    const two = await createWasmBackend({ threads: 3 });
    const size = 40000;
    const [o1, o2] = [one.alloc(size), two.alloc(size)];
    const [x1, x2] = [upload(one, randomArray(size, 5)), upload(two, randomArray(size, 5))];
    try {
      for (let i = 0; i < 1000; i++) {
        const stream = { key: [7, i] as [number, number], offset: i };
        if (i % 2 === 0) {
          one.random('uniform', stream, o1, size);
          two.random('uniform', stream, o2, size);
        } else {
          one.dropout(x1, stream, 0.3, o1, size);
          two.dropout(x2, stream, 0.3, o2, size);
        }
        assertExact(two.readSync(o2, size), one.readSync(o1, size), `command ${i}`);
      }
    } finally {
      one.dispose();
      two.dispose();
    }
  });

  it('dispose is idempotent and leaves a working single-threaded backend', async () => {
    const be = await createWasmBackend({ threads: 2 });
    be.dispose();
    be.dispose();
    const a = upload(be, randomArray(300 * 300, 1));
    const c = be.alloc(300 * 300);
    be.matmul(a, a, c, 300, 300, 300, false, false);
    assert.ok(Number.isFinite(be.readSync(c, 1)[0]!));
  });

  it('rejects unsupported thread counts', async () => {
    for (const threads of [0, 1.5, -1, MAX_THREADS + 1]) {
      await assert.rejects(createWasmBackend({ threads }), RangeError, String(threads));
    }
  });
});

/** `data` with each element zeroed with probability 1 − density (a dropout/ReLU-like pattern). */
function sparsify(data: Float32Array, density: number, seed: number): Float32Array {
  const r = rng(seed);
  return data.map((v) => (r() < density ? v : 0));
}

/** Counts how often `be` takes the sparse × dense path (a spy on its matmul planner's private method). */
function countSparseCalls(be: WasmBackend): { readonly calls: number } {
  const spy = (be as unknown as { planner: { sparseMatmul: (...args: unknown[]) => void } }).planner;
  const orig = spy.sparseMatmul.bind(spy);
  const counter = { calls: 0 };
  spy.sparseMatmul = (...args: unknown[]) => {
    counter.calls++;
    orig(...args);
  };
  return counter;
}

describe('wasm backend: sparse × dense matmul (mostly-zero left operand)', () => {
  // [m, n, k, transA, transB]: the dropout MLP's shapes, the tails after the 24-column blocks (16 of
  // 256, 784 and 64, then 21, 13, 22 and 2 columns), odd depths, and k above the dense GEMM's k-block.
  const shapes = [
    [256, 256, 256, false, true],
    [256, 784, 256, true, false],
    [256, 256, 256, false, false],
    [256, 256, 256, true, false],
    [99, 45, 301, true, true],
    [64, 37, 33, false, false],
    [33, 70, 40, true, true],
    [40, 64, 600, false, false],
    [48, 50, 64, false, true],
  ] as const;

  for (const cfg of configs) {
    it(`is bit-identical to the dense GEMM and takes the sparse path (${cfg.variant}, ${cfg.threads} thread${cfg.threads > 1 ? 's' : ''})`, async () => {
      const sparse = await createWasmBackend({ ...cfg, sparse: true });
      const dense = await createWasmBackend({ ...cfg, sparse: false });
      const spy = countSparseCalls(sparse);
      let expectedCalls = 0;
      for (const [m, n, k, ta, tb] of shapes) {
        for (const epilogue of [false, true]) {
          const A = sparsify(randomArray(m * k, m + n), 0.15, k);
          const B = randomArray(n * k, 7);
          const bias = randomArray(n, 9);
          const [got, want] = [sparse, dense].map((be) => {
            const a = upload(be, A);
            const b = upload(be, B);
            const bi = upload(be, bias);
            const c = be.alloc(m * n, false);
            be.matmul(a, b, c, m, n, k, ta, tb, epilogue ? { bias: bi, relu: true } : undefined);
            const r = be.readSync(c, m * n);
            [a, b, bi, c].forEach((id) => be.free(id));
            return r;
          });
          assertExact(
            got!,
            want!,
            `${m}×${n}×${k} ${ta ? 'T' : 'N'}${tb ? 'T' : 'N'}${epilogue ? ' +bias+relu' : ''}`,
          );
          expectedCalls++;
        }
      }
      assert.equal(spy.calls, expectedCalls, 'every product above took the sparse path');
      sparse.dispose();
      dense.dispose();
    });
  }

  it('keeps dense operands, narrow outputs and shallow products on the dense GEMM', async () => {
    const be = await createWasmBackend({ threads: 2 });
    const spy = countSparseCalls(be);
    for (const [m, n, k, density] of [
      [128, 128, 128, 0.7],
      [256, 10, 256, 0.1],
      [256, 256, 10, 0.1],
    ] as const) {
      const a = upload(be, sparsify(randomArray(m * k, 1), density, 2));
      const b = upload(be, randomArray(n * k, 3));
      const c = be.alloc(m * n);
      be.matmul(a, b, c, m, n, k, false, false);
    }
    assert.equal(spy.calls, 0);
    be.dispose();
  });

  it("sparse: 'auto' times both paths per shape and density band, then keeps the faster", async () => {
    const be = await createWasmBackend({ threads: 2 });
    const dense = await createWasmBackend({ threads: 2, sparse: false });
    const spy = countSparseCalls(be);
    const [m, n, k] = [256, 256, 256];
    const A = sparsify(randomArray(m * k, 1), 0.2, 2);
    const B = randomArray(k * n, 3);
    const [a, b, c] = [upload(be, A), upload(be, B), be.alloc(m * n)];
    const [da, db, dc] = [upload(dense, A), upload(dense, B), dense.alloc(m * n)];
    dense.matmul(da, db, dc, m, n, k, false, false);
    const want = dense.readSync(dc, m * n);
    // Probing: pairs of calls on each path in turn until both have PROBE_RUNS timed runs.
    for (let i = 0; i < 4 * PROBE_RUNS; i++) {
      be.matmul(a, b, c, m, n, k, false, false);
      assertExact(be.readSync(c, m * n), want, `probe call ${i}`);
    }
    assert.equal(spy.calls, 2 * PROBE_RUNS, 'half of the probing calls took the sparse path');
    const decisions = [...be.chooser.decisions()];
    assert.equal(decisions.length, 1);
    const [key, sparse] = decisions[0]!;
    assert.match(key, /^256x256x25600@0\.(15|20)$/);
    for (let i = 0; i < 4; i++) be.matmul(a, b, c, m, n, k, false, false);
    assert.equal(spy.calls, 2 * PROBE_RUNS + (sparse ? 4 : 0), 'the decision sticks');
    assertExact(be.readSync(c, m * n), want, 'after the decision');
    be.dispose();
    dense.dispose();
  });

  it('PathChooser keeps the path that measured faster', () => {
    const spin = (ms: number): void => {
      const end = performance.now() + ms;
      while (performance.now() < end);
    };
    for (const fastSparse of [true, false]) {
      const chooser = new PathChooser();
      const ran: boolean[] = [];
      const run = (sparse: boolean): void => {
        ran.push(sparse);
        spin(sparse === fastSparse ? 0.2 : 3);
      };
      for (let i = 0; i < 4 * PROBE_RUNS + 3; i++) chooser.run('shape', 0.42, run);
      assert.deepEqual(ran.slice(0, 4), [true, true, false, false]);
      assert.deepEqual(ran.slice(4 * PROBE_RUNS), [fastSparse, fastSparse, fastSparse]);
      assert.deepEqual([...chooser.decisions()], [['shape@0.40', fastSparse]]);
    }
  });

  it('skips 0 · ∞ like sparse BLAS but propagates NaN and ∞ from A', async () => {
    const be = await createWasmBackend({ threads: 1 });
    const [m, n, k] = [64, 32, 64];
    const A = new Float32Array(m * k);
    A[0] = 1; // row 0: one nonzero at k = 0
    A[k + 1] = NaN; // row 1: NaN at k = 1
    A[2 * k + 2] = Infinity; // row 2: ∞ at k = 2
    const B = new Float32Array(k * n).fill(1);
    B[5 * n] = Infinity; // row k = 5 of B, which no row of A reaches
    const a = upload(be, A);
    const b = upload(be, B);
    const c = be.alloc(m * n);
    be.matmul(a, b, c, m, n, k, false, false);
    const C = be.readSync(c, m * n);
    assert.equal(C[0], 1);
    assert.ok(Number.isNaN(C[n]!));
    assert.equal(C[2 * n], Infinity);
    assert.equal(C[3 * n], 0, '0 · ∞ contributes 0 on the sparse path');
    be.dispose();
  });
});

describe('wasm backend internals', () => {
  it('collapseDimsMinRank1 merges contiguous dimensions and drops size-1 ones', () => {
    assert.deepEqual(collapseDimsMinRank1([2, 3, 4], [[12, 4, 1]]), { shape: [24], strides: [[1]] });
    assert.deepEqual(
      collapseDimsMinRank1(
        [2, 3],
        [
          [3, 1],
          [0, 1],
        ],
      ),
      {
        shape: [2, 3],
        strides: [
          [3, 1],
          [0, 1],
        ],
      },
    );
    assert.deepEqual(collapseDimsMinRank1([1, 5, 1], [[5, 1, 1]]), { shape: [5], strides: [[1]] });
    assert.deepEqual(collapseDimsMinRank1([], [[]]), { shape: [1], strides: [[0]] });
  });

  it('size classes waste at most 25% and are 64-byte aligned', () => {
    for (const bytes of [1, 64, 65, 100, 1000, 4096, 4097, 1 << 20, 784 * 256 * 4]) {
      const c = blockSize(bytes);
      assert.ok(c >= bytes && c % 64 === 0 && (c <= 64 || c <= bytes * 1.25 + 64), `${bytes} -> ${c}`);
    }
  });

  it('unsharedMemoryVariant rewrites only the memory limits flag', async () => {
    const shared = await kernelBytes('simd');
    const plain = unsharedMemoryVariant(shared);
    const diff = shared.reduce((n, b, i) => n + (b !== plain[i] ? 1 : 0), 0);
    assert.equal(diff, 1);
    assert.ok(WebAssembly.validate(plain));
  });
});

describe('wasm backend: copyStrided', () => {
  // Every contiguous destination takes the SIMD strided-copy kernel (not only rank 1 after merging):
  // attention's head permutes, slices with offsets, broadcasts; a strided destination one call per
  // contiguous run when the runs are long, the loop otherwise.
  const cases: {
    what: string;
    x: number;
    xOffset: number;
    xStrides: number[];
    outStrides: number[];
    outOffset: number;
    shape: number[];
  }[] = [
    {
      what: 'permute (0,2,1,3) of [4,17,4,16]',
      x: 4 * 17 * 64,
      xOffset: 0,
      xStrides: [1088, 16, 64, 1],
      outStrides: [1088, 64, 16, 1],
      outOffset: 0,
      shape: [4, 4, 17, 16],
    },
    {
      what: 'transpose with offsets',
      x: 200,
      xOffset: 7,
      xStrides: [1, 12],
      outStrides: [15, 1],
      outOffset: 3,
      shape: [12, 15],
    },
    {
      what: 'broadcast (stride 0)',
      x: 30,
      xOffset: 0,
      xStrides: [0, 5, 1],
      outStrides: [30, 5, 1],
      outOffset: 0,
      shape: [3, 6, 5],
    },
    {
      what: 'rank-5 permute',
      x: 2 * 3 * 4 * 5 * 6,
      xOffset: 0,
      xStrides: [1, 2, 6, 24, 120],
      outStrides: [360, 120, 30, 6, 1],
      outOffset: 0,
      shape: [2, 3, 4, 5, 6],
    },
    {
      what: 'strided destination with short runs (the loop)',
      x: 40,
      xOffset: 0,
      xStrides: [8, 1],
      outStrides: [16, 1],
      outOffset: 4,
      shape: [5, 8],
    },
    {
      what: "strided destination with long runs (the ViT's class-token cat: one kernel call per run)",
      x: 3 * 16 * 64,
      xOffset: 0,
      xStrides: [1024, 64, 1],
      outStrides: [1088, 64, 1],
      outOffset: 64,
      shape: [3, 16, 64],
    },
    {
      what: 'strided destination and a transposed source, two outer axes, runs of 2 axes',
      x: 2 * 3 * 5 * 40 + 5,
      xOffset: 5,
      xStrides: [600, 1, 3, 15],
      outStrides: [1200, 400, 40, 1],
      outOffset: 7,
      shape: [2, 3, 5, 40],
    },
    {
      what: 'pad: a strided destination whose last axis is not contiguous (the loop)',
      x: 60,
      xOffset: 0,
      xStrides: [20, 1],
      outStrides: [44, 2],
      outOffset: 1,
      shape: [3, 20],
    },
  ];
  it('matches the reference backend bit for bit', async () => {
    const wasm = await createWasmBackend({ threads: 1 });
    const ref = new ReferenceBackend();
    try {
      for (const [i, c] of cases.entries()) {
        const outSize = c.outOffset + c.shape.reduce((s, n, a) => s + (n - 1) * c.outStrides[a]!, 1);
        const data = randomArray(c.x, 100 + i);
        const run = (be: Backend): Float32Array => {
          const x = upload(be, data);
          const out = upload(be, new Float32Array(outSize).fill(-1));
          be.copyStrided(x, c.xOffset, c.xStrides, out, c.outOffset, c.outStrides, c.shape);
          const r = be.readSync(out, outSize);
          be.free(x);
          be.free(out);
          return r;
        };
        assertExact(run(wasm), run(ref), c.what);
      }
    } finally {
      wasm.dispose();
    }
  });
});
