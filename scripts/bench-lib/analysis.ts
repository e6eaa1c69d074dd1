/**
 * In-process measurements on dropout-lab's wasm backend: the share of a training step spent in the
 * fused dropout kernels, and whether one seed gives bit-identical parameters on 1 and 2 threads.
 */
import type { FashionMNIST } from '../../src/data/fashionMnist.js';
import type { Backend } from '../../src/backend/backend.js';
import { buildLabRun, flatParameters, releaseBackend, trainSteps, useBackend } from './lab.js';
import type { HParams } from './protocol.js';

/** Dropout's share of a step of the dropout MLP on one wasm configuration. */
export interface DropoutShare {
  readonly threads: number;
  readonly steps: number;
  /** Milliseconds per training step of the dropout MLP (gather, step, loss read). */
  readonly stepMs: number;
  /** Milliseconds per step inside backend.dropout (2 forward + 2 backward calls per step). */
  readonly dropoutMs: number;
  readonly callsPerStep: number;
  /** dropoutMs / stepMs. */
  readonly share: number;
  /** Milliseconds per step of the plain MLP, same data and steps. */
  readonly mlpStepMs: number;
}

/**
 * Wraps backend.dropout with a timer (the fused kernel serves both the forward mask and the backward
 * pass, which re-applies the same mask), trains `steps` steps after `warm` untimed ones, and compares
 * with the plain MLP's step.
 */
export async function measureDropoutShare(
  data: FashionMNIST,
  hp: HParams,
  threads: number,
  warm: number,
  steps: number,
): Promise<DropoutShare> {
  const be: Backend = await useBackend('wasm', threads);
  try {
    const original = be.dropout.bind(be);
    let ms = 0;
    let calls = 0;
    be.dropout = (x, stream, p, out, size) => {
      const t0 = performance.now();
      original(x, stream, p, out, size);
      ms += performance.now() - t0;
      calls++;
    };
    const run = buildLabRun('dropout', hp, data);
    await trainSteps(run, warm);
    ms = 0;
    calls = 0;
    const r = await trainSteps(run, steps);
    const stepMs = (r.seconds * 1000) / r.steps;
    const dropoutMs = ms / r.steps;
    const callsPerStep = calls / r.steps;
    for (const p of run.model.parameters()) p.dispose();
    const plain = buildLabRun('mlp', hp, data);
    await trainSteps(plain, warm);
    const q = await trainSteps(plain, steps);
    for (const p of plain.model.parameters()) p.dispose();
    return {
      threads,
      steps: r.steps,
      stepMs,
      dropoutMs,
      callsPerStep,
      share: dropoutMs / stepMs,
      mlpStepMs: (q.seconds * 1000) / q.steps,
    };
  } finally {
    releaseBackend(be);
  }
}

/** Result of the thread-determinism check. */
export interface Determinism {
  /** The thread count compared with one thread. */
  readonly threads: number;
  readonly steps: number;
  readonly identical: boolean;
  /** Parameters whose bits differ, and the largest absolute difference. */
  readonly differing: number;
  readonly maxAbsDiff: number;
  readonly loss1: number;
  readonly loss2: number;
}

/**
 * Trains the dropout MLP `steps` steps from one seed on 1 and on `threads` threads and compares all
 * parameters bit for bit.
 */
export async function checkThreadDeterminism(
  data: FashionMNIST,
  hp: HParams,
  steps: number,
  threads: number,
): Promise<Determinism> {
  const results: { params: Float32Array; loss: number }[] = [];
  for (const t of [1, threads]) {
    const be = await useBackend('wasm', t);
    try {
      const run = buildLabRun('dropout', hp, data);
      const r = await trainSteps(run, steps);
      results.push({ params: flatParameters(run.model), loss: r.loss });
      for (const p of run.model.parameters()) p.dispose();
    } finally {
      releaseBackend(be);
    }
  }
  const [a, b] = [results[0]!, results[1]!];
  const ua = new Uint32Array(a.params.buffer, a.params.byteOffset, a.params.length);
  const ub = new Uint32Array(b.params.buffer, b.params.byteOffset, b.params.length);
  let differing = a.params.length === b.params.length ? 0 : Math.abs(a.params.length - b.params.length);
  let maxAbsDiff = 0;
  for (let i = 0; i < Math.min(ua.length, ub.length); i++) {
    if (ua[i] !== ub[i]) {
      differing++;
      maxAbsDiff = Math.max(maxAbsDiff, Math.abs(a.params[i]! - b.params[i]!));
    }
  }
  return { threads, steps, identical: differing === 0, differing, maxAbsDiff, loss1: a.loss, loss2: b.loss };
}

/** Least-squares slope of ys over xs. */
export function slope(xs: readonly number[], ys: readonly number[]): number {
  const n = xs.length;
  if (n < 2) return 0;
  const mx = xs.reduce((s, x) => s + x, 0) / n;
  const my = ys.reduce((s, y) => s + y, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i]! - mx) * (ys[i]! - my);
    den += (xs[i]! - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

/** Median of a non-empty list. */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((p, q) => p - q);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}
