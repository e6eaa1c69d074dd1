/**
 * Shared by the convolution kernel tests (direct-conv, conv-unfolded): a case (input and weight
 * shapes, window options, bias, ReLU), its forward values and gradients on one backend through a
 * given conv function, and an elementwise closeness check.
 */
import assert from 'node:assert/strict';
import type { Backend } from '../../src/backend/backend.js';
import type { WindowOptions } from '../../src/ops/conv.js';
import { tensor } from '../../src/tensor/creation.js';
import { getBackend, setBackend, tidy } from '../../src/tensor/engine.js';
import type { Tensor } from '../../src/tensor/tensor.js';
import { randomArray } from './testData.js';

/** A convolution case: x [N, C, H, W], w [OC, C, KH, KW], window options, bias and ReLU. */
export interface ConvCase {
  name: string;
  x: number[];
  w: number[];
  opts: WindowOptions;
  bias: boolean;
  relu: boolean;
}

/** A conv2d-like function: x, weight, bias or null, window options with `relu`. */
export type ConvFn = (
  x: Tensor,
  w: Tensor,
  b: Tensor | null,
  opts: WindowOptions & { relu: boolean },
) => Tensor;

/** Forward values and the gradients (x, weight, bias) of a conv's output, one result per backend run. */
export interface ConvResult {
  out: Float32Array;
  grads: Float32Array[];
}

/** The number of elements of a shape. */
export const sizeOf = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/** Forward values and the gradients (x, weight, bias) of Σ r ⊙ conv(x) on `backend`, seeded data. */
export function runConv(backend: Backend, c: ConvCase, conv: ConvFn): ConvResult {
  const previous = getBackend();
  setBackend(backend);
  try {
    return tidy(() => {
      const leaves = [
        tensor(randomArray(sizeOf(c.x), 1), { shape: c.x, requiresGrad: true }),
        tensor(randomArray(sizeOf(c.w), 2, -0.5, 0.5), { shape: c.w, requiresGrad: true }),
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
export function assertClose(a: Float32Array, e: Float32Array, tol: number, what: string): void {
  assert.equal(a.length, e.length, `${what}: length`);
  e.forEach((v, i) => {
    assert.ok(Math.abs(a[i]! - v) <= tol * (1 + Math.abs(v)), `${what}[${i}]: ${a[i]} vs ${v}`);
  });
}
