/**
 * PyTorch golden values (test/fixtures/golden.json, scripts/golden.py; the small-patch convolutions
 * that take the direct kernels also golden-conv-direct.json, scripts/golden_conv_direct.py) for the
 * convolution engine: Conv2d, MaxPool2d, AvgPool2d, AdaptiveAvgPool2d and GELU, forward and every gradient, on every
 * backend of test/helpers/backends.ts; and max pooling's tie, overlap and padding rules with its
 * argmax indices (test/fixtures/golden-pool.json, scripts/golden_pool.py). Each test reports its worst
 * error as a diagnostic.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { Backend, Im2colGeometry } from '../../src/backend/backend.js';
import { getBackend, setBackend, tensor, tidy, type Tensor } from '../../src/index.js';
import { adaptiveAvgPool2d, avgPool2d, conv2d, maxPool2d, windowGeometry } from '../../src/ops/conv.js';
import { gelu } from '../../src/ops/gelu.js';
import { backends } from '../helpers/backends.js';

interface Stored {
  readonly shape: number[];
  readonly data: number[];
}

/** Read a golden file (the small-patch convolutions, which take the direct kernels, have their own). */
const readGolden = (file: string): Record<string, Record<string, Stored>> =>
  JSON.parse(readFileSync(new URL(`../fixtures/${file}`, import.meta.url), 'utf8')) as Record<
    string,
    Record<string, Stored>
  >;
const golden = { ...readGolden('golden.json'), ...readGolden('golden-conv-direct.json') };

/** A max-pooling golden: its window and PyTorch's tensors (x, weights, out, indices, grad_x). */
type PoolGolden = Record<string, Stored> & {
  readonly kernel: [number, number];
  readonly stride: [number, number];
  readonly padding: [number, number];
};

const poolGolden = JSON.parse(
  readFileSync(new URL('../fixtures/golden-pool.json', import.meta.url), 'utf8'),
) as Record<string, PoolGolden | string>;
const poolCases = Object.entries(poolGolden).filter(
  (e): e is [string, PoolGolden] => typeof e[1] !== 'string',
);

const TOL = 1e-5;

/** The worst |Δ|/max(1, |expected|) of `actual` against `expected`, failing past TOL. */
function compare(actual: Tensor | null, expected: Stored, what: string): number {
  assert.ok(actual !== null, `${what}: missing`);
  assert.deepEqual(actual.shape, expected.shape, `${what}: shape`);
  const a = actual.dataSync();
  let worst = 0;
  expected.data.forEach((e, i) => {
    const d = Math.abs(a[i]! - e) / Math.max(1, Math.abs(e));
    if (d > TOL) assert.fail(`${what}[${i}]: got ${a[i]}, PyTorch ${e} (|Δ| = ${d})`);
    worst = Math.max(worst, d);
  });
  return worst;
}

/** A golden section's forward `fn` on leaves named `inputs`, differentiated through Σ weights ⊙ out. */
const cases: Record<string, { inputs: string[]; fn: (...xs: Tensor[]) => Tensor }> = {
  conv2d: {
    inputs: ['x', 'weight', 'bias'],
    fn: (x, w, b) => conv2d(x!, w!, b, { stride: 2, padding: 1 }),
  },
  conv2d_nobias: { inputs: ['x', 'weight'], fn: (x, w) => conv2d(x!, w!) },
  conv2d_direct_lenet_relu: {
    inputs: ['x', 'weight', 'bias'],
    fn: (x, w, b) => conv2d(x!, w!, b, { padding: 2, relu: true }),
  },
  conv2d_direct_strided_relu: {
    inputs: ['x', 'weight', 'bias'],
    fn: (x, w, b) => conv2d(x!, w!, b, { stride: [1, 2], padding: [1, 0], relu: true }),
  },
  max_pool2d: { inputs: ['x'], fn: (x) => maxPool2d(x!, 2) },
  max_pool2d_padded: { inputs: ['x'], fn: (x) => maxPool2d(x!, 3, { stride: 2, padding: 1 }) },
  avg_pool2d: { inputs: ['x'], fn: (x) => avgPool2d(x!, 3, { stride: 2, padding: 1 }) },
  adaptive_avg_pool2d: { inputs: ['x'], fn: (x) => adaptiveAvgPool2d(x!, 2) },
  gelu: { inputs: ['x'], fn: (x) => gelu(x!) },
};

/** The Backend.maxPool2d kernel's indices for PyTorch's input x (read synchronously). */
function kernelIndices(backend: Backend, x: Stored, geom: Im2colGeometry): Float32Array {
  const size = geom.batch * geom.channels * geom.outH * geom.outW;
  const ids = [backend.alloc(x.data.length), backend.alloc(size), backend.alloc(size)] as const;
  try {
    backend.write(ids[0], x.data);
    backend.maxPool2d(ids[0], geom, ids[1], ids[2]);
    return backend.readSync(ids[2], size);
  } finally {
    for (const id of ids) backend.free(id);
  }
}

for (const entry of backends) {
  describe(`max pooling goldens (ties, overlap, padding) on the ${entry.name} backend`, async () => {
    const backend = await entry.create();
    for (const [name, g] of poolCases) {
      test(name, (t) => {
        const previous = getBackend();
        setBackend(backend);
        try {
          tidy(() => {
            const x = tensor(g['x']!.data, { shape: g['x']!.shape, requiresGrad: true });
            const opts = { stride: g.stride, padding: g.padding };
            const y = maxPool2d(x, g.kernel, opts);
            const errors = [`out ${compare(y, g['out']!, 'out').toExponential(1)}`];
            y.mul(tensor(g['weights']!.data, { shape: g['weights']!.shape }))
              .sum()
              .backward();
            errors.push(`grad_x ${compare(x.grad, g['grad_x']!, 'grad_x').toExponential(1)}`);
            const geom = windowGeometry(x, g.kernel, opts, g.kernel, 'test');
            assert.deepEqual([...kernelIndices(backend, g['x']!, geom)], g['indices']!.data, 'indices');
            t.diagnostic(`max error vs PyTorch: ${errors.join(', ')}; indices exact`);
          });
        } finally {
          setBackend(previous);
        }
      });
    }
  });

  describe(`convolution goldens on the ${entry.name} backend`, async () => {
    const backend = await entry.create();
    for (const [name, c] of Object.entries(cases)) {
      test(name, (t) => {
        const g = golden[name]!;
        const previous = getBackend();
        setBackend(backend);
        try {
          tidy(() => {
            const leaves = c.inputs.map((k) =>
              tensor(g[k]!.data, { shape: g[k]!.shape, requiresGrad: true }),
            );
            const y = c.fn(...leaves);
            const errors = [`out ${compare(y, g['out']!, 'out').toExponential(1)}`];
            y.mul(tensor(g['weights']!.data, { shape: g['weights']!.shape }))
              .sum()
              .backward();
            c.inputs.forEach((k, i) => {
              errors.push(
                `grad_${k} ${compare(leaves[i]!.grad, g[`grad_${k}`]!, `grad_${k}`).toExponential(1)}`,
              );
            });
            t.diagnostic(`max error vs PyTorch: ${errors.join(', ')}`);
          });
        } finally {
          setBackend(previous);
        }
      });
    }
  });
}
