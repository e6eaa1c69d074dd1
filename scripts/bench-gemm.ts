/**
 * GEMM throughput of the wasm backend on the shapes of the book's dropout MLP (784→256→256→10,
 * batch 256), for each kernel build and thread count, plus one whole forward+backward GEMM set.
 * Usage: node --import tsx scripts/bench-gemm.ts [--quick]
 */
import { createWasmBackend, relaxedSimdSupported, type KernelVariant } from '../src/backend/wasm/index.js';

interface Shape {
  readonly label: string;
  readonly m: number;
  readonly n: number;
  readonly k: number;
  readonly transA: boolean;
  readonly transB: boolean;
}

const B = 256;
/** The GEMMs of one training step: forward X·Wᵀ, backward dX = G·W and dW = Gᵀ·X per layer. */
const SHAPES: readonly Shape[] = [
  { label: 'fwd1 X·W1ᵀ', m: B, n: 256, k: 784, transA: false, transB: true },
  { label: 'fwd2 H·W2ᵀ', m: B, n: 256, k: 256, transA: false, transB: true },
  { label: 'fwd3 H·W3ᵀ', m: B, n: 10, k: 256, transA: false, transB: true },
  { label: 'dW3 Gᵀ·H', m: 10, n: 256, k: B, transA: true, transB: false },
  { label: 'dH2 G·W3', m: B, n: 256, k: 10, transA: false, transB: false },
  { label: 'dW2 Gᵀ·H', m: 256, n: 256, k: B, transA: true, transB: false },
  { label: 'dH1 G·W2', m: B, n: 256, k: 256, transA: false, transB: false },
  { label: 'dW1 Gᵀ·X', m: 256, n: 784, k: B, transA: true, transB: false },
];

const quick = process.argv.includes('--quick');
const minMs = quick ? 100 : 400;

async function bench(variant: KernelVariant, threads: number): Promise<{ gflops: number[]; stepMs: number }> {
  const be = await createWasmBackend({ threads, variant });
  const ids = SHAPES.map((s) => {
    const a = be.alloc(s.m * s.k);
    const b = be.alloc(s.k * s.n);
    const c = be.alloc(s.m * s.n);
    be.write(
      a,
      Float32Array.from({ length: s.m * s.k }, (_, i) => ((i * 7919) % 1000) / 1000 - 0.5),
    );
    be.write(
      b,
      Float32Array.from({ length: s.k * s.n }, (_, i) => ((i * 104729) % 1000) / 1000 - 0.5),
    );
    return { a, b, c };
  });
  const run = (i: number): void => {
    const s = SHAPES[i]!;
    const { a, b, c } = ids[i]!;
    be.matmul(a, b, c, s.m, s.n, s.k, s.transA, s.transB);
  };
  const timeIt = (f: () => void): number => {
    for (let w = 0; w < 5; w++) f(); // warm up (and let V8 tier up to TurboFan)
    let reps = 0;
    const t0 = performance.now();
    let t = t0;
    while (t - t0 < minMs) {
      f();
      reps++;
      t = performance.now();
    }
    return (t - t0) / reps;
  };
  const gflops = SHAPES.map((s, i) => (2 * s.m * s.n * s.k) / (timeIt(() => run(i)) * 1e6));
  const stepMs = timeIt(() => SHAPES.forEach((_, i) => run(i)));
  be.dispose();
  return { gflops, stepMs };
}

const variants: KernelVariant[] = ['simd'];
if (relaxedSimdSupported() || (await createWasmBackend()).variant === 'relaxed') variants.push('relaxed');
const columns: { name: string; gflops: number[]; stepMs: number }[] = [];
for (const v of variants) {
  for (const t of [1, 2]) columns.push({ name: `${v} ×${t}`, ...(await bench(v, t)) });
}

const pad = (s: string, n: number): string => s.padEnd(n);
const num = (x: number): string => x.toFixed(1).padStart(12);
console.log(
  `${pad('shape (m×n×k)', 30)}${pad('MFLOP', 8)}${columns.map((c) => c.name.padStart(12)).join('')}`,
);
SHAPES.forEach((s, i) => {
  const label = `${s.label} ${s.m}×${s.n}×${s.k}`;
  const mflop = ((2 * s.m * s.n * s.k) / 1e6).toFixed(1);
  console.log(`${pad(label, 30)}${pad(mflop, 8)}${columns.map((c) => num(c.gflops[i]!)).join('')}`);
});
const total = SHAPES.reduce((acc, s) => acc + 2 * s.m * s.n * s.k, 0);
console.log(
  `${pad('all GEMMs of a step: ms', 30)}${pad((total / 1e6).toFixed(1), 8)}${columns.map((c) => c.stepMs.toFixed(2).padStart(12)).join('')}`,
);
console.log(
  `(GFLOP/s per shape; last row: milliseconds for all ${SHAPES.length} GEMMs of one training step)`,
);
