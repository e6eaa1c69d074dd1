/**
 * PyTorch golden values (test/fixtures/golden-views.json, scripts/golden_views.py) for views,
 * indexing and torch.matmul's N-D rules: each case's output and the gradient of Σ w ⊙ out for every
 * input, on every backend of test/backends.ts plus WebGPU where an adapter exists (with CI=true a
 * missing adapter fails, as in test/webgpu-backend.test.ts). Values are read with the asynchronous
 * data(), which every backend offers.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Tensor, cat, getBackend, setBackend, stack, tensor, tidy } from '../../src/index.js';
import type { Backend } from '../../src/internals.js';
import { logSoftmax } from '../../src/ops/softmax.js';
import { backends, type BackendEntry } from '../helpers/backends.js';

interface Stored {
  readonly shape: number[];
  readonly data: number[];
}

interface Case {
  readonly inputs: Stored[];
  readonly ints: unknown[];
  readonly weights: Stored;
  readonly out: Stored;
  readonly grads: Stored[];
}

const golden = JSON.parse(
  readFileSync(new URL('../fixtures/golden-views.json', import.meta.url), 'utf8'),
) as Record<string, Case>;

/** float32 inputs against a float64 reference: the error is float32 rounding in the kernels. */
const TOL = 1e-5;

/** The same call as the script's, by case name; `ints` are the script's integer tensors. */
const ops: Record<string, (xs: Tensor[], ints: Tensor[]) => Tensor> = {
  narrow: ([x]) => x!.narrow(1, 1, 3),
  narrow_negative_start: ([x]) => x!.narrow(0, -3, 2),
  select: ([x]) => x!.select(1, -1),
  slice_step: ([x]) => x!.slice(1, 1, -1, 2),
  slice_negative_start: ([x]) => x!.slice(0, -5, undefined, 3),
  slice_clamped: ([x]) => x!.slice(0, -10, 10),
  index_select: ([x], [i]) => x!.indexSelect(0, i!),
  gather: ([x], [i]) => x!.gather(1, i!),
  gather_dim0_small_index: ([x], [i]) => x!.gather(0, i!),
  cat: ([a, b, c]) => cat([a!, b!, c!], 1),
  cat_views: ([a, b]) => cat([a!.t(), b!.t().slice(1, 1)], 1),
  stack: ([a, b]) => stack([a!, b!], -1),
  split: ([x]) =>
    cat(
      x!.split(2, 0).map((p, i) => p.mul(i + 1)),
      0,
    ),
  split_sections: ([x]) =>
    cat(
      x!.split([1, 3, 2], 1).map((p, i) => p.mul(i + 1)),
      1,
    ),
  chunk: ([x]) =>
    cat(
      x!.chunk(3, 1).map((p, i) => p.mul(i + 1)),
      1,
    ),
  unsqueeze_squeeze: ([x]) => x!.squeeze().unsqueeze(0).unsqueeze(-1),
  flatten_view: ([x]) => x!.permute(2, 0, 1).flatten(1),
  flatten_range: ([x]) => x!.flatten(1, 2),
  permute: ([x]) => x!.permute(1, 2, 0),
  transpose: ([x]) => x!.transpose(0, 2),
  t: ([x]) => x!.t(),
  expand: ([x]) => x!.expand(2, 3, 4),
  expand_keep: ([x]) => x!.expand(-1, 5),
  contiguous: ([x]) => x!.t().contiguous(),
  clone: ([x]) => x!.clone().mul(x!),
  matmul_1d_1d: ([a, b]) => a!.matmul(b!),
  matmul_1d_2d: ([a, b]) => a!.matmul(b!),
  matmul_2d_1d: ([a, b]) => a!.matmul(b!),
  matmul_3d_2d: ([a, b]) => a!.matmul(b!),
  matmul_3d_3d: ([a, b]) => a!.matmul(b!),
  matmul_broadcast: ([a, b]) => a!.matmul(b!),
  matmul_2d_3d: ([a, b]) => a!.matmul(b!),
  matmul_1d_3d: ([a, b]) => a!.matmul(b!),
  matmul_3d_1d: ([a, b]) => a!.matmul(b!),
  bmm: ([a, b]) => a!.bmm(b!),
  cross_entropy_gather: ([z], [y]) => logSoftmax(z!, 1).gather(1, y!.unsqueeze(1)).mean().neg(),
};

function assertClose(actual: Float32Array, expected: Stored, shape: readonly number[], what: string): void {
  assert.deepEqual([...shape], expected.shape, `${what}: shape`);
  expected.data.forEach((e, i) => {
    const d = Math.abs(actual[i]! - e) / Math.max(1, Math.abs(e));
    if (!(d <= TOL)) assert.fail(`${what}[${i}]: got ${actual[i]}, PyTorch ${e} (|Δ| = ${d})`);
  });
}

async function runCase(name: string, c: Case, backend: Backend): Promise<void> {
  const previous = getBackend();
  setBackend(backend);
  let kept: { out: Tensor; grads: (Tensor | null)[] };
  try {
    kept = tidy(() => {
      const xs = c.inputs.map((s) => tensor(s.data, { shape: s.shape, requiresGrad: true }));
      const ints = c.ints.map((i) => tensor(i as number[]));
      const out = ops[name]!(xs, ints);
      out
        .mul(tensor(c.weights.data, { shape: c.weights.shape }))
        .sum()
        .backward();
      return { out, grads: xs.map((x) => x.grad) };
    });
  } finally {
    setBackend(previous);
  }
  try {
    assertClose(await kept.out.data(), c.out, kept.out.shape, `${name} out`);
    for (const [i, g] of kept.grads.entries()) {
      assert.ok(g !== null, `${name}: input ${i} got no gradient`);
      assertClose(await g.data(), c.grads[i]!, g.shape, `${name} grad ${i}`);
    }
  } finally {
    kept.out.dispose();
    for (const g of kept.grads) g?.dispose();
  }
}

/** WebGPU where an adapter exists (CI=true: required), created lazily like test/webgpu-backend.test.ts. */
async function webgpuEntry(): Promise<BackendEntry | null> {
  try {
    const { createWebGPUBackend } = await import('../../src/backend/webgpu/index.js');
    const gpu = await createWebGPUBackend();
    after(() => gpu.dispose());
    return { name: 'webgpu', create: async () => gpu };
  } catch (error) {
    if (process.env['CI'] === 'true') throw error;
    console.log(`# webgpu backend skipped: ${(error as Error).message}`);
    return null;
  }
}

test('every golden case has an op, and every op a golden case', () => {
  const cases = Object.keys(golden).filter((k) => k !== 'torch');
  assert.deepEqual(cases.sort(), Object.keys(ops).sort());
});

const gpu = await webgpuEntry();
for (const entry of [...backends, ...(gpu === null ? [] : [gpu])]) {
  describe(`views, indexing and N-D matmul against PyTorch on the ${entry.name} backend`, async () => {
    const backend = await entry.create();
    for (const [name, c] of Object.entries(golden)) {
      if (name === 'torch') continue;
      test(name, async () => {
        const before = backend.memory();
        await runCase(name, c as Case, backend);
        assert.deepEqual(backend.memory(), before, `${name}: storage leaked`);
      });
    }
  });
}
