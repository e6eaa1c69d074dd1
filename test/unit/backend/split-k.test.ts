/**
 * Split-K (planner.ts): a weight gradient's Aᵀ·B with a small C and a long k is cut into slabs of k
 * whose partial products are summed in slab order. The cut depends on the shape alone, so 1, 2 and 3
 * threads give the same bits; the sum still matches the reference backend's product.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Backend } from '../../../src/backend/backend.js';
import { ReferenceBackend } from '../../../src/backend/reference.js';
import { createBackend, disposeBackend } from '../../../src/backend/select.js';
import type { WasmBackend } from '../../../src/backend/wasm/index.js';
import { splitKSlabs } from '../../../src/backend/wasm/planner.js';
import { traceThreads } from '../../helpers/threadTrace.js';

test('splitKSlabs cuts only long-k Aᵀ·B with a small output, into equal slabs that divide k', () => {
  assert.equal(splitKSlabs(6, 25, 200704, 1, 0), 49); // LeNet conv1's dW: 49 slabs of 4096
  assert.equal(splitKSlabs(16, 150, 25600, 1, 0), 8); // conv2's dW: 8 slabs of 3200
  assert.equal(splitKSlabs(6, 25, 200704, 0, 0), 1); // not Aᵀ·B
  assert.equal(splitKSlabs(6, 25, 200704, 1, 1), 1);
  assert.equal(splitKSlabs(128, 64, 200704, 1, 0), 1); // C large enough to cut
  assert.equal(splitKSlabs(6, 25, 8192, 1, 0), 1); // k short
  assert.equal(splitKSlabs(6, 25, 16411, 1, 0), 1); // prime k: no equal slabs
});

/** Aᵀ·B for A [k×m], B [k×n] on `be`. */
function product(
  be: Backend,
  a: Float32Array,
  b: Float32Array,
  m: number,
  n: number,
  k: number,
): Float32Array {
  const [pa, pb, pc] = [be.alloc(m * k), be.alloc(k * n), be.alloc(m * n)];
  try {
    be.write(pa, a);
    be.write(pb, b);
    be.matmul(pa, pb, pc, m, n, k, true, false);
    return be.readSync(pc, m * n);
  } finally {
    for (const id of [pa, pb, pc]) be.free(id);
  }
}

test('a split-K product is bit-identical on 1, 2 and 3 threads and matches the reference', async () => {
  const [m, n, k] = [6, 25, 5 * 4096];
  assert.equal(splitKSlabs(m, n, k, 1, 0), 5);
  // Deterministic data with zeros, like a ReLU's gradient and an image's columns.
  const a = Float32Array.from({ length: k * m }, (_, i) =>
    i % 3 === 0 ? 0 : ((i * 7919) % 101) / 101 - 0.5,
  );
  const b = Float32Array.from({ length: k * n }, (_, i) => ((i * 104729) % 103) / 103 - 0.5);
  const results: Float32Array[] = [];
  for (const threads of [1, 2, 3]) {
    const be = await createBackend('wasm', { threads });
    const trace = traceThreads(be as WasmBackend);
    try {
      results.push(product(be, a, b, m, n, k));
      if (threads > 1)
        assert.ok(
          [...trace.dispatches.keys()].some((key) => key.startsWith('bgemm')),
          'slabs split across threads',
        );
    } finally {
      disposeBackend(be);
    }
  }
  assert.deepEqual(results[1], results[0]);
  assert.deepEqual(results[2], results[0]);
  const expected = product(new ReferenceBackend(), a, b, m, n, k);
  for (let i = 0; i < m * n; i++) {
    assert.ok(
      Math.abs(results[0]![i]! - expected[i]!) <= 1e-4 * (1 + Math.abs(expected[i]!)),
      `element ${i}`,
    );
  }
});

test('a split-K product never takes the sparse path: sparse auto, on and off give the same bits', async () => {
  // LeNet conv2's dW shape with a mostly-zero A (a ReLU's gradient): the sparse path would sum k in one
  // chain, the split-K slabs in slab order, and the measured choice between them varies between runs.
  const [m, n, k] = [16, 150, 25600];
  assert.equal(splitKSlabs(m, n, k, 1, 0), 8);
  const a = Float32Array.from({ length: k * m }, (_, i) => (i % 10 < 7 ? 0 : ((i * 7919) % 101) / 101 - 0.5));
  const b = Float32Array.from({ length: k * n }, (_, i) => ((i * 104729) % 103) / 103 - 0.5);
  const results: Float32Array[] = [];
  for (const sparse of ['auto', true, false] as const) {
    const be = await createBackend('wasm', { threads: 1, sparse });
    try {
      // Several calls, so 'auto' measures both paths and keeps one.
      for (let i = 0; i < 6; i++) results.push(product(be, a, b, m, n, k));
    } finally {
      disposeBackend(be);
    }
  }
  for (const [i, r] of results.entries()) assert.deepEqual(r, results[0], `call ${i}`);
});
