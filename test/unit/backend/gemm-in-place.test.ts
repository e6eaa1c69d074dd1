/**
 * The GEMM reads full panels of a row-major B in place (not packed) when the rows it computes span at
 * most a few micro-kernel tiles (assembly/gemm.ts, a weight gradient's 16 rows). Each element keeps the
 * same chain of multiply-adds, so a few rows computed alone must equal, bit for bit, the same rows of
 * a tall product (which packs B), for every transpose of A, with k blocking and partial panels.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createBackend, disposeBackend } from '../../../src/backend/select.js';

test('a short product reading B in place gives the bits of the same rows of a tall one', async () => {
  const be = await createBackend('wasm', { threads: 1, sparse: false });
  try {
    for (const [rows, n, k] of [
      [16, 150, 600],
      [24, 37, 300],
      [7, 64, 45],
    ] as const) {
      const tall = 120;
      for (const transA of [false, true]) {
        // Row i of op(A) for the short product is row i of op(A) for the tall one.
        const opA = Float32Array.from({ length: tall * k }, (_, i) => ((i * 7919) % 101) / 101 - 0.5);
        const layout = (m: number): Float32Array => {
          if (!transA) return opA.subarray(0, m * k);
          const t = new Float32Array(k * m);
          for (let i = 0; i < m; i++) for (let p = 0; p < k; p++) t[p * m + i] = opA[i * k + p]!;
          return t;
        };
        const b = Float32Array.from({ length: k * n }, (_, i) => ((i * 104729) % 103) / 103 - 0.5);
        const run = (m: number): Float32Array => {
          const [pa, pb, pc] = [be.alloc(m * k), be.alloc(k * n), be.alloc(m * n)];
          try {
            be.write(pa, layout(m));
            be.write(pb, b);
            be.matmul(pa, pb, pc, m, n, k, transA, false);
            return be.readSync(pc, m * n);
          } finally {
            for (const id of [pa, pb, pc]) be.free(id);
          }
        };
        const short = run(rows);
        const head = run(tall).subarray(0, rows * n);
        assert.deepEqual(
          new Uint32Array(short.buffer, short.byteOffset, short.length),
          new Uint32Array(head.buffer, head.byteOffset, head.length),
          `${rows}×${n}×${k} transA=${transA}`,
        );
      }
    }
  } finally {
    disposeBackend(be);
  }
});
