/**
 * WebGPU backend timings: a 256×784×256 GEMM (the first Linear layer's shape with a batch of 256)
 * and a full DropoutMLP training step (forward, backward, SGD) with the book's hyperparameters,
 * each against the reference backend. On a machine without a GPU this runs on a software adapter
 * (Mesa lavapipe), so the numbers show overheads rather than GPU speed.
 *
 *   node --import tsx scripts/webgpu-bench.ts [--iters N] [--batch N]
 */
import {
  DropoutMLP,
  Generator,
  ReferenceBackend,
  getBackend,
  setBackend,
  tensor,
  tidy,
} from '../src/index.js';
import type { Backend } from '../src/backend/backend.js';
import { createWebGPUBackend, type WebGPUBackend } from '../src/backend/webgpu/index.js';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

const iters = arg('iters', 5);
const batch = arg('batch', 256);

function data(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296 - 0.5;
  });
}

/** Median of `iters` timings of `f` (after one warm-up), in milliseconds. */
async function time(f: () => Promise<void>): Promise<number> {
  await f();
  const ts: number[] = [];
  for (let i = 0; i < iters; i++) {
    const t0 = performance.now();
    await f();
    ts.push(performance.now() - t0);
  }
  ts.sort((a, b) => a - b);
  return ts[Math.floor(ts.length / 2)]!;
}

async function gemm(be: Backend): Promise<number> {
  const [m, k, n] = [batch, 784, 256];
  const a = be.alloc(m * k);
  const b = be.alloc(n * k);
  const c = be.alloc(m * n);
  be.write(a, data(m * k, 1));
  be.write(b, data(n * k, 2));
  const reps = 4;
  const ms = await time(async () => {
    for (let r = 0; r < reps; r++) be.matmul(a, b, c, m, n, k, false, true);
    await be.read(c, 1);
  });
  for (const id of [a, b, c]) be.free(id);
  return ms / reps;
}

async function trainStep(be: Backend): Promise<number> {
  const previous = getBackend();
  setBackend(be);
  try {
    const model = new DropoutMLP({ generator: new Generator(1) });
    model.train();
    const X = tensor(Array.from(data(batch * 784, 3)), { shape: [batch, 1, 28, 28] });
    const y = tensor(Array.from({ length: batch }, (_, i) => i % 10));
    let optim: ReturnType<DropoutMLP['configureOptimizers']> | null = null;
    const ms = await time(async () => {
      const loss = tidy(() => {
        const l = model.trainingStep({ X, y });
        optim ??= model.configureOptimizers();
        optim.zeroGrad();
        l.backward();
        optim.step();
        return l;
      });
      await loss.data();
      loss.dispose();
    });
    X.dispose();
    y.dispose();
    return ms;
  } finally {
    setBackend(previous);
  }
}

let gpu: WebGPUBackend;
try {
  gpu = await createWebGPUBackend();
} catch (error) {
  console.error(`webgpu-bench: ${(error as Error).message}`);
  process.exit(1);
}
const ref = new ReferenceBackend();
const flop = 2 * batch * 784 * 256;
const gGpu = await gemm(gpu);
const gRef = await gemm(ref);
console.log(
  `GEMM ${batch}×784×256 (A·Bᵀ): webgpu ${gGpu.toFixed(1)} ms (${(flop / gGpu / 1e6).toFixed(2)} GFLOP/s), js ${gRef.toFixed(1)} ms (${(flop / gRef / 1e6).toFixed(2)} GFLOP/s)`,
);
const s0 = gpu.stats().submits;
const tGpu = await trainStep(gpu);
const submitsPerStep = (gpu.stats().submits - s0) / (iters + 1);
const tRef = await trainStep(ref);
console.log(
  `training step (DropoutMLP 784-256-256-10, batch ${batch}): webgpu ${tGpu.toFixed(1)} ms (${submitsPerStep.toFixed(1)} submits/step, ${gpu.stats().dispatches} dispatches total), js ${tRef.toFixed(1)} ms`,
);
gpu.dispose();
