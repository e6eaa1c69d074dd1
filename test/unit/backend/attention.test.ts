/**
 * The fused attention kernels (Backend.attention / attentionBackward): wasm (both kernel builds)
 * against the reference backend bit for bit over shapes with T ≠ S, D and Dv not multiples of 4 (the
 * SIMD lanes' scalar tails), odd head counts and special values; the wasm kernels split by (n, h)
 * blocks across 1, 2 and 3 threads bit for bit on the tiny ViT's size; and the float32 reference
 * against the float64 one; and the packed layout (q, k and v in one qkv [N, L, 3, H, D], dq, dk and dv
 * in one dqkv) against the separate inputs bit for bit, on every CPU kernel and thread count. The
 * primitive against its composition and PyTorch is
 * test/unit/ops/attention.test.ts's and test/golden/attention.test.ts's.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AttentionShape, Backend } from '../../../src/backend/backend.js';
import { ReferenceBackend } from '../../../src/backend/reference.js';
import { createBackend, disposeBackend } from '../../../src/backend/select.js';
import { createWasmBackend, type WasmBackend } from '../../../src/backend/wasm/index.js';
import { randomArray } from '../../helpers/testData.js';
import { traceThreads, commandsOf } from '../../helpers/threadTrace.js';

/** [N, T, S, H, D, Dv]: one element; the ViT's block; T ≠ S; odd H; D, Dv off the lanes; every S mod 4. */
const SHAPES: readonly (readonly [number, number, number, number, number, number])[] = [
  [1, 1, 1, 1, 1, 1],
  [2, 5, 5, 2, 4, 4],
  [2, 3, 6, 3, 5, 5],
  [3, 17, 17, 4, 16, 16],
  [1, 7, 2, 1, 3, 6],
  [2, 4, 9, 1, 8, 7],
  [1, 2, 13, 3, 20, 3],
  // S mod 4 = 3 and 0 with four or more query rows (the forward's four-row softmax: its tail columns).
  [1, 6, 3, 1, 2, 2],
  [2, 4, 7, 3, 5, 4],
  [1, 9, 8, 2, 4, 5],
];

function shapeOf([batch, queries, keys, heads, dim, valueDim]: readonly number[]): AttentionShape {
  return { batch: batch!, queries: queries!, keys: keys!, heads: heads!, dim: dim!, valueDim: valueDim! };
}

interface Inputs {
  q: Float32Array;
  k: Float32Array;
  v: Float32Array;
  g: Float32Array;
}

function inputsFor(s: AttentionShape, seed: number): Inputs {
  const { batch: N, queries: T, keys: S, heads: H, dim: D, valueDim: DV } = s;
  return {
    q: randomArray(N * T * H * D, seed),
    k: randomArray(N * S * H * D, seed + 1),
    v: randomArray(N * S * H * DV, seed + 2),
    g: randomArray(N * T * H * DV, seed + 3),
  };
}

const NAMES = ['out', 'probs', 'dq', 'dk', 'dv'] as const;
type Outputs = Record<(typeof NAMES)[number], Float32Array>;

/** The forward and backward kernels on `be`, every output starting dirty (they must be written whole). */
function kernels(be: Backend, s: AttentionShape, x: Inputs, scale: number): Outputs {
  const { batch: N, queries: T, keys: S, heads: H, dim: D, valueDim: DV } = s;
  const sizes = {
    out: N * T * H * DV,
    probs: N * H * T * S,
    dq: N * T * H * D,
    dk: N * S * H * D,
    dv: N * S * H * DV,
  };
  const upload = (data: Float32Array): number => {
    const id = be.alloc(data.length);
    be.write(id, data);
    return id;
  };
  const [q, k, v, g] = [x.q, x.k, x.v, x.g].map(upload) as [number, number, number, number];
  const ids = Object.fromEntries(
    NAMES.map((n) => {
      const id = be.alloc(sizes[n]);
      be.fill(id, sizes[n], 7);
      return [n, id];
    }),
  ) as Record<(typeof NAMES)[number], number>;
  try {
    be.attention(q, k, v, s, scale, ids.out, ids.probs);
    be.attentionBackward(g, q, k, v, ids.probs, s, scale, ids.dq, ids.dk, ids.dv);
    return Object.fromEntries(NAMES.map((n) => [n, be.readSync(ids[n], sizes[n])])) as Outputs;
  } finally {
    for (const id of [q, k, v, g, ...Object.values(ids)]) be.free(id);
  }
}

/**
 * The kernels with q, k and v packed into one qkv [N, L, 3, H, D] (T = S, Dv = D): qkv interleaved
 * from x's q, k and v, dqkv (starting dirty: written whole) split back into dq, dk and dv, so the
 * result compares with `kernels` on the same inputs.
 */
function packedKernels(be: Backend, s: AttentionShape, x: Inputs, scale: number): Outputs {
  const { batch: N, queries: L, keys: S, heads: H, dim: D, valueDim: DV } = s;
  assert.ok(L === S && D === DV, 'packed: T = S and Dv = D');
  const HD = H * D;
  const tokens = N * L;
  const qkvData = new Float32Array(tokens * 3 * HD);
  [x.q, x.k, x.v].forEach((part, j) => {
    for (let t = 0; t < tokens; t++) qkvData.set(part.subarray(t * HD, (t + 1) * HD), (3 * t + j) * HD);
  });
  const packed: AttentionShape = { ...s, packed: true };
  const qkv = be.alloc(qkvData.length);
  be.write(qkv, qkvData);
  const g = be.alloc(x.g.length);
  be.write(g, x.g);
  const sizes = { out: tokens * HD, probs: N * H * L * L, dqkv: qkvData.length };
  const ids = Object.fromEntries(
    Object.entries(sizes).map(([n, size]) => {
      const id = be.alloc(size);
      be.fill(id, size, 7);
      return [n, id];
    }),
  ) as Record<keyof typeof sizes, number>;
  try {
    be.attention(qkv, qkv, qkv, packed, scale, ids.out, ids.probs);
    be.attentionBackward(g, qkv, qkv, qkv, ids.probs, packed, scale, ids.dqkv, ids.dqkv, ids.dqkv);
    const dqkv = be.readSync(ids.dqkv, sizes.dqkv);
    const [dq, dk, dv] = [0, 1, 2].map((j) => {
      const part = new Float32Array(tokens * HD);
      for (let t = 0; t < tokens; t++)
        part.set(dqkv.subarray((3 * t + j) * HD, (3 * t + j + 1) * HD), t * HD);
      return part;
    }) as [Float32Array, Float32Array, Float32Array];
    return {
      out: be.readSync(ids.out, sizes.out),
      probs: be.readSync(ids.probs, sizes.probs),
      dq,
      dk,
      dv,
    };
  } finally {
    for (const id of [qkv, g, ...Object.values(ids)]) be.free(id);
  }
}

/** [N, L, H, D] for the packed layout: one element; odd H; D off the lanes; the ViT's block. */
const PACKED_SHAPES: readonly (readonly [number, number, number, number])[] = [
  [1, 1, 1, 1],
  [2, 5, 2, 4],
  [2, 6, 3, 5],
  [1, 9, 1, 7],
  [3, 17, 4, 16],
];

/** The first index where two arrays differ as bits (Object.is, so NaN = NaN and −0 ≠ 0), or −1. */
function firstDifference(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  return a.findIndex((v, i) => !Object.is(v, b[i]));
}

const reference = new ReferenceBackend();

test('wasm (both kernel builds) equals the reference backend bit for bit (tails, T ≠ S, odd H, specials)', async () => {
  // The relaxed-SIMD build must not fuse the multiply-adds either: the order is part of the contract.
  const builds = [await createWasmBackend(), await createWasmBackend({ variant: 'simd' })];
  try {
    for (const dims of SHAPES) {
      const s = shapeOf(dims);
      const scale = 1 / Math.sqrt(s.dim);
      const clean = inputsFor(s, 10 * s.dim + s.keys);
      // NaN, ±∞ and −0 in q (a row of NaN probabilities, an overflowing score) and −0 in v.
      const special = { ...clean, q: clean.q.slice(), v: clean.v.slice() };
      [NaN, Infinity, -Infinity, -0].forEach((val, i) => {
        const at = (7 * i + 1) % special.q.length;
        special.q[at] = val;
      });
      special.v[0] = -0;
      // A sharp softmax (scores far apart) and a flat one (scale 0: probabilities 1/S exactly).
      for (const [x, sc] of [
        [clean, scale],
        [clean, 4],
        [clean, 0],
        [special, scale],
      ] as const) {
        const want = kernels(reference, s, x, sc);
        for (const be of builds) {
          const got = kernels(be, s, x, sc);
          for (const n of NAMES) {
            const i = firstDifference(got[n], want[n]);
            assert.equal(
              i,
              -1,
              `${be.variant} ${dims.join('×')} scale ${sc}: ${n}[${i}] ${got[n][i]} vs ${want[n][i]}`,
            );
          }
        }
        if (x === clean) {
          // Nothing left dirty, and the probabilities sum to 1 per row.
          for (const n of NAMES)
            assert.ok(
              want[n].every((v) => v !== 7 && Number.isFinite(v)),
              n,
            );
          const S = s.keys;
          for (let r = 0; r < want.probs.length / S; r++) {
            const sum = want.probs.subarray(r * S, (r + 1) * S).reduce((a, b) => a + b, 0);
            assert.ok(Math.abs(sum - 1) < 1e-6, `row ${r} sums to ${sum}`);
          }
        }
      }
    }
  } finally {
    builds.forEach((be) => be.dispose());
  }
});

test('the float32 reference is within float32 rounding of the float64 one', () => {
  const js64 = new ReferenceBackend(Float64Array);
  for (const dims of SHAPES) {
    const s = shapeOf(dims);
    const x = inputsFor(s, 3);
    const a = kernels(reference, s, x, 0.5);
    const e = kernels(js64, s, x, 0.5);
    for (const n of NAMES) {
      const worst = Math.max(
        ...Array.from(a[n], (v, i) => Math.abs(v - e[n][i]!) / (1 + Math.abs(e[n][i]!))),
      );
      assert.ok(worst < 2e-5, `${dims.join('×')} ${n}: ${worst}`);
    }
  }
});

test("the wasm kernels give the same bits on 1, 2 and 3 threads (the ViT's attention, split by (n, h) blocks)", async () => {
  const s = shapeOf([256, 17, 17, 4, 16, 16]);
  const x = inputsFor(s, 41);
  const runs: Outputs[] = [];
  for (const threads of [1, 2, 3]) {
    const be = await createBackend('wasm', { threads });
    const trace = traceThreads(be as WasmBackend);
    try {
      runs.push(kernels(be, s, x, 0.25));
      const commands = commandsOf(trace);
      if (threads > 1) {
        for (const c of ['attention', 'attentionBackward'])
          assert.ok(commands.has(c), `${threads} threads: ${c} never split`);
      }
    } finally {
      disposeBackend(be);
    }
  }
  const want = kernels(reference, s, x, 0.25);
  for (const [t, r] of runs.entries()) {
    for (const n of NAMES) assert.equal(firstDifference(r[n], want[n]), -1, `${t + 1} threads: ${n}`);
  }
});

test("packed qkv [N, L, 3, H, D]: every CPU kernel gives the separate-input kernels' bits (reference, both wasm builds, 1–3 threads)", async () => {
  const builds = [await createWasmBackend(), await createWasmBackend({ variant: 'simd' })];
  const check = (be: Backend, name: string, dims: readonly number[], sc: number): void => {
    const [N, L, H, D] = dims as [number, number, number, number];
    const s = shapeOf([N, L, L, H, D, D]);
    const x = inputsFor(s, 5 * D + L);
    // The separate-input reference kernel is the oracle for the packed ones on every backend.
    const want = kernels(reference, s, x, sc);
    const got = packedKernels(be, s, x, sc);
    for (const n of NAMES) {
      const i = firstDifference(got[n], want[n]);
      assert.equal(i, -1, `${name} ${dims.join('×')} scale ${sc}: ${n}[${i}] ${got[n][i]} vs ${want[n][i]}`);
    }
  };
  try {
    for (const dims of PACKED_SHAPES) {
      for (const sc of [1 / Math.sqrt(dims[3]!), 4]) {
        check(reference, 'reference', dims, sc);
        for (const be of builds) check(be, be.variant, dims, sc);
      }
    }
  } finally {
    builds.forEach((be) => be.dispose());
  }
  // The ViT's attention split by (n, h) blocks over 1, 2 and 3 threads.
  for (const threads of [1, 2, 3]) {
    const be = await createBackend('wasm', { threads });
    const trace = traceThreads(be as WasmBackend);
    try {
      check(be, `${threads} threads`, [256, 17, 4, 16], 0.25);
      const commands = commandsOf(trace);
      if (threads > 1) {
        for (const c of ['attention', 'attentionBackward'])
          assert.ok(commands.has(c), `${threads} threads: packed ${c} never split`);
      }
    } finally {
      disposeBackend(be);
    }
  }
});
