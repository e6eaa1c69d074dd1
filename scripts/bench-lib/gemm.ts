/**
 * GEMM throughput of the wasm backend on one thread for each GEMM of a training step of the book's
 * MLP (batch 256, 784→256→256→10), timed by warming up, then repeat each
 * call on resident storage for a fixed time.
 */
import { createWasmBackend, relaxedSimdSupported, type KernelVariant } from '../../src/backend/wasm/index.js';

/** One GEMM: C[m×n] = op(A)·op(B) with op(A) m×k. */
export interface GemmShape {
  readonly label: string;
  readonly m: number;
  readonly n: number;
  readonly k: number;
  readonly transA: boolean;
  readonly transB: boolean;
}

const B = 256;

/** The GEMMs of one step: forward X·Wᵀ, backward dX = G·W and dW = Gᵀ·X per layer (dX of layer 1 is not needed). */
export const STEP_GEMMS: readonly GemmShape[] = [
  { label: 'fwd1 X·W1ᵀ', m: B, n: 256, k: 784, transA: false, transB: true },
  { label: 'fwd2 H1·W2ᵀ', m: B, n: 256, k: 256, transA: false, transB: true },
  { label: 'fwd3 H2·W3ᵀ', m: B, n: 10, k: 256, transA: false, transB: true },
  { label: 'dW3 G3ᵀ·H2', m: 10, n: 256, k: B, transA: true, transB: false },
  { label: 'dH2 G3·W3', m: B, n: 256, k: 10, transA: false, transB: false },
  { label: 'dW2 G2ᵀ·H1', m: 256, n: 256, k: B, transA: true, transB: false },
  { label: 'dH1 G2·W2', m: B, n: 256, k: 256, transA: false, transB: false },
  { label: 'dW1 G1ᵀ·X', m: 256, n: 784, k: B, transA: true, transB: false },
];

/** GFLOP/s per shape (STEP_GEMMS order) of one kernel build, and the time of all of them in a row. */
export interface GemmResult {
  readonly variant: KernelVariant;
  readonly gflops: number[];
  readonly stepMs: number;
}

/** The kernel builds this engine can run ('relaxed' only where it validates). */
export function gemmVariants(): KernelVariant[] {
  return relaxedSimdSupported() ? ['simd', 'relaxed'] : ['simd'];
}

/** Times every step GEMM on one thread with the given kernel build. */
export async function benchGemms(variant: KernelVariant, minMs: number): Promise<GemmResult> {
  const be = await createWasmBackend({ threads: 1, variant });
  const ids = STEP_GEMMS.map((s) => {
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
    const s = STEP_GEMMS[i]!;
    const { a, b, c } = ids[i]!;
    be.matmul(a, b, c, s.m, s.n, s.k, s.transA, s.transB);
  };
  const timeIt = (f: () => void): number => {
    for (let w = 0; w < 5; w++) f();
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
  const gflops = STEP_GEMMS.map((s, i) => (2 * s.m * s.n * s.k) / (timeIt(() => run(i)) * 1e6));
  const stepMs = timeIt(() => STEP_GEMMS.forEach((_, i) => run(i)));
  be.dispose();
  return { variant, gflops, stepMs };
}
